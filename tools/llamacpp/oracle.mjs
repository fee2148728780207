// Greedy decoding in llama.cpp from token ids (no tokenizer involved):
//   node oracle.mjs MODEL.gguf REQUEST.json
// REQUEST: {"prompts": [[ids...], ...], "steps": N}
// Prints {"results": [{"tokens": [N ids], "logprobs": [N rows of vocab values]}]}:
// the log-probabilities (llama.cpp's softmax of its raw logits, no sampling
// options applied) each greedy token was chosen from; null where the
// probability is 0 in float.
import {readFileSync} from "node:fs";
import {GgmlType} from "node-llama-cpp";
import {argmax, loadLlama} from "./llama.mjs";

const [modelPath, requestPath] = process.argv.slice(2);
if (!modelPath || !requestPath) {
  console.error("usage: node oracle.mjs MODEL.gguf REQUEST.json");
  process.exit(2);
}
const request = JSON.parse(readFileSync(requestPath, "utf8"));
const llama = await loadLlama();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const vocab = model.tokens.vocabSize ?? model.fileInfo.metadata.tokenizer.ggml.tokens.length;

function logprobRow(probabilities) {
  const row = new Array(vocab).fill(-Infinity);
  for (const [token, p] of probabilities) row[token] = Math.log(p);
  return row;
}

async function greedy(sequence, prompt, steps) {
  const tokens = [], logprobs = [];
  let input = prompt;
  for (let step = 0; step < steps; ++step) {
    const items = input.map((t, i) => (i + 1 < input.length ? t : [t, {generateNext: {probabilities: true}}]));
    const out = await sequence.controlledEvaluate(items);
    const row = logprobRow(out[input.length - 1].next.probabilities);
    const next = argmax(row);
    tokens.push(next);
    logprobs.push(row);
    input = [next];
  }
  return {tokens, logprobs};
}

const contextSize = Math.max(...request.prompts.map((p) => p.length)) + request.steps + 1;
const results = [];
for (const prompt of request.prompts) {
  // A fresh context per prompt: nothing carried over between prompts. One
  // thread: on a busy machine llama.cpp's spinning workers wait on each other.
  // K/V kept in f32 (llama.cpp's default is f16), like the weights.
  const context = await model.createContext({
    contextSize, threads: 1, sequences: 1, flashAttention: false, experimentalKvCacheKeyType: GgmlType.F32, experimentalKvCacheValueType: GgmlType.F32,
  });
  results.push(await greedy(context.getSequence(), prompt, request.steps));
  await context.dispose();
}
process.stdout.write(JSON.stringify({results}) + "\n");
await model.dispose();
await llama.dispose();
