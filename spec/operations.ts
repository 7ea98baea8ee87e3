/**
 * The operations of the modelled kernel, one pure function each.
 *
 * Every function takes a state and an operation and returns the next state and
 * a result. It first checks its preconditions *in the order its doc comment
 * lists them* and returns the first error found, with the input state
 * unchanged (the very same object). Only when every check passes does it edit
 * a fresh copy (see `draft` in state.ts). The impl follows the same order, so
 * the refinement tests can demand equal error codes, not just "both failed".
 *
 * Every operation is invoked by a *subject* task (`op.task`) through slots of
 * its own capability space, seL4-style. The first check of every operation is
 * therefore `NoSuchTask`: the subject must exist.
 *
 * Who pays (MODEL.md, 002_977c03b37cc28449.txt on "taxing" tasks for kernel
 * objects): every kernel object costs one unit of some account's object
 * quota. A task, a container or a sub-account is paid by the account named in
 * the operation; a capability and a mapping are paid by the account of the
 * task that holds them (the receiver pays). Frames are paid from the frame
 * quota of the account that pays for their container.
 */
import type { Account, Cap, CapRef, Container, Draft, Mapping, MappingSource, MapRef, Slot, State, Task } from "./state.js";
import { capKey, draft, mapKey } from "./state.js";
import { applyRemoval, capChildren, closure, mapChildren, remove } from "./removal.js";
import type { ErrorCode, ObjectKind, Op, OpKind, OpOf, Result } from "./vocabulary.js";
import { ALL_RIGHTS, BIT_DIRTY, BIT_REFERENCED, err, inRange, isAmount, isWord, ok, R, rightsMask, UNMAP_MODES } from "./vocabulary.js";

export interface Step {
  readonly state: State;
  readonly result: Result;
}

const fail = (state: State, code: ErrorCode): Step => ({ state, result: err(code) });
const done = (state: State | Draft, value: number | null = null): Step => ({ state: state as State, result: ok(value) });
const isError = (x: unknown): x is ErrorCode => typeof x === "string";

// ---------------------------------------------------------------------------
// Lookups shared by the operations. Each returns the thing or an error code.

/** The subject task. Error: NoSuchTask. */
function subjectOf(state: State, task: unknown): Task | ErrorCode {
  return inRange(task, state.config.tasks) && state.tasks[task] ? state.tasks[task] : "NoSuchTask";
}

/**
 * The capability in `slot` of `task`, which must name an object of `kind`
 * (any kind if omitted) and carry every right in `need`.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights.
 */
function capIn(state: State, task: Task, slot: unknown, kind?: ObjectKind, need = 0): Cap | ErrorCode {
  if (!inRange(slot, state.config.capSlots)) return "BadCapSlot";
  const cap = task.caps[slot];
  if (!cap) return "NoCap";
  if (kind !== undefined && cap.kind !== kind) return "WrongType";
  if ((cap.rights & need) !== need) return "NoRights";
  return cap;
}

/** A slot that a new capability may land in. Errors: BadCapSlot, CapSlotOccupied. */
function freeCapSlot(state: State, task: Task, slot: unknown): ErrorCode | null {
  if (!inRange(slot, state.config.capSlots)) return "BadCapSlot";
  return task.caps[slot] ? "CapSlotOccupied" : null;
}

/** The lowest unused id in a table, or null. */
function lowestFree(table: readonly unknown[]): number | null {
  const i = table.indexOf(null);
  return i < 0 ? null : i;
}

const unusedObjects = (a: Account) => a.objectQuota - a.objectsCharged;
const unusedFrames = (a: Account) => a.frameQuota - a.framesCharged;

/**
 * Can `payer` find `objects` units of unused object quota, and the subject's
 * account one more for the capability that will name the new object? (They
 * may be the same account, which then needs `objects + 1`.)
 * Error: ObjectQuotaExceeded.
 */
function canPayObjectAndCap(state: State, payer: number, objects: number, subjectAccount: number): ErrorCode | null {
  const needPayer = objects + (payer === subjectAccount ? 1 : 0);
  if (unusedObjects(state.accounts[payer]!) < needPayer) return "ObjectQuotaExceeded";
  if (payer !== subjectAccount && unusedObjects(state.accounts[subjectAccount]!) < 1) return "ObjectQuotaExceeded";
  return null;
}


/** Puts a fresh capability into `slot` of `task` and charges its holder. */
function install(d: Draft, ref: CapRef, cap: Cap): void {
  const task = d.tasks[ref.task]!;
  task.caps[ref.slot] = cap;
  d.accounts[task.account]!.objectsCharged += 1;
}

// ---------------------------------------------------------------------------
// Accounts

/**
 * account.create — make a sub-account of the account named by `account`,
 * donating `frames` frame quota and `objects` object quota to it, and put an
 * all-rights capability to it into the subject's slot `dest`.
 *
 * Why: quota is handed down a tree of accounts, never created (seed 004,
 * 004_1a77f3008d0f6074.txt: the policy server "must never overcommit"; Genode
 * donates RAM and capability quota along the parent/child edge, seed 003).
 * The new account is itself a kernel object, charged to its parent (one
 * object, besides the donation); the capability is charged to the subject's
 * account. The new id is the lowest unused one.
 *
 * Result: the new account's id.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights (the
 * account cap needs `alloc`); BadCapSlot, CapSlotOccupied (`dest`); BadValue
 * (amounts); OutOfIds; FrameQuotaExceeded (parent's unused frame quota <
 * frames); ObjectQuotaExceeded (parent's unused object quota < objects + 1,
 * plus 1 for the cap if the subject's account is the parent; else the
 * subject's account has no unused object).
 */
export function accountCreate(state: State, op: OpOf<"account.create">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (!isAmount(op.frames) || !isAmount(op.objects)) return fail(state, "BadValue");
  const id = lowestFree(state.accounts);
  if (id === null) return fail(state, "OutOfIds");
  const parent = state.accounts[cap.object]!;
  if (unusedFrames(parent) < op.frames) return fail(state, "FrameQuotaExceeded");
  // The donation leaves the parent's quota, the node is charged to it: both
  // come out of its unused object quota.
  const quotaErr = canPayObjectAndCap(state, cap.object, op.objects + 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);

  const d = draft(state);
  const p = d.accounts[cap.object]!;
  p.frameQuota -= op.frames;
  p.objectQuota -= op.objects;
  p.objectsCharged += 1;
  d.accounts[id] = { parent: cap.object, yieldRequest: 0, frameQuota: op.frames, framesCharged: 0, objectQuota: op.objects, objectsCharged: 0 };
  install(d, { task: op.task, slot: op.dest }, { kind: "account", object: id, rights: ALL_RIGHTS, parent: null });
  return done(d, id);
}

