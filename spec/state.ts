/**
 * The abstract state of the modelled kernel: plain immutable data.
 *
 * Identity is by *place*, never by a hidden index: a capability is known by
 * the task and slot that hold it, a mapping by the task and virtual page it
 * sits at, an account / task / container by its id (ids are handed out
 * lowest-free-first, so they are deterministic). The impl's abstraction
 * function (`impl/abstraction.ts`) produces exactly this shape, and the
 * refinement tests compare the two with structural equality.
 */
import type { Config, ObjectKind } from "./vocabulary.js";
import { ALL_RIGHTS } from "./vocabulary.js";

/** A physical frame. `content` stands for the page's bytes. */
export interface Frame {
  readonly content: number;
  /** number of Hard container slots holding this frame */
  readonly refs: number;
  /** bumped every time the frame is (re)allocated or written; soft references compare it (a natural number that never comes round: exact to 2^53, docs/decisions.md "Epochs") */
  readonly epoch: number;
  /** number of DMA handles wiring it; a wired frame is never reused, moved or written by a task */
  readonly wired: number;
}

/** A quota bank. Quota moves only along parent/child edges. */
export interface Account {
  /** the account that donated this one's quota; null only for the root */
  readonly parent: number | null;
  /** frames the parent has asked this account to yield (Genode's yield request) */
  readonly yieldRequest: number;
  /** frames this account has asked its parent for and not yet been answered (Genode's resource request) */
  readonly requested: number;
  readonly frameQuota: number;
  readonly framesCharged: number;
  readonly objectQuota: number;
  readonly objectsCharged: number;
}

/**
 * A container slot: empty; a hard reference to a frame (charged to the
 * container's account, keeps the frame in use); a soft reference (not
 * charged; valid while the frame's epoch is still `epoch`, stale once the
 * frame was reused or written: 000_0acf2069c9b56720.txt); or content swapped
 * out to a swap page (no frame; the slot costs its container's account one
 * object instead of one frame: 004_1a77f3008d0f6074.txt).
 */
export type Slot =
  | { readonly kind: "empty" }
  | { readonly kind: "hard"; readonly frame: number }
  | { readonly kind: "soft"; readonly frame: number; readonly epoch: number }
  | { readonly kind: "swapped"; readonly page: number };

/**
 * A page of swap space, shared by every slot that swapped out the same frame
 * with the same content (the same epoch): swapping does not unshare a
 * logical copy (seed 000: physmem offers swap so that sharing survives it).
 * `frame` and `epoch` say where the content last was in memory: a slot
 * swapping in while that frame still holds it, unchanged, in another slot
 * takes that frame again instead of a new one.
 */
export interface SwapPage {
  readonly content: number;
  readonly frame: number;
  readonly epoch: number;
  /** the swapped slots that hold this page */
  readonly refs: number;
}

/** Faults that can wait at one pager at a time: `faultQueue`, or 4. */
export const faultQueueOf = (config: Config): number => config.faultQueue ?? 4;

/** Swap pages of a configuration: `swap`, or one per container slot. */
export const swapCapacity = (config: Config): number => config.swap ?? config.containers * config.containerSlots;

export interface Container {
  /** the account that pays for the container and for its frames */
  readonly account: number;
  readonly slots: readonly Slot[];
}

/** Where a capability lives: its identity. */
export interface CapRef {
  readonly task: number;
  readonly slot: number;
}

export interface Cap {
  readonly kind: ObjectKind;
  readonly object: number;
  /** rights mask (see `R` in vocabulary.ts) */
  readonly rights: number;
  /** the capability this one was derived or copied from */
  readonly parent: CapRef | null;
}

/** Where a mapping lives: its identity. */
export interface MapRef {
  readonly task: number;
  readonly vpage: number;
}

/**
 * What a mapping maps. A root mapping comes straight from a container slot
 * and names the capability that authorized it; a derived mapping (L4 map)
 * names its parent in the mapping database.
 */
export type MappingSource =
  | { readonly kind: "slot"; readonly container: number; readonly index: number; readonly cap: CapRef }
  | { readonly kind: "map"; readonly parent: MapRef };

