/**
 * The small object tables: tasks, containers, DMA handles and swap pages, each indexed by
 * id with a bitmap of free ids (the lowest unused id is the next one, as the
 * spec fixes). A task's capability space is in the capability table
 * (tables/caps.ts) and its page table in tables/pagetables.ts.
 */
import { LowestFreeSet } from "../bitmap.js";
import { grown } from "../constants.js";
import { IndexLists } from "./lists.js";

export class TaskTable {
  /** the paying account, or -1 for a free id */
  readonly account: Int32Array;
  /** per account, the tasks it pays for (an account destroy's walk takes the greatest id first) */
  readonly paid: IndexLists;
  readonly free: LowestFreeSet;
  /** receive window: capability slots [winSlot, winSlot + winSlots), pages [winPage, winPage + winPages); closed is all 0 */
  readonly winSlot: Int32Array;
  readonly winSlots: Int32Array;
  readonly winPage: Int32Array;
  readonly winPages: Int32Array;
  /** the pager's task id, or -1 (pagers.ts) */
  readonly pager: Int32Array;
  /** the page of the fault the task waits on, or -1: a task with a fault is blocked */
  readonly faultPage: Int32Array;
  /** 1 when that fault is a write's */
  readonly faultWrite: Uint8Array;
  /** the word the faulting write writes */
  readonly faultValue: Int32Array;
  /** per pager: its fault queue, a FIFO linked through qNext (oldest at qHead), and its length */
  readonly qHead: Int32Array;
  readonly qTail: Int32Array;
  readonly qLen: Int32Array;
  /** per faulting task: the next task in its pager's queue, or -1 */
  readonly qNext: Int32Array;
  /** per pager: the tasks it pages, a list linked through pagedNext / pagedPrev (so that a dying pager finds them without a scan) */
  readonly pagedHead: Int32Array;
  readonly pagedNext: Int32Array;
  readonly pagedPrev: Int32Array;
  /** how many of sigma0's pages the task got first (its entries in the ledger, Machine.sigma0) */
  readonly ledger: Int32Array;
  /** per pager: its notices (pages its tasks lost to physmem), a FIFO of pool nodes linked through noteNext, and their number */
  readonly noteHead: Int32Array;
  readonly noteTail: Int32Array;
  readonly noteLen: Int32Array;
  /** per pager: the notices that did not fit since it last read one (a float: a count past 2^31 stays exact, as the spec's) */
  readonly missed: Float64Array;
  /**
   * per task: its preempted page.unmap (preemption.ts): mode (0 derived, 1
   * all, 2 readonly; -1: none), range, the page the walk is at, its cursor,
   * the last child finished and the write-only subtree being removed (each
   * a task and a page, task -1 for none), and the bits gathered
   */
  readonly pendMode: Int32Array;
  /** per task: the capability its walk handed up last, or -2 - the root mapping (preemption.ts handUp, handUpRoot: where the next one's search starts, if still valid), or -1 */
  readonly handHint: Int32Array;
  readonly pendVpage: Int32Array;
  readonly pendOrder: Int32Array;
  readonly pendPage: Int32Array;
  readonly curT: Int32Array;
  readonly curV: Int32Array;
  readonly lastT: Int32Array;
  readonly lastV: Int32Array;
  readonly zoneT: Int32Array;
  readonly zoneV: Int32Array;
  readonly pendBits: Int32Array;
  /**
   * per task: the zombies inside the task its preempted removal walks
   * (preemption.ts): the outermost's kind (0 a container, 1 a task; -1:
   * none) and id, and the innermost's, whose walk the record's page, slot
   * and cursor fields then are; those between are found through the only
   * capability naming each
   */
  readonly zOutT: Int32Array;
  readonly zOutV: Int32Array;
  readonly zInT: Int32Array;
  readonly zInV: Int32Array;
  /**
   * the marks of account links: while account markAcct[i] is a zombie
   * with another zombie inside it (a link of task markOwner[i]'s chain that
   * is not its innermost), markAt[i] is the task its walk takes apart (an
   * account may be a link of two chains at once). The first zMarks entries
   * are in use; the arrays grow by doubling. The chain's other links are
   * found through the capability naming each, but an account link's walk
   * stands in a task it pays for, which that capability cannot tell.
   */
  markAcct: Int32Array;
  markOwner: Int32Array;
  markAt: Int32Array;
  zMarks = 0;
  /** the notice pool (grows by doubling): each node's task, page and next node; free nodes are linked from noteFree */
  noteTask: Int32Array;
  notePage: Int32Array;
  noteNext: Int32Array;
  noteFree = -1;

