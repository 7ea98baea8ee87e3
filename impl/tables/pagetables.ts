/**
 * Page tables, whose leaf entries are the mapping database's nodes.
 *
 * Each task has a two-level radix table: a directory page (`dirEntries`
 * entries, each a leaf page or -1) and leaf pages of `leafSize` entries (at
 * most 512; smaller address spaces get leaves just big enough). Both kinds
 * of page live in pools with free lists: a free directory page links the
 * free list through its first entry, a free leaf page through `leafNextFree`.
 * A leaf page is allocated with the first mapping in its range and freed
 * with its last; the task's account pays one object for it meanwhile
 * (mapdb.ts charges and refunds).
 *
 * Entry e = leaf * leafSize + (vpage mod leafSize) *is* the mapping node of
 * (task, vpage): its fields live in arrays parallel to the leaf pool, so a
 * mapping costs 29 bytes with its page-table entry, and finding it is two
 * array reads. `up` says what the node hangs from: -1 nothing is mapped,
 * >= 0 the entry it was derived from, <= -2 a root mapping authorized by cap
 * node -2 - up. A derived node's `what` is its frame; a root's is its
 * container slot, whose frame it maps. A child's siblings (`next`/`prev`)
 * are the other children of its parent; a root's are the other roots of its
 * slot (head: `slotRoots`), and a root is also on its cap node's list
 * (`nextCap`/`prevCap`, head in the capability table). Linking nodes into
 * these lists is the mapping database's job (mapdb.ts); this file keeps the
 * pages.
 */
import { grown, PT_BITS, PT_SIZE } from "../constants.js";

export class PageTables {
  readonly dirEntries: number;
  readonly leafBits: number;
  readonly leafSize: number;
  readonly leafMask: number;
  /** per task: its directory page, or -1 */
  readonly dirOf: Int32Array;
  /** per container slot: its first root mapping, or -1 */
  readonly slotRoots: Int32Array;

  // Directory pages: `dirEntries` entries each, a leaf page or -1.
  dirPool = new Int32Array(0);
  dirPages = 0;
  dirTop = 0;
  dirFree = -1;

  // Leaf pages: owner, place in the owner's directory, live entries, free list.
  leafPages = 0;
  leafTop = 0;
  leafFree = -1;
  leafTask = new Int32Array(0); // -1 while free
  leafDirIndex = new Int32Array(0);
  leafCount = new Int32Array(0);
  leafNextFree = new Int32Array(0);

  // Leaf entries = mapping nodes, indexed by leaf * leafSize + (vpage & leafMask).
  /** -1: no mapping; >= 0: a mapping derived from that entry; <= -2: a root mapping authorized by cap node -2 - value */
  up = new Int32Array(0);
  /** a derived mapping's frame; a root mapping's container slot (container * S + index), whose frame it maps */
  what = new Int32Array(0);
  rights = new Uint8Array(0);
  /** access bits of the entry: referenced 1, dirty 2 (as a hardware page-table entry keeps them) */
  flags = new Uint8Array(0);
  firstChild = new Int32Array(0);
  /** next/previous child of the same parent; for a root mapping, next/previous root of the same slot */
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** root mappings only: next/previous mapping authorized by the same cap node */
  nextCap = new Int32Array(0);
  prevCap = new Int32Array(0);

  constructor(tasks: number, vpages: number, containerSlotsInAll: number) {
    this.leafBits = Math.min(PT_BITS, Math.ceil(Math.log2(vpages)));
    this.leafSize = 1 << this.leafBits;
    this.leafMask = this.leafSize - 1;
    this.dirEntries = Math.ceil(vpages / this.leafSize);
    if (this.dirEntries > PT_SIZE) throw new RangeError(`vpages ${vpages} exceeds a two-level table (${PT_SIZE * PT_SIZE})`);
    this.dirOf = new Int32Array(tasks).fill(-1);
    this.slotRoots = new Int32Array(containerSlotsInAll).fill(-1);
    this.growDirs(4);
    this.growLeaves(4);
  }

  private growDirs(pages: number): void {
    this.dirPool = grown(this.dirPool, pages * this.dirEntries, -1);
    this.dirPages = pages;
  }

  private growLeaves(pages: number): void {
    // Stryker disable next-line UnaryOperator: allocLeaf writes the field before a new leaf page is used
    this.leafTask = grown(this.leafTask, pages, -1);
    // Stryker disable next-line UnaryOperator: allocLeaf writes the field before a new leaf page is used
    this.leafDirIndex = grown(this.leafDirIndex, pages, -1);
    this.leafCount = grown(this.leafCount, pages, 0);
    this.leafNextFree = grown(this.leafNextFree, pages, -1);
    const n = pages * this.leafSize;
    this.up = grown(this.up, n, -1);
    this.what = grown(this.what, n, -1);
    this.rights = grown(this.rights, n, 0);
    this.flags = grown(this.flags, n, 0);
    this.firstChild = grown(this.firstChild, n, -1);
    this.next = grown(this.next, n, -1);
    this.prev = grown(this.prev, n, -1);
    this.nextCap = grown(this.nextCap, n, -1);
    this.prevCap = grown(this.prevCap, n, -1);
    this.leafPages = pages;
  }

