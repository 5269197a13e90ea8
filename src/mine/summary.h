#pragma once
// mining_summary.txt: first the reference's exact lines (tao-compat.md), so that scripts
// written for the reference find what they look for, then a blank line and deft's own
// `key: value` lines.
//
//   Summary:
//     Target queries: 2
//     Similar items per query: 4
//     Total pairs: 8
//     After label mismatch filtering: kept 6/8 pairs, dropped 2 mismatches
//     After distance filtering: kept 5/6 pairs, dropped 1 exceeding threshold 0.5000
//     Total candidates: 5
//     Duplicates removed: 1
//     Unique items saved: 4
//     Results saved to: out/mined.parquet
//
//   queries: 2
//   ...

#include <filesystem>
#include <string>

#include "mine/mine_job.h"

namespace deft::mine {

// The whole text (the reference's lines, a blank line, deft's lines).
std::string summary_text(const MineJob& job, const MineReport& report, bool label_filter_ran);

// The warnings the reference gives about distance_threshold (a cosine threshold above 2 drops
// nothing; a negative one other than -1.0 disables the filter), in words.
std::vector<std::string> threshold_warnings(const MineJob& job);

}  // namespace deft::mine