export interface Mapping {
  readonly frame: number;
  /** rights mask, a subset of read|write */
  readonly rights: number;
  readonly source: MappingSource;
  /**
   * Access bits of this mapping, as a page-table entry keeps them (referenced
   * 1, dirty 2): set by accesses through this mapping only, read and cleared
   * by page.bits and page.unmap of this mapping or of one it derives from.
   */
  readonly bits: number;
}

/**
 * A task's receive window: the capability slots [slot, slot + slots) and the
 * pages [page, page + pages) in which it accepts what other tasks send it
 * (cap.copy, l4.map, l4.share, l4.grant). Only the task itself sets it
 * (task.window); a new task's window is closed (both counts 0).
 */
export interface Window {
  readonly slot: number;
  readonly slots: number;
  readonly page: number;
  readonly pages: number;
}

/** The window of a new task: nothing accepted from others. */
export const CLOSED: Window = Object.freeze({ slot: 0, slots: 0, page: 0, pages: 0 });

/**
 * An access that faulted: the page, whether it was a write (and the word it
 * writes), waiting for the task's pager. While it waits the task is blocked.
 */
export interface Fault {
  readonly vpage: number;
  readonly write: boolean;
  /** the word a faulting write writes when it completes; 0 for a read */
  readonly value: number;
}

export interface Task {
  /** the account that pays for the task, its capabilities and its mappings */
  readonly account: number;
  /** where it accepts capabilities and mappings from other tasks */
  readonly window: Window;
  /** the task its faults go to (pagers.ts), or null: then an access to a missing page is an error */
  readonly pager: number | null;
  /** the access that faulted and waits for the pager, or null; a task with a fault is blocked */
  readonly fault: Fault | null;
  /** as a pager: the tasks whose faults wait for it, oldest first (at most config.faultQueue) */
  readonly queue: readonly number[];
  /** as a pager: pages its tasks lost to physmem, oldest first (at most config.faultQueue; pagers.ts) */
  readonly notices: readonly Notice[];
  /** as a pager: how many notices did not fit since it last read one */
  readonly missed: number;
  /** a removal the task started and that was preempted, or null (preemption.ts); until it finishes the task may only invoke it again */
  readonly pending: Pending | null;
  /** capability space: slot -> capability */
  readonly caps: readonly (Cap | null)[];
  /** page table: virtual page -> mapping (the mapping database node itself) */
  readonly pages: readonly (Mapping | null)[];
}

/**
 * A notice to a pager: physmem took the mapping at page `vpage` of task
 * `task`, a task the pager pages (physmem.reclaim, physmem.relocate).
 */
export interface Notice {
  readonly task: number;
  readonly vpage: number;
}

/**
 * A page.unmap preempted half way (preemption.ts): where its walk over the
 * mapping trees of the range stands. The walk takes one page of the range
 * after the other; in each it goes down from the task's own mapping to the
 * children from the greatest key (task, then page) down and finishes a mapping once
 * every child is finished (removing it, or taking its write right), so the
 * trees are taken apart from the leaves up.
 */
export interface PendingUnmap {
  /** the operation, which the task invokes again to continue */
  readonly op: { readonly op: "page.unmap"; readonly task: number; readonly vpage: number; readonly order: number; readonly mode: "derived" | "all" | "readonly" };
  /** the page of the range being worked on (pages before it are done) */
  readonly page: number;
  /** the mapping the walk stands at; null before it starts on `page` */
  readonly cursor: MapRef | null;
  /** the key of the cursor's child finished last (those with greater keys are done), or null */
  readonly last: MapRef | null;
  /** mode readonly: the write-only mapping whose subtree the walk is removing, or null */
  readonly zone: MapRef | null;
  /** the access bits gathered so far (the result, when it finishes) */
  readonly bits: number;
}

/**
 * A cap.revoke preempted half way (preemption.ts): where its walk over the
 * capabilities derived from the revoked one stands. The walk goes down from
 * the revoked capability to a derived capability, from a capability first
 * to the root mappings it authorized (from the greatest page down), then to
 * the capabilities derived from it (from the greatest key down), from a
 * mapping to those derived from it (greatest key first), and removes a node
 * once nothing hangs from it any more: leaves first, as the unmap walk.
 */