/**
 * account.transfer — move unused quota from the account named by `from` to the
 * account named by `to`, which must be its parent or its child.
 *
 * Why: quota moves only along an edge of the account tree, as Genode's quota
 * transfer does (seed 003, 003_a2470de884760ae8.txt), so the tree always says
 * where every unit came from; and only *unused* quota moves, so no account is
 * ever charged beyond its quota (never overcommit, seed 004).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`from` needs `alloc`); BadCapSlot, NoCap, WrongType (`to`, any rights);
 * BadValue (amounts); NotRelated (not parent and child, including `from` =
 * `to`); FrameQuotaExceeded, ObjectQuotaExceeded (`from`'s unused quota).
 */
export function accountTransfer(state: State, op: OpOf<"account.transfer">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const from = capIn(state, subject, op.from, "account", R.alloc);
  if (isError(from)) return fail(state, from);
  const to = capIn(state, subject, op.to, "account");
  if (isError(to)) return fail(state, to);
  if (!isAmount(op.frames) || !isAmount(op.objects)) return fail(state, "BadValue");
  const a = state.accounts[from.object]!;
  const b = state.accounts[to.object]!;
  if (a.parent !== to.object && b.parent !== from.object) return fail(state, "NotRelated");
  if (unusedFrames(a) < op.frames) return fail(state, "FrameQuotaExceeded");
  if (unusedObjects(a) < op.objects) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  d.accounts[from.object]!.frameQuota -= op.frames;
  d.accounts[from.object]!.objectQuota -= op.objects;
  d.accounts[to.object]!.frameQuota += op.frames;
  d.accounts[to.object]!.objectQuota += op.objects;
  return done(d);
}

/**
 * account.destroy — destroy the account named by `account`, its sub-accounts,
 * and every task and container any of them pays for (with all that those take
 * along: see removal.ts). All of their quota returns to the parent.
 *
 * Why: this is the only way to take memory back by force (MODEL.md; seed 003:
 * a yield request is a request, destroying the child is the command). The
 * subject may destroy the account that pays for itself; it then vanishes too.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot (the root account has no parent to return quota to).
 */
export function accountDestroy(state: State, op: OpOf<"account.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (state.accounts[cap.object]!.parent === null) return fail(state, "IsRoot");
  return done(remove(state, { accounts: [cap.object] }));
}

// ---------------------------------------------------------------------------
// Tasks and containers

/**
 * task.create — make a task paid by the account named by `account`, with an
 * empty capability space and address space, and put an all-rights capability
 * to it into the subject's slot `dest`. The new id is the lowest unused one.
 *
 * Why: creating a thread costs kernel memory, so the creator's account is
 * "taxed" for it (seed 002, 002_977c03b37cc28449.txt) rather than the kernel
 * allocating without a limit (seed 001).
 *
 * Result: the new task's id.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadCapSlot, CapSlotOccupied (`dest`); OutOfIds;
 * ObjectQuotaExceeded (one object for the task, one for the cap).
 */
export function taskCreate(state: State, op: OpOf<"task.create">): Step {
  return createObject(state, op, "task");
}

/**
 * container.create — make an empty container paid by the account named by
 * `account` and put an all-rights capability to it into the subject's slot
 * `dest`. The new id is the lowest unused one.
 *
 * Why: containers are "the only basic object for all things concerning memory
 * management" and "allow to keep track of who pays for a resource" (seed 000,
 * 000_0acf2069c9b56720.txt). The container's account also pays for every
 * frame allocated into it.
 *
 * Result: the new container's id.
 * Errors, in order: as task.create.
 */
export function containerCreate(state: State, op: OpOf<"container.create">): Step {
  return createObject(state, op, "container");
}

function createObject(state: State, op: OpOf<"task.create" | "container.create">, kind: "task" | "container"): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  const id = lowestFree(kind === "task" ? state.tasks : state.containers);
  if (id === null) return fail(state, "OutOfIds");
  const quotaErr = canPayObjectAndCap(state, cap.object, 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);

  const d = draft(state);
  d.accounts[cap.object]!.objectsCharged += 1;
  if (kind === "task") {
    const { capSlots, vpages } = state.config;
    d.tasks[id] = { account: cap.object, caps: new Array(capSlots).fill(null), pages: new Array(vpages).fill(null) };
  } else {
    d.containers[id] = { account: cap.object, slots: Array.from({ length: state.config.containerSlots }, () => ({ kind: "empty" as const })) };
  }
  install(d, { task: op.task, slot: op.dest }, { kind, object: id, rights: ALL_RIGHTS, parent: null });
  return done(d, id);
}

/**
 * task.destroy — destroy the task named by `target` ("kill -9"): its
 * capabilities, everything derived from them, its mappings and every
 * capability naming it go; its account is refunded.
 *
 * Why: seed 000 (000_0acf2069c9b56720.txt): "The access right may be revoked at
 * any time (imagine root doing a kill -9 on the task with the container!)";
 * whatever the dead task handed out was its authority and dies with it.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights (`alloc`).
 */
export function taskDestroy(state: State, op: OpOf<"task.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.target, "task", R.alloc);
  if (isError(cap)) return fail(state, cap);
  return done(remove(state, { tasks: [cap.object] }));
}

/**
 * container.destroy — destroy the container named by `container`: every
 * capability naming it becomes invalid at once, every mapping of its frames
 * goes, and its frames are released (a frame no other slot holds becomes free,
 * unless it is wired for DMA: then it waits for its last handle to go).
 *
 * Why: Coyotos-style rescind (seed 001, 001_468f3620a1a4dd19.txt): the client
 * "can revoke access to a container at any time to reclaim the resources"
 * (seed 000), whatever the server it was shared with does.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights (`alloc`).
 */
export function containerDestroy(state: State, op: OpOf<"container.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.container, "container", R.alloc);
  if (isError(cap)) return fail(state, cap);
  return done(remove(state, { containers: [cap.object] }));
}

/** Is some soft reference to frame `f` still valid? */
export function softHeld(state: State, f: number): boolean {
  const epoch = state.frames[f]!.epoch;
  return state.containers.some((c) => c?.slots.some((x) => x.kind === "soft" && x.frame === f && x.epoch === epoch));
}