  constructor(tasks: number, accounts: number) {
    this.markAcct = new Int32Array(4).fill(-1);
    this.markOwner = new Int32Array(4).fill(-1);
    this.markAt = new Int32Array(4).fill(-1);
    this.account = new Int32Array(tasks).fill(-1);
    this.paid = new IndexLists(accounts, tasks);
    this.handHint = new Int32Array(tasks).fill(-1);
    this.free = new LowestFreeSet(tasks, true);
    this.winSlot = new Int32Array(tasks);
    this.winSlots = new Int32Array(tasks);
    this.winPage = new Int32Array(tasks);
    this.winPages = new Int32Array(tasks);
    this.pager = new Int32Array(tasks).fill(-1);
    this.faultPage = new Int32Array(tasks).fill(-1);
    this.faultWrite = new Uint8Array(tasks);
    this.faultValue = new Int32Array(tasks);
    this.qHead = new Int32Array(tasks).fill(-1);
    this.qTail = new Int32Array(tasks).fill(-1);
    this.qLen = new Int32Array(tasks);
    this.qNext = new Int32Array(tasks).fill(-1);
    this.pagedHead = new Int32Array(tasks).fill(-1);
    this.pagedNext = new Int32Array(tasks).fill(-1);
    this.pagedPrev = new Int32Array(tasks).fill(-1);
    this.ledger = new Int32Array(tasks);
    this.noteHead = new Int32Array(tasks).fill(-1);
    this.noteTail = new Int32Array(tasks).fill(-1);
    this.noteLen = new Int32Array(tasks);
    this.missed = new Float64Array(tasks);
    this.pendMode = new Int32Array(tasks).fill(-1);
    this.pendVpage = new Int32Array(tasks).fill(-1);
    this.pendOrder = new Int32Array(tasks).fill(-1);
    this.pendPage = new Int32Array(tasks).fill(-1);
    this.curT = new Int32Array(tasks).fill(-1);
    this.curV = new Int32Array(tasks).fill(-1);
    this.lastT = new Int32Array(tasks).fill(-1);
    this.lastV = new Int32Array(tasks).fill(-1);
    this.zoneT = new Int32Array(tasks).fill(-1);
    this.zoneV = new Int32Array(tasks).fill(-1);
    this.pendBits = new Int32Array(tasks);
    this.zOutT = new Int32Array(tasks).fill(-1);
    this.zOutV = new Int32Array(tasks).fill(-1);
    this.zInT = new Int32Array(tasks).fill(-1);
    this.zInV = new Int32Array(tasks).fill(-1);
    this.noteTask = new Int32Array(0);
    this.notePage = new Int32Array(0);
    this.noteNext = new Int32Array(0);
  }

  /** A notice to pager p about page v of task t joins the end of p's record (the pool grows if no node is free). */
  addNotice(p: number, t: number, v: number): void {
    if (this.noteFree === -1) {
      const n = this.noteNext.length;
      const size = Math.max(16, n * 2);
      this.noteTask = grown(this.noteTask, size, -1);
      this.notePage = grown(this.notePage, size, -1);
      // (the new nodes' links are set just below, as the free list)
      this.noteNext = grown(this.noteNext, size, 0);
      for (let i = size - 1; i >= n; i--) {
        this.noteNext[i] = this.noteFree;
        this.noteFree = i;
      }
    }
    const x = this.noteFree;
    this.noteFree = this.noteNext[x]!;
    this.noteTask[x] = t;
    this.notePage[x] = v;
    this.noteNext[x] = -1;
    const tail = this.noteTail[p]!;
    if (tail === -1) this.noteHead[p] = x;
    else this.noteNext[tail] = x;
    this.noteTail[p] = x;
    this.noteLen[p]! += 1;
  }