export interface PendingRevoke {
  /** the operation, which the task invokes again to continue */
  readonly op: { readonly op: "cap.revoke"; readonly task: number; readonly slot: number };
  /** the node the walk stands at, or null: at the revoked capability itself */
  readonly cursor: RevokeNode | null;
  /** the object whose last capability the walk stands at, being emptied before that capability goes; absent when there is none */
  readonly zombie?: Zombie;
}

/**
 * A zombie (seL4's word for a half-destroyed object): a container or a task
 * whose last capability a preempted removal's walk has reached: a revoke's
 * walk, once nothing hangs from that capability any more, or the walk
 * through a task's capabilities (a task destroy's, an account destroy's at
 * a task, a zombie task's). Before the capability goes, and the object with
 * it, the walk empties the object while the capability still names it, as
 * container.destroy and task.destroy do; meanwhile nothing may be done with
 * or to the object (`Blocked`, `Removing`). A zombie task's walk may reach
 * the last capability naming another object in turn: that object is the
 * zombie's `inner` zombie, emptied first, and so on (a chain, each link's
 * only capability held by the task around it). An account may be a
 * zombie too, unless it pays, directly or through sub-accounts, for a task
 * the chain is in (or the subject): its walk is an account destroy's (DMA
 * handles, containers, tasks, sub-accounts), and its walk through a task
 * may make a zombie inside it, as a task's does.
 */
export interface Zombie {
  readonly kind: "container" | "task" | "account";
  readonly id: number;
  /** a task's page being emptied (-1 once all are, and for a container); an account's: the page of its `task` (-1 otherwise) */
  readonly page: number;
  /** a container's slot or a task's capability slot being emptied (-1 once all are); with an inner zombie, the slot below the one holding its capability; an account's: the slot of its `container`, or the capability slot of its `task` (-1 between objects) */
  readonly slot: number;
  /** an account's only: the container its walk takes apart; absent between objects, at a task (and for a container or a task) */
  readonly container?: number;
  /** an account's only: the task its walk takes apart; absent between objects, at a container (and for a container or a task) */
  readonly task?: number;
  /** the mapping the walk stands at, in a tree of the slot or the page being emptied; null: at the slot or page itself */
  readonly cursor: MapRef | null;
  /** the zombie this one's walk empties first (a task's only: page -1, cursor null then); absent when there is none */
  readonly inner?: Zombie;
}

/** A node of a revoke's walk: a capability derived from the revoked one, or a mapping in a tree one of them authorized. */
export type RevokeNode = { readonly kind: "cap"; readonly task: number; readonly slot: number } | { readonly kind: "map"; readonly task: number; readonly vpage: number };

/**
 * A container.destroy preempted half way (preemption.ts): the container is
 * being emptied slot by slot, from the greatest index down (the mapping
 * trees rooted at a slot from the leaves up, then the slot itself), then
 * the other capabilities naming it go, then the subject's capability and
 * the container itself.
 */
export interface PendingDestroy {
  /** the operation, which the task invokes again to continue */
  readonly op: { readonly op: "container.destroy"; readonly task: number; readonly container: number };
  /** the container being destroyed */
  readonly object: number;
  /** the slot being emptied (those above it are empty); -1 once all are, and its capabilities go */
  readonly slot: number;
  /** the mapping the walk stands at, in a tree rooted at `slot`; null: at the slot itself */
  readonly cursor: MapRef | null;
}

/**
 * A task.destroy preempted half way (preemption.ts): the target is emptied
 * while it is still named: its page table from the greatest page down (the
 * mapping tree of each of its pages from the leaves up), then its
 * capabilities from the greatest slot down (each as if deleted), then the
 * other capabilities naming it; last the subject's capability and the task.
 */
export interface PendingTaskDestroy {
  /** the operation, which the task invokes again to continue */
  readonly op: { readonly op: "task.destroy"; readonly task: number; readonly target: number };
  /** the task being destroyed */
  readonly object: number;
  /** the target's page being emptied (those above it are empty); -1 once all are */
  readonly page: number;
  /** the target's capability slot being emptied (those above it are empty, but the subject's own when a task destroys itself); capSlots - 1 while pages remain, -1 once all are */
  readonly slot: number;
  /** the mapping the walk stands at, in the tree of the target's mapping at `page`; null: at the page itself */
  readonly cursor: MapRef | null;
  /** the object whose last capability the target held at `slot` + 1, being emptied before that capability goes; absent when there is none */
  readonly zombie?: Zombie;
}

