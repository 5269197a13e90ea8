#pragma once
// Checks the label columns of a target and a pool table before anything is embedded, so that
// `deft run` with filter_by_label reports what would make the filter useless up front: a side
// without a `label` column, and target labels that no pool row has (compared as mining will
// compare them). Under `strict` each is an Error(kInput); otherwise a warning, returned (and
// logged) so the run can record it.
//
//   for (const std::string& w : mine::check_labels_before_embedding(targets, pool, job)) ...

#include <filesystem>
#include <string>
#include <vector>

#include "mine/mine_job.h"

namespace deft::mine {

std::vector<std::string> check_labels_before_embedding(const std::filesystem::path& targets,
                                                       const std::filesystem::path& pool,
                                                       const MineJob& job);

}  // namespace deft::mine