  /** Does pager p hold the notice about page v of task t? (a walk of p's record, at most faultQueue long) */
  hasNotice(p: number, t: number, v: number): boolean {
    for (let x = this.noteHead[p]!; x !== -1; x = this.noteNext[x]!) if (this.noteTask[x] === t && this.notePage[x] === v) return true;
    return false;
  }

  /** The oldest notice leaves pager p's record (read its task and page first). */
  takeNotice(p: number): void {
    const x = this.noteHead[p]!;
    this.noteHead[p] = this.noteNext[x]!;
    if (this.noteHead[p] === -1) this.noteTail[p] = -1;
    this.noteLen[p]! -= 1;
    this.noteTask[x] = -1;
    this.notePage[x] = -1;
    this.noteNext[x] = this.noteFree;
    this.noteFree = x;
  }

  /** Pager p's notices about task t go (t leaves p, or dies); with t -1, all of p's notices go. */
  dropNotices(p: number, t: number): void {
    let prev = -1;
    let x = this.noteHead[p]!;
    while (x !== -1) {
      const next = this.noteNext[x]!;
      if (t === -1 || this.noteTask[x] === t) {
        if (prev === -1) this.noteHead[p] = next;
        else this.noteNext[prev] = next;
        this.noteLen[p]! -= 1;
        this.noteTask[x] = -1;
        this.notePage[x] = -1;
        this.noteNext[x] = this.noteFree;
        this.noteFree = x;
      } else prev = x;
      x = next;
    }
    this.noteTail[p] = prev;
  }

  /** Task t's walk goes back to the start of its page (no cursor, no last child, no subtree). */
  resetWalk(t: number): void {
    this.curT[t] = -1;
    this.curV[t] = -1;
    this.lastT[t] = -1;
    this.lastV[t] = -1;
    this.zoneT[t] = -1;
    this.zoneV[t] = -1;
    this.clearChain(t);
  }

  /** Task t's walk has no zombies inside it any more (nor marks of account links: a scan of the accounts, only while some are marked). */
  clearChain(t: number): void {
    this.zOutT[t] = -1;
    this.zOutV[t] = -1;
    this.zInT[t] = -1;
    this.zInV[t] = -1;
    this.clearMarks(t);
  }

  /** No account is a link of task t's chain any more. */
  clearMarks(t: number): void {
    for (let i = this.zMarks - 1; i >= 0; i--) if (this.markOwner[i] === t) this.dropMark(i);
  }

  /** The task account a's walk takes apart as a link of task t's chain with a zombie inside it, or -1 (a scan of the marks). */
  linkOf(a: number, t: number): number {
    for (let i = 0; i < this.zMarks; i++) if (this.markAcct[i] === a && this.markOwner[i] === t) return this.markAt[i]!;
    return -1;
  }

  /** Account a, a zombie whose walk takes task y apart, becomes a link of task t's chain with a zombie inside it. */
  markAccount(a: number, t: number, y: number): void {
    if (this.zMarks === this.markAcct.length) {
      const size = this.zMarks * 2;
      this.markAcct = grown(this.markAcct, size, -1);
      this.markOwner = grown(this.markOwner, size, -1);
      this.markAt = grown(this.markAt, size, -1);
    }
    this.markAcct[this.zMarks] = a;
    this.markOwner[this.zMarks] = t;
    this.markAt[this.zMarks] = y;
    this.zMarks++;
  }

  /** Account a is no longer a link of task t's chain with a zombie inside it. */
  unmarkAccount(a: number, t: number): void {
    for (let i = 0; i < this.zMarks; i++) if (this.markAcct[i] === a && this.markOwner[i] === t) return this.dropMark(i);
  }