/**
 * An account.destroy preempted half way (preemption.ts): what the account
 * and its sub-accounts pay for is destroyed while they are still named, one
 * object after the other (DMA handles, then containers, then tasks, each
 * from the greatest id down, the subject's own task last; a DMA handle
 * losing the capabilities naming it one per unit, the last taking it; a
 * container or a task taken apart as its own destroy takes it apart),
 * then the sub-accounts from the leaves up (the capabilities naming each,
 * then the account), then all but one of the capabilities naming the subject's task
 * and the sub-accounts paying for it, then the capabilities naming the
 * account; last the subject's capability and the account.
 */
export interface PendingAccountDestroy {
  /** the operation, which the task invokes again to continue */
  readonly op: { readonly op: "account.destroy"; readonly task: number; readonly account: number };
  /** the account being destroyed */
  readonly object: number;
  /** the container or task being taken apart, or null: between objects */
  readonly at: { readonly kind: "container" | "task"; readonly id: number } | null;
  /** a task's page being emptied (-1 once all are, and for a container or between objects) */
  readonly page: number;
  /** a container's slot or a task's capability slot being emptied (-1 once all are, and between objects) */
  readonly slot: number;
  /** the mapping the walk stands at, in a tree of the slot or the page being emptied; null: at the slot or page itself */
  readonly cursor: MapRef | null;
  /** at a task: the object whose last capability that task held at `slot` + 1, being emptied before that capability goes; absent when there is none */
  readonly zombie?: Zombie;
}

/** A removal a task started and that was preempted. */
export type Pending = PendingUnmap | PendingRevoke | PendingDestroy | PendingTaskDestroy | PendingAccountDestroy;

export const isRevoke = (p: Pending): p is PendingRevoke => p.op.op === "cap.revoke";
export const isDestroy = (p: Pending): p is PendingDestroy => p.op.op === "container.destroy";
export const isUnmap = (p: Pending): p is PendingUnmap => p.op.op === "page.unmap";
export const isTaskDestroy = (p: Pending): p is PendingTaskDestroy => p.op.op === "task.destroy";
export const isAccountDestroy = (p: Pending): p is PendingAccountDestroy => p.op.op === "account.destroy";

/** A DMA handle: a wired frame, paid for by the account of the task that wired it. */
export interface DmaHandle {
  readonly account: number;
  readonly frame: number;
}

export interface State {
  readonly config: Config;
  readonly frames: readonly Frame[];
  readonly accounts: readonly (Account | null)[];
  readonly tasks: readonly (Task | null)[];
  readonly containers: readonly (Container | null)[];
  readonly handles: readonly (DmaHandle | null)[];
  readonly swap: readonly (SwapPage | null)[];
  /**
   * sigma0's ledger (pagers.ts, sigma0.serve): for each page of the root
   * task's address space, the task it was first handed to, or null.
   */
  readonly sigma0: readonly (number | null)[];
}

/** The root account and the root task of the boot state. */
export const ROOT_ACCOUNT = 0;
export const ROOT_TASK = 0;
/** Slots of the root task's capabilities at boot. */
export const BOOT_ACCOUNT_SLOT = 0;
export const BOOT_TASK_SLOT = 1;
/** Objects the boot state charges to the root account: the task and its two caps. */
export const BOOT_OBJECTS = 3;

/**
 * The sigma0 boot state (002_977c03b37cc28449.txt: sigma0 starts out owning
 * all physical memory and hands it out). One root account holds all frame and
 * object quota; one root task, paid by it, holds all-rights capabilities to
 * the account (slot 0) and to itself (slot 1). Every later authority is
 * derived from these two capabilities.
 */
