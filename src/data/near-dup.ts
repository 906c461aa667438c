/**
 * Near-duplicate detection on normalised user text: Jaccard similarity of word-bigram sets.
 * MinHash with LSH banding finds candidate pairs quickly; every candidate is then scored with
 * the exact Jaccard, so the threshold is applied exactly (just over → flagged, just under → kept).
 */

const BANDS = 12;
const ROWS = 8;
const HASHES = BANDS * ROWS;
/** Work bound per lookup on pathological data (thousands of texts in one bucket). */
const MAX_CANDIDATES = 4000;

const SEEDS = new Uint32Array(HASHES * 2);
{
  let s = 0x9e3779b9;
  for (let i = 0; i < SEEDS.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    SEEDS[i] = (s ^ (s >>> 13)) >>> 0 | 1;
  }
}

/** Lowercase words of letters and digits: punctuation, case and spacing do not count. */
export function normalizeText(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The shingle set of a text: hashed word bigrams (the single word for a one-word text). */
export function shingles(text: string): Uint32Array {
  const words = normalizeText(text);
  const set = new Set<number>();
  if (words.length === 1) set.add(fnv(words[0]!));
  for (let i = 0; i + 1 < words.length; i++) set.add(fnv(`${words[i]} ${words[i + 1]}`));
  return Uint32Array.from(set).sort();
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

/** An index of texts seen so far; `check` answers the most similar earlier text at or over the threshold, or adds the text. */
export class NearDupIndex<T> {
  private readonly buckets = Array.from({ length: BANDS }, () => new Map<number, number[]>());
  private readonly sets: Uint32Array[] = [];
  private readonly refs: T[] = [];

  constructor(readonly threshold: number) {}

  check(text: string, ref: T): NearMatch<T> | undefined {
    const set = shingles(text);
    if (set.length === 0) return undefined;
    const sig = signature(set);
    const keys: number[] = [];
    const seen = new Set<number>();
    let best: NearMatch<T> | undefined;
    for (let b = 0; b < BANDS; b++) {
      let key = b;
      for (let r = 0; r < ROWS; r++) key = Math.imul(key ^ sig[b * ROWS + r]!, 0x01000193) ^ (key >>> 13);
      keys.push(key);
      const bucket = this.buckets[b]!.get(key);
      if (!bucket) continue;
      for (const idx of bucket) {
        if (seen.has(idx) || seen.size >= MAX_CANDIDATES) continue;
        seen.add(idx);
        const similarity = jaccardOf(set, this.sets[idx]!);
        if (similarity >= this.threshold && (!best || similarity > best.similarity)) best = { ref: this.refs[idx]!, similarity };
      }
    }
    if (best) return best;
    const idx = this.sets.length;
    this.sets.push(set);
    this.refs.push(ref);
    keys.forEach((key, b) => {
      const bucket = this.buckets[b]!.get(key);
      if (bucket) bucket.push(idx);
      else this.buckets[b]!.set(key, [idx]);
    });
    return undefined;
  }
}
