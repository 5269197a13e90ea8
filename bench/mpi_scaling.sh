#!/usr/bin/env bash
# Scaling of `deft embed` and `deft mine` under mpirun with 1 and 2 ranks on this machine, one
# thread per rank (OpenBLAS and deft's workers), so that ranks, not threads, share the cores.
#
#   bench/mpi_scaling.sh [build]
#
# Needs the data of `make bench-embed` (64 JPEGs, 1024x768) and `make bench-mine` (1k targets,
# 1M x 768 pool) in /tmp/deft-bench. Prints one line per run and the speed-ups.
set -euo pipefail
build=${1:-build}
deft=$(realpath "$build/deft")
work=/tmp/deft-bench/mpi
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
jpegs=(/tmp/deft-bench/embed/jpeg1024/*.jpg)
table="$work/images.csv"
{ echo filepath; for i in $(seq 1 32); do printf '%s\n' "${jpegs[@]}"; done; } > "$table"  # 2,048 rows
seconds() { local s; s=$(date +%s.%N); "$@" > /dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc; }
for np in 1 2; do
  rm -f "$work/emb.parquet"
  t=$(seconds mpirun --oversubscribe -np $np "$deft" embed input_parquet="$table" \
      output_parquet="$work/emb.parquet" model=thumbnail threads=1 reuse=false chunk_rows=256 --quiet)
  echo "embed thumbnail, 2048 images of 1024x768, $np rank(s): $t s"
  eval "embed_$np=$t"
done
for np in 1 2; do
  t=$(seconds mpirun --oversubscribe -np $np "$deft" mine \
      source_parquet=/tmp/deft-bench/mine/pool_1000000x768.v2.parquet \
      target_parquet=/tmp/deft-bench/mine/targets_1000x768.v2.parquet \
      output_parquet="$work/mined.parquet" --quiet)
  echo "mine 1k x 1M x 768, $np rank(s): $t s"
  eval "mine_$np=$t"
done
echo "speed-up with 2 ranks: embed $(echo "scale=2; $embed_1 / $embed_2" | bc)x, mine $(echo "scale=2; $mine_1 / $mine_2" | bc)x"
