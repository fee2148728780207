// Decode throughput of llama.cpp (node-llama-cpp's prebuilt binary, CPU) and
// of pagedserve on the same weights, interleaved A B A B, medians:
//   node bench.mjs --pagedserve BIN --model MODEL --gguf FILE [options]
// MODEL is what `pagedserve bench throughput --model` takes; FILE is the
// GGUF `pagedserve export-gguf` wrote from it (scripts/bench-llamacpp.sh
// does both). Both engines decode greedily, end-of-sequence ignored, N
// sequences of BOS + (prompt-len - 1) random ids, `tokens` new tokens each,
// timed from the first prompt token to the last new token.
import {execFileSync} from "node:child_process";
import {parseArgs} from "node:util";
import {loadLlama} from "./llama.mjs";

const {values: opt} = parseArgs({
  options: {
    pagedserve: {type: "string"},
    model: {type: "string"},
    gguf: {type: "string"},
    batch: {type: "string", default: "1,8,32,64"},
    "prompt-len": {type: "string", default: "16"},
    tokens: {type: "string", default: "64"},
    repeat: {type: "string", default: "5"},
    threads: {type: "string", default: "2"},
    "batch-size": {type: "string", default: ""},
    help: {type: "boolean", short: "h"},
  },
});
if (opt.help || !opt.pagedserve || !opt.model || !opt.gguf) {
  console.log(`usage: node bench.mjs --pagedserve BIN --model MODEL --gguf FILE [--batch 1,8,32,64]
       [--prompt-len 16] [--tokens 64] [--repeat 5] [--threads 2] [--batch-size B]
--batch-size: llama.cpp's tokens per decode call (default: every sequence's whole prompt at once)`);
  process.exit(opt.help ? 0 : 2);
}
const batches = opt.batch.split(",").map(Number);
const promptLen = Number(opt["prompt-len"]), newTokens = Number(opt.tokens), repeat = Number(opt.repeat);
const threads = Number(opt.threads);

const llama = await loadLlama({maxThreads: threads});
const model = await llama.loadModel({modelPath: opt.gguf, gpuLayers: 0});
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const bos = model.tokens.bos ?? 1;

// A small LCG: the same prompts on every run, no dependence on Math.random.
function prompts(n, seed) {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  return Array.from({length: n}, () => [bos, ...Array.from({length: promptLen - 1}, () => 3 + (next() % (vocab - 3)))]);
}

async function decode(sequence, prompt) {
  let count = 0;
  for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
    if (++count === newTokens) break;
  }
  return count;
}

// One timed run of `n` sequences decoding together in one context.
async function llamacppRun(n, seed) {
  const batchSize = opt["batch-size"] ? Number(opt["batch-size"]) : Math.max(n * promptLen, 32);
  const context = await model.createContext({
    contextSize: promptLen + newTokens + 1, sequences: n, batchSize, threads: {ideal: threads, min: threads},
  });
  const sequences = Array.from({length: n}, () => context.getSequence());
  const inputs = prompts(n, seed);
  const start = process.hrtime.bigint();
  const counts = await Promise.all(sequences.map((s, i) => decode(s, inputs[i])));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await context.dispose();
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

function pagedserveRun(n) {
  const out = execFileSync(opt.pagedserve, ["bench", "throughput", "--model", opt.model, "--batch", String(n),
    "--prompt-len", String(promptLen), "--tokens", String(newTokens), "--repeat", "1", "--json"],
  {env: {...process.env, OMP_NUM_THREADS: String(threads)}, encoding: "utf8"});
  return JSON.parse(out.trim().split("\n").pop()).runs[0].tokens_per_s;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(" ");

await llamacppRun(1, 99);  // warm-up: thread pool, caches
console.log(`${opt.model} (pagedserve) and its GGUF export (llama.cpp), prompt ${promptLen} + ${newTokens} new tokens, threads: ${threads}, ` +
  `interleaved, median of ${repeat}`);
console.log(["batch", "llama.cpp tok/s", "pagedserve tok/s", "ratio"].map((h) => h.padStart(17)).join(""));
const rows = [];
for (const n of batches) {
  const a = [], b = [];
  for (let r = 0; r < repeat; ++r) {
    a.push(await llamacppRun(n, r + 1));
    b.push(pagedserveRun(n));
  }
  rows.push({batch: n, llamacpp: a, pagedserve: b});
  console.log([String(n), median(a).toFixed(1), median(b).toFixed(1), (median(b) / median(a)).toFixed(2) + "x"]
    .map((c) => c.padStart(17)).join(""));
}
console.log("raw tokens/s per run:");
for (const r of rows) console.log(`  batch ${r.batch}: llama.cpp ${fmt(r.llamacpp)} | pagedserve ${fmt(r.pagedserve)}`);
await model.dispose();
await llama.dispose();
