# The README's two commands are `make demo` and `make test`; each does its own set-up first
# (scripts/setup.sh is idempotent and quiet when everything is present).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: setup configure build demo test fuzz-build fuzz test-container test-slow test-all test-asan bench-encoder bench-embed bench-shrink bench-mine bench-select bench-text format tidy clean

setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Builds, then runs the whole workflow on a generated example.
demo: build
	$(BUILD)/deft demo --output-dir out/demo

# Everything but the `slow` and `container` labels: what CI runs. The `fuzz` label (each
# fuzzer's regressions and seeds, then 15 s of fuzzing) needs the clang tree, built first.
test: build fuzz-build
	cd $(BUILD) && ctest -LE 'slow|container' --output-on-failure -j $(JOBS)

# The libFuzzer targets (fuzz/), by clang 14 with ASan + UBSan over the whole library, in
# build-fuzz/. Also keeps the project building with clang.
FUZZ_BUILD ?= build-fuzz
fuzz-build: setup
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEFT_FUZZ=ON \
	  -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

# A longer campaign: every fuzzer for FUZZ_SECONDS (default 600), FUZZ_JOBS at a time.
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 1
FUZZERS = $(shell sed -n 's/^  \([a-z0-9_]*\)$$/\1/p' fuzz/fuzzers.cmake)
fuzz: fuzz-build
	@printf '%s\n' $(FUZZERS) | xargs -P $(FUZZ_JOBS) -I{} \
	  fuzz/run_fuzzer.sh $(FUZZ_BUILD)/fuzz/{}_fuzzer {} $(FUZZ_SECONDS)

# The deft image (docker/Dockerfile) built with Debian's podman/buildah, then the workflow run
# through it against the native binary (README, "Container image"). Minutes.
test-container: build
	scripts/build-container.sh
	cd $(BUILD) && ctest -L container --output-on-failure

# The heavy suites (million-row tables, benchmarks-sized data).
test-slow: build
	cd $(BUILD) && ctest -L slow --output-on-failure

test-all: test test-slow

# The whole default suite under AddressSanitizer + UBSan (leaks included), but the fuzzers,
# which are sanitized themselves.
test-asan: setup
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDEFT_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -LE 'slow|container|fuzz' --output-on-failure -j $(JOBS)

# The encoder against PyTorch and ONNX Runtime, same run, same inputs (README, "Encoder
# benchmark"). Minutes; writes ~1.5 GB under /tmp/deft-bench.
bench-encoder: build
	@scripts/setup.sh --bench
	/usr/bin/python3 bench/encoder_vs_peers.py --build $(BUILD)

# The CLIP and SigLIP text towers against PyTorch, same run, same checkpoints and token ids
# (README, "Text benchmark"). Writes ~0.7 GB of checkpoints to /tmp/deft-bench/text; minutes.
bench-text: build
	/usr/bin/python3 bench/text_vs_torch.py --build $(BUILD)

# `deft embed` end to end and its decoding against Pillow (README, "Embedding benchmark").
# Needs bench-encoder's SigLIP-B/16 checkpoint in /tmp/deft-bench; minutes.
bench-embed: build
	@scripts/setup.sh --bench
	/usr/bin/python3 bench/embed_vs_pillow.py --build $(BUILD)

# `deft mine` against a direct FAISS IndexFlatIP search (README, "Mining benchmark"): 1k targets
# x 1M pool x 768 dims, then 100 x 5M x 384 under a 1 GiB budget. Writes ~9 GB of parquet to
# /tmp/deft-bench/mine (kept for the next run); minutes.
bench-mine: build
	$(BUILD)/bench/deft_mine_bench --deft $(BUILD)/deft --work /tmp/deft-bench/mine \
	  --targets 1000 --pool 1000000 --dim 768
	$(BUILD)/bench/deft_mine_bench --deft $(BUILD)/deft --work /tmp/deft-bench/mine \
	  --targets 100 --pool 5000000 --dim 384 --budget-mb 1024 --no-peer

# `deft select` against a direct port of the reference's passes on FAISS IndexFlatL2 in memory
# (README, "Selection benchmark"): 10k targets x 1M pool x 768 dims, budget 50k. Writes ~3 GB
# of parquet to /tmp/deft-bench/select (kept); the peer holds ~9 GB. Minutes.
bench-select: build
	$(BUILD)/bench/deft_select_bench --deft $(BUILD)/deft --work /tmp/deft-bench/select \
	  --targets 10000 --pool 1000000 --dim 768 --budget 50000

# What shrink-on-load does to the model input, on the photographs of Debian's python3-skimage
# (downloaded and unpacked in /tmp/deft-bench, not installed). README, "Shrink-on-load".
SKIMAGE_DATA = /tmp/deft-bench/skimage/usr/lib/python3/dist-packages/skimage/data
bench-shrink:
	@scripts/setup.sh --bench
	@if [ ! -d $(SKIMAGE_DATA) ]; then \
	  mkdir -p /tmp/deft-bench/skimage && cd /tmp/deft-bench/skimage && \
	  apt-get download python3-skimage && dpkg -x python3-skimage_*.deb . ; fi
	/usr/bin/python3 -W ignore bench/shrink_effect.py --size 128 $(SKIMAGE_DATA)/*.png $(SKIMAGE_DATA)/*.jpg

format:
	@git ls-files '*.h' '*.cpp' | xargs clang-format -i

tidy: configure
	@git ls-files 'src/*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD)
