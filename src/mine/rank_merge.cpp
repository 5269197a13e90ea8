#include "mine/rank_merge.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "parallel/cluster.h"

namespace deft::mine {

namespace {

void put_u64(std::string& out, uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}
void put_text(std::string& out, const std::string& t) {
  put_u64(out, t.size());
  out += t;
}
struct Reader {
  const std::string& in;
  size_t at = 0;
  uint64_t u64() {
    uint64_t v = 0;
    std::memcpy(&v, in.data() + at, 8);
    at += 8;
    return v;
  }
  double real() {
    double v = 0;
    std::memcpy(&v, in.data() + at, 8);
    at += 8;
    return v;
  }
  std::string text() {
    const uint64_t n = u64();
    std::string t = in.substr(at, n);
    at += n;
    return t;
  }
};

}  // namespace

std::vector<std::vector<index::Neighbor>> merge_on_root(
    const parallel::Cluster& cluster, const std::vector<std::vector<index::Neighbor>>& local,
    std::unordered_map<uint64_t, PoolRowInfo>& seen, size_t topn) {
  std::string bytes;
  put_u64(bytes, local.size());
  for (const auto& hits : local) {
    put_u64(bytes, hits.size());
    for (const index::Neighbor& n : hits) {
      bytes.append(reinterpret_cast<const char*>(&n.distance), 8);
      put_u64(bytes, n.pool_row);
      const PoolRowInfo& info = seen.at(n.pool_row);
      put_text(bytes, info.path);
      put_u64(bytes, info.label ? 1 : 0);
      put_text(bytes, info.label.value_or(""));
    }
  }
  const std::vector<std::string> all = cluster.gather(bytes);
  if (!cluster.root()) return {};
  std::vector<std::vector<index::Neighbor>> merged(local.size());
  for (const std::string& piece : all) {
    Reader in{piece};
    const uint64_t targets = in.u64();
    DEFT_ASSERT(targets == local.size(), "every rank searched the same targets");
    for (uint64_t q = 0; q < targets; ++q) {
      const uint64_t count = in.u64();
      for (uint64_t j = 0; j < count; ++j) {
        index::Neighbor n{in.real(), in.u64()};
        PoolRowInfo info{in.text(), std::nullopt};
        const bool has_label = in.u64() != 0;
        std::string label = in.text();
        if (has_label) info.label = std::move(label);
        seen.try_emplace(n.pool_row, std::move(info));
        merged[q].push_back(n);
      }
    }
  }
  for (auto& hits : merged) {
    std::sort(hits.begin(), hits.end(), index::nearer);
    if (hits.size() > topn) hits.resize(topn);
  }
  return merged;
}

}  // namespace deft::mine
