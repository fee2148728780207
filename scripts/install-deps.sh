#!/usr/bin/env bash
# Installs the Debian packages that pagedserve builds and tests against.
# Quiet, and fast when everything is already installed: apt is only asked
# when a package is missing.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libcaf-dev            # actor runtime (CAF 0.17.6)
  libgloo-dev           # collectives between worker processes (tensor/pipeline parallelism over TCP)
  libboost1.74-dev      # Asio + Beast (headers)
  libsimdjson-dev       # JSON parsing
  libpcre2-dev          # tokenizer.json Split patterns
  libicu-dev            # NFC normalization for tokenizer.json
  catch2                # unit tests (Catch2 v2)
  libopenblas-openmp-dev  # CPU GEMMs (OpenMP build, shares threads with our loops)
  lintian               # checks the .deb (tests/package)
  gnuplot-nox           # charts of pagedserve bench memory --plot
  chromium              # renders the admin page in the server's black-box tests
  curl                  # the utility routes' black-box test
  prometheus            # promtool checks a live /metrics scrape
  python3-jinja2        # the reference renderer the chat-template tests compare against
)

# The server's black-box tests run real clients (the OpenAI Node SDK, ws,
# ajv, zod) on the Node 20 of the base image: installed exactly from the
# lock file, again whenever the lock file is newer than the installed tree.
blackbox="$(cd "$(dirname "$0")/.." && pwd)/tests/net/blackbox"
if { [ ! -d "$blackbox/node_modules" ] || [ "$blackbox/package-lock.json" -nt "$blackbox/node_modules/.package-lock.json" ]; } &&
   command -v npm >/dev/null; then
  echo "install-deps: npm ci in tests/net/blackbox"
  (cd "$blackbox" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# llama.cpp, the forward-pass oracle and benchmark reference: node-llama-cpp
# with only its prebuilt CPU binary (optional GPU builds left out), told
# never to download or compile llama.cpp (its install script is skipped too).
llamacpp="$(cd "$(dirname "$0")/.." && pwd)/tools/llamacpp"
if [ ! -d "$llamacpp/node_modules" ] && command -v npm >/dev/null; then
  echo "install-deps: npm ci in tools/llamacpp"
  (cd "$llamacpp" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The tokenizer oracle: transformers.js, exactly from its lock file. Install
# scripts are skipped: onnxruntime-node's would download GPU binaries from
# outside the npm registry, and the tokenizer never runs ONNX at all.
oracle="$(cd "$(dirname "$0")/.." && pwd)/tests/model/tokenizer_oracle"
if [ ! -d "$oracle/node_modules" ] && command -v npm >/dev/null; then
  echo "install-deps: npm ci in tests/model/tokenizer_oracle"
  (cd "$oracle" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