/**
 * The frame physmem hands out next: the lowest-numbered free frame (no hard
 * reference, not wired, no valid soft reference); failing that, under pressure, the
 * lowest-numbered frame held only by soft references, which are thereby made
 * stale (seed 000: dropped cache pages are "turned into a soft reference" and
 * may be reclaimed). Null when every frame is in hard use.
 */
export function nextFrame(state: State): number | null {
  const unused = (f: number) => state.frames[f]!.refs === 0 && state.frames[f]!.wired === 0;
  for (let f = 0; f < state.frames.length; f++) if (unused(f) && !softHeld(state, f)) return f;
  for (let f = 0; f < state.frames.length; f++) if (unused(f)) return f;
  return null;
}

/** Gives frame `f` to a new user: zeroed, one reference, a new epoch, bits clear. */
function takeFrame(d: Draft, f: number, content = 0): void {
  const frame = d.frames[f]!;
  d.frames[f] = { content, refs: frame.refs + 1, epoch: frame.epoch + 1, referenced: false, dirty: false, wired: frame.wired };
}

/** The container named by a cap in the subject's space, checked. */
function containerVia(state: State, subject: Task, slot: unknown, need: number): { cap: Cap; container: Container } | ErrorCode {
  const cap = capIn(state, subject, slot, "container", need);
  if (isError(cap)) return cap;
  return { cap, container: state.containers[cap.object]! };
}

/**
 * container.alloc — allocate a physical frame into the empty slot `index` of
 * the container named by `container`, zero it, and charge it to the
 * container's account. The frame is the lowest-numbered free one; its epoch
 * is bumped (it is a new use of the frame).
 *
 * Why: "the basic operation will be to allocate some frames into a container,
 * and then to map them" (seed 000); physmem only grants frames within the
 * payer's quota (seed 004). Zeroing keeps one owner's data from leaking to
 * the next.
 *
 * Result: the frame number.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; FrameSlotOccupied; FrameQuotaExceeded (the container's
 * account); OutOfMemory (no free frame).
 */
