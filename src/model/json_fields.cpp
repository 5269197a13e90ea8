#include "model/json_fields.h"

#include <fstream>

namespace deft::model {

nlohmann::json read_json_object(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kInput, fmt::format("cannot read '{}'", path.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' is not valid JSON: {}", path.string(), e.what()));
  }
  if (!j.is_object())
    throw Error(ErrorKind::kInput, fmt::format("'{}' is not a JSON object", path.string()));
  return j;
}

void refuse_config(const std::filesystem::path& file, const std::string& what) {
  throw Error(ErrorKind::kInput, fmt::format("'{}': {}", file.string(), what));
}

const nlohmann::json& object_at(const nlohmann::json& root, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto it = root.find(key);
  return it != root.end() && it->is_object() ? *it : kEmpty;
}

double read_number(const nlohmann::json& object, const char* key, double fallback,
                   const std::filesystem::path& file) {
  double value = fallback;
  read_field(object, key, value, file);
  return value;
}

}  // namespace deft::model
