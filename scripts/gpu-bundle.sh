#!/usr/bin/env bash
# Builds pagedserve with CUDA (sm_90 unless CUDA_ARCHS says otherwise) on this
# machine and gathers into DIR everything a GPU host needs to check it without
# building: the binaries and the CUDA module, the shared libraries they load (CUDA's own
# excepted: the GPU host has those), the embedded model and test data, and
# the comparison scripts. The libraries travel compressed (lib.tar.gz);
# scripts/gpu-check.sh in the bundle unpacks them.
#   usage: scripts/gpu-bundle.sh DIR
# Then on the GPU host: DIR/scripts/gpu-check.sh [RESULTS_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/gpu-bundle.sh DIR}
build=${BUILD_DIR:-$root/build}
archs=${CUDA_ARCHS:-90}
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "gpu-bundle: nvcc not found" >&2; exit 1; }

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$archs" >/dev/null
cmake --build "$build" -j "$(nproc)" --target pagedserve pagedserve_cuda gpu_tests

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/models" "$out/tests/data" "$out/scripts"
cp "$build/pagedserve" "$build/libpagedserve_cuda.so" "$build/tests/gpu_tests" "$out/bin/"
strip --strip-unneeded "$out/bin/"*

# Every library the binaries load except the C library's own and CUDA's.
# NCCL is not among them: pagedserve loads libnccl.so.2 at run time from
# the GPU host's CUDA or PyTorch install (scripts/gpu-check.sh finds it).
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libpthread\.|libcuda\.|libcudart\.|libcublas|libcublasLt\.|libnccl\.)'
ldd "$out/bin/"* | awk '/=> \// {print $1, $3}' | sort -u |
  while read -r name path; do
    [[ $name =~ $skip ]] && continue
    cp -L "$path" "$out/lib/$name"
  done
(cd "$out" && tar -czf lib.tar.gz lib && rm -rf lib)

cp -r "$root/models/stories260K" "$out/models/"
cp "$root/tests/data/reference_greedy.json" "$out/tests/data/"
cp "$root/scripts/gpu-check.sh" "$root/scripts/bench_sdpa.py" "$root/scripts/bench_hf.py" "$out/scripts/"
git -C "$root" rev-parse --short HEAD > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"
du -sh "$out"
