#!/usr/bin/env bash
# Installs everything deft needs to build and test on Debian 12, then nothing more.
# Idempotent: packages already present are not touched and the script stays quiet.
#   scripts/setup.sh            Debian packages + DuckDB into third_party/duckdb. Debian's
#                               torch, numpy and Pillow are among them: the parity tests
#                               generate checkpoints shaped as the hub publishes them, and
#                               their reference embeddings, with them (tests/data/).
#   scripts/setup.sh --bench    the same (ONNX Runtime comes from npm when the benchmark runs)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages, one place. Build tools, libraries, test tooling.
packages=(
  g++ cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libxxhash-dev
  libdnnl-dev libvips-dev libjpeg-dev libfaiss-dev libopenblas-dev chromium libopenmpi-dev openmpi-bin
  fonts-dejavu-core
  nodejs npm
  libsentencepiece-dev sentencepiece libicu-dev
  python3 python3-torch python3-numpy python3-pil python3-sentencepiece python3-protobuf python3-regex
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # npm may come from elsewhere (NodeSource, nvm): any working npm will do.
    if [[ $p == npm || $p == nodejs ]] && command -v npm >/dev/null 2>&1; then continue; fi
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$root/scripts/install-duckdb.sh"
