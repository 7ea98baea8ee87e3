/**
 * Capability spaces and capability nodes.
 *
 * A task's capability space is a row of `C` entries in `cspace`, each a node
 * index or -1. A node records what it names (kind, object, rights, and for a
 * container the container's version when it was made), where it sits (task,
 * slot), and three lists it is on: its parent's children (the derivation
 * tree: first child / next / previous sibling), the nodes naming the same
 * object (for rescind), and the root mappings it authorized (the head is
 * `firstMap`; the list runs through the page tables' nextCap/prevCap). The
 * fields are struct-of-arrays that grow by doubling; freed nodes go on a free
 * list threaded through `nextSib`.
 */
import { grown, KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK } from "../constants.js";

export class CapTable {
  /** slots per task */
  readonly C: number;
  /** per (task, slot): a node index, or -1 */
  readonly cspace: Int32Array;
  /** head of the list of nodes naming each object, by objIndex(kind, id) */
  readonly objFirst: Int32Array;
  private readonly accounts: number;
  private readonly tasks: number;
  private readonly containers: number;

  capacity = 0;
  /** nodes ever used: 0..top-1 */
  top = 0;
  /** head of the free list (threaded through nextSib), or -1 */
  freeList = -1;
  kind = new Uint8Array(0);
  rights = new Uint8Array(0);
  obj = new Int32Array(0);
  /** the holding task, or -1 for a free node */
  task = new Int32Array(0);
  slot = new Int32Array(0);
  parent = new Int32Array(0);
  firstChild = new Int32Array(0);
  nextSib = new Int32Array(0);
  prevSib = new Int32Array(0);
  objNext = new Int32Array(0);
  objPrev = new Int32Array(0);
  /** first root mapping this node authorized (a page-table entry), or -1 */
  firstMap = new Int32Array(0);
  /** for a container cap: the container's version when the cap was made */
  version = new Int32Array(0);

  constructor(tasks: number, slots: number, accounts: number, containers: number, handles: number) {
    this.C = slots;
    this.accounts = accounts;
    this.tasks = tasks;
    this.containers = containers;
    this.cspace = new Int32Array(tasks * slots).fill(-1);
    this.objFirst = new Int32Array(accounts + tasks + containers + handles).fill(-1);
    this.grow(16);
  }

  private grow(n: number): void {
    this.kind = grown(this.kind, n, 0);
    this.rights = grown(this.rights, n, 0);
    this.obj = grown(this.obj, n, -1);
    this.task = grown(this.task, n, -1);
    this.slot = grown(this.slot, n, -1);
    this.parent = grown(this.parent, n, -1);
    this.firstChild = grown(this.firstChild, n, -1);
    this.nextSib = grown(this.nextSib, n, -1);
    this.prevSib = grown(this.prevSib, n, -1);
    this.objNext = grown(this.objNext, n, -1);
    this.objPrev = grown(this.objPrev, n, -1);
    this.firstMap = grown(this.firstMap, n, -1);
    this.version = grown(this.version, n, 0);
    this.capacity = n;
  }

  /** A node off the free list, or a new one (growing the arrays). Its fields are set by the caller. */
  alloc(): number {
    let n = this.freeList;
    if (n !== -1) {
      this.freeList = this.nextSib[n]!;
    } else {
      if (this.top === this.capacity) this.grow(this.capacity * 2);
      n = this.top++;
    }
    return n;
  }

  /** The index of object (kind, id) in `objFirst`. */
  objIndex(kind: number, id: number): number {
    return kind === KIND_ACCOUNT ? id : kind === KIND_TASK ? this.accounts + id : kind === KIND_CONTAINER ? this.accounts + this.tasks + id : this.accounts + this.tasks + this.containers + id;
  }

  /** The object kind of an objFirst index. */
  kindOfIndex(oi: number): number {
    return oi < this.accounts ? KIND_ACCOUNT : oi < this.accounts + this.tasks ? KIND_TASK : oi < this.accounts + this.tasks + this.containers ? KIND_CONTAINER : KIND_DMA;
  }

  /** The object id of an objFirst index. */
  idOfIndex(oi: number): number {
    return oi < this.accounts ? oi : oi < this.accounts + this.tasks ? oi - this.accounts : oi < this.accounts + this.tasks + this.containers ? oi - this.accounts - this.tasks : oi - this.accounts - this.tasks - this.containers;
  }

  /** Hooks node n at the head of parent's child list (parent -1: n is a root). */
  linkChild(n: number, parent: number): void {
    this.parent[n] = parent;
    this.prevSib[n] = -1;
    if (parent !== -1) {
      const first = this.firstChild[parent]!;
      this.nextSib[n] = first;
      if (first !== -1) this.prevSib[first] = n;
      this.firstChild[parent] = n;
    } else {
      this.nextSib[n] = -1;
    }
  }

  /** Unlinks node n from its parent's child list. */
  unlinkFromParent(n: number): void {
    const p = this.parent[n]!;
    const prev = this.prevSib[n]!;
    const next = this.nextSib[n]!;
    if (prev !== -1) this.nextSib[prev] = next;
    else if (p !== -1) this.firstChild[p] = next;
    if (next !== -1) this.prevSib[next] = prev;
    this.prevSib[n] = -1;
    this.nextSib[n] = -1;
  }

  /** Hooks node n at the head of the list of nodes naming its object. */
  linkObject(n: number): void {
    const oi = this.objIndex(this.kind[n]!, this.obj[n]!);
    const head = this.objFirst[oi]!;
    this.objNext[n] = head;
    this.objPrev[n] = -1;
    if (head !== -1) this.objPrev[head] = n;
    this.objFirst[oi] = n;
  }

  /** Unlinks node n from its object's list; a detached list (`detached`: a rescinded object's) has no head to update. */
  unlinkObject(n: number, detached: boolean): void {
    const prev = this.objPrev[n]!;
    const next = this.objNext[n]!;
    if (prev !== -1) this.objNext[prev] = next;
    else if (!detached) this.objFirst[this.objIndex(this.kind[n]!, this.obj[n]!)] = next;
    if (next !== -1) this.objPrev[next] = prev;
  }

  /** Clears node n (already unlinked everywhere, its slot emptied) and puts it on the free list. */
  release(n: number): void {
    this.task[n] = -1;
    this.slot[n] = -1;
    this.obj[n] = -1;
    this.parent[n] = -1;
    this.firstChild[n] = -1;
    this.prevSib[n] = -1;
    this.objNext[n] = -1;
    this.objPrev[n] = -1;
    this.nextSib[n] = this.freeList;
    this.freeList = n;
  }
}