export function boot(config: Config): State {
  const frames: Frame[] = Array.from({ length: config.frames }, () => ({
    content: 0,
    refs: 0,
    epoch: 0,
    wired: 0,
  }));
  const accounts: (Account | null)[] = new Array(config.accounts).fill(null);
  accounts[ROOT_ACCOUNT] = {
    parent: null,
    yieldRequest: 0,
    requested: 0,
    frameQuota: config.frames,
    framesCharged: 0,
    objectQuota: config.objects,
    objectsCharged: BOOT_OBJECTS,
  };
  const caps: (Cap | null)[] = new Array(config.capSlots).fill(null);
  caps[BOOT_ACCOUNT_SLOT] = { kind: "account", object: ROOT_ACCOUNT, rights: ALL_RIGHTS, parent: null };
  caps[BOOT_TASK_SLOT] = { kind: "task", object: ROOT_TASK, rights: ALL_RIGHTS, parent: null };
  const tasks: (Task | null)[] = new Array(config.tasks).fill(null);
  tasks[ROOT_TASK] = newTask(ROOT_ACCOUNT, caps, config.vpages);
  const containers: (Container | null)[] = new Array(config.containers).fill(null);
  const handles: (DmaHandle | null)[] = new Array(config.handles).fill(null);
  const swap: (SwapPage | null)[] = new Array(swapCapacity(config)).fill(null);
  const sigma0: (number | null)[] = new Array(config.vpages).fill(null);
  return { config, frames, accounts, tasks, containers, handles, swap, sigma0 };
}

/** A new task paid by `account`: closed window, no pager, no fault, no notices, empty page table. */
export function newTask(account: number, caps: (Cap | null)[], vpages: number): Task {
  return { account, window: CLOSED, pager: null, fault: null, queue: [], notices: [], missed: 0, pending: null, caps, pages: new Array(vpages).fill(null) };
}

/** A mutable working copy of a state: operations edit a fresh copy, never their input. */
export type Draft = { -readonly [K in keyof State]: Mutable<State[K]> };
type Mutable<T> = T extends readonly (infer E)[]
  ? Mutable<E>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/**
 * An editable copy of `state`. This is how every operation stays a pure
 * function: check on the input, edit a draft, return the finished draft
 * (`done` in checks.ts calls `finish`). Editing a draft reads and writes like
 * editing a plain state; the copying is lazy: a table is copied (its array
 * of references) when the operation first touches it, and a record when the
 * operation first reads it through the draft, so a step costs the records
 * it touches plus a copy of the references of each table it touches, not a
 * copy of every record of the state (which made a trace of n operations
 * cost n² record copies once the state held n records). What the operation
 * does not touch is shared with the input, which is never edited:
 * refinement-tests/harness/purity.test.ts runs operations on deep-frozen
 * inputs and checks that a finished state shares no record the operation
 * changed.
 */
export function draft(state: State): Draft {
  return new LazyDraft(state) as unknown as Draft;
}

/** The state a draft has become (a state that is not a draft is returned as it is). */
export function finish(d: State | Draft): State {
  return d instanceof LazyDraft ? d.finish() : (d as State);
}

/** A draft: each table is made editable (a Table) the first time it is asked for. */
class LazyDraft {
  private f?: Table<unknown>;
  private a?: Table<unknown>;
  private t?: Table<unknown>;
  private c?: Table<unknown>;
  private h?: Table<unknown>;
  private s?: Table<unknown>;
  private o?: (number | null)[];
  readonly config: Config;

  constructor(private readonly input: State) {
    this.config = input.config;
  }

  get frames() {
    return (this.f ??= new Table<unknown>(this.input.frames, copyRecord as never)).view;
  }
  get accounts() {
    return (this.a ??= new Table<unknown>(this.input.accounts, copyRecord as never)).view;
  }
  get tasks() {
    return (this.t ??= new Table<unknown>(this.input.tasks, copyTask as never, true)).view;
  }
  get containers() {
    return (this.c ??= new Table<unknown>(this.input.containers, copyContainer as never)).view;
  }
  get handles() {
    return (this.h ??= new Table<unknown>(this.input.handles, copyRecord as never)).view;
  }
  get swap() {
    return (this.s ??= new Table<unknown>(this.input.swap, copyRecord as never)).view;
  }
  get sigma0() {
    return (this.o ??= this.input.sigma0.slice());
  }