  /** Mark i goes (the last one takes its place). */
  private dropMark(i: number): void {
    const last = --this.zMarks;
    this.markAcct[i] = this.markAcct[last]!;
    this.markOwner[i] = this.markOwner[last]!;
    this.markAt[i] = this.markAt[last]!;
    this.markAcct[last] = -1;
    this.markOwner[last] = -1;
    this.markAt[last] = -1;
  }

  /** Task t's walk stands at no mapping or capability (a destroy's walk keeps the rest of its record). */
  resetCursor(t: number): void {
    this.curT[t] = -1;
    this.curV[t] = -1;
  }

  /** Task t has no preempted removal any more. */
  clearPending(t: number): void {
    this.pendMode[t] = -1;
    this.pendVpage[t] = -1;
    this.pendOrder[t] = -1;
    this.pendPage[t] = -1;
    this.pendBits[t] = 0;
    this.resetWalk(t);
  }

  /** Task t's pager becomes p (-1: none), moving t between the pagers' lists of paged tasks. */
  setPager(t: number, p: number): void {
    const old = this.pager[t]!;
    // Stryker disable next-line ConditionalExpression: with no pager, t's links are -1 (freedEntriesClean), so unlinking writes only at index -1 or what is there already
    if (old !== -1) {
      const prev = this.pagedPrev[t]!;
      const next = this.pagedNext[t]!;
      if (prev === -1) this.pagedHead[old] = next;
      else this.pagedNext[prev] = next;
      // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
      if (next !== -1) this.pagedPrev[next] = prev;
      this.pagedNext[t] = -1;
      this.pagedPrev[t] = -1;
    }
    this.pager[t] = p;
    if (p !== -1) {
      const head = this.pagedHead[p]!;
      this.pagedNext[t] = head;
      // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
      if (head !== -1) this.pagedPrev[head] = t;
      this.pagedHead[p] = t;
    }
  }

  /** Task t faults at page v (a write of `value` if `write`) and joins the end of pager p's queue. */
  enqueue(p: number, t: number, v: number, write: boolean, value: number): void {
    this.faultPage[t] = v;
    this.faultWrite[t] = write ? 1 : 0;
    this.faultValue[t] = value;
    const tail = this.qTail[p]!;
    if (tail === -1) this.qHead[p] = t;
    else this.qNext[tail] = t;
    this.qTail[p] = t;
    this.qLen[p]! += 1;
  }

  /** The oldest fault leaves pager p's queue; its task's fault is cleared (it resumes). Returns the task. */
  dequeue(p: number): number {
    const t = this.qHead[p]!;
    this.qHead[p] = this.qNext[t]!;
    if (this.qHead[p] === -1) this.qTail[p] = -1;
    this.qLen[p]! -= 1;
    this.qNext[t] = -1;
    this.clearFault(t);
    return t;
  }

  /** Task t's fault leaves pager p's queue, wherever it is in it, and is cleared. */
  unlinkFault(p: number, t: number): void {
    let prev = -1;
    let x = this.qHead[p]!;
    while (x !== t) {
      prev = x;
      x = this.qNext[x]!;
    }
    const next = this.qNext[t]!;
    if (prev === -1) this.qHead[p] = next;
    else this.qNext[prev] = next;
    if (this.qTail[p] === t) this.qTail[p] = prev;
    this.qLen[p]! -= 1;
    this.qNext[t] = -1;
    this.clearFault(t);
  }

  /** Task t waits for nothing any more. */
  clearFault(t: number): void {
    this.faultPage[t] = -1;
    this.faultWrite[t] = 0;
    this.faultValue[t] = 0;
  }

  /** Sets task t's receive window. */
  setWindow(t: number, slot: number, slots: number, page: number, pages: number): void {
    this.winSlot[t] = slot;
    this.winSlots[t] = slots;
    this.winPage[t] = page;
    this.winPages[t] = pages;
  }

  /** Does task t accept a capability from another task into slot s? */
  acceptsSlot(t: number, s: number): boolean {
    const base = this.winSlot[t]!;
    return s >= base && s < base + this.winSlots[t]!;
  }

