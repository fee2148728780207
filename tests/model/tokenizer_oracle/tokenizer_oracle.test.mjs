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

import { families, gpt2Split } from './families.mjs';
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
// ports, pagedserve follows the library. Two such places, both written by
// hand in transformers.js instead of through its oniguruma-to-JavaScript
// pattern rewriting:
//  - ByteLevel's built-in GPT-2 pattern uses JavaScript's \s, which misses
//    U+0085 and adds U+FEFF (the library's \s is Unicode White_Space);
//  - Digits uses JavaScript's \d, ASCII only (the library splits every
//    Unicode number, Rust's char::is_numeric, i.e. \p{N}).
// A third, with no Split spelling: after it finds the normalized form of a
// normalized added token (Llama 2's "<s>" is looked for as "▁<s>"), a piece
// left between two matches that equals some token's raw text is taken as
// that token; the library hands it to the model like any other text. Texts
// where one such token directly follows another are counted apart.
const normalizedTokenQuirk = (family, text) => {
  const contents = family.tokenizer.normalizer ? family.added.filter((a) => a.normalized).map((a) => a.content) : [];
  return contents.some((a) => contents.some((b) => text.includes(a + b)));
};
// Texts these touch are compared with transformers.js running the library's
// meaning of those steps, spelled as Split patterns (which it does rewrite
// faithfully); only where no such spelling exists (ByteLevel with a prefix
// space, which must come before the split) is a text that differs counted apart.
function libraryEquivalent(pre) {
  let changed = false;
  const out = [];
  for (const p of steps(pre)) {
    if (p.type === 'Digits') {
      out.push(isolate(p.individual_digits ? '\\p{N}' : '\\p{N}+'));
      changed = true;
    } else if (p.type === 'ByteLevel' && p.use_regex !== false && !p.add_prefix_space) {
      out.push(isolate(gpt2Split), { ...p, use_regex: false });
      changed = true;
    } else {
      out.push(p);
    }
  }
  return changed ? { type: 'Sequence', pretokenizers: out } : null;
}

const isolate = (regex) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
const steps = (pre) => (!pre ? [] : pre.type === 'Sequence' ? pre.pretokenizers : [pre]);
const deviates = (pre, text) =>
  (steps(pre).some((p) => p.type === 'ByteLevel' && p.use_regex !== false) && /[\u0085\uFEFF]/u.test(text)) ||
  (steps(pre).some((p) => p.type === 'Digits') && /[^\P{N}0-9]/u.test(text));

async function equivalentTokenizer(family) {
  const pre = libraryEquivalent(family.tokenizer.pre_tokenizer);
  if (!pre) return null;
  const name = `${family.name}_library_equivalent`;
  writeFamily({ ...family, name, tokenizer: { ...family.tokenizer, pre_tokenizer: pre } });
  return AutoTokenizer.from_pretrained(name);
}

const differingFields = (ours, want) =>
  ['ids', 'ids_with_bos', 'text'].filter((f) => JSON.stringify(ours[f]) !== JSON.stringify(want[f]));

for (const [index, family] of families().entries()) {
  test(`${family.name}: ids and decoded text match transformers.js`, async () => {
    const tokenizerPath = writeFamily(family);
    const texts = [...fixedCases(family), ...randomStrings(family, NUM_RANDOM, 1234 + index)];
    const ours = pagedserveTokenize(tokenizerPath, texts);
    const theirs = await AutoTokenizer.from_pretrained(family.name);
    const equivalent = await equivalentTokenizer(family);
    const mismatches = [];
    let rechecked = 0;
    let apart = 0;
    texts.forEach((text, i) => {
      // Texts the departures touch are held to the library's meaning always,
      // not only where pagedserve and transformers.js differ.
      const byLibrary = equivalent && deviates(family.tokenizer.pre_tokenizer, text);
      if (byLibrary) ++rechecked;
      const want = reference(byLibrary ? equivalent : theirs, text);
      const differs = differingFields(ours[i], want);
      if (!differs.length) return;
      if (!byLibrary && (deviates(family.tokenizer.pre_tokenizer, text) || normalizedTokenQuirk(family, text))) {
        ++apart;
        return;
      }
      const source = byLibrary ? 'library' : 'transformers';
      for (const field of differs) mismatches.push({ text, field, pagedserve: ours[i][field], [source]: want[field] });
    });
    console.log(`${family.name}: ${texts.length} texts, ${Object.keys(family.tokenizer.model.vocab).length} vocab pieces, ` +
                `${mismatches.length} mismatches; ${rechecked} held to the library's meaning, ${apart} apart`);
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    // Tokenizing did something: most texts are not a single token.
    assert.ok(ours.filter((o) => o.ids.length > 1).length > texts.length / 2);
  });
}
