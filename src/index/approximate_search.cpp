#include "index/approximate_search.h"

#include <algorithm>
#include <regex>

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <fmt/format.h>

#include "common/error.h"

namespace deft::index {
namespace {

faiss::MetricType faiss_metric(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return faiss::METRIC_INNER_PRODUCT;  // on normalised vectors
    case Metric::kEuclidean:
      return faiss::METRIC_L2;
    case Metric::kManhattan:
      return faiss::METRIC_L1;
  }
  return faiss::METRIC_L2;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

ApproximateSearch::ApproximateSearch(Metric metric, size_t dim, const std::string& factory,
                                     const std::string& params)
    : metric_(metric), dim_(dim), factory_(factory), params_(params) {
  // FAISS's IVF and quantising indexes know L2 and inner product only, and say so by throwing
  // inside OpenMP regions, which aborts the process: refuse here instead. HNSW over flat
  // storage computes any metric the flat index knows, L1 included.
  static const std::regex hnsw_flat(R"(HNSW\d+(,Flat)?)");
  if (metric == Metric::kManhattan && !std::regex_match(factory, hnsw_flat)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("index '{}' cannot search with knn_metric=manhattan", factory),
                "use index=exact or index=HNSW32 for manhattan, or another metric");
  }
  try {
    index_.reset(
        faiss::index_factory(static_cast<int>(dim), factory.c_str(), faiss_metric(metric)));
  } catch (const faiss::FaissException& e) {
    throw Error(ErrorKind::kUsage,
                fmt::format("index '{}' is not a FAISS index factory string deft can use: {}",
                            factory, first_line(e.msg)),
                "for example index=HNSW32 or index=IVF1024,Flat");
  }
}

ApproximateSearch::~ApproximateSearch() = default;

void ApproximateSearch::add(const float* vectors, size_t rows) {
  const size_t at = pool_.size();
  pool_.insert(pool_.end(), vectors, vectors + rows * dim_);
  if (metric_ == Metric::kCosine) {
    DEFT_ASSERT(normalize_rows(pool_.data() + at, rows, dim_) == rows,
                "pool vectors that cannot be normalised are rejected before the search");
  }
}

void ApproximateSearch::build() {
  const auto n = static_cast<faiss::Index::idx_t>(pool_rows());
  try {
    if (!index_->is_trained) index_->train(n, pool_.data());
    index_->add(n, pool_.data());
    if (!params_.empty())
      faiss::ParameterSpace().set_index_parameters(index_.get(), params_.c_str());
  } catch (const faiss::FaissException& e) {
    throw Error(ErrorKind::kUsage,
                fmt::format("index '{}' (index_params '{}') on {} pool vectors of {} dimensions, "
                            "{}: {}",
                            factory_, params_, n, dim_, metric_name(metric_), first_line(e.msg)));
  }
}

std::vector<std::vector<Neighbor>> ApproximateSearch::search(const std::vector<float>& targets,
                                                             size_t topn) const {
  const size_t nq = targets.size() / dim_;
  std::vector<float> queries = targets;
  if (metric_ == Metric::kCosine) {
    DEFT_ASSERT(normalize_rows(queries.data(), nq, dim_) == nq, "targets were checked");
  }
  const size_t k = std::min<size_t>(pool_rows(), topn + ExactSearch::kSpareCandidates);
  std::vector<std::vector<Neighbor>> out(nq);
  if (k == 0) return out;
  std::vector<float> distances(nq * k);
  std::vector<faiss::Index::idx_t> labels(nq * k);
  index_->search(static_cast<faiss::Index::idx_t>(nq), queries.data(),
                 static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data());
  for (size_t q = 0; q < nq; ++q) {
    std::vector<Neighbor>& hits = out[q];
    for (size_t j = 0; j < k; ++j) {
      const auto row = labels[q * k + j];
      if (row < 0) continue;
      hits.push_back({exact_distance(metric_, queries.data() + q * dim_,
                                     pool_.data() + static_cast<size_t>(row) * dim_, dim_),
                      static_cast<uint64_t>(row)});
    }
    std::sort(hits.begin(), hits.end(), nearer);
    if (hits.size() > topn) hits.resize(topn);
  }
  return out;
}

double ApproximateSearch::measure_recall(const std::vector<float>& targets, size_t topn,
                                         const std::vector<std::vector<Neighbor>>& hits,
                                         size_t sample) const {
  const size_t nq = targets.size() / dim_;
  if (nq == 0 || pool_rows() == 0) return 1.0;
  const size_t count = std::min(sample, nq);
  std::vector<size_t> picked;
  std::vector<float> sampled;
  for (size_t i = 0; i < count; ++i) {
    const size_t q = i * nq / count;
    picked.push_back(q);
    sampled.insert(sampled.end(), targets.begin() + static_cast<std::ptrdiff_t>(q * dim_),
                   targets.begin() + static_cast<std::ptrdiff_t>((q + 1) * dim_));
  }
  ExactSearch exact(metric_, dim_, std::move(sampled), topn);
  constexpr size_t kBlock = 65536;
  std::vector<float> block;
  for (size_t first = 0; first < pool_rows(); first += kBlock) {
    const size_t rows = std::min(kBlock, pool_rows() - first);
    block.assign(pool_.begin() + static_cast<std::ptrdiff_t>(first * dim_),
                 pool_.begin() + static_cast<std::ptrdiff_t>((first + rows) * dim_));
    exact.add_block(block.data(), rows);
  }
  size_t found = 0;
  size_t wanted = 0;
  for (size_t i = 0; i < picked.size(); ++i) {
    for (const Neighbor& truth : exact.results()[i]) {
      ++wanted;
      const auto& got = hits[picked[i]];
      found += std::any_of(got.begin(), got.end(),
                           [&](const Neighbor& n) { return n.pool_row == truth.pool_row; });
    }
  }
  return wanted == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(wanted);
}

}  // namespace deft::index
