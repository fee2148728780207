#!/usr/bin/env bash
# Checks pagedserve on a GPU host from a bundle made by scripts/gpu-bundle.sh:
# nothing is built here. Each step is time-boxed, writes its own log, and a
# failing step does not stop the later ones. The whole run stays under 8
# minutes on one H200.
#   usage: scripts/gpu-check.sh [RESULTS_DIR]     (run from the bundle)
# Steps: (1) environment and loader; (2) kernel and op tests against the CPU
# backend in fp32/fp16/bf16; (3) exact llama2.c parity end to end through the
# engine, swap and recompute preemption, split-K contexts; (4) attention
# bandwidth against the copy bandwidth and PyTorch SDPA on the same shapes,
# fast kernel against simple; end-to-end decode throughput of dummy
# Llama-2-7B and Llama-3-8B shapes at batch 1 and 256 against Hugging Face
# transformers, and time to first token of a 2k-token prompt; (5)
# compute-sanitizer memcheck of the end-to-end test; (6) tensor parallelism
# over NCCL: the CUDA backend's vocab-parallel pieces and NCCL with one GPU
# (world size 1) in the tests, and with two GPUs or more TP 2 / PP 2 as
# threads of one engine, plus `generate --tensor-parallel-size 2` against
# the unsplit run (with one GPU: its refusal, which names the GPUs it needs).
# Results: RESULTS_DIR/summary.txt (one line per step) and one log per step.
# ONLY=REGEX runs the steps whose names match (e.g. ONLY='^(2|3)-').
set -u
bundle=$(cd "$(dirname "$0")/.." && pwd)
res=${1:-$bundle/results}
mkdir -p "$res"
summary="$res/summary.txt"
: > "$summary"
export PAGEDSERVE_SOURCE_DIR="$bundle"
ps="$bundle/bin/pagedserve"
tests="$bundle/bin/gpu_tests"

# step NAME SECONDS COMMAND...: runs it with a time limit, logs to NAME.log.
# ONLY (an extended regular expression) picks the steps to run; default all.
step() {
  local name=$1 limit=$2
  shift 2
  [[ $name =~ ${ONLY:-.} ]] || return 0
  local start=$SECONDS
  echo "== $name (limit ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" > "$res/$name.log" 2>&1
  local rc=$?
  local verdict=ok
  [ $rc -eq 0 ] || verdict=FAILED
  [ $rc -eq 124 ] && verdict=TIMEOUT
  printf '%-22s %-8s rc=%-3d %4ds\n' "$name" "$verdict" "$rc" $((SECONDS - start)) | tee -a "$summary"
  if [ $rc -eq 0 ]; then tail -n 3 "$res/$name.log"; else tail -n 40 "$res/$name.log"; fi | cut -c1-400 | sed 's/^/    /'
}

if ! nvidia-smi -L > "$res/gpu.txt" 2>&1 || ! grep -q GPU "$res/gpu.txt"; then
  echo "no GPU on this host: nothing to check" | tee -a "$summary"
  exit 0
fi

