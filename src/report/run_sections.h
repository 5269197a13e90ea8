#pragma once
// The parts of Mining_Report.md that do not depend on the run's mode: the Inputs and the
// Encoder Consistency sections, read from the run's facts and its two embedding parquets.
//
//   md += inputs_section(facts) + encoder_section(facts);
//   report::EncodersUsed used = report::encoders_used(facts);   // from the two fingerprints

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/fingerprint.h"
#include "report/run_facts.h"

namespace deft::report {

// The encoders that made the two embedding parquets, from their fingerprints: what the reports
// show rather than the spec, whose `precision=auto` is resolved per machine, and whose pool
// may have been taken from an earlier file. nullopt for a side whose file has none.
struct EncodersUsed {
  std::optional<model::EncoderFingerprint> targets;
  std::optional<model::EncoderFingerprint> pool;

  // Same encoder, computed in different dtypes (mining accepts it; the reports name it).
  bool mixed_precision() const;
};

EncodersUsed encoders_used(const RunFacts& facts);

// "thumbnail (768-dim, 16×16 input)": family and model id (once when they are the same).
std::string encoder_words(const model::EncoderFingerprint& f);

// One sentence naming each side's encoder and the precision it was computed in.
std::string encoder_sentence(const EncodersUsed& used);

// "12.5%" of whole (0% of nothing).
std::string pct(uint64_t part, uint64_t whole);

// The FAIL verdicts of any mode, first match wins: "FAIL: encoder mismatch" (the last step
// refused the two embedding files), "FAIL: <what failed>" (a step failed); nullopt otherwise.
std::optional<Verdict> failed_run(const RunFacts& facts);

// Some rows of either table are in a failure sidecar (the CHECK verdicts name it).
bool images_failed(const RunFacts& facts);

// The actions of a run that failed (its first actions): embed the pool again after an encoder
// mismatch, or fix what stopped the run. Empty when it did not fail.
std::vector<std::string> failed_run_actions(const RunFacts& facts);
// The action for rows that failed to embed (images_failed).
std::string images_failed_action();

// "## Verdict": the verdict's line in bold, its reasons as a list, then `rules` (the mode's
// fixed rules, as the README lists them) as a paragraph.
std::string verdict_section(const Verdict& verdict, std::string_view rules);

// "## Inputs": each side's rows, embedded, reused and failed, and the encoders used.
std::string inputs_section(const RunFacts& facts);

// "## Encoder Consistency": each side's fingerprint and the last step's check.
std::string encoder_section(const RunFacts& facts);

// The action that says to embed both sides in one precision, when they were not ("" if they
// were).
std::string mixed_precision_action(const RunFacts& facts);

}  // namespace deft::report
