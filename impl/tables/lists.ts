/**
 * Doubly-linked index lists kept in typed arrays (a node is an index; its
 * links are `next[i]` and `prev[i]`, -1 for none), and the one operation
 * on them that is not a plain link or unlink: sorting a list in place, by
 * index, greatest first.
 *
 * Lists that a walk must take from the greatest index down (the
 * capabilities naming an object, the objects an account pays for) are not
 * kept in order on every insertion, which would make building n of them
 * cost n^2: each list has a `sorted` flag, cleared by an insertion that
 * breaks the order, and the walk sorts the list when it finds the flag
 * clear (O(n log n), once, as long as nothing is inserted meanwhile; a
 * preempted removal refuses such insertions). Unlinking keeps a sorted list
 * sorted.
 */

/**
 * Sorts the list that starts at `head` (linked through `next`) by index,
 * greatest first, and rewrites `prev` to match; returns the new head. A
 * bottom-up merge sort: runs of 1, 2, 4, ... nodes are merged pairwise,
 * in place, without recursion or allocation.
 */
export function sortDescending(head: number, next: Int32Array, prev: Int32Array): number {
  if (head === -1) return -1;
  for (let run = 1; ; run *= 2) {
    let p = head;
    let tail = -1;
    let merges = 0;
    head = -1;
    while (p !== -1) {
      merges++;
      // q: the start of the run after p's (at most `run` nodes on)
      let q = p;
      let pLeft = 0;
      while (pLeft < run && q !== -1) {
        pLeft++;
        q = next[q]!;
      }
      let qLeft = run;
      while (pLeft > 0 || (qLeft > 0 && q !== -1)) {
        let e: number;
        if (pLeft > 0 && (qLeft === 0 || q === -1 || p > q)) {
          e = p;
          p = next[p]!;
          pLeft--;
        } else {
          e = q;
          q = next[q]!;
          qLeft--;
        }
        if (tail === -1) head = e;
        else next[tail] = e;
        prev[e] = tail;
        tail = e;
      }
      p = q;
    }
    next[tail] = -1;
    if (merges <= 1) return head;
  }
}

/**
 * Lists of indices, one per owner: the objects of one kind an account pays
 * for (its tasks, containers or DMA handles: tables/objects.ts `paid`), or
 * the capabilities naming an object (tables/caps.ts). Heads per owner in
 * `first`, links per index in `next` and `prev`, insertion at the head,
 * sorted on demand (`greatest`). An account destroy's walk asks for the
 * greatest id the account or an account below it pays for: with these lists
 * that costs a visit of each account of the subtree, not a scan of the
 * whole table; a destroy removing an object's names one by one, the
 * greatest first, reads the head of its list.
 */
export class IndexLists {
  /** per owner: the first index of its list, or -1 */
  readonly first: Int32Array;
  /** per index: the next and the previous index on its owner's list, or -1 */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** per owner: 1 while its list is in order, greatest index first */
  readonly sorted: Uint8Array;

  constructor(owners: number, indices: number) {
    this.first = new Int32Array(owners).fill(-1);
    this.next = new Int32Array(indices).fill(-1);
    this.prev = new Int32Array(indices).fill(-1);
    this.sorted = new Uint8Array(owners).fill(1);
  }

  /** Puts index i on owner o's list (at its head: the list stays sorted only if i is greater than all on it). */
  add(o: number, i: number): void {
    const head = this.first[o]!;
    if (head !== -1 && i < head) this.sorted[o] = 0;
    this.next[i] = head;
    this.prev[i] = -1;
    // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
    if (head !== -1) this.prev[head] = i;
    this.first[o] = i;
  }

  /** Takes index i off owner o's list (its own links are left to the caller: `remove` clears them). */
  unlink(o: number, i: number): void {
    const prev = this.prev[i]!;
    const next = this.next[i]!;
    if (prev !== -1) this.next[prev] = next;
    else this.first[o] = next;
    // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
    if (next !== -1) this.prev[next] = prev;
  }

  /** Takes index i off owner o's list and clears its links. */
  remove(o: number, i: number): void {
    this.unlink(o, i);
    this.next[i] = -1;
    this.prev[i] = -1;
  }

  /** The greatest index on owner o's list, or -1 (sorting the list first if an insertion left it out of order); `next` then gives the others in order. */
  greatest(o: number): number {
    if (this.sorted[o] === 0) {
      this.first[o] = sortDescending(this.first[o]!, this.next, this.prev);
      this.sorted[o] = 1;
    }
    return this.first[o]!;
  }
}