  /** Gives task t an empty page table (a directory page with no leaves). */
  create(t: number): void {
    let d = this.dirFree;
    // Stryker disable next-line ConditionalExpression: a freed page is then never reused and new ones are taken instead: memory grows, behaviour does not change
    if (d !== -1) {
      this.dirFree = this.dirPool[d * this.dirEntries]!;
      this.dirPool[d * this.dirEntries] = -1;
    } else {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the pool grows earlier or more often: memory, not behaviour
      if (this.dirTop === this.dirPages) this.growDirs(this.dirPages * 2);
      d = this.dirTop++;
    }
    this.dirOf[t] = d;
  }

  /**
   * Frees task t's directory page. Its leaves are already gone, and freeing
   * a leaf page clears its directory entry, so the page is all -1 but for
   * entry 0, which now links the free list (freeListsExact checks both).
   */
  destroy(t: number): void {
    const d = this.dirOf[t]!;
    this.dirPool[d * this.dirEntries] = this.dirFree;
    this.dirFree = d;
    this.dirOf[t] = -1;
  }

  /** A new empty leaf page at directory index `di` of task t. */
  private allocLeaf(t: number, di: number): number {
    let p = this.leafFree;
    // Stryker disable next-line ConditionalExpression: a freed page is then never reused and new ones are taken instead: memory grows, behaviour does not change
    if (p !== -1) {
      this.leafFree = this.leafNextFree[p]!;
      this.leafNextFree[p] = -1;
    } else {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the pool grows earlier or more often: memory, not behaviour
      if (this.leafTop === this.leafPages) this.growLeaves(this.leafPages * 2);
      p = this.leafTop++;
    }
    this.leafTask[p] = t;
    this.leafDirIndex[p] = di;
    this.leafCount[p] = 0;
    this.dirPool[this.dirOf[t]! * this.dirEntries + di] = p;
    return p;
  }

  /** Unhooks leaf page p (all its entries already empty) from its directory and frees it. */
  private freeLeaf(p: number): void {
    this.dirPool[this.dirOf[this.leafTask[p]!]! * this.dirEntries + this.leafDirIndex[p]!] = -1;
    this.leafTask[p] = -1;
    this.leafDirIndex[p] = -1;
    this.leafNextFree[p] = this.leafFree;
    this.leafFree = p;
  }

  /** The mapping node (leaf entry) at (task, vpage), or -1 if nothing is mapped there. */
  lookup(task: number, vpage: number): number {
    const leaf = this.dirPool[this.dirOf[task]! * this.dirEntries + (vpage >>> this.leafBits)]!;
    if (leaf < 0) return -1;
    const e = leaf * this.leafSize + (vpage & this.leafMask);
    return this.up[e] === -1 ? -1 : e;
  }

  /** The greatest page at or below `vpage` that task maps, or -1 (a scan that skips missing leaf pages). */
  mappedAtOrBelow(task: number, vpage: number): number {
    const dir = this.dirOf[task]! * this.dirEntries;
    for (let v = vpage; v >= 0; ) {
      const leaf = this.dirPool[dir + (v >>> this.leafBits)]!;
      if (leaf < 0) {
        v = (v & ~this.leafMask) - 1;
        continue;
      }
      if (this.up[leaf * this.leafSize + (v & this.leafMask)] !== -1) return v;
      v--;
    }
    return -1;
  }

  /** Would mapping (task, vpage) need a new leaf page? (The account pays one object for it.) */
  needsLeaf(task: number, vpage: number): boolean {
    return this.dirPool[this.dirOf[task]! * this.dirEntries + (vpage >>> this.leafBits)]! < 0;
  }

  /**
   * The entry for (task, vpage), to be filled: its leaf page is allocated if
   * need be (which may grow the arrays) and counts one more entry.
   */
  claim(task: number, vpage: number): number {
    const di = vpage >>> this.leafBits;
    let leaf = this.dirPool[this.dirOf[task]! * this.dirEntries + di]!;
    if (leaf < 0) leaf = this.allocLeaf(task, di);
    this.leafCount[leaf]! += 1;
    return leaf * this.leafSize + (vpage & this.leafMask);
  }

  /** The task whose page table holds entry e. */
  taskOf(e: number): number {
    return this.leafTask[e >>> this.leafBits]!;
  }

  /** The virtual page of entry e. */
  vpageOf(e: number): number {
    return this.leafDirIndex[e >>> this.leafBits]! * this.leafSize + (e & this.leafMask);
  }

  /** Is mapping e a root (made by page.map from a container slot)? */
  isRoot(e: number): boolean {
    // Stryker disable next-line EqualityOperator: up === -2 would be a mapping authorized by capability 0, the root account capability, which authorizes none
    return this.up[e]! <= -2;
  }

  /** The cap node that authorized root mapping e. */
  capOfRoot(e: number): number {
    return -2 - this.up[e]!;
  }

  /** Empties entry e (its links must already be undone), freeing its leaf page with its last entry; true if it did. */
  clear(e: number): boolean {
    this.up[e] = -1;
    this.what[e] = -1;
    this.rights[e] = 0;
    this.flags[e] = 0;
    this.firstChild[e] = -1;
    this.next[e] = -1;
    this.prev[e] = -1;
    this.nextCap[e] = -1;
    this.prevCap[e] = -1;
    const leaf = e >>> this.leafBits;
    if (--this.leafCount[leaf]! !== 0) return false;
    this.freeLeaf(leaf);
    return true;
  }
}
