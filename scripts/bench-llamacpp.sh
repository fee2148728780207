#!/usr/bin/env bash
# pagedserve against llama.cpp on the same weights: exports MODEL (default
# dummy:stories15M, the weights `pagedserve bench throughput` runs) to GGUF
# and runs tools/llamacpp/bench.mjs, which interleaves the two engines and
# prints tokens/s, medians and the ratio per batch size.
#   scripts/bench-llamacpp.sh [MODEL] [--batch 1,8,32,64] [--repeat 5] ...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PAGEDSERVE_BINARY:-$root/build/pagedserve}"
model="dummy:stories15M"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then model="$1"; shift; fi
[ -x "$bin" ] || { echo "bench-llamacpp: no $bin (make build, or set PAGEDSERVE_BINARY)" >&2; exit 2; }
[ -d "$root/tools/llamacpp/node_modules" ] || { echo "bench-llamacpp: run scripts/install-deps.sh first" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" export-gguf --model "$model" --out "$tmp/model.gguf" >/dev/null
node "$root/tools/llamacpp/bench.mjs" --pagedserve "$bin" --model "$model" --gguf "$tmp/model.gguf" "$@"