  /** Does task t accept a mapping from another task at page v? */
  acceptsPage(t: number, v: number): boolean {
    const base = this.winPage[t]!;
    return v >= base && v < base + this.winPages[t]!;
  }
}

/** Containers and their slots; slot `index` of container c is slot c * S + index. */
export class ContainerTable {
  /** slots per container */
  readonly S: number;
  /** the paying account, or -1 for a free id */
  readonly account: Int32Array;
  /** per account, the containers it pays for */
  readonly paid: IndexLists;
  readonly free: LowestFreeSet;
  /** per slot: the frame of a hard or soft slot, else -1 */
  readonly frame: Int32Array;
  /** per slot: SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED */
  readonly kind: Uint8Array;
  /** per slot: the epoch of a soft slot, the swap page of a swapped one (a float: an epoch may pass 2^32, see FrameTable.epoch) */
  readonly aux: Float64Array;

  constructor(containers: number, slots: number, accounts: number) {
    this.S = slots;
    this.account = new Int32Array(containers).fill(-1);
    this.paid = new IndexLists(accounts, containers);
    this.free = new LowestFreeSet(containers, true);
    this.frame = new Int32Array(containers * slots).fill(-1);
    this.kind = new Uint8Array(containers * slots);
    this.aux = new Float64Array(containers * slots);
  }

  /** The container of slot si. */
  of(si: number): number {
    return (si / this.S) | 0;
  }
}

export class HandleTable {
  /** the paying account, or -1 for a free id */
  readonly account: Int32Array;
  /** per account, the DMA handles it pays for */
  readonly paid: IndexLists;
  /** the wired frame */
  readonly frame: Int32Array;
  readonly free: LowestFreeSet;

  constructor(handles: number, accounts: number) {
    this.account = new Int32Array(handles).fill(-1);
    this.paid = new IndexLists(accounts, handles);
    this.frame = new Int32Array(handles).fill(-1);
    this.free = new LowestFreeSet(handles, true);
  }
}

/** Swap pages: content, where it last was in memory (frame, epoch), and how many swapped slots hold it. */
export class SwapTable {
  readonly content: Int32Array;
  readonly frame: Int32Array;
  /** per page: the epoch of its content (a float, as FrameTable.epoch) */
  readonly epoch: Float64Array;
  readonly refs: Int32Array;
  readonly free: LowestFreeSet;
  /** per frame: the swap page last made for it or rejoined to it (valid while that page's frame and epoch match) */
  readonly ofFrame: Int32Array;

  constructor(pages: number, frames: number) {
    this.content = new Int32Array(pages);
    this.frame = new Int32Array(pages).fill(-1);
    this.epoch = new Float64Array(pages);
    this.refs = new Int32Array(pages);
    this.free = new LowestFreeSet(pages, true);
    // Stryker disable next-line UnaryOperator: ofFrame is a hint, used only after the page's frame and epoch are checked against it
    this.ofFrame = new Int32Array(frames).fill(-1);
  }

  /** The swap page that holds frame f's content at `epoch` (the frame's hint, checked), or -1. */
  holding(f: number, epoch: number): number {
    const q = this.ofFrame[f]!;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: q is -1 or a free page only where the frame test fails anyway: a free page names frame -1 (freedEntriesClean), index -1 reads undefined
    return q >= 0 && !this.free.has(q) && this.frame[q] === f && this.epoch[q] === epoch ? q : -1;
  }

  /** Takes free page p for frame f's content at its epoch, with no slot holding it yet; it becomes the frame's hint. */
  open(p: number, content: number, f: number, epoch: number): void {
    this.free.delete(p);
    this.content[p] = content;
    this.frame[p] = f;
    this.epoch[p] = epoch;
    this.refs[p] = 0;
    this.ofFrame[f] = p;
  }

  /** One swapped slot lets go of page p; the page is freed with its last slot. */
  release(p: number): void {
    if (--this.refs[p]! > 0) return;
    this.content[p] = 0;
    this.frame[p] = -1;
    this.epoch[p] = 0;
    this.free.add(p);
  }
}
