/**
 * The small object tables: tasks, containers, DMA handles and swap pages, each indexed by
 * id with a bitmap of free ids (the lowest unused id is the next one, as the
 * spec fixes). A task's capability space is in the capability table
 * (tables/caps.ts) and its page table in tables/pagetables.ts.
 */
import { LowestFreeSet } from "../bitmap.js";

export class TaskTable {
  /** the paying account, or -1 for a free id */
  readonly account: Int32Array;
  readonly free: LowestFreeSet;
  /** receive window: capability slots [winSlot, winSlot + winSlots), pages [winPage, winPage + winPages); closed is all 0 */
  readonly winSlot: Int32Array;
  readonly winSlots: Int32Array;
  readonly winPage: Int32Array;
  readonly winPages: Int32Array;

  constructor(tasks: number) {
    this.account = new Int32Array(tasks).fill(-1);
    this.free = new LowestFreeSet(tasks, true);
    this.winSlot = new Int32Array(tasks);
    this.winSlots = new Int32Array(tasks);
    this.winPage = new Int32Array(tasks);
    this.winPages = new Int32Array(tasks);
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
  readonly free: LowestFreeSet;
  /** per slot: the frame of a hard or soft slot, else -1 */
  readonly frame: Int32Array;
  /** per slot: SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED */
  readonly kind: Uint8Array;
  /** per slot: the epoch of a soft slot, the swap page of a swapped one */
  readonly aux: Int32Array;

  constructor(containers: number, slots: number) {
    this.S = slots;
    this.account = new Int32Array(containers).fill(-1);
    this.free = new LowestFreeSet(containers, true);
    this.frame = new Int32Array(containers * slots).fill(-1);
    this.kind = new Uint8Array(containers * slots);
    this.aux = new Int32Array(containers * slots);
  }

  /** The container of slot si. */
  of(si: number): number {
    return (si / this.S) | 0;
  }
}

export class HandleTable {
  /** the paying account, or -1 for a free id */
  readonly account: Int32Array;
  /** the wired frame */
  readonly frame: Int32Array;
  readonly free: LowestFreeSet;

  constructor(handles: number) {
    this.account = new Int32Array(handles).fill(-1);
    this.frame = new Int32Array(handles).fill(-1);
    this.free = new LowestFreeSet(handles, true);
  }
}

/** Swap pages: content, where it last was in memory (frame, epoch), and how many swapped slots hold it. */
export class SwapTable {
  readonly content: Int32Array;
  readonly frame: Int32Array;
  readonly epoch: Int32Array;
  readonly refs: Int32Array;
  readonly free: LowestFreeSet;
  /** per frame: the swap page last made for it or rejoined to it (valid while that page's frame and epoch match) */
  readonly ofFrame: Int32Array;

  constructor(pages: number, frames: number) {
    this.content = new Int32Array(pages);
    this.frame = new Int32Array(pages).fill(-1);
    this.epoch = new Int32Array(pages);
    this.refs = new Int32Array(pages);
    this.free = new LowestFreeSet(pages, true);
    // Stryker disable next-line UnaryOperator: ofFrame is a hint, used only after the page's frame and epoch are checked against it
    this.ofFrame = new Int32Array(frames).fill(-1);
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