  finish(): State {
    const i = this.input;
    return {
      config: i.config,
      frames: (this.f?.done() ?? i.frames) as State["frames"],
      accounts: (this.a?.done() ?? i.accounts) as State["accounts"],
      tasks: (this.t?.done() ?? i.tasks) as State["tasks"],
      containers: (this.c?.done() ?? i.containers) as State["containers"],
      handles: (this.h?.done() ?? i.handles) as State["handles"],
      swap: (this.s?.done() ?? i.swap) as State["swap"],
      sigma0: this.o ?? i.sigma0,
    };
  }
}

/**
 * One table of a draft: `view` reads and writes like the array, over a copy
 * of the input's references; a record is copied the first time it is read
 * through `view` (copies may hold tables of their own: a task's capabilities
 * and pages). A table of at most EAGER records is copied whole instead.
 * `done` returns the array with every nested table finished.
 */
class Table<T> implements ProxyHandler<T[]> {
  private readonly items: T[];
  private readonly copied: Uint8Array;
  /** copied records that hold tables of their own (tasks), finished with this one */
  private readonly nested: T[] = [];
  readonly view: T[];

  constructor(
    input: readonly T[],
    private readonly copy: (x: T) => T,
    private readonly holdsTables = false,
  ) {
    if (input.length <= EAGER) {
      // A small table is cheaper to copy whole than to watch.
      this.items = input.map((x) => (x !== null && typeof x === "object" ? copy(x) : x));
      this.copied = EMPTY;
      if (holdsTables) for (const c of this.items) if (c !== null) this.nested.push(c);
      this.view = this.items;
      return;
    }
    this.items = input.slice();
    this.copied = new Uint8Array(input.length);
    this.view = new Proxy(this.items, this);
    BEHIND.set(this.view, this.items);
  }

  get(target: T[], key: string | symbol, receiver: unknown): unknown {
    if (typeof key === "string" && key.charCodeAt(0) <= 57 && key.charCodeAt(0) >= 48) {
      const i = Number(key);
      if (this.copied[i] === 0 && i < target.length) {
        this.copied[i] = 1;
        const x = target[i]!;
        if (x !== null && typeof x === "object") {
          const c = this.copy(x);
          target[i] = c;
          if (this.holdsTables) this.nested.push(c);
        }
      }
      return target[i];
    }
    return Reflect.get(target, key, receiver);
  }

  set(target: T[], key: string | symbol, value: unknown): boolean {
    if (typeof key === "string" && key.charCodeAt(0) <= 57 && key.charCodeAt(0) >= 48) {
      this.copied[Number(key)] = 0; // a record put here is copied again before it is edited
      target[Number(key)] = value as T;
      return true;
    }
    return Reflect.set(target, key, value);
  }

  done(): T[] {
    for (const record of this.nested) finishNested(record as Record<string, unknown>);
    return this.items;
  }
}

/** The array behind a draft's table, to read without copying what is read (any other array: itself). */
export function unwatched<T>(xs: T[]): readonly T[] {
  return (BEHIND.get(xs) as T[] | undefined) ?? xs;
}

const BEHIND = new WeakMap<object, unknown[]>();

/** Tables up to this length are copied whole when first touched; longer ones record by record. */
const EAGER = 64;
const EMPTY = new Uint8Array(0);

/** Record copies whose fields are tables of their own (a task's caps and pages). */
const TABLE_FIELDS = new WeakMap<object, (Table<unknown> | null)[]>();

function finishNested(record: Record<string, unknown>): void {
  const tables = TABLE_FIELDS.get(record);
  if (tables === undefined) return;
  TABLE_FIELDS.delete(record);
  if (tables[0]) record.caps = tables[0].done();
  if (tables[1]) record.pages = tables[1].done();
}

const copyRecord = <T extends object>(x: T): T => ({ ...x });

