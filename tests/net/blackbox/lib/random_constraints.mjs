// Random constraints for the conformance tests, from a seeded generator:
// JSON Schemas (every supported keyword), regexes, choice lists, and GBNF
// grammars written alongside an equivalent JavaScript RegExp. Everything is
// bounded (string lengths, item counts, quantifiers) so that a model that
// only produces noise still finishes within max_tokens.

export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
const pick = (r, xs) => xs[int(r, 0, xs.length - 1)];

const kWords = ['a', 'bé', 'x"y', 'c\\d', 'ü', '猫', 'k-1', 'tab\t', ''];

function leafSchema(r) {
  switch (int(r, 0, 9)) {
    case 0: return { type: 'integer' };
    case 1: return { type: 'number' };
    case 2: return { type: 'boolean' };
    case 3: return { type: 'null' };
    case 4: { const min = int(r, 0, 2); return { type: 'string', minLength: min, maxLength: min + int(r, 0, 4) }; }
    case 5: return { enum: [pick(r, kWords), int(r, -5, 5), null, pick(r, [true, { k: [1] }, 'z'])] };
    case 6: return { const: pick(r, [pick(r, kWords), 3.5, false, [1, 'two']]) };
    case 7: return { type: 'string', pattern: `^${randomRegex(r, 2).source}$` };
    case 8: return { type: ['string', 'null'], maxLength: int(r, 0, 3) };
    default: return { type: ['integer', 'boolean'] };
  }
}

function objectSchema(r, depth) {
  const properties = {};
  const required = [];
  const n = int(r, 1, 4);
  for (let i = 0; i < n; ++i) {
    const name = pick(r, ['id', 'name', 'tags', 'é', 'a b', 'q"', 'x', 'value']) + i;
    properties[name] = randomSchema(r, depth + 1);
    if (r() < 0.6) required.push(name);
  }
  const s = { type: 'object', properties, required };
  if (r() < 0.7) s.additionalProperties = false;
  return s;
}

function arraySchema(r, depth) {
  const min = int(r, 0, 2);
  return { type: 'array', items: randomSchema(r, depth + 1), minItems: min, maxItems: min + int(r, 0, 2) };
}

// anyOf / oneOf branches of different types, so exactly one can match.
function unionSchema(r, depth) {
  const branches = [{ type: 'integer' }, { type: 'string', maxLength: 3 }, { type: 'boolean' }, { type: 'null' },
    objectSchema(r, depth + 1)];
  const a = int(r, 0, branches.length - 1);
  const b = (a + int(r, 1, branches.length - 1)) % branches.length;
  return { [pick(r, ['anyOf', 'oneOf'])]: [branches[a], branches[b]] };
}

export function randomSchema(r, depth = 0) {
  const k = depth >= 3 ? 0 : int(r, 0, 5);
  if (k <= 1) return leafSchema(r);
  if (k <= 3) return objectSchema(r, depth);
  if (k === 4) return arraySchema(r, depth);
  return unionSchema(r, depth);
}

// A top-level schema: an object, sometimes behind a $ref into $defs.
export function randomTopSchema(r) {
  const body = objectSchema(r, 0);
  if (r() < 0.3) return { $defs: { thing: body }, $ref: '#/$defs/thing' };
  if (r() < 0.2) return { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/$defs/t' }, maxItems: 2 } },
    required: ['items'], additionalProperties: false, $defs: { t: leafSchema(r) } };
  return body;
}

// A regex as a tree rendered twice: `source` (for pagedserve and for
// JavaScript, the same text) and `gbnf` (a grammar for the same language).
export function randomRegex(r, depth = 3) {
  const node = regexNode(r, depth);
  return { source: node.re, gbnf: `root ::= ${node.g}\n` };
}

function regexNode(r, depth) {
  const k = depth <= 0 ? int(r, 0, 2) : int(r, 0, 5);
  switch (k) {
    case 0: { const c = pick(r, ['a', 'b', 'z', '7', '-', 'é']); return { re: c, g: `"${c}"` }; }
    case 1: return pick(r, [{ re: '[a-c]', g: '[a-c]' }, { re: '\\d', g: '[0-9]' }, { re: '[^a-y]', g: '[^a-y]' }]);
    case 2: return { re: '[xy0-2]', g: '[xy0-2]' };
    case 3: {
      const parts = [regexNode(r, depth - 1), regexNode(r, depth - 1)];
      return { re: `(?:${parts.map((p) => p.re).join('')})`, g: `(${parts.map((p) => p.g).join(' ')})` };
    }
    case 4: {
      const parts = [regexNode(r, depth - 1), regexNode(r, depth - 1)];
      return { re: `(?:${parts.map((p) => p.re).join('|')})`, g: `(${parts.map((p) => p.g).join(' | ')})` };
    }
    default: {
      const inner = regexNode(r, depth - 1);
      const min = int(r, 0, 2);
      const max = min + int(r, 0, 2);
      const q = pick(r, [`{${min},${max}}`, '?', `{${min}}`]);
      return { re: `(?:${inner.re})${q}`, g: `(${inner.g})${q}` };
    }
  }
}

export function randomChoice(r) {
  const n = int(r, 1, 5);
  const out = new Set();
  while (out.size < n) out.add(pick(r, ['yes', 'no', 'maybe', 'é ü', '{"x":1}', 'a\nb', 'ya', 'y']) + (r() < 0.3 ? String(int(r, 0, 9)) : ''));
  return [...out];
}
