/**
 * Near-duplicate detection on normalised user text: Jaccard similarity of word-bigram sets.
 * MinHash with LSH banding finds candidate pairs quickly; every candidate is then scored with
 * the exact Jaccard, so the threshold is applied exactly (just over → flagged, just under → kept).
 */

const HASHES = 96;
/** Chance that LSH misses a pair exactly at the threshold; every candidate is then scored exactly. */
const MISS = 1e-5;
/** Work bound per lookup on pathological data (thousands of texts in one bucket). */
const MAX_CANDIDATES = 4000;

const SEEDS = new Uint32Array(HASHES * 2);
{
  let s = 0x9e3779b9;
  for (let i = 0; i < SEEDS.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    SEEDS[i] = ((s ^ (s >>> 13)) >>> 0) | 1;
  }
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const ASCII_WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_WORD[c] = /[a-z0-9]/.test(String.fromCharCode(c)) ? 1 : 0;

/**
 * The shingle set of a text: hashed word bigrams (the single word for a one-word text), sorted.
 * Words are the runs of letters and digits (any script) of the lowercased text, so punctuation,
 * case and spacing do not count; hashing happens in one pass without building the words.
 */
export function shingles(text: string): Uint32Array {
  const lower = text.toLowerCase();
  const out: number[] = [];
  let prev = -1;
  let words = 0;
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32;
    const isWord = c < 128 ? ASCII_WORD[c] === 1 : isWordAt(lower, i, c);
    if (isWord) {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
      continue;
    }
    if (!inWord) continue;
    const word = h >>> 0;
    if (prev !== -1) out.push(Math.imul(prev ^ Math.imul(word, 0x9e3779b1), 0x85ebca6b) >>> 0);
    prev = word;
    words++;
    h = 0x811c9dc5;
    inWord = false;
  }
  if (words === 1) out.push(prev);
  const set = Uint32Array.from(out).sort();
  let n = 0;
  for (let i = 0; i < set.length; i++) if (i === 0 || set[i] !== set[n - 1]) set[n++] = set[i]!;
  return set.subarray(0, n);
}

function isWordAt(text: string, i: number, c: number): boolean {
  // Surrogate pairs: test the whole code point once, on its high half; the low half follows the verdict.
  if (c >= 0xdc00 && c <= 0xdfff) return i > 0 && WORD_CHAR.test(text.slice(i - 1, i + 1));
  return WORD_CHAR.test(c >= 0xd800 && c <= 0xdbff ? text.slice(i, i + 2) : text[i]!);
}

/** Exact Jaccard similarity of two sorted shingle sets. */
export function jaccardOf(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      both++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return both / (a.length + b.length - both);
}

/** Jaccard similarity of two texts, as QC measures it. */
export function textJaccard(a: string, b: string): number {
  return jaccardOf(shingles(a), shingles(b));
}

function signature(set: Uint32Array): Uint32Array {
  const sig = new Uint32Array(HASHES).fill(0xffffffff);
  for (let s = 0; s < set.length; s++) {
    const x = set[s]!;
    for (let k = 0; k < HASHES; k++) {
      let h = Math.imul(x ^ SEEDS[2 * k]!, SEEDS[2 * k + 1]!);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b) >>> 0;
      if (h < sig[k]!) sig[k] = h;
    }
  }
  return sig;
}

export interface NearMatch<T> {
  ref: T;
  similarity: number;
}

/**
 * An index of texts seen so far; `check` answers the most similar earlier text at or over the
 * threshold, or adds the text. Two different sets whose smaller has n shingles are at most
 * n/(n+1) similar, so below `minLshSize` shingles only an identical set can reach the threshold:
 * those are found by exact lookup, and only longer texts go through MinHash LSH.
 */
export class NearDupIndex<T> {
  private readonly buckets: Array<Map<number, number[]>>;
  /** Rows per band: as many as keep the miss chance at the threshold under MISS (8 at 0.95), for few candidates. */
  private readonly rows: number;
  private readonly sets: Uint32Array[] = [];
  private readonly refs: T[] = [];
  private readonly identical = new Map<string, Array<{ set: Uint32Array; ref: T }>>();
  private readonly minLshSize: number;

  constructor(readonly threshold: number) {
    this.minLshSize = threshold >= 1 ? Infinity : Math.ceil(threshold / (1 - threshold) - 1e-9);
    let rows = 1;
    for (let r = 2; r <= 16; r++) if ((1 - threshold ** r) ** Math.floor(HASHES / r) <= MISS) rows = r;
    this.rows = rows;
    this.buckets = Array.from({ length: Math.floor(HASHES / rows) }, () => new Map<number, number[]>());
  }

  check(text: string, ref: T): NearMatch<T> | undefined {
    const set = shingles(text);
    if (set.length === 0) return undefined;
    const key = setKey(set);
    const same = this.identical.get(key)?.find((e) => equalSets(e.set, set));
    if (same) return { ref: same.ref, similarity: 1 };
    if (set.length < this.minLshSize) {
      this.remember(key, set, ref);
      return undefined;
    }
    const sig = signature(set);
    const keys: number[] = [];
    const seen = new Set<number>();
    let best: NearMatch<T> | undefined;
    for (let b = 0; b < this.buckets.length; b++) {
      let bandKey = b;
      for (let r = 0; r < this.rows; r++)
        bandKey = Math.imul(bandKey ^ sig[b * this.rows + r]!, 0x01000193) ^ (bandKey >>> 13);
      keys.push(bandKey);
      const bucket = this.buckets[b]!.get(bandKey);
      if (!bucket) continue;
      for (const idx of bucket) {
        if (seen.has(idx) || seen.size >= MAX_CANDIDATES) continue;
        seen.add(idx);
        const similarity = jaccardOf(set, this.sets[idx]!);
        if (similarity >= this.threshold && (!best || similarity > best.similarity))
          best = { ref: this.refs[idx]!, similarity };
      }
    }
    if (best) return best;
    this.remember(key, set, ref);
    const idx = this.sets.length;
    this.sets.push(set);
    this.refs.push(ref);
    keys.forEach((k, b) => {
      const bucket = this.buckets[b]!.get(k);
      if (bucket) bucket.push(idx);
      else this.buckets[b]!.set(k, [idx]);
    });
    return undefined;
  }

  private remember(key: string, set: Uint32Array, ref: T): void {
    const list = this.identical.get(key);
    if (list) list.push({ set, ref });
    else this.identical.set(key, [{ set, ref }]);
  }
}

function setKey(set: Uint32Array): string {
  let a = 0x811c9dc5;
  let b = set.length;
  for (let i = 0; i < set.length; i++) {
    a = Math.imul(a ^ set[i]!, 0x01000193);
    b = Math.imul(b ^ set[i]!, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${a >>> 0}:${b >>> 0}`;
}

function equalSets(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
