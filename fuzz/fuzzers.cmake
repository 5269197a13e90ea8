# The libFuzzer targets, one per parser of user files (fuzz/<name>_fuzzer.cpp, seed corpus in
# fuzz/corpus/<name>/, reproducers of past findings in fuzz/regressions/<name>/). Read by
# fuzz/CMakeLists.txt (which builds them with clang) and tests/CMakeLists.txt (which runs them
# under the `fuzz` label).
set(DEFT_FUZZERS
  safetensors
  torch_file
  pickle
  model_config
  spec
  image
  table
  coco
  kitti
  tokenizer
  bpe_files
)
