// pagedserve's tokenizer.json support against transformers.js: for each
// family built by families.mjs, the ids of every text (without and with the
// BOS a prompt gets) and the text those ids decode to must be the same from
// `pagedserve tokenize` and from @huggingface/transformers' AutoTokenizer,
// loaded from the same local files with remote loading off.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, AutoTokenizer } from '@huggingface/transformers';

import { families } from './families.mjs';
import { fixedCases, randomStrings } from './corpus.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.PAGEDSERVE_SOURCE_DIR ?? path.resolve(here, '../../..');
const binary = process.env.PAGEDSERVE_BINARY ?? path.join(sourceDir, 'build/pagedserve');
const NUM_RANDOM = 10000;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedserve-tokenizers-'));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = root + path.sep;
after(() => fs.rmSync(root, { recursive: true, force: true }));

function writeFamily(family) {
  const dir = path.join(root, family.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(family.tokenizer, null, 1));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(family.config));
  return path.join(dir, 'tokenizer.json');
}

function pagedserveTokenize(tokenizerPath, texts) {
  const run = spawnSync(binary, ['tokenize', '--tokenizer', tokenizerPath], {
    input: texts.map((t) => JSON.stringify(t)).join('\n') + '\n', maxBuffer: 1 << 30, encoding: 'utf8',
  });
  assert.equal(run.status, 0, `pagedserve tokenize failed: ${run.stderr}`);
  const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, texts.length);
  return lines;
}

function reference(tokenizer, text) {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  return {
    ids,
    ids_with_bos: tokenizer.encode(text, { add_special_tokens: true }),
    text: ids.length ? tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : '',
  };
}

// Where transformers.js departs from the Hugging Face tokenizers library it
// ports (and pagedserve follows the library): texts these touch are counted
// apart, and every other text must match exactly.
const knownDeviations = [
  {
    // Its built-in GPT-2 pattern uses JavaScript's \s, which misses U+0085
    // and adds U+FEFF; the library's \s (and PCRE2's) is Unicode White_Space.
    why: 'ByteLevel use_regex: JavaScript \\s is not Unicode White_Space',
    applies: (family, text) => usesByteLevelRegex(family.tokenizer.pre_tokenizer) && /[\u0085\uFEFF]/u.test(text),
  },
  {
    // Its Digits uses JavaScript's \d (ASCII); the library splits every
    // Unicode number (Rust's char::is_numeric), as \p{N} does.
    why: 'Digits: JavaScript \\d is ASCII only',
    applies: (family, text) => hasDigits(family.tokenizer.pre_tokenizer) && /[^\P{N}0-9]/u.test(text),
  },
];

function steps(pre) {
  if (!pre) return [];
  return pre.type === 'Sequence' ? pre.pretokenizers : [pre];
}
const usesByteLevelRegex = (pre) => steps(pre).some((p) => p.type === 'ByteLevel' && p.use_regex !== false);
const hasDigits = (pre) => steps(pre).some((p) => p.type === 'Digits');

for (const [index, family] of families().entries()) {
  test(`${family.name}: ids and decoded text match transformers.js`, async () => {
    const tokenizerPath = writeFamily(family);
    const texts = [...fixedCases(family), ...randomStrings(family, NUM_RANDOM, 1234 + index)];
    const ours = pagedserveTokenize(tokenizerPath, texts);
    const theirs = await AutoTokenizer.from_pretrained(family.name);
    const mismatches = [];
    const deviations = new Map();
    texts.forEach((text, i) => {
      const want = reference(theirs, text);
      const differs = ['ids', 'ids_with_bos', 'text'].filter((f) => JSON.stringify(ours[i][f]) !== JSON.stringify(want[f]));
      if (!differs.length) return;
      const deviation = knownDeviations.find((d) => d.applies(family, text));
      if (deviation) deviations.set(deviation.why, (deviations.get(deviation.why) ?? 0) + 1);
      else for (const field of differs) mismatches.push({ text, field, pagedserve: ours[i][field], transformers: want[field] });
    });
    const apart = [...deviations].map(([why, n]) => `${n} texts apart (${why})`).join(', ');
    console.log(`${family.name}: ${texts.length} texts, ${Object.keys(family.tokenizer.model.vocab).length} vocab pieces, ` +
                `${mismatches.length} mismatches${apart ? ', ' + apart : ''}`);
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    // Tokenizing did something: most texts are not a single token.
    assert.ok(ours.filter((o) => o.ids.length > 1).length > texts.length / 2);
  });
}
