#include "report/run_sections.h"

#include <fmt/format.h>

#include "table/recorded_encoder.h"

namespace deft::report {

namespace {

std::string side_paragraph(const char* name, const Side& s) {
  if (!s.embed) {
    return fmt::format("The {} table `{}` was not embedded in this run (the step did not run).",
                       name, s.table.string());
  }
  const embed::EmbedReport& e = *s.embed;
  std::string text = fmt::format(
      "The {} table `{}` had {} rows. {} were embedded in this run and {} were reused "
      "unchanged from an earlier embedding file, so {} rows reached `{}`.",
      name, s.table.string(), e.rows_in, e.embedded, e.reused, e.embedded + e.reused,
      s.embeddings.filename().string());
  if (e.failed > 0) {
    text += fmt::format(
        " {} rows ({}) could not be embedded (missing, empty, corrupt or oversized images); "
        "each is listed with its reason in `{}`, and none of them can be mined.",
        e.failed, pct(e.failed, e.rows_in), e.failed_path.filename().string());
  } else {
    text += " No image failed to decode.";
  }
  text += fmt::format(" The step took {:.1f} s.", e.seconds);
  return text;
}

std::string mixed_words(const EncodersUsed& used) {
  return fmt::format("in mixed precision: the targets in {}, the pool in {}",
                     used.targets->compute_dtype, used.pool->compute_dtype);
}

// The last step's encoder check, with the precision each side used: the step describes the
// targets' fingerprint alone, which reads as one precision for both when they differ.
std::string check_words(const char* step, const std::string& step_check, const EncodersUsed& used) {
  if (!used.targets || !used.pool || !model::same_encoder(*used.targets, *used.pool)) {
    return step_check;
  }
  std::string text = "same encoder, " + encoder_words(*used.targets);
  if (used.mixed_precision()) {
    text += ", " + mixed_words(used) + ". " + step +
            " accepts that, since bf16 vectors stay within cosine 0.999 of fp32 ones, "
            "but every distance carries one side's bf16 rounding";
  } else {
    text += ", computed in " + used.targets->compute_dtype + " on both sides";
  }
  const std::string decoding = model::tolerated_differences(*used.targets, *used.pool);
  if (!decoding.empty()) text += "; decoded differently: " + decoding;
  return text;
}

std::string side_encoder_line(const char* name, const std::optional<model::EncoderFingerprint>& f) {
  if (!f) return fmt::format("- {}: no fingerprint.\n", name);
  return fmt::format("- {}: {}, computed in {} (weights {}).\n", name, encoder_words(*f),
                     f->compute_dtype, f->weights_digest.empty() ? "unknown" : f->weights_digest);
}

}  // namespace

std::string pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? "0%"
                    : fmt::format("{:.1f}%",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

bool EncodersUsed::mixed_precision() const {
  return targets && pool && model::same_encoder(*targets, *pool) &&
         targets->compute_dtype != pool->compute_dtype;
}

EncodersUsed encoders_used(const RunFacts& facts) {
  return {table::recorded_encoder_if_readable(facts.targets.embeddings),
          table::recorded_encoder_if_readable(facts.pool.embeddings)};
}

std::string encoder_words(const model::EncoderFingerprint& f) {
  if (f.tower == "text") {  // texts have no input size: the tokenizer is what they went through
    return fmt::format("{}'s text tower ({}-dim, {})", model::encoder_name(f), f.embedding_dim,
                       f.preprocessing);
  }
  return fmt::format("{} ({}-dim, {}×{} input)", model::encoder_name(f), f.embedding_dim,
                     f.input_width, f.input_height);
}

std::string encoder_sentence(const EncodersUsed& used) {
  const auto& t = used.targets;
  const auto& p = used.pool;
  if (!t && !p) {
    return "Neither embedding file records its encoder (no fingerprint), so which encoder and "
           "precision made them is unknown.";
  }
  if (!t || !p) {
    const auto& known = t ? t : p;
    return fmt::format(
        "The {} were embedded by {}, computed in {}; the {} file records no encoder.",
        t ? "targets" : "pool images", encoder_words(*known), known->compute_dtype,
        t ? "pool's" : "targets'");
  }
  if (model::same_checkpoint_other_tower(*t, *p)) {
    return fmt::format(
        "The targets were embedded by {}, computed in {}, and the pool by {}, computed in {}: "
        "one checkpoint's text and image towers, whose features share one space.",
        encoder_words(*t), t->compute_dtype, encoder_words(*p), p->compute_dtype);
  }
  if (!model::same_encoder(*t, *p)) {
    return fmt::format(
        "The targets were embedded by {}, computed in {}, and the pool by {}, computed in {}: "
        "different encoders.",
        encoder_words(*t), t->compute_dtype, encoder_words(*p), p->compute_dtype);
  }
  if (used.mixed_precision()) {
    return fmt::format("Both sides were embedded by {}, {}.", encoder_words(*t), mixed_words(used));
  }
  return fmt::format("Both sides were embedded by {}, computed in {}.", encoder_words(*t),
                     t->compute_dtype);
}

std::optional<Verdict> failed_run(const RunFacts& f) {
  Verdict v;
  if (f.encoder_mismatch) {
    v.line = "FAIL: encoder mismatch";
    v.reasons.push_back(fmt::format(
        "{} refused to compare the two embedding files because their encoder fingerprints "
        "differ: distances between vectors of different encoders mean nothing.",
        f.mode == RunMode::kNearestNeighbors ? "Mining" : "Selection"));
    return v;
  }
  if (!f.failure.empty()) {
    v.line = "FAIL: " + f.failure.substr(0, f.failure.find(':'));
    v.reasons.push_back("The run stopped before it finished: " + f.failure + ".");
    return v;
  }
  return std::nullopt;
}

std::vector<std::string> failed_run_actions(const RunFacts& f) {
  if (f.encoder_mismatch) {
    return {fmt::format(
        "Embed the pool again with this run's embedding spec (drop `source_embeddings=`, or "
        "point it at a file made by the same model); never {} across encoders.",
        f.mode == RunMode::kNearestNeighbors ? "mine" : "select")};
  }
  if (!f.failure.empty()) {
    return {"Fix what stopped the run (above) and run the same command again."};
  }
  return {};
}

std::string images_failed_action() {
  return "Look at the failure sidecars next to the embedding parquets, fix or remove those "
         "images, and re-run: unchanged rows are reused, so only the fixed images are embedded.";
}

bool images_failed(const RunFacts& f) {
  const auto failed = [](const Side& side) { return side.embed && side.embed->failed > 0; };
  return failed(f.targets) || failed(f.pool);
}

std::string inputs_section(const RunFacts& f) {
  std::string md = "## Inputs\n\n";
  md += side_paragraph("target", f.targets) + "\n\n";
  md += side_paragraph("pool", f.pool) + "\n\n";
  md += encoder_sentence(encoders_used(f)) +
        " `deft run` embeds both sides with one embedding spec, so that they cannot be embedded "
        "differently by mistake; the encoder and precision named here are read from the two "
        "embedding parquets, so they are the ones used, not the ones configured (a spec can "
        "leave the precision to the machine). The two embedding parquets stay in the run "
        "folder: later runs against the same pool reuse the pool's rows (`source_embeddings=`), "
        "and they are where an encoder problem is debugged.\n\n";
  return md;
}

std::string verdict_section(const Verdict& verdict, std::string_view rules) {
  std::string md = "## Verdict\n\n";
  md += fmt::format("**{}**\n\n", verdict.line);
  for (const std::string& r : verdict.reasons)
    md += "- " + r + "\n";
  md += fmt::format("\n{}\n\n", rules);
  return md;
}

std::string encoder_section(const RunFacts& f) {
  const bool mining = f.mode == RunMode::kNearestNeighbors;
  const char* step = mining ? "mining" : "selection";
  const EncodersUsed used = encoders_used(f);
  std::string md = "## Encoder Consistency\n\n";
  md += side_encoder_line("Targets", used.targets);
  md += side_encoder_line("Pool", used.pool);
  md += fmt::format(
      "\nA fingerprint names the encoder family and model, a digest of its weights, its "
      "preprocessing, input size, compute precision and embedding size; `deft embed` writes it "
      "into every embedding parquet, and {} compares the two before any search.\n",
      step);
  if (f.encoder_mismatch) {
    md += fmt::format(
        "\nThe fingerprints differ, and {} refused to compare the two files. Vectors from "
        "different encoders live in different spaces: their distances would rank unrelated "
        "images as neighbours.\n\n",
        step);
  } else if (f.finished()) {
    const std::string& check = mining ? f.mined->encoder_check : f.selected->encoder_check;
    const char* name = mining ? "Mining" : "Selection";
    md += fmt::format("\n{}'s check: {}.\n\n", name, check_words(name, check, used));
  } else {
    md += fmt::format("\n{} did not run, so the fingerprints were not compared.\n\n",
                      mining ? "Mining" : "Selection");
  }
  return md;
}

std::string mixed_precision_action(const RunFacts& f) {
  const EncodersUsed used = encoders_used(f);
  if (!used.mixed_precision()) return "";
  return fmt::format(
      "Embed both sides in one precision (`precision={}` for both): the targets were computed "
      "in {} and the pool in {}, so the two files are not reproducible from one another.",
      used.targets->compute_dtype, used.targets->compute_dtype, used.pool->compute_dtype);
}

}  // namespace deft::report