export function containerAlloc(state: State, op: OpOf<"container.alloc">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const found = containerVia(state, subject, op.container, R.alloc);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  if (container.slots[op.index]!.kind !== "empty") return fail(state, "FrameSlotOccupied");
  if (unusedFrames(state.accounts[container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const frame = nextFrame(state);
  if (frame === null) return fail(state, "OutOfMemory");

  const d = draft(state);
  d.containers[cap.object]!.slots[op.index] = { kind: "hard", frame };
  d.accounts[container.account]!.framesCharged += 1;
  takeFrame(d, frame);
  return done(d, frame);
}

/**
 * container.free — empty slot `index` of the container named by `container`.
 * For a hard reference, every mapping rooted at that slot is unmapped, the
 * container's account is refunded, and the frame becomes free if no other
 * slot holds it and it is not wired; its content is left as it is (it is
 * zeroed on its next allocation). A soft reference or swapped content is
 * simply dropped.
 *
 * Why: no mapping may outlive its backing (MODEL.md invariants).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; FrameSlotEmpty.
 */
export function containerFree(state: State, op: OpOf<"container.free">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const found = containerVia(state, subject, op.container, R.alloc);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  const slot = container.slots[op.index]!;
  if (slot.kind === "empty") return fail(state, "FrameSlotEmpty");

  const d = dropSlot(state, cap.object, op.index);
  d.containers[cap.object]!.slots[op.index] = { kind: "empty" };
  return done(d);
}

/**
 * The state with what slot (container, index) holds let go: for a hard
 * reference, the mappings rooted at the slot go, the frame loses a reference
 * and the container's account a frame charge. A soft reference or swapped
 * content costs nothing to let go. The caller sets the slot's new value.
 */
function dropSlot(state: State, container: number, index: number): Draft {
  const slot = state.containers[container]!.slots[index]!;
  if (slot.kind !== "hard") return draft(state);
  const d = remove(state, { mappings: mappingsRootedAt(state, container, index) });
  d.accounts[state.containers[container]!.account]!.framesCharged -= 1;
  d.frames[slot.frame]!.refs -= 1;
  return d;
}

/** The places of the root mappings whose source satisfies `pred`. */
function rootMappings(state: State, pred: (source: Extract<MappingSource, { kind: "slot" }>) => boolean): MapRef[] {
  const out: MapRef[] = [];
  state.tasks.forEach((task, t) =>
    task?.pages.forEach((m, vpage) => {
      if (m?.source.kind === "slot" && pred(m.source)) out.push({ task: t, vpage });
    }),
  );
  return out;
}

/** The root mappings of container slot (container, index). */
export const mappingsRootedAt = (state: State, container: number, index: number): MapRef[] =>
  rootMappings(state, (s) => s.container === container && s.index === index);

/** The root mappings a capability authorized. */
export const mappingsAuthorizedBy = (state: State, ref: CapRef): MapRef[] =>
  rootMappings(state, (s) => s.cap.task === ref.task && s.cap.slot === ref.slot);

// ---------------------------------------------------------------------------
// Capabilities

/**
 * cap.derive — put into the subject's slot `dest` a child of the capability in
 * `src`, naming the same object with `rights`, which must be a subset of the
 * source's rights.
 *
 * Why: diminished capabilities are how memory is shared with an untrusted
 * task. A container capability without `alloc` is the "proxy object" of seed
 * 000 that "does not allow to allocate more frames than already are in the
 * container"; being a child, it dies when its ancestor is revoked.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap (`src`); BadRights (not a
 * list of distinct rights, or not a subset); BadCapSlot, CapSlotOccupied
 * (`dest`); ObjectQuotaExceeded (the subject's account pays for the cap).
 */
export function capDerive(state: State, op: OpOf<"cap.derive">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
  const rights = rightsMask(op.rights);
  if (rights < 0 || (rights & ~src.rights) !== 0) return fail(state, "BadRights");
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (unusedObjects(state.accounts[subject.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  install(d, { task: op.task, slot: op.dest }, { kind: src.kind, object: src.object, rights, parent: { task: op.task, slot: op.src } });
  return done(d);
}

/**
 * cap.copy — put into slot `dest` of the task named by `target` a child of the
 * capability in the subject's slot `src`, with the same rights. The receiving
 * task's account pays for it.
 *
 * Why: passing a capability to another task is how sharing starts (seed 000);
 * the copy is a child so the giver can revoke it; the receiver pays, as for
 * every object someone receives (MODEL.md decisions).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap (`src`); BadCapSlot, NoCap,
 * WrongType, NoRights (`target` is a task cap with `write`); BadCapSlot,
 * CapSlotOccupied (`dest`, in the target's space); ObjectQuotaExceeded (the
 * target's account).
 */
export function capCopy(state: State, op: OpOf<"cap.copy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return fail(state, target);
  const receiver = state.tasks[target.object]!;
  const slotErr = freeCapSlot(state, receiver, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (unusedObjects(state.accounts[receiver.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  install(d, { task: target.object, slot: op.dest }, { ...src, parent: { task: op.task, slot: op.src } });
  return done(d);
}

/**
 * cap.delete — remove the capability in `slot`. The mappings it authorized
 * (and all mappings derived from them) go with it; capabilities derived from
 * it stay, re-attached to its parent (or becoming roots), as in seL4's
 * capability derivation tree. The object itself lives on: it is paid for by
 * its account and goes when that account or an explicit destroy takes it.
 *
 * Why: deleting your own copy must not take away what you handed on (that is
 * what revoke is for); but mappings need a live authorizing capability.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap.
 */
export function capDelete(state: State, op: OpOf<"cap.delete">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);

  const self: CapRef = { task: op.task, slot: op.slot };
  const d = remove(state, { mappings: mappingsAuthorizedBy(state, self) });
  d.tasks[op.task]!.caps[op.slot] = null;
  d.accounts[subject.account]!.objectsCharged -= 1;
  for (const child of capChildren(state).get(capKey(self)) ?? []) d.tasks[child.task]!.caps[child.slot]!.parent = cap.parent;
  return done(d);
}

/**
 * cap.revoke — remove every capability derived from the one in `slot`
 * (children, grandchildren, ... in any task), every mapping they authorized,
 * and every mapping derived from those. The capability itself stays.
 *
 * Why: the owner of a container can take back what it shared at any time
 * (seed 000); seL4 revokes along the derivation tree, and seed 001 contrasts
 * this with L4's hierarchical unmap.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap.
 */
export function capRevoke(state: State, op: OpOf<"cap.revoke">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);
  const children = capChildren(state).get(capKey({ task: op.task, slot: op.slot })) ?? [];
  return done(remove(state, { caps: children }));
}

// ---------------------------------------------------------------------------
// Mappings and memory

/** The mapping at `vpage` of the subject. Errors: BadPage, NotMapped. */
function mappingAt(state: State, subject: Task, vpage: unknown) {
  if (!inRange(vpage, state.config.vpages)) return "BadPage" as const;
  return subject.pages[vpage] ?? ("NotMapped" as const);
}

/**
 * page.map — map slot `index` of the container named by `container` at the
 * subject's virtual page `vpage` with `rights` (a non-empty subset of read and
 * write). This is a root mapping: it records the slot and the capability that
 * authorized it. The subject's account pays one object for the mapping node.
 *
 * Why: "allocate some frames into a container, and then to map them into your
 * address space" (seed 000). Every mapping-database node is paid for, so map
 * allocates "exactly one" node and fails cleanly on exhaustion (seed 001).
 *
 * Errors, in order: NoSuchTask; BadRights (malformed, empty, or other than
 * read/write); BadCapSlot, NoCap, WrongType, NoRights (the cap must carry the
 * rights installed); BadIndex; FrameSlotEmpty; SlotNotHard; BadPage; PageMapped;
 * ObjectQuotaExceeded.
 */
export function pageMap(state: State, op: OpOf<"page.map">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const rights = rightsMask(op.rights);
  if (rights <= 0 || (rights & ~(R.read | R.write)) !== 0) return fail(state, "BadRights");
  const found = containerVia(state, subject, op.container, rights);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  const slot = container.slots[op.index]!;
  if (slot.kind === "empty") return fail(state, "FrameSlotEmpty");
  if (slot.kind !== "hard") return fail(state, "SlotNotHard");
  if (!inRange(op.vpage, state.config.vpages)) return fail(state, "BadPage");
  if (subject.pages[op.vpage]) return fail(state, "PageMapped");
  if (unusedObjects(state.accounts[subject.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  d.tasks[op.task]!.pages[op.vpage] = {
    frame: slot.frame,
    rights,
    source: { kind: "slot", container: cap.object, index: op.index, cap: { task: op.task, slot: op.container } },
  };
  d.accounts[subject.account]!.objectsCharged += 1;
  return done(d);
}

/**
 * page.unmap — for every mapping of the subject in the flexpage-style range
 * [vpage, vpage + 2^order), which must be aligned to its size: with mode
 * `derived`, remove every mapping derived from it; with `all`, those and the
 * mapping itself; with `readonly`, take the write right away from every
 * mapping derived from it (a derived mapping left with no right is removed,
 * with everything derived from it). The payers of removed mappings are
 * refunded. Unmapped pages in the range are skipped.
 *
 * Why: the holder of a mapping can always take back what it passed on,
 * without the receivers' consent, and learn whether the pages were touched
 * (L4 unmap/flush, seed 001; seed 002 on access bits for pagers).
 *
 * Result: the OR of the referenced (1) and dirty (2) bits of the frames of
 * the subject's mappings in the range, as found before the unmap.
 * Errors, in order: NoSuchTask; BadPage (misaligned, or not inside the
 * address space); BadValue (mode).
 */
export function pageUnmap(state: State, op: OpOf<"page.unmap">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!inRange(op.order, 31)) return fail(state, "BadPage");
  const size = 2 ** op.order;
  if (!inRange(op.vpage, state.config.vpages) || op.vpage % size !== 0 || op.vpage + size > state.config.vpages) return fail(state, "BadPage");
  if (!(UNMAP_MODES as readonly unknown[]).includes(op.mode)) return fail(state, "BadValue");

  const own: MapRef[] = [];
  let bits = 0;
  for (let v = op.vpage; v < op.vpage + size; v++) {
    const m = subject.pages[v];
    if (!m) continue;
    own.push({ task: op.task, vpage: v });
    bits |= frameBits(state, m.frame);
  }
  if (op.mode === "all") return done(remove(state, { mappings: own }), bits);

  const derived = mappingDescendants(state, own);
  if (op.mode === "derived") return done(remove(state, { mappings: derived }), bits);

  // readonly: mappings with write only go; the others lose write.
  const writeOnly = derived.filter((r) => state.tasks[r.task]!.pages[r.vpage]!.rights === R.write);
  const removal = closure(state, { mappings: writeOnly });
  const d = applyRemoval(state, removal);
  for (const r of derived) {
    if (!removal.mappings.has(mapKey(r))) d.tasks[r.task]!.pages[r.vpage]!.rights &= ~R.write;
  }
  return done(d, bits);
}

/** The referenced/dirty bits of a frame as a number (referenced 1, dirty 2). */
const frameBits = (state: State, frame: number): number =>
  (state.frames[frame]!.referenced ? BIT_REFERENCED : 0) | (state.frames[frame]!.dirty ? BIT_DIRTY : 0);

/** Every mapping derived (at any depth) from one of `roots`, not counting `roots` themselves unless derived from another. */
function mappingDescendants(state: State, roots: readonly MapRef[]): MapRef[] {
  const children = mapChildren(state);
  const seen = new Set<string>();
  const out: MapRef[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    for (const c of children.get(mapKey(stack.pop()!)) ?? []) {
      if (seen.has(mapKey(c))) continue;
      seen.add(mapKey(c));
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/**
 * page.bits — read and clear the referenced and dirty bits of the frame the
 * subject's `vpage` maps.
 *
 * Why: a self-paging task chooses its victims by these bits (seed 004,
 * 004_1a77f3008d0f6074.txt: "the task must select a page to evict"); clearing
 * them starts the next sampling period.
 *
 * Result: referenced (1) | dirty (2), as they were.
 * Errors, in order: NoSuchTask; BadPage; NotMapped.
 */
export function pageBits(state: State, op: OpOf<"page.bits">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const m = mappingAt(state, subject, op.vpage);
  if (isError(m)) return fail(state, m);
  const d = draft(state);
  d.frames[m.frame]!.referenced = false;
  d.frames[m.frame]!.dirty = false;
  return done(d, frameBits(state, m.frame));
}

/**
 * The checks shared by l4.map, l4.grant and l4.share: the subject's mapping
 * at `vpage`, the rights asked for (when given), the target task and a free
 * page there, and the target's account able to pay one more object.
 * Errors, in order: NoSuchTask; BadPage, NotMapped (`vpage`); BadRights
 * (malformed, empty, or not a subset of the mapping's rights); BadCapSlot,
 * NoCap, WrongType, NoRights (`target`: a task cap with `write`); BadPage,
 * PageMapped (`dest` in the target); ObjectQuotaExceeded (the target's
 * account, unless for a grant it is the sender's own, which already pays).
 */
function sendChecks(
  state: State,
  op: OpOf<"l4.map" | "l4.grant" | "l4.share">,
): { from: Mapping; rights: number; to: number } | ErrorCode {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return subject;
  const from = mappingAt(state, subject, op.vpage);
  if (isError(from)) return from;
  let rights = from.rights;
  if (op.op !== "l4.grant") {
    rights = rightsMask(op.rights);
    if (rights <= 0 || (rights & ~from.rights) !== 0) return "BadRights";
  }
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return target;
  const receiver = state.tasks[target.object]!;
  if (!inRange(op.dest, state.config.vpages)) return "BadPage";
  if (receiver.pages[op.dest]) return "PageMapped";
  const moving = op.op === "l4.grant" && receiver.account === subject.account;
  if (!moving && unusedObjects(state.accounts[receiver.account]!) < 1) return "ObjectQuotaExceeded";
  return { from, rights, to: target.object };
}

/**
 * l4.map — L4 map: give the task named by `target` a mapping at its page
 * `dest` of the frame the subject maps at `vpage`, with `rights` (a subset of
 * the subject's). The new mapping is a child of the subject's in the mapping
 * database: it goes when the subject's mapping is unmapped. The receiver's
 * account pays for the node.
 *
 * Why: hierarchical mapping is how L4 pagers build address spaces; every
 * mapping-database entry is charged, so map allocates "exactly one" entry
 * and fails cleanly on exhaustion (Shapiro, seed 001).
 *
 * Errors: see the shared checks above (sendChecks).
 */
export function l4Map(state: State, op: OpOf<"l4.map">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  return done(addMapping(state, c.to, op.dest, { frame: c.from.frame, rights: c.rights, source: { kind: "map", parent: { task: op.task, vpage: op.vpage } } }));
}

/**
 * l4.share — "map co-equally" (Shapiro, seed 001): give the task named by
 * `target` a mapping at `dest` that is a *sibling* of the subject's mapping at
 * `vpage` (same parent, or for a root mapping the same container slot and
 * authorizing capability), with `rights` a subset of the subject's. It
 * survives the subject's unmap; it goes with their common parent. The
 * receiver's account pays.
 *
 * Why: with plain L4 map, whoever receives a page depends on every mapper
 * between it and the root; a co-equal mapping depends only on the sender's
 * own source, so a server can hand a client a page that survives the
 * server's own unmap (Shapiro's proposal, seed 001).
 *
 * Errors: as l4.map.
 */
export function l4Share(state: State, op: OpOf<"l4.share">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  return done(addMapping(state, c.to, op.dest, { frame: c.from.frame, rights: c.rights, source: c.from.source }));
}

/**
 * l4.grant — L4 grant: move the subject's mapping at `vpage` to page `dest` of
 * the task named by `target`, with its rights, its place in the mapping
 * database and everything derived from it. The charge moves to the
 * receiver's account.
 *
 * Why: grant hands a page on without the sender staying in the chain, so the
 * receiver does not lose it when the sender exits (seed 001's first objection
 * to map).
 *
 * Errors: as l4.map, without BadRights (a grant keeps the rights).
 */
export function l4Grant(state: State, op: OpOf<"l4.grant">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  const from: MapRef = { task: op.task, vpage: op.vpage };
  const to: MapRef = { task: c.to, vpage: op.dest };
  const d = draft(state);
  d.tasks[from.task]!.pages[from.vpage] = null;
  d.accounts[state.tasks[from.task]!.account]!.objectsCharged -= 1;
  d.tasks[to.task]!.pages[to.vpage] = structuredClone(c.from);
  d.accounts[state.tasks[to.task]!.account]!.objectsCharged += 1;
  for (const child of mapChildren(state).get(mapKey(from)) ?? []) {
    const m = d.tasks[child.task]!.pages[child.vpage]!;
    m.source = { kind: "map", parent: to };
  }
  return done(d);
}

/** A copy of the state with `mapping` at (task, vpage), charged to the task's account. */
function addMapping(state: State, task: number, vpage: number, mapping: Mapping): Draft {
  const d = draft(state);
  d.tasks[task]!.pages[vpage] = structuredClone(mapping);
  d.accounts[state.tasks[task]!.account]!.objectsCharged += 1;
  return d;
}

/**
 * mem.read — read the word at the subject's virtual page `vpage` through its
 * page table; sets the frame's referenced bit.
 *
 * Why: the referenced/dirty bits are what a self-paging task needs to choose
 * its victims (seed 004; seed 002 on access bits for pagers).
 *
 * Result: the word.
 * Errors (faults), in order: NoSuchTask; BadPage; NotMapped; ProtectionFault
 * (no read right).
 */
export function memRead(state: State, op: OpOf<"mem.read">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const m = mappingAt(state, subject, op.vpage);
  if (isError(m)) return fail(state, m);
  if ((m.rights & R.read) === 0) return fail(state, "ProtectionFault");
  const d = draft(state);
  d.frames[m.frame]!.referenced = true;
  return done(d, state.frames[m.frame]!.content);
}

/**
 * mem.write — write `value` (a signed 32-bit word) at the subject's virtual
 * page `vpage`; sets the frame's referenced and dirty bits and bumps its
 * epoch (soft references to the old content become stale: "if the user
 * changes or drops the frame, then the soft reference will become stale",
 * seed 000).
 *
 * Copy-on-write: when the frame is held by more than one hard slot (a logical
 * copy), the write first breaks the copy. The mapping's root slot gets a new
 * frame (chosen by `nextFrame`) holding the old content, and every mapping
 * rooted at that slot, with all mappings derived from them, is redirected to
 * it. The slot was already charged a frame to its container's account when
 * the copy was made (the receiver pays), so the charge stays where it is;
 * only a physical frame is needed.
 *
 * Why: writes are where two mechanisms of the seeds become visible: a
 * logical copy stays private to each holder only if the first write breaks
 * it (copy-on-write, seeds 000 and 004), and a cache's soft reference must
 * notice that its frame changed (seed 000).
 *
 * Errors (faults), in order: NoSuchTask; BadValue; BadPage; NotMapped;
 * ProtectionFault (no write right); Wired (the frame is wired for DMA: "denying
 * access to the memory by the original owner", seed 000); OutOfMemory (a copy
 * to break and no frame to break it with).
 */
export function memWrite(state: State, op: OpOf<"mem.write">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!isWord(op.value)) return fail(state, "BadValue");
  const m = mappingAt(state, subject, op.vpage);
  if (isError(m)) return fail(state, m);
  if ((m.rights & R.write) === 0) return fail(state, "ProtectionFault");
  if (state.frames[m.frame]!.wired > 0) return fail(state, "Wired");
  let frame = m.frame;
  let d: Draft;
  if (state.frames[frame]!.refs > 1) {
    const fresh = nextFrame(state);
    if (fresh === null) return fail(state, "OutOfMemory");
    d = draft(state);
    const root = rootSlotOf(state, { task: op.task, vpage: op.vpage });
    takeFrame(d, fresh, state.frames[frame]!.content);
    d.frames[frame]!.refs -= 1;
    d.containers[root.container]!.slots[root.index] = { kind: "hard", frame: fresh };
    const rooted = mappingsRootedAt(state, root.container, root.index);
    for (const r of [...rooted, ...mappingDescendants(state, rooted)]) d.tasks[r.task]!.pages[r.vpage]!.frame = fresh;
    frame = fresh;
  } else {
    d = draft(state);
  }
  const f = d.frames[frame]!;
  f.content = op.value;
  f.referenced = true;
  f.dirty = true;
  f.epoch += 1;
  return done(d);
}

/** The container slot at the root of the mapping at `r` (following parents). */
function rootSlotOf(state: State, r: MapRef): { container: number; index: number } {
  let m = state.tasks[r.task]!.pages[r.vpage]!;
  while (m.source.kind === "map") m = state.tasks[m.source.parent.task]!.pages[m.source.parent.vpage]!;
  return { container: m.source.container, index: m.source.index };
}

// ---------------------------------------------------------------------------
// Sharing: logical copy, soft references, swap

/**
 * The container named by the cap in `slot` and its slot `index`.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights (`need`); BadIndex.
 */
function slotVia(state: State, subject: Task, slot: unknown, index: unknown, need: number) {
  const found = containerVia(state, subject, slot, need);
  if (isError(found)) return found;
  if (!inRange(index, state.config.containerSlots)) return "BadIndex" as const;
  return { ...found, id: found.cap.object, index, slot: found.container.slots[index]! };
}

/** Error for a slot that must hold a hard reference: FrameSlotEmpty or SlotNotHard. */
const needHard = (slot: Slot): ErrorCode | null => (slot.kind === "empty" ? "FrameSlotEmpty" : slot.kind !== "hard" ? "SlotNotHard" : null);

/**
 * container.copy — logical copy: put into the empty slot `dstIndex` of the
 * container named by `dst` a hard reference to the frame in slot `srcIndex`
 * of the container named by `src`. No data moves; the frame is shared until
 * someone writes to it through a mapping (copy-on-write, see mem.write).
 * The receiving container's account pays a frame of quota.
 *
 * Why: "Data can be copied into a container by just installing frame
 * references from other containers, so the copy is logical" (seed 000); a
 * filesystem serves reads this way from its cache (seed 004). The receiver
 * pays, as MODEL.md decides.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`src` needs `read`); BadIndex; FrameSlotEmpty, SlotNotHard (source slot);
 * BadCapSlot, NoCap, WrongType, NoRights (`dst` needs `alloc`); BadIndex;
 * FrameSlotOccupied; FrameQuotaExceeded (the receiving container's account).
 */
export function containerCopy(state: State, op: OpOf<"container.copy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const from = slotVia(state, subject, op.src, op.srcIndex, R.read);
  if (isError(from)) return fail(state, from);
  const hardErr = needHard(from.slot);
  if (hardErr) return fail(state, hardErr);
  const to = slotVia(state, subject, op.dst, op.dstIndex, R.alloc);
  if (isError(to)) return fail(state, to);
  if (to.slot.kind !== "empty") return fail(state, "FrameSlotOccupied");
  if (unusedFrames(state.accounts[to.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const frame = (from.slot as Extract<Slot, { kind: "hard" }>).frame;

  const d = draft(state);
  d.containers[to.id]!.slots[to.index] = { kind: "hard", frame };
  d.frames[frame]!.refs += 1;
  d.accounts[to.container.account]!.framesCharged += 1;
  return done(d);
}

/**
 * container.demote — turn the hard reference in slot `index` into a soft one:
 * the mappings rooted at the slot go, the frame loses a reference and the
 * container's account is refunded, but the frame keeps its content until
 * physmem reuses it or someone writes it.
 *
 * Why: a filesystem under memory pressure turns its cached pages into soft
 * references instead of dropping them (seed 000), giving the quota back while
 * keeping a chance to recover the data without reading the disk.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; FrameSlotEmpty, SlotNotHard; Wired.
 */
export function containerDemote(state: State, op: OpOf<"container.demote">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const frame = (at.slot as Extract<Slot, { kind: "hard" }>).frame;
  if (state.frames[frame]!.wired > 0) return fail(state, "Wired");

  const d = dropSlot(state, at.id, at.index);
  d.containers[at.id]!.slots[at.index] = { kind: "soft", frame, epoch: state.frames[frame]!.epoch };
  return done(d);
}

/**
 * container.promote — turn the soft reference in slot `index` back into a
 * hard one, if its frame still holds what it held (same epoch): the container's
 * account pays a frame again.
 *
 * Why: "the filesystem can later reclaim the data without reading it from
 * disk again by turning the soft reference back into a hard reference"
 * (seed 000) — unless the frame was reused or changed meanwhile.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; NotSoft; Stale; FrameQuotaExceeded.
 */
export function containerPromote(state: State, op: OpOf<"container.promote">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  if (at.slot.kind !== "soft") return fail(state, "NotSoft");
  if (state.frames[at.slot.frame]!.epoch !== at.slot.epoch) return fail(state, "Stale");
  if (unusedFrames(state.accounts[at.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");

  const d = draft(state);
  d.containers[at.id]!.slots[at.index] = { kind: "hard", frame: at.slot.frame };
  d.frames[at.slot.frame]!.refs += 1;
  d.accounts[at.container.account]!.framesCharged += 1;
  return done(d);
}

/**
 * container.swapOut — write the content of the hard slot `index` to backing
 * store: the slot keeps the content, the mappings rooted at it go, the frame
 * loses a reference and the container's account is refunded.
 *
 * Why: swapping goes through physmem, not the task's own swap, so that shared
 * frames stay shared (seed 004); the quota comes back for other use.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; FrameSlotEmpty, SlotNotHard; Wired.
 */
export function containerSwapOut(state: State, op: OpOf<"container.swapOut">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const frame = state.frames[(at.slot as Extract<Slot, { kind: "hard" }>).frame]!;
  if (frame.wired > 0) return fail(state, "Wired");
  const content = frame.content;

  const d = dropSlot(state, at.id, at.index);
  d.containers[at.id]!.slots[at.index] = { kind: "swapped", content };
  return done(d);
}

/**
 * container.swapIn — bring the swapped-out content of slot `index` back into
 * a frame (chosen by `nextFrame`, with a new epoch), charged to the
 * container's account.
 *
 * Why: a self-paging task decides what to swap and brings it back through
 * physmem (seeds 000 and 004). Swapped-out content costs no frame, so
 * bringing it back is charged like any allocation: swapping never lets an
 * account hold more frames than its quota.
 *
 * Result: the frame number.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); BadIndex; NotSwapped; FrameQuotaExceeded; OutOfMemory.
 */
export function containerSwapIn(state: State, op: OpOf<"container.swapIn">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  if (at.slot.kind !== "swapped") return fail(state, "NotSwapped");
  if (unusedFrames(state.accounts[at.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const frame = nextFrame(state);
  if (frame === null) return fail(state, "OutOfMemory");

  const d = draft(state);
  takeFrame(d, frame, at.slot.content);
  d.containers[at.id]!.slots[at.index] = { kind: "hard", frame };
  d.accounts[at.container.account]!.framesCharged += 1;
  return done(d, frame);
}

// ---------------------------------------------------------------------------
// Ballooning

/**
 * The account named by a cap with `alloc` in the subject's space, which must
 * not be the root. Errors, in order: BadCapSlot, NoCap, WrongType, NoRights;
 * IsRoot.
 */
function childAccountVia(state: State, subject: Task, slot: unknown): { id: number; account: Account; parent: Account } | ErrorCode {
  const cap = capIn(state, subject, slot, "account", R.alloc);
  if (isError(cap)) return cap;
  const account = state.accounts[cap.object]!;
  if (account.parent === null) return "IsRoot";
  return { id: cap.object, account, parent: state.accounts[account.parent]! };
}

/**
 * account.request — the account named by `account` asks its parent for
 * `frames` more frame quota. Granted whole from the parent's unused quota,
 * or denied; never partly, never by taking from anyone else.
 *
 * Why: Genode's ballooning (seed 003, 003_a2470de884760ae8.txt): "a cache
 * would try it request additional memory up to a point where such requests
 * are denied", so slack memory is used without ever overcommitting (seed 004).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; BadValue; Denied.
 */
export function accountRequest(state: State, op: OpOf<"account.request">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  if (unusedFrames(c.parent) < op.frames) return fail(state, "Denied");
  const d = draft(state);
  d.accounts[c.account.parent!]!.frameQuota -= op.frames;
  d.accounts[c.id]!.frameQuota += op.frames;
  return done(d);
}

/**
 * account.yieldRequest — the parent asks the account named by `account` to
 * give back `frames` frames of quota (replacing any earlier request). It is
 * a request, not a command: nothing moves until the child yields.
 *
 * Why: Genode's yield requests (seed 003): "once the memory is needed for
 * other purposes, the cache cooperatively responds to so-called yield
 * requests"; only destroying the child takes memory by force (MODEL.md).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; BadValue.
 */
export function accountYieldRequest(state: State, op: OpOf<"account.yieldRequest">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  const d = draft(state);
  d.accounts[c.id]!.yieldRequest = op.frames;
  return done(d);
}

/**
 * account.yield — the account named by `account` answers its parent's yield
 * request: it hands back as much of its *unused* frame quota as was asked
 * for, and the request shrinks by that much. A child that first frees
 * frames (evicts its cache) can then yield more.
 *
 * Why: Genode's yield request lets a parent ask for quota back without
 * taking it by force; the child chooses when, and can give back only what it
 * does not use (seed 003).
 *
 * Result: the number of frames yielded.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot.
 */
export function accountYield(state: State, op: OpOf<"account.yield">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  const n = Math.min(c.account.yieldRequest, unusedFrames(c.account));
  const d = draft(state);
  d.accounts[c.id]!.frameQuota -= n;
  d.accounts[c.id]!.yieldRequest -= n;
  d.accounts[c.account.parent!]!.frameQuota += n;
  return done(d, n);
}

// ---------------------------------------------------------------------------
// DMA and physmem

/**
 * dma.wire — wire the frame in the hard slot `index` of the container named
 * by `container` for DMA and put a capability to a new DMA handle into the
 * subject's slot `dest`. While any handle wires it, the frame is never
 * reused, relocated, demoted or swapped, and tasks' writes to it fault; if
 * the slot or the container goes, the frame stays in use until the last
 * handle is unwired. The handle and its capability are both charged to the
 * subject's account (it asked for them).
 *
 * Why: "A privileged operation can wire the physical address of the
 * containers memory for the DMA operation ... denying access to the memory by
 * the original owner" (seed 000).
 *
 * Result: the handle's id (the lowest unused).
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`priv`); BadIndex; FrameSlotEmpty, SlotNotHard; BadCapSlot,
 * CapSlotOccupied (`dest`); OutOfIds; ObjectQuotaExceeded (two objects).
 */
export function dmaWire(state: State, op: OpOf<"dma.wire">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.priv);
  if (isError(at)) return fail(state, at);
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  const id = lowestFree(state.handles);
  if (id === null) return fail(state, "OutOfIds");
  const quotaErr = canPayObjectAndCap(state, subject.account, 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);
  const frame = (at.slot as Extract<Slot, { kind: "hard" }>).frame;

  const d = draft(state);
  d.handles[id] = { account: subject.account, frame };
  d.frames[frame]!.wired += 1;
  d.accounts[subject.account]!.objectsCharged += 1;
  install(d, { task: op.task, slot: op.dest }, { kind: "dma", object: id, rights: ALL_RIGHTS, parent: null });
  return done(d, id);
}

/**
 * dma.unwire — destroy the DMA handle named by `handle`: every capability to
 * it goes, its frame is unwired (and released if no slot holds it any more),
 * and its account is refunded.
 *
 * Why: a frame under DMA must not be reused while the device may still write
 * it, even if the task that asked for the transfer is killed (seed 000); the
 * handle, not the client, decides when the frame is released.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights (`alloc`).
 */
export function dmaUnwire(state: State, op: OpOf<"dma.unwire">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.handle, "dma", R.alloc);
  if (isError(cap)) return fail(state, cap);
  return done(remove(state, { handles: [cap.object] }));
}

/**
 * dma.write — a device writes `value` into the wired frame of the handle
 * named by `handle`. The frame's epoch is bumped (its content changed); the
 * referenced/dirty bits, which record task accesses, are left alone.
 *
 * Why: a device writes physical memory behind the tasks' backs; modelling it
 * shows that a wired frame stays where it is and that soft references to it
 * go stale like after any write (seed 000).
 *
 * Errors, in order: NoSuchTask; BadValue; BadCapSlot, NoCap, WrongType,
 * NoRights (`write`).
 */
export function dmaWrite(state: State, op: OpOf<"dma.write">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!isWord(op.value)) return fail(state, "BadValue");
  const cap = capIn(state, subject, op.handle, "dma", R.write);
  if (isError(cap)) return fail(state, cap);
  const d = draft(state);
  const f = d.frames[state.handles[cap.object]!.frame]!;
  f.content = op.value;
  f.epoch += 1;
  return done(d);
}

/**
 * physmem.relocate — an environment action: physmem moves the content of
 * frame `frame` to the frame `nextFrame` picks, every hard slot holding the
 * old frame now holds the new one, and every mapping of the old frame is
 * unmapped (with everything derived; the tasks fault it back in). The old
 * frame is free afterwards, content intact, so soft references to it stay
 * valid until it is reused. The bits move with the content.
 *
 * Why: "physmem must be allowed to unmap the frames whenever it wants, to move
 * their physical location (to make space for DMA operations or super pages)"
 * (seed 000). Wired frames cannot move.
 *
 * Result: the new frame.
 * Errors, in order: BadFrame; FrameNotInUse (no hard reference); Wired;
 * OutOfMemory.
 */
export function physmemRelocate(state: State, op: OpOf<"physmem.relocate">): Step {
  if (!inRange(op.frame, state.config.frames)) return fail(state, "BadFrame");
  const old = state.frames[op.frame]!;
  if (old.refs === 0) return fail(state, "FrameNotInUse");
  if (old.wired > 0) return fail(state, "Wired");
  const fresh = nextFrame(state);
  if (fresh === null) return fail(state, "OutOfMemory");

  const mapped: MapRef[] = [];
  state.tasks.forEach((t, task) => t?.pages.forEach((m, vpage) => m?.frame === op.frame && mapped.push({ task, vpage })));
  const d = remove(state, { mappings: mapped });
  const f = d.frames[fresh]!;
  d.frames[fresh] = { content: old.content, refs: f.refs + old.refs, epoch: f.epoch + 1, referenced: old.referenced, dirty: old.dirty, wired: 0 };
  d.frames[op.frame]!.refs = 0;
  for (const c of d.containers) {
    c?.slots.forEach((x, i) => {
      if (x.kind === "hard" && x.frame === op.frame) c.slots[i] = { kind: "hard", frame: fresh };
    });
  }
  return done(d, fresh);
}

// ---------------------------------------------------------------------------

/** The spec's transition function: one operation, any state. Total. */
export const OPERATIONS: { readonly [K in OpKind]: (state: State, op: OpOf<K>) => Step } = {
  "account.create": accountCreate,
  "account.transfer": accountTransfer,
  "account.destroy": accountDestroy,
  "task.create": taskCreate,
  "task.destroy": taskDestroy,
  "container.create": containerCreate,
  "container.destroy": containerDestroy,
  "container.alloc": containerAlloc,
  "container.free": containerFree,
  "container.copy": containerCopy,
  "container.demote": containerDemote,
  "container.promote": containerPromote,
  "container.swapOut": containerSwapOut,
  "container.swapIn": containerSwapIn,
  "cap.derive": capDerive,
  "cap.copy": capCopy,
  "cap.delete": capDelete,
  "cap.revoke": capRevoke,
  "page.map": pageMap,
  "page.unmap": pageUnmap,
  "page.bits": pageBits,
  "l4.map": l4Map,
  "l4.grant": l4Grant,
  "l4.share": l4Share,
  "mem.read": memRead,
  "mem.write": memWrite,
  "account.request": accountRequest,
  "account.yieldRequest": accountYieldRequest,
  "account.yield": accountYield,
  "dma.wire": dmaWire,
  "dma.unwire": dmaUnwire,
  "dma.write": dmaWrite,
  "physmem.relocate": physmemRelocate,
};

/** Applies one operation. An unknown operation kind is an error, never a throw. */
export function step(state: State, op: Op): Step {
  const kind: unknown = op !== null && typeof op === "object" ? op.op : undefined;
  if (typeof kind !== "string" || !Object.hasOwn(OPERATIONS, kind)) return fail(state, "BadValue");
  const fn = OPERATIONS[kind as OpKind] as (s: State, o: Op) => Step;
  return fn(state, op);
}
