// The reference outputs (tests/data/reference_greedy.json: what llama2.c
// prints for stories260K at temperature 0) and the model's tokenizer file
// read here, so expected texts come from the reference token ids without
// the server's code.

import fs from 'node:fs';
import path from 'node:path';
import { sourceDir, modelDir } from './server.mjs';

export const cases = JSON.parse(fs.readFileSync(path.join(sourceDir, 'tests/data/reference_greedy.json'))).cases
  .map((c) => ({ ...c, maxTokens: c.steps - c.prompt_ids.length + 1 }));  // llama2.c samples at positions len-1..steps-1

// The llama2.c tokenizer.bin format: int32 max_token_length, then per
// token float32 score, int32 length, bytes.
function readVocab(file) {
  const buf = fs.readFileSync(file);
  const vocab = [];
  let at = 4;
  while (at < buf.length) {
    const len = buf.readInt32LE(at + 4);
    vocab.push(buf.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return vocab;
}

const vocab = readVocab(path.join(modelDir, 'tok512.bin'));

// llama2.c's decode: after BOS (1) a leading space is dropped; <0xXX> is a raw byte.
export function decode(ids, prev) {
  const bytes = [];
  for (const id of ids) {
    let piece = vocab[id];
    if (prev === 1 && piece[0] === 0x20) piece = piece.subarray(1);
    const m = /^<0x([0-9A-F]{2})>$/.exec(piece.toString('latin1'));
    if (m) bytes.push(parseInt(m[1], 16));
    else bytes.push(...piece);
    prev = id;
  }
  return Buffer.from(bytes).toString('utf8');
}

export const expectedText = (c) => decode(c.output_ids, c.prompt_ids[c.prompt_ids.length - 1]);
