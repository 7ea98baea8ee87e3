/**
 * Capability spaces: a capability lives in its slot.
 *
 * Like seL4's CTE (a capability and its derivation-tree links in one 32-byte
 * slot), every slot of every task's capability space is a fixed record of
 * eight int32 fields, 32 bytes, allocated when the machine boots. A
 * capability is known by its slot's index `n = task * C + slot`, so there is
 * no separate node pool, no free list, and no holder task or slot to store:
 * both come from `n`. The fields:
 * - `info`: what the capability names, packed (object id << 6 | kind << 4 |
 *   rights), or -1 for an empty slot (ids are below 2^20, kinds 2 bits,
 *   rights 4 bits);
 * - `parent`, `firstChild`, `nextSib`, `prevSib`: the derivation tree; a
 *   child list is in order of key, greatest first (task, then slot: the
 *   index itself), as a preempted revoke walks it;
 * - `objNext`, `objPrev`: the list of capabilities naming the same object
 *   (its head is in `objFirst`), walked to rescind the object; sorted on
 *   demand, greatest index first (`objSorted`, tables/lists.ts), for the
 *   preempted destroys that remove the names of an object one by one;
 * - `firstMap`: the first root mapping this capability authorized (the list
 *   runs through the page tables' nextCap/prevCap, greatest page first), -1
 *   if none.
 * An empty slot keeps every link at -1.
 */
import { KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK } from "../constants.js";
import { IndexLists } from "./lists.js";

export class CapTable {
  /** slots per task */
  readonly C: number;
  /** per slot: object << 6 | kind << 4 | rights, or -1 (empty) */
  readonly info: Int32Array;
  readonly parent: Int32Array;
  readonly firstChild: Int32Array;
  readonly nextSib: Int32Array;
  readonly prevSib: Int32Array;
  /** the lists of capabilities naming each object (owner: objIndex), whose arrays objFirst, objNext, objPrev and objSorted are */
  readonly names: IndexLists;
  readonly objNext: Int32Array;
  readonly objPrev: Int32Array;
  /** first root mapping this capability authorized (a page-table entry), or -1 */
  readonly firstMap: Int32Array;
  /** head of the list of capabilities naming each object, by objIndex(kind, id) */
  readonly objFirst: Int32Array;
  /** per object: 1 while its list is in order, greatest index first */
  readonly objSorted: Uint8Array;
  private readonly accounts: number;
  private readonly tasks: number;
  private readonly containers: number;

  constructor(tasks: number, slots: number, accounts: number, containers: number, handles: number) {
    this.C = slots;
    this.accounts = accounts;
    this.tasks = tasks;
    this.containers = containers;
    const n = tasks * slots;
    this.info = new Int32Array(n).fill(-1);
    this.parent = new Int32Array(n).fill(-1);
    this.firstChild = new Int32Array(n).fill(-1);
    this.nextSib = new Int32Array(n).fill(-1);
    this.prevSib = new Int32Array(n).fill(-1);
    this.names = new IndexLists(accounts + tasks + containers + handles, n);
    this.objNext = this.names.next;
    this.objPrev = this.names.prev;
    this.firstMap = new Int32Array(n).fill(-1);
    this.objFirst = this.names.first;
    this.objSorted = this.names.sorted;
  }

  /** The index of slot `slot` of task `task`: the capability's identity in the impl. */
  at(task: number, slot: number): number {
    return task * this.C + slot;
  }

  isEmpty(n: number): boolean {
    return this.info[n] === -1;
  }

  kindOf(n: number): number {
    return (this.info[n]! >> 4) & 3;
  }

  objOf(n: number): number {
    return this.info[n]! >> 6;
  }

  rightsOf(n: number): number {
    return this.info[n]! & 15;
  }

  /** The task holding slot n. */
  taskOf(n: number): number {
    return Math.floor(n / this.C);
  }

  slotOf(n: number): number {
    return n % this.C;
  }

  /** Fills empty slot n with a capability (not yet linked anywhere). */
  fill(n: number, kind: number, obj: number, rights: number): void {
    this.info[n] = (obj << 6) | (kind << 4) | rights;
  }

  /** The index of object (kind, id) in `objFirst`. */
  objIndex(kind: number, id: number): number {
    return kind === KIND_ACCOUNT ? id : kind === KIND_TASK ? this.accounts + id : kind === KIND_CONTAINER ? this.accounts + this.tasks + id : this.accounts + this.tasks + this.containers + id;
  }

  /** The object kind of an objFirst index. */
  kindOfIndex(oi: number): number {
    // Stryker disable next-line EqualityOperator: index `accounts` is task 0's, which is never queued (always named by its boot capability), and the queue is the only caller
    return oi < this.accounts ? KIND_ACCOUNT : oi < this.accounts + this.tasks ? KIND_TASK : oi < this.accounts + this.tasks + this.containers ? KIND_CONTAINER : KIND_DMA;
  }

