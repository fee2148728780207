// llama.cpp through node-llama-cpp's prebuilt Linux x64 binary, on the CPU,
// never downloading or building anything.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

export async function loadLlama(options = {}) {
  return getLlama({
    ...options,
    build: "never",
    gpu: false,
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
  });
}

// The index of the largest value; ties go to the lowest id, as pagedserve's greedy sampler does.
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; ++i) if (values[i] > values[best]) best = i;
  return best;
}
