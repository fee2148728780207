// The texts compared: a fixed list of hard cases and seeded random strings
// built from pools of letters, digits, whitespace, CJK, emoji, combining
// marks (NFC changes them), look-alikes of byte tokens and special tokens.

export const trainingText = `
The quick brown fox jumps over the lazy dog. It's 12:45 and we've got 3,141 apples.
She said: "I'll be there in 2024, don't worry!" They're going to the market at 7am.
Tokenizers split text into pieces; pieces merge into tokens, and tokens become ids.
def encode(text): return [vocab[p] for p in split(text)]  # code    with   spaces
	Tabs	and
newlines
  and  runs   of    spaces     matter.
Numbers like 1234567890 and 3.14159 and 42 appear often; so do dates: 2026-11-30.
東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다.
Emoji: 😀 🎉 👍 ❤️ and café, naïve, résumé, Ångström, São Paulo.
the the the and and and of of to to in in is is it it that that with with for for
hello world, hello there, hello again; goodbye world, goodbye there.
`;

export function specialTexts(family) {
  return family.added.map((a) => a.content);
}

export function fixedCases(family) {
  const [s0, s1] = specialTexts(family);
  const last = specialTexts(family).at(-1);
  return [
    '', ' ', '  ', '\t', '\n', '\r\n', '\n\n\n', ' \t \n ', 'a  b   c    d',
    'Hello world', ' Hello world', 'Hello world ', 'hello  world\n\nbye',
    "It's we'll they're I'M YOU'LL", '1234567890', '3.14159 + 2,718', 'x1y22z333w4444',
    '٣٤٥ and １２３', '東京は日本の首都です。', '北京是中国的首都', '서울은 한국', '😀🎉👍🏽', '👨‍👩‍👧 family', '🇯🇵🇫🇷',
    'café naïve', 'cafe\u0301 nai\u0308ve', 'A\u030Angstro\u0308m', '\u1112\u1161\u11AB\u1100\u1173\u11AF', 'ﬁne ﬂow',
    '<0xC3><0xA9>', '\\xC3\\x28', 'Ã© mojibake Ã¨', '\uFFFD\uFFFD', '\u0301 lone mark', '\u2581 lower one eighth',
    'Ġ and Ċ', '\u00A0nbsp\u00A0', 'ideographic\u3000space', 'em\u2003space', 'zero\u200Bwidth',
    `${s0}`, `${s0}${s1}`, `before${s0}after`, `before ${s0} after`, `${s1} trailing`, `a${s0}\n${s1}b`, `x ${last} y${last}`,
    'def encode(text):\n\treturn [vocab[p] for p in split(text)]\n', '    indented code',
    'x'.repeat(300), ' '.repeat(40) + 'end', '!!!???...;;;', 'MiXeD CaSe WoRdS', "'s 'S 't 're 'VE",
    // Long runs: one piece each, where a backtracking pattern or a merge loop would show it.
    ' '.repeat(20000), ' '.repeat(19999) + 'x', '\n'.repeat(20000), 'ab'.repeat(10000), '1'.repeat(20000),
    '!'.repeat(20000), 'é'.repeat(10000), 'hello world '.repeat(2000),
  ];
}

// Mulberry32: a small seeded generator, so every run compares the same strings.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pools = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''),
  ['the', 'hello', 'world', 'token', 'and', 'of', 'xyzzy', 'Quick', 'ing', 'er'],
  '0123456789'.split(''), ['12', '345', '6789', '٣', '１'],
  ' \t\n'.split(''), ['  ', '   ', '\r\n', '\n\n', ' \n', '\u00A0', '\u3000', '\u2003', '\u000B', '\u0085'],
  '.,;:!?\'"()[]{}<>|_-+=*/\\@#$%^&~`'.split(''), ["'s", "'ll", "'RE", "n't"],
  '你好世界東京日本語中文한국어の首都'.split(''), ['😀', '🎉', '👍🏽', '❤️', '👨‍👩‍👧', '🇯🇵', '🦀'],
  ['é', 'e\u0301', 'Å', 'A\u030A', 'ü', 'u\u0308', 'ñ', 'ﬁ', '\u1112\u1161\u11AB', 'ç'],
  ['\u2581', 'Ġ', 'Ċ', '<0xC3>', '<0x', '\\x', '\uFFFD', 'Ã©', '\u200B', '\u0301'],
];

export function randomStrings(family, count, seed) {
  const random = rng(seed);
  const specials = specialTexts(family);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const out = [];
  for (let i = 0; i < count; ++i) {
    const parts = Math.floor(random() * 14);
    let s = '';
    for (let k = 0; k < parts; ++k) s += random() < 0.04 ? pick(specials) : pick(pick(pools));
    out.push(s);
  }
  return out;
}