/** A task's copy; its capabilities and pages are copied whole when few, else watched (Table). */
function copyTask(t: Task): Task {
  const caps = t.caps.length <= EAGER ? null : new Table<Cap | null>(t.caps, copyCap as (c: Cap | null) => Cap | null);
  const pages = t.pages.length <= EAGER ? null : new Table<Mapping | null>(t.pages, copyMapping as (m: Mapping | null) => Mapping | null);
  const c = { account: t.account, window: { ...t.window }, pager: t.pager, fault: t.fault && { ...t.fault }, queue: t.queue.slice(), notices: t.notices.map((n) => ({ ...n })), missed: t.missed, pending: copyPending(t.pending), caps: caps ? caps.view : t.caps.map(copyCap), pages: pages ? pages.view : t.pages.map(copyMapping) };
  if (caps || pages) TABLE_FIELDS.set(c, [caps as Table<unknown> | null, pages as Table<unknown> | null]);
  return c as Task;
}

function copyPending(p: Pending | null): Pending | null {
  if (p === null) return null;
  if (isRevoke(p)) return { op: { ...p.op }, cursor: p.cursor && { ...p.cursor }, ...(p.zombie && { zombie: { ...p.zombie, cursor: p.zombie.cursor && { ...p.zombie.cursor } } }) };
  if (isAccountDestroy(p)) return { ...p, op: { ...p.op }, at: p.at && { ...p.at }, cursor: p.cursor && { ...p.cursor } };
  if (isDestroy(p) || isTaskDestroy(p)) return { ...p, op: { ...p.op }, cursor: p.cursor && { ...p.cursor } } as Pending;
  return { ...p, op: { ...p.op }, cursor: p.cursor && { ...p.cursor }, last: p.last && { ...p.last }, zone: p.zone && { ...p.zone } };
}

const copyContainer = (c: Container): Container => ({ account: c.account, slots: c.slots.map((x) => ({ ...x })) });

const copyCap = (c: Cap | null): Mutable<Cap> | null => (c ? { ...c, parent: c.parent ? { ...c.parent } : null } : null);

const copyMapping = (m: Mapping | null): Mutable<Mapping> | null =>
  m
    ? {
        ...m,
        source: m.source.kind === "slot" ? { ...m.source, cap: { ...m.source.cap } } : { ...m.source, parent: { ...m.source.parent } },
      }
    : null;


/**
 * Page-table geometry. A task's page table is a directory (part of the task
 * object) and leaf pages, each covering `leafSpan` consecutive pages: 512,
 * or the whole address space rounded up to a power of two when that is
 * smaller. A leaf page is a kernel object like any other: it exists while a
 * page in its range is mapped, and the task's account pays one object for
 * it (seed 002: the task pays for its page tables; seed 001: no implicit
 * kernel allocation).
 */
export const leafSpan = (config: Config): number => 2 ** Math.min(9, Math.ceil(Math.log2(config.vpages)));

/** The number of leaf pages task `t`'s page table needs: one per leaf range with a mapping. */
export function leavesInUse(t: Task, span: number): number {
  let n = 0;
  for (let base = 0; base < t.pages.length; base += span) {
    for (let v = base; v < base + span && v < t.pages.length; v++) {
      if (t.pages[v]) {
        n++;
        break;
      }
    }
  }
  return n;
}

/** Does mapping page `vpage` of `t` need a new leaf page (none of its range is mapped)? */
export function needsLeaf(t: Task, vpage: number, span: number): boolean {
  const base = vpage - (vpage % span);
  for (let v = base; v < base + span && v < t.pages.length; v++) if (t.pages[v]) return false;
  return true;
}

/**
 * Charges or refunds the account of each of `tasks` (live in `state`) for the
 * leaf pages its page table gained or lost between `state` and `d`.
 */
export function settleLeaves(state: State, d: Draft, tasks: Iterable<number>): void {
  const span = leafSpan(state.config);
  for (const t of new Set(tasks)) {
    const was = state.tasks[t]!;
    // (the draft's pages are counted without copying them: reading is all this does)
    d.accounts[was.account]!.objectsCharged += leavesInUse({ ...was, pages: unwatched(d.tasks[t]!.pages) }, span) - leavesInUse(was, span);
  }
}

export const capKey = (r: CapRef): string => `${r.task}:${r.slot}`;
export const mapKey = (r: MapRef): string => `${r.task}:${r.vpage}`;
