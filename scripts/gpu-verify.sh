#!/usr/bin/env bash
# On a GPU host: build with CUDA for the local GPU, run every test (GPU tests
# included), then the kernel and end-to-end benchmarks with their
# comparisons in the same run. Results go to OUT_DIR (default gpu-results/).
#   usage: scripts/gpu-verify.sh [OUT_DIR]
# Needs the build dependencies (scripts/install-deps.sh, or CMAKE_PREFIX_PATH
# pointing at unpacked packages) and, for the comparisons, PyTorch and
# transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-results}
mkdir -p "$out"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvidia-smi > "$out/nvidia-smi.txt"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" ${CMAKE_ARGS:-}
cmake --build build-gpu -j "$(nproc)"
(cd build-gpu && ctest --output-on-failure -j 4) 2>&1 | tee "$out/ctest.txt"
# memcheck on a short run: the end-to-end GPU tests (block sizes 8/16/32, a
# pool small enough to force preemption).
compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/tests/gpu_tests "[e2e]" 2>&1 | tee "$out/memcheck.txt"
build-gpu/pagedserve bench kernels --device cuda:0 --json | tee "$out/kernels.jsonl"
python3 scripts/bench_sdpa.py | tee "$out/sdpa.jsonl"
for trace in sharegpt alpaca; do
  build-gpu/pagedserve bench serving --device cuda:0 --model dummy:llama2-7b --dtype f16 --trace $trace \
    --num-requests 1000 --json | tee "$out/serving-$trace.json"
  python3 scripts/bench_hf.py --model llama2-7b --trace $trace --num-requests 1000 | tee "$out/hf-$trace.jsonl"
done
echo "results in $out/"
