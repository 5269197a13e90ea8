#pragma once
// The targets of a mining run, held whole: their vectors, paths and (when the label filter
// needs them) labels.
//
//   Targets t = read_targets(reader, "embedding", /*labels=*/true);

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace deft::table {
class TableReader;
}

namespace deft::mine {

struct Targets {
  size_t dim = 0;
  std::vector<float> vectors;  // rows × dim
  std::vector<std::string> paths;
  std::vector<std::optional<std::string>> labels;  // nullopt: NULL, or labels not read
};

Targets read_targets(table::TableReader& reader, const std::string& column, bool labels);

}  // namespace deft::mine