# The bundle's libraries, then CUDA's own from wherever this host keeps them.
libdir=$(mktemp -d)
tar -xzf "$bundle/lib.tar.gz" -C "$libdir"
cuda_dirs=$(find /usr/local/cuda/lib64 /usr/local/cuda/targets/*/lib /usr/lib/x86_64-linux-gnu \
  $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
  -name 'libcublas.so.1[0-9]*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
cudart_dirs=$(find /usr/local/cuda/lib64 /usr/local/cuda/targets/*/lib \
  $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
  -name 'libcudart.so.1[0-9]*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="$libdir/lib:${cuda_dirs}${cudart_dirs}${LD_LIBRARY_PATH:-}"

# NCCL is loaded at run time (libnccl.so.2) and never bundled: from the
# dynamic loader's search (the CUDA toolkit's), else from PyTorch's wheels,
# named through PAGEDSERVE_NCCL_LIBRARY.
if [ -z "${PAGEDSERVE_NCCL_LIBRARY:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  nccl=$(find $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
    -path '*nvidia/nccl/lib/libnccl.so.2' 2>/dev/null | head -n 1)
  [ -n "$nccl" ] || nccl=$(find /usr/local/cuda/lib64 /usr/local/cuda/targets/*/lib /usr/local/cuda*/lib \
    -name libnccl.so.2 2>/dev/null | head -n 1)
  [ -n "$nccl" ] && export PAGEDSERVE_NCCL_LIBRARY="$nccl"
fi
gpus=$(grep -c '^GPU ' "$res/gpu.txt")

env_report() {
  nvidia-smi
  nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,driver_version --format=csv
  echo "bundle commit: $(cat "$bundle/COMMIT")"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "PAGEDSERVE_NCCL_LIBRARY=${PAGEDSERVE_NCCL_LIBRARY:-} (empty: libnccl.so.2 by the loader's search)"
  ldd "$ps" | grep -E 'not found|cuda|cublas|caf|openblas'
  ! ldd "$ps" "$tests" | grep -q 'not found'
  "$ps" version
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
}
export -f env_report
export bundle ps tests
step 1-environment 60 bash -c env_report

step 2-ops 150 "$tests" "~[e2e]~[memcheck]~[nccl]" --durations yes
step 3-e2e-parity 180 "$tests" "[e2e]" --durations yes

shapes=(--batch 1,32,256 --context 512,4096 --gqa 1,4)
step 4a-attention 90 "$ps" bench kernels --device cuda:0 --json --kernels fast,simple "${shapes[@]}"
step 4b-attention-sdpa 90 python3 "$bundle/scripts/bench_sdpa.py" "${shapes[@]}"
for model in llama2-7b llama3-8b; do
  step "4c-throughput-$model" 120 "$ps" bench throughput --device cuda:0 --model "dummy:$model" --dtype f16 \
    --batch 1,256 --prompt-len 128 --tokens 128 --repeat 1 --json
  step "4d-hf-$model" 120 python3 "$bundle/scripts/bench_hf.py" --model "$model" --static --batch 1,256 \
    --prompt-len 128 --tokens 128
done
step 4e-ttft-2k 60 "$ps" bench throughput --device cuda:0 --model dummy:llama2-7b --dtype f16 --batch 1 \
  --prompt-len 2048 --tokens 1 --repeat 3 --json
step 4f-hf-ttft-2k 90 python3 "$bundle/scripts/bench_hf.py" --model llama2-7b --static --batch 1 --prompt-len 2048 --tokens 1

step 5-memcheck 120 compute-sanitizer --tool memcheck --error-exitcode 1 "$tests" "[memcheck]"

# Tensor parallelism over NCCL. With one GPU the multi-GPU cases say they
# are skipped (world size 1 is what runs), and the engine must refuse TP 2
# by naming the GPUs it lacks.
step 6a-nccl 150 "$tests" "[nccl]" --durations yes
tp_generate() {  # the same greedy stories, unsplit and split
  local args=(generate --device cuda --dtype f32 --max-tokens 64 --temperature 0 --model "$bundle/models/stories260K"
    --prompt "Once upon a time" --prompt "The little dog" --json)
  "$ps" "${args[@]}" > "$res/tp1.txt" || return 1
  if [ "$gpus" -ge 2 ]; then
    "$ps" "${args[@]}" --tensor-parallel-size 2 > "$res/tp2.txt" || return 1
    diff "$res/tp1.txt" "$res/tp2.txt" && echo "TP 2 over NCCL on 2 of $gpus GPUs: the same text as TP 1"
  else
    local out
    out=$("$ps" "${args[@]}" --tensor-parallel-size 2 2>&1) && { echo "TP 2 ran on one GPU: $out"; return 1; }
    echo "$out"
    grep -q 'needs 2 GPUs, one a rank (cuda:0 to cuda:1): this host has 1' <<< "$out" &&
      echo "one GPU: TP 2 refused by name (world size 1 ran in 6a)"
  fi
}
export -f tp_generate
export res gpus
step 6b-tp-generate 120 bash -c tp_generate

echo
echo "== summary ($res)"
cat "$summary"