  /** The object id of an objFirst index. */
  idOfIndex(oi: number): number {
    // Stryker disable next-line EqualityOperator: index `accounts` is task 0's, which is never queued (always named by its boot capability), and the queue is the only caller
    return oi < this.accounts ? oi : oi < this.accounts + this.tasks ? oi - this.accounts : oi < this.accounts + this.tasks + this.containers ? oi - this.accounts - this.tasks : oi - this.accounts - this.tasks - this.containers;
  }

  /**
   * Hooks n into parent's child list in order (parent -1: n is a root). A
   * child with the greatest index, the usual case, goes in front without a
   * walk.
   */
  linkChild(n: number, parent: number): void {
    this.parent[n] = parent;
    this.prevSib[n] = -1;
    this.nextSib[n] = -1;
    if (parent !== -1) this.insertAfter(n, parent, -1, this.firstChild[parent]!);
  }

  /** Hooks n into parent's child list in order, searching from after `after`, a child of parent with a greater index (-1: from the head). */
  linkChildAfter(n: number, parent: number, after: number): void {
    if (after === -1) return this.linkChild(n, parent);
    this.insertAfter(n, parent, after, this.nextSib[after]!);
  }

  /**
   * Puts n into parent's child list, searching from between `before` (-1:
   * the head) and `x` (the node after it) down: the list stays in order,
   * greatest index first. Returns n (the next search may start after it).
   */
  private insertAfter(n: number, parent: number, before: number, x: number): number {
    while (x !== -1 && x > n) {
      before = x;
      x = this.nextSib[x]!;
    }
    this.parent[n] = parent;
    this.nextSib[n] = x;
    this.prevSib[n] = before;
    // Stryker disable next-line ConditionalExpression,UnaryOperator: a typed array ignores a write at index -1, which is all the guard keeps out; capability index 1 is task 0's own task capability, a root, never on a child list
    if (x !== -1) this.prevSib[x] = n;
    if (before === -1) this.firstChild[parent] = n;
    else this.nextSib[before] = n;
    return n;
  }

  /**
   * Moves all children of n to `parent` (-1: they become roots), keeping
   * parent's list in order: both lists are ordered, so one merge walk does
   * it.
   */
  adoptChildren(n: number, parent: number): void {
    let c = this.firstChild[n]!;
    let before = -1;
    while (c !== -1) {
      const next = this.nextSib[c]!;
      if (parent === -1) this.linkChild(c, -1);
      else before = this.insertAfter(c, parent, before, before === -1 ? this.firstChild[parent]! : this.nextSib[before]!);
      c = next;
    }
    this.firstChild[n] = -1;
  }

  /** Unlinks n from its parent's child list. */
  unlinkFromParent(n: number): void {
    const p = this.parent[n]!;
    const prev = this.prevSib[n]!;
    const next = this.nextSib[n]!;
    if (prev !== -1) this.nextSib[prev] = next;
    else {
      // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
      if (p !== -1) this.firstChild[p] = next;
    }
    // Stryker disable next-line ConditionalExpression,UnaryOperator: a typed array ignores a write at index -1, which is all the guard keeps out; capability index 1 is task 0's own task capability, a root, never on a child list
    if (next !== -1) this.prevSib[next] = prev;
    // Stryker disable next-line UnaryOperator: both callers free the slot next, and clear resets the field
    this.prevSib[n] = -1;
    // Stryker disable next-line UnaryOperator: both callers free the slot next, and clear resets the field
    this.nextSib[n] = -1;
  }

  /** Hooks n at the head of the list of capabilities naming its object. */
  linkObject(n: number): void {
    this.names.add(this.objIndex(this.kindOf(n), this.objOf(n)), n);
  }

  /** The capability naming object `oi` with the greatest index, or -1 (sorting the list first if an insertion left it out of order); objNext then gives the others in order. */
  greatestName(oi: number): number {
    return this.names.greatest(oi);
  }

  /** Unlinks n from its object's list (clear resets its links). */
  unlinkObject(n: number): void {
    this.names.unlink(this.objIndex(this.kindOf(n), this.objOf(n)), n);
  }

  /** Empties slot n (already unlinked everywhere, with no children and no mappings left). */
  clear(n: number): void {
    this.info[n] = -1;
    this.parent[n] = -1;
    this.firstChild[n] = -1;
    this.prevSib[n] = -1;
    this.nextSib[n] = -1;
    this.objNext[n] = -1;
    this.objPrev[n] = -1;
    this.firstMap[n] = -1;
  }
}
