/**
 * A set of small integers [0, n) with a fast "lowest member" query: one bit
 * per integer, plus a summary bit per 32-bit word telling whether that word is
 * non-zero. Finding the lowest member reads at most n/1024 summary words and
 * one word. Used for the free frames and the free account/task/container ids,
 * whose lowest-first choice the spec fixes.
 */
export class LowestFreeSet {
  readonly size: number;
  readonly words: Uint32Array;
  readonly summary: Uint32Array;

  constructor(size: number, full: boolean) {
    this.size = size;
    this.words = new Uint32Array(Math.ceil(size / 32));
    this.summary = new Uint32Array(Math.ceil(this.words.length / 32));
    if (full) for (let i = 0; i < size; i++) this.add(i);
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(i: number): void {
    const w = i >>> 5;
    this.words[w] = this.words[w]! | (1 << (i & 31));
    this.summary[w >>> 5] = this.summary[w >>> 5]! | (1 << (w & 31));
  }

  delete(i: number): void {
    const w = i >>> 5;
    const v = this.words[w]! & ~(1 << (i & 31));
    this.words[w] = v;
    if (v === 0) this.summary[w >>> 5] = this.summary[w >>> 5]! & ~(1 << (w & 31));
  }

  /** The lowest member, or -1 when empty. */
  lowest(): number {
    const summary = this.summary;
    for (let s = 0; s < summary.length; s++) {
      const sw = summary[s]!;
      if (sw === 0) continue;
      const w = (s << 5) + lowBit(sw);
      return (w << 5) + lowBit(this.words[w]!);
    }
    return -1;
  }
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function lowBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}
