#!/usr/bin/env bash
# Runs one fuzzer the way CI and `make fuzz` do:
#   fuzz/run_fuzzer.sh FUZZER_BINARY NAME SECONDS [extra libFuzzer flags]
# First every reproducer of a past finding (fuzz/regressions/NAME/) and every seed
# (fuzz/corpus/NAME/) runs once: one failure fails the run. Then it fuzzes for SECONDS, the
# committed corpus read-only (new inputs go to a scratch folder, removed after). A finding's
# input is kept in $DEFT_FUZZ_ARTIFACTS (default: /tmp/deft-fuzz-artifacts/NAME/) and named in
# the output; copy it into fuzz/regressions/NAME/ with the fix. With DEFT_FUZZ_NEW_CORPUS set,
# the inputs it adds are kept in $DEFT_FUZZ_NEW_CORPUS/NAME/ (a long campaign's corpus, to
# resume or to merge into fuzz/corpus/ with -merge=1).
set -euo pipefail
binary=$1 name=$2 seconds=$3
shift 3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ! -x $binary ]]; then
  echo "run_fuzzer: $binary is not built: run 'make fuzz-build' (clang 14, libFuzzer)" >&2
  exit 1
fi
corpus=$here/corpus/$name
regressions=$here/regressions/$name
artifacts=${DEFT_FUZZ_ARTIFACTS:-/tmp/deft-fuzz-artifacts}/$name
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Limits (README, "Fuzzing"): a slow input or a big allocation is a finding too.
limits=(-timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=2048 -max_len=65536)

inputs=()
for dir in "$regressions" "$corpus"; do
  [[ -d $dir ]] && while IFS= read -r -d '' f; do inputs+=("$f"); done \
    < <(find "$dir" -type f -print0 | sort -z)
done
if ((${#inputs[@]})); then
  echo "run_fuzzer: $name: ${#inputs[@]} regression and seed inputs"
  "$binary" "${limits[@]}" "$@" "${inputs[@]}" >"$scratch/replay.log" 2>&1 || {
    tail -n 40 "$scratch/replay.log"
    echo "run_fuzzer: $name: a regression or seed input fails" >&2
    exit 1
  }
fi
if ((seconds > 0)); then
  new=$scratch/new
  [[ -n ${DEFT_FUZZ_NEW_CORPUS:-} ]] && new=$DEFT_FUZZ_NEW_CORPUS/$name
  dirs=("$new")
  mkdir -p "$new"
  [[ -d $regressions ]] && dirs+=("$regressions")
  [[ -d $corpus ]] && dirs+=("$corpus")
  log=$artifacts/fuzz.log  # the whole libFuzzer output, to follow a long campaign
  status=0
  "$binary" "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "${dirs[@]}" >"$log" 2>&1 || status=$?
  grep -E '^(INFO: seed corpus|#[0-9]+ *DONE|stat::(number_of_executed_units|peak_rss_mb|new_units_added)|==[0-9]+==|SUMMARY)' \
    "$log" || true
  echo "run_fuzzer: $name: corpus grew by $(find "$new" -type f | wc -l) inputs"
  if ((status != 0)); then
    tail -n 60 "$log"
    echo "run_fuzzer: $name: finding (exit $status), input in $artifacts/" >&2
    exit 1
  fi
fi
