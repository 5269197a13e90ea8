#pragma once
// The image set the report tests give `deft run` (thumbnail encoder, topn 4, label filter on):
//   targets.csv  `labelled_targets` (at least 4) images labelled crack/dent/rust in turn,
//                with images/missing.png at input row 3 (no such file: a failure with its
//                reason), then scratch.png labelled 'scratch';
//   pool.csv     30 images labelled crack/dent/rust, four exact copies of scratch.png labelled
//                crack (so the scratch target's 4 nearest all carry another label: SCRATCH
//                keeps 0 pairs under label_mode=after), two other images labelled scratch,
//                "odd name #1.png" (a file name a link must encode) and a corrupt file (row 36).
//
//   testing::write_report_set(dir.path(), 130);
//   testing::ProcessResult r = testing::run_report_set(dir.path());   // into dir/run

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace deft::testing {

inline constexpr int kMissingTargetRow = 3;
inline constexpr int kCorruptPoolRow = 36;
inline constexpr const char* kOddPoolName = "images/odd name #1.png";

void write_report_set(const std::filesystem::path& dir, int labelled_targets);

// `deft run` on the set with run_dir=<dir>/run and the extra keys.
ProcessResult run_report_set(const std::filesystem::path& dir,
                             const std::vector<std::string>& extra = {});

// How often `what` occurs in `text`.
size_t occurrences(const std::string& text, const std::string& what);

// For a whole report.html: on failure, names only what is missing.
::testing::AssertionResult contains(const std::string& text, const std::string& what);

}  // namespace deft::testing
