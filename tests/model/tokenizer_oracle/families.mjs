// tokenizer.json files of each family's kind, built here: the stages each
// family declares, written for this test, and a vocabulary learned from
// trainingText by bpe_trainer.mjs.

import { trainBpe, countWords } from './bpe_trainer.mjs';
import { trainingText } from './corpus.mjs';

// GPT-2's reversible byte -> printable character map.
export const byteChars = (() => {
  const map = [];
  let extra = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map.push(String.fromCodePoint(printable ? b : extra++));
  }
  return map;
})();

const utf8 = new TextEncoder();
const byteSymbols = (text) => [...utf8.encode(text)].map((b) => byteChars[b]);
const SPACE_MARK = '\u2581';

// The split patterns, in each family's style (case-insensitive contractions,
// letters with one leading non-letter, digit groups, punctuation runs, and
// whitespace whose last space stays with the next word).
const llama3Split = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const qwenSplit = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const gpt2Split = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// JavaScript has no inline (?i:...); for training only, an equivalent.
const jsRegex = (pattern) => new RegExp(pattern.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"), 'gu');

const addedToken = (id, content, special = true, normalized = !special) =>
  ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized, special });

// Vocabulary: base symbols first, then each merge's result, then extras.
function buildVocab(base, merges, extras = []) {
  const vocab = {};
  let next = 0;
  for (const s of [...base, ...merges.map(([a, b]) => a + b), ...extras]) if (!(s in vocab)) vocab[s] = next++;
  return vocab;
}

// Added tokens: special unless listed in `plain` (matched the same way,
// but normalized and kept when special tokens are skipped).
function withAdded(vocab, contents, plain = []) {
  let next = Math.max(...Object.values(vocab)) + 1;
  return contents.map((c) => addedToken(c in vocab ? vocab[c] : next++, c, !plain.includes(c)));
}

function template(bos, id) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
           { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

function byteLevelFamily({ name, split, normalizer, numMerges, pairMerges, ignoreMerges, extras, specials, post, config, prefixSpace = false, plain = [] }) {
  const pieces = trainingText.match(jsRegex(split)) ?? [];
  const merges = trainBpe(countWords(pieces, byteSymbols), numMerges);
  const vocab = buildVocab(byteChars, merges, extras.map((e) => byteSymbols(e).join('')));
  const added = withAdded(vocab, specials, plain);
  const preTokenizer = split === gpt2Split
    ? { type: 'ByteLevel', add_prefix_space: prefixSpace, trim_offsets: true, use_regex: true }
    : { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: split }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
  const tokenizer = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer,
    pre_tokenizer: preTokenizer,
    post_processor: post(added),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: ignoreMerges, vocab,
             merges: pairMerges ? merges : merges.map(([a, b]) => `${a} ${b}`) },
  };
  return { name, tokenizer, config: config(added), added };
}

// SentencePiece-style: words start with U+2581; characters of the training
// text are the base; <0xNN> byte tokens catch everything else.
function sentencePieceFamily({ name, normalizer, preTokenizer, decoder, numMerges, normalizedSpecials }) {
  const marked = SPACE_MARK + trainingText.replaceAll(' ', SPACE_MARK);
  const pieces = marked.match(/\u2581*[^\u2581]*/gu).filter((p) => p.length);
  const merges = trainBpe(countWords(pieces, (p) => [...p]), numMerges);
  const chars = [...new Set([...marked])].sort();
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const vocab = buildVocab(['<unk>', '<s>', '</s>', ...bytes, ...chars], merges);
  const added = ['<unk>', '<s>', '</s>'].map((c) => addedToken(vocab[c], c, true, normalizedSpecials));
  const tokenizer = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer, pre_tokenizer: preTokenizer,
    post_processor: template('<s>', vocab['<s>']), decoder,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
  return { name, tokenizer, config: { add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>' }, added };
}

const spDecoder = { type: 'Sequence', decoders: [
  { type: 'Replace', pattern: { String: SPACE_MARK }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
  { type: 'Strip', content: ' ', start: 1, stop: 0 }] };

// Digits split one by one, then Metaspace; characters outside the training
// text become <unk> (no byte fallback).
function digitsFamily() {
  const words = trainingText.normalize('NFC').split(/(\p{N})/u).flatMap((p) => p.split(' ').map((w) => SPACE_MARK + w));
  const merges = trainBpe(countWords(words, (p) => [...p]), 150);
  const chars = [...new Set([...trainingText.normalize('NFC').replaceAll(' ', SPACE_MARK), SPACE_MARK])].sort();
  const vocab = buildVocab(['<unk>', ...chars], merges);
  const added = withAdded(vocab, ['<unk>', '<eod>', '<pad>']);
  const metaspace = { type: 'Metaspace', replacement: SPACE_MARK, prepend_scheme: 'always', split: true };
  const tokenizer = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, metaspace] },
    post_processor: null, decoder: metaspace,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return { name: 'digits', tokenizer, config: { bos_token: null, eos_token: '<eod>' }, added };
}

export function families() {
  return [
    byteLevelFamily({
      name: 'llama3', split: llama3Split, normalizer: null, numMerges: 400, pairMerges: true, ignoreMerges: true,
      extras: [' xyzzy', 'Quick'], specials: ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>'],
      post: (added) => ({ type: 'Sequence', processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        template('<|begin_of_text|>', added[0].id)] }),
      config: () => ({ bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' }),
    }),
    byteLevelFamily({
      name: 'qwen2', split: qwenSplit, normalizer: { type: 'NFC' }, numMerges: 400, pairMerges: false, ignoreMerges: false,
      extras: [], specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<tool_call>', '</tool_call>'],
      plain: ['<tool_call>', '</tool_call>'],
      post: () => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }),
      config: () => ({ add_bos_token: false, bos_token: null, eos_token: '<|im_end|>' }),
    }),
    ...[false, true].map((prefixSpace) => byteLevelFamily({
      name: prefixSpace ? 'gpt2_prefix_space' : 'gpt2', split: gpt2Split, normalizer: null, numMerges: 300,
      pairMerges: false, ignoreMerges: false, extras: [], specials: ['<|endoftext|>'], prefixSpace,
      post: () => ({ type: 'ByteLevel', add_prefix_space: prefixSpace, trim_offsets: false, use_regex: true }),
      config: () => ({ model_max_length: 1024 }),
    })),
    sentencePieceFamily({
      name: 'llama2', numMerges: 300, preTokenizer: null, decoder: spDecoder, normalizedSpecials: true,
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE_MARK },
                                                    { type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARK }] },
    }),
    sentencePieceFamily({
      name: 'mistral', numMerges: 300, normalizer: null, decoder: spDecoder, normalizedSpecials: false,
      preTokenizer: { type: 'Metaspace', replacement: SPACE_MARK, prepend_scheme: 'first', split: false },
    }),
    digitsFamily(),
  ];
}
