// A small BPE trainer: learns merges from words (each an array of base
// symbols with a count) by repeatedly joining the most frequent adjacent
// pair (ties broken by the pair's text, so the result is deterministic).

export function trainBpe(words, numMerges) {
  const merges = [];
  for (let m = 0; m < numMerges; ++m) {
    const counts = new Map();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; ++i) {
        const key = w.symbols[i] + '\u0000' + w.symbols[i + 1];
        counts.set(key, (counts.get(key) ?? 0) + w.count);
      }
    }
    let best = null;
    let bestCount = 1;  // a pair seen once is not worth a merge
    for (const [key, count] of counts)
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.symbols.length; ++i) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) {
          out.push(a + b);
          ++i;
        } else {
          out.push(w.symbols[i]);
        }
      }
      w.symbols = out;
    }
  }
  return merges;
}

// Words (with counts) from pieces of text, each cut into base symbols.
export function countWords(pieces, toSymbols) {
  const counts = new Map();
  for (const p of pieces) if (p.length) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, count]) => ({ symbols: toSymbols(p), count }));
}
