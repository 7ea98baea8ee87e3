/**
 * State-aware generation of operations.
 *
 * fast-check generates *intents*: an operation kind and a few natural numbers.
 * An intent is turned into a concrete operation against the current spec
 * state, so the numbers pick among the things that exist (a slot that holds a
 * container capability with `alloc`, an empty container slot, a mapped page)
 * and most operations succeed. One intent in eight is "raw": its numbers are
 * used as they are, so out-of-range slots, missing caps and other errors are
 * exercised too. Shrinking works on intents (fewer, smaller numbers) and the
 * counterexample is printed as the concrete operations.
 */
import fc from "fast-check";
import type { Cap, CapRef, Mapping, MapRef, Pending, PendingAccountDestroy, PendingDestroy, PendingRevoke, PendingTaskDestroy, PendingUnmap, Slot, State, Task } from "../../spec/state.js";
import { capKey, isAccountDestroy, isDestroy, isRevoke, isTaskDestroy, isUnmap, mapKey, ROOT_TASK } from "../../spec/state.js";
import { mapChildren } from "../../spec/removal.js";
import { accountUnder, passedOver, pendingRegion, taskDying, zombiesOf } from "../../spec/preemption.js";
import type { Config, Op, OpKind, Right } from "../../spec/vocabulary.js";
import { BIT_DIRTY, OP_KINDS, R, rightsList, rightsMask, UNMAP_MODES } from "../../spec/vocabulary.js";
import { ACCESS_NEEDS, RIGHTS_NEEDED } from "../../spec/security.js";

export interface Intent {
  readonly kind: OpKind;
  readonly raw: boolean;
  readonly n: readonly [number, number, number, number, number];
}

/** Relative frequency of each kind: cheap, state-building operations more often. */
export const KIND_WEIGHTS: { readonly [K in OpKind]: number } = {
  "account.create": 3,
  "account.transfer": 3,
  "account.destroy": 1,
  "account.request": 5,
  "account.answer": 3,
  "account.yieldRequest": 2,
  "account.yield": 5,
  "task.create": 3,
  "task.destroy": 1,
  "task.window": 3,
  "container.create": 4,
  "container.destroy": 1,
  "container.alloc": 6,
  "container.free": 2,
  "container.copy": 4,
  "container.demote": 3,
  "container.promote": 3,
  "container.swapOut": 2,
  "container.swapIn": 2,
  "cap.derive": 5,
  "cap.copy": 5,
  "cap.delete": 2,
  "cap.revoke": 2,
  "page.map": 7,
  "page.unmap": 4,
  "page.bits": 2,
  "l4.map": 5,
  "l4.grant": 2,
  "l4.share": 3,
  "mem.read": 4,
  "mem.write": 4,
  "dma.wire": 2,
  "dma.unwire": 1,
  "dma.write": 2,
  "physmem.relocate": 2,
  "task.pager": 3,
  "fault.resolve": 3,
  "fault.refuse": 1,
  "fault.notice": 2,
  "sigma0.serve": 3,
  "physmem.reclaim": 2,
};

export const intentArb: fc.Arbitrary<Intent> = fc.record({
  kind: fc.oneof(...OP_KINDS.map((k) => ({ arbitrary: fc.constant(k), weight: KIND_WEIGHTS[k] }))),
  raw: fc.nat(7).map((x) => x === 7),
  n: fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(1000), fc.nat(1000), fc.nat(1000)),
});

/** Small configurations: small enough for collisions, quota exhaustion and id reuse. */
export const configArb: fc.Arbitrary<Config> = fc.record({
  frames: fc.integer({ min: 2, max: 8 }),
  objects: fc.integer({ min: 12, max: 48 }),
  accounts: fc.integer({ min: 2, max: 4 }),
  tasks: fc.integer({ min: 2, max: 4 }),
  containers: fc.integer({ min: 1, max: 4 }),
  capSlots: fc.integer({ min: 6, max: 12 }),
  vpages: fc.integer({ min: 2, max: 8 }),
  containerSlots: fc.integer({ min: 1, max: 4 }),
  handles: fc.integer({ min: 0, max: 3 }),
});

/**
 * Pager configurations: small machines that name a fault-queue length (1 to
 * 3, so that queues fill), with a few more tasks and enough quota for
 * chains of pagers. On these, a third of the steps go to pagers and faults
 * (see `resolve`): building a pager with pages and a paged task takes
 * several steps, and on other configurations tear-downs undo it before the
 * pager answers often.
 */
export const pagerConfigArb: fc.Arbitrary<Config> = fc.record({
  frames: fc.integer({ min: 4, max: 10 }),
  objects: fc.integer({ min: 40, max: 90 }),
  accounts: fc.integer({ min: 2, max: 4 }),
  tasks: fc.integer({ min: 4, max: 6 }),
  containers: fc.integer({ min: 1, max: 4 }),
  capSlots: fc.integer({ min: 8, max: 12 }),
  vpages: fc.integer({ min: 4, max: 8 }),
  containerSlots: fc.integer({ min: 1, max: 4 }),
  handles: fc.integer({ min: 0, max: 2 }),
  faultQueue: fc.integer({ min: 1, max: 3 }),
});

/**
 * Preemption configurations: small machines with a work budget of 1 to 4
 * units per entry, so that removals stop at preemption points, and room
 * for mapping trees. On these, while no removal is preempted, one step in
 * eight starts one (a revoke, a container, task or account destroy, or an
 * unmap of a page that has a tree), and while one is preempted half of the
 * steps continue it and the others interleave, half of them aimed at what
 * it is taking apart (see `preemptionStep`). Three quarters of them (by
 * their object quota) are staged: see `staged`.
 */
export const preemptConfigArb: fc.Arbitrary<Config> = fc.record({
  frames: fc.integer({ min: 3, max: 6 }),
  objects: fc.integer({ min: 60, max: 120 }),
  accounts: fc.integer({ min: 1, max: 3 }),
  tasks: fc.integer({ min: 3, max: 5 }),
  containers: fc.integer({ min: 1, max: 2 }),
  capSlots: fc.integer({ min: 8, max: 12 }),
  vpages: fc.integer({ min: 4, max: 8 }),
  containerSlots: fc.integer({ min: 1, max: 4 }),
  handles: fc.integer({ min: 0, max: 1 }),
  // (a budget of one unit stops after every step of the walk: half of the configurations have it)
  budget: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 4 })),
  // (the rich account-zombie stage needs a sub-account of a sub-account, four tasks and a third container: see richZombie)
}).map((c) => (richZombieStage(c.objects) ? { ...c, accounts: 3, tasks: Math.max(c.tasks, 4), containers: 3 } : c));

/**
 * Does the account-zombie stage (objects % 16 === 7) build its rich
 * variant (richZombie) on a configuration with this object quota? On
 * objects % 32 === 23 (87 and 119 in 60..120), where W stays (wStays), and
 * on objects % 64 === 7 (71), where it is destroyed; not on 103.
 */
function richZombieStage(objects: number): boolean {
  return objects % 32 === 23 || objects % 64 === 7;
}

/** Does W stay in the rich account-zombie stage (richZombie), so that Z's walk takes it apart? */
const wStays = (objects: number): boolean => objects % 32 === 23;

/** Is this a pager configuration (it names a fault-queue length)? */
const isPagerConfig = (config: Config) => config.faultQueue !== undefined;

/** The pager operations a pager configuration steers to. */
const PAGER_KINDS: readonly OpKind[] = ["fault.resolve", "fault.resolve", "fault.resolve", "sigma0.serve", "fault.refuse", "task.pager"];

/**
 * Configurations at the impl's structural boundaries: frame and id counts
 * just below, at and above a 32-bit bitmap word (31..33, 63..65), address
 * spaces of more than one leaf page (a leaf holds up to 512 entries: 511,
 * 512, 513, 1025), capability spaces and containers across a word, and
 * enough quota for long traces to get there. Random small configurations
 * never cross any of these.
 */
export const boundaryConfigArb: fc.Arbitrary<Config> = fc.tuple(
  fc.record({
    frames: fc.constantFrom(31, 32, 33, 63, 64, 65),
    objects: fc.integer({ min: 300, max: 800 }),
    // many tasks make every state copy large: mostly a few
    accounts: fc.constantFrom(3, 31, 33),
    tasks: fc.constantFrom(3, 3, 3, 4, 33),
    containers: fc.constantFrom(2, 3, 33),
    capSlots: fc.constantFrom(12, 31, 32, 33),
    vpages: fc.constantFrom(511, 512, 513, 1025),
    containerSlots: fc.constantFrom(8, 31, 32, 33),
    handles: fc.constantFrom(2, 33),
  }),
  // half of them with a work budget: preempted removals then walk trees that cross leaf pages and bitmap words
  fc.constantFrom(0, 0, 1, 5),
).map(([config, budget]) => (budget === 0 ? config : { ...config, budget }));

/**
 * Configurations for the counters and sets that only large numbers reach,
 * one goal each (traces on them are steered towards it, see `bulkGoal`):
 * more than 1,024 frames in use (a bitmap's summary word), one frame held by
 * more than 256 container slots (a byte-sized reference count would wrap),
 * and more than 256 mappings in one leaf page of one task (a byte-sized
 * entry count would wrap; 512 pages make a single leaf). Traces here run
 * to thousands of operations.
 */
export const BULK_CONFIGS: readonly Config[] = [
  // (one account and one task on the first and last: everything is the root's to spend)
  { frames: 1060, objects: 600, accounts: 1, tasks: 1, containers: 34, capSlots: 256, vpages: 64, containerSlots: 32, handles: 2 },
  { frames: 300, objects: 600, accounts: 3, tasks: 3, containers: 11, capSlots: 256, vpages: 64, containerSlots: 32, handles: 2 },
  { frames: 40, objects: 1200, accounts: 1, tasks: 1, containers: 3, capSlots: 128, vpages: 512, containerSlots: 8, handles: 2 },
];
export const bulkConfigArb: fc.Arbitrary<Config> = fc.constantFrom(...BULK_CONFIGS);

/** Operations that undo what a bulk trace builds: steered to its goal until the goal is reached. */
const TEAR_DOWN = new Set<OpKind>(["account.destroy", "task.destroy", "container.destroy", "container.free", "cap.revoke", "cap.delete", "page.unmap", "physmem.relocate", "container.swapOut", "container.demote"]);

const isBulk = (config: Config) => config.frames > 256 || config.objects >= 1000;

/**
 * The operation a bulk configuration's trace is steered to while its goal
 * is not reached (see bulkConfigArb), or null: allocation on the machine
 * with 1,060 frames, copies of one frame on the one with 300, page.map on
 * the one with 1,200 objects.
 */
export function bulkGoal(s: State): OpKind | null {
  const { frames, objects } = s.config;
  if (frames > 1024) return s.frames.filter((f) => f.refs > 0).length <= 1030 ? "container.alloc" : null;
  if (frames > 256) {
    // (while there is frame quota left to pay for a copy: the goal may be passed and then undone)
    let hard = 0;
    for (const c of s.containers) for (const x of c?.slots ?? []) if (x.kind === "hard") hard++;
    const room = hard < frames - 8;
    return room && Math.max(...s.frames.map((f) => f.refs)) <= 260 ? "container.copy" : null;
  }
  if (objects >= 1000) {
    return (s.tasks[0]?.pages.filter((m) => m).length ?? 0) <= 300 ? "page.map" : null;
  }
  return null;
}

export const SMALL_CONFIG: Config = { frames: 6, objects: 40, accounts: 4, tasks: 4, containers: 4, capSlots: 10, vpages: 8, containerSlots: 3, handles: 3 };

const pick = <T>(xs: readonly T[], n: number): T | undefined => (xs.length === 0 ? undefined : xs[n % xs.length]);

/**
 * A page from `free`, now and then one at a structural boundary of the page
 * tables if one is free: either side of a leaf page's edge (511, 512, 1023,
 * 1024, ...) or the last page of the address space.
 */
function pickPage(free: readonly number[], n: number, vpages: number): number | undefined {
  if (n % 4 === 0 && vpages > 64) {
    const edges: number[] = [];
    for (let v = 511; v < vpages; v += 512) edges.push(v, v + 1);
    edges.push(vpages - 1);
    const ok = edges.filter((v) => v < vpages && free.includes(v));
    if (ok.length) return pick(ok, n >> 2);
  }
  return pick(free, n);
}

interface Held {
  slot: number;
  cap: Cap;
}

/**
 * What to do instead when no task can usefully perform an operation of some
 * kind: build its prerequisite (no mapping to read? map one; no frame to map?
 * allocate one; ...). This keeps traces moving towards interesting states.
 */
const PREREQUISITE: { readonly [K in OpKind]?: OpKind } = {
  "mem.read": "page.map",
  "mem.write": "page.map",
  "page.unmap": "page.map",
  "page.bits": "page.map",
  "l4.map": "page.map",
  "l4.grant": "page.map",
  "l4.share": "page.map",
  "page.map": "container.alloc",
  "container.alloc": "container.create",
  "container.free": "container.alloc",
  "container.copy": "container.alloc",
  "container.demote": "container.alloc",
  "container.promote": "container.demote",
  "container.swapOut": "container.alloc",
  "container.swapIn": "container.swapOut",
  "container.destroy": "container.create",
  "task.destroy": "task.create",
  "cap.copy": "task.create",
  "account.destroy": "account.create",
  "account.create": "account.destroy",
  "task.create": "task.destroy",
  "container.create": "container.destroy",
  "account.transfer": "account.create",
  "cap.delete": "cap.derive",
  "account.request": "account.create",
  "account.yieldRequest": "account.create",
  "account.yield": "account.yieldRequest",
  "account.answer": "account.request",
  "dma.wire": "container.alloc",
  "dma.unwire": "dma.wire",
  "dma.write": "dma.wire",
  "cap.revoke": "cap.derive",
  // (a pager's answer needs a fault, which faultSetup makes once there are tasks to page and to be pagers)
  "fault.resolve": "task.create",
  "fault.refuse": "task.create",
  "sigma0.serve": "task.create",
  "task.pager": "task.create",
  // (notices come from physmem taking pages of paged tasks, see noticeSetup; failing that, a page for a paged task to lose)
  "fault.notice": "page.map",
};

/** Turns an intent into an operation on `s`. */
export function resolve(s: State, intent: Intent): Op {
  // A bulk configuration's goal, while it is not reached (null on every other configuration).
  const goal = isBulk(s.config) ? bulkGoal(s) : null;
  // A raw tear-down on a bulk configuration would undo its goal: steered below instead.
  const steered = TEAR_DOWN.has(intent.kind) && goal !== null;
  // (on a configuration with a budget the preemption steps come first, for raw intents too: else they
  // would replace only the state-aware ones, and raw operations, mostly errors, would weigh more per kind)
  if (s.config.budget !== undefined) {
    const op = preemptionStep(s, intent.n);
    if (op) return op;
  }
  if (intent.raw && !steered) return rawOp(intent.kind, intent.n);
  if (intent.kind === "physmem.relocate" && !steered) {
    // An environment action: physmem picks a frame in use (mostly a movable one).
    const inUse = s.frames.flatMap((f, i) => (f.refs > 0 && f.wired === 0 ? [i] : []));
    return { op: "physmem.relocate", frame: pick(inUse, intent.n[0]) ?? intent.n[0] % s.config.frames };
  }
  let kind: OpKind = intent.kind;
  // On a machine with more than one bitmap word of frames, steer a third of
  // the steps to allocation until the frames in use cross the first word:
  // the lowest-free search must go past it (a boundary small configs never reach).
  if (s.config.frames > 32 && intent.n[4] % 3 === 0 && s.frames.filter((f) => f.refs > 0 || f.wired > 0).length <= 33) kind = "container.alloc";
  // On a machine with more than four task ids, steer one step in eight to
  // task.create until six tasks live: the impl keeps a directory page per
  // live task in a pool that starts at four pages, and without this its
  // growth (and the reuse of pages freed after it) is rarely reached.
  if (s.config.tasks > 4 && intent.n[4] % 8 === 5 && s.tasks.filter((t) => t).length <= 5) kind = "task.create";
  // On a bulk configuration, until its goal is reached, two steps in three
  // go to it and so does every step that would tear down what it built.
  if (goal !== null && (intent.n[4] % 3 !== 2 || TEAR_DOWN.has(kind))) kind = goal;
  // On a pager configuration, a third of the steps go to pagers and faults.
  if (isPagerConfig(s.config) && intent.n[4] % 3 === 1) kind = PAGER_KINDS[intent.n[3] % PAGER_KINDS.length]!;
  // ... and one in twelve to reading notices (after physmem takes pages: noticeSetup).
  if (isPagerConfig(s.config) && intent.n[4] % 12 === 2) kind = "fault.notice";
  // A quarter of the accesses and page.maps pass a mapping on instead:
  // tear-down operations outnumber sends, and without this mapping trees
  // deeper than two levels are rare (readonly unmap and revoke must reach
  // every level of them).
  if (intent.n[4] % 4 === 1 && (kind === "page.map" || kind === "mem.read" || kind === "mem.write" || kind === "page.bits")) kind = "l4.map";
  for (let hops = 0; hops < 4; hops++) {
    const op = resolveKind(s, { ...intent, kind });
    if (!op && (kind === "account.request" || kind === "account.yield")) {
      // Only a sub-account's own tasks ask and yield: set one up.
      const setup = ownAccountSetup(s, intent.n);
      if (setup) return setup;
    }
    if (!op && kind === "fault.notice") {
      // No pager holds a notice: physmem takes a clean frame that a task with a pager maps.
      const setup = noticeSetup(s, intent.n);
      if (setup) return setup;
    }
    if (!op && (kind === "fault.resolve" || kind === "fault.refuse" || kind === "sigma0.serve")) {
      // No fault waits where this answer needs one: make a paged task fault, or give a task a pager.
      const setup = faultSetup(s, kind, intent.n);
      if (setup) return setup;
    }
    let next: OpKind | undefined = PREREQUISITE[kind];
    if (next && TEAR_DOWN.has(next) && goal !== null) next = undefined;
    if (op) return weakened(s, op, intent.n) ?? collided(s, op, intent.n) ?? op;
    if (!next) return resolveKind(s, { ...intent, kind }, true)!;
    kind = next;
  }
  return resolveKind(s, { ...intent, kind }, true)!;
}

/**
 * Now and then (one step in eight), the same operation through a capability
 * of the right kind that lacks a right the operation needs, or for a memory
 * access through a mapping that lacks the right, when the subject holds one:
 * the rights checks must refuse it. Otherwise the generator, which picks
 * capabilities that can act, would never try a capability too weak for the
 * job, and an operation that skipped a rights check in spec and impl alike
 * would go unnoticed (`rightsHeld` catches it when it is tried).
 */
function weakened(s: State, op: Op, n: Intent["n"]): Op | null {
  if ((n[1] ^ n[3]) % 8 !== 0 || !("task" in op)) return null;
  const subject = s.tasks[op.task];
  if (!subject) return null;
  const access = ACCESS_NEEDS[op.op];
  if (access !== undefined) {
    const pages = subject.pages.flatMap((m, v) => (m && (m.rights & access) === 0 ? [v] : []));
    const vpage = pick(pages, n[0]);
    return vpage === undefined ? null : ({ ...op, vpage } as Op);
  }
  const needs = RIGHTS_NEEDED[op.op];
  if (!needs) return null;
  const [field, kind, need] = needs[n[2] % needs.length]!;
  const rights = need === "asked" ? rightsMask((op as { rights?: unknown }).rights) : need;
  if (rights <= 0) return null;
  const weak = subject.caps.flatMap((cap, slot) => (cap && cap.kind === kind && (cap.rights & rights) !== rights ? [slot] : []));
  const slot = pick(weak, n[0]);
  return slot === undefined ? null : ({ ...op, [field]: slot } as Op);
}

/**
 * Now and then (one step in sixteen), the same operation aimed at a place
 * that is taken: a capability slot, page or container slot that is already
 * filled, or a container slot whose frame is wired for DMA. The generator
 * otherwise picks free destinations, so the checks that refuse an occupied
 * one (FrameSlotOccupied, PageMapped, a filled capability slot, Wired) would
 * almost never run, and an implementation that skipped one would overwrite
 * what is there unnoticed.
 */
function collided(s: State, op: Op, n: Intent["n"]): Op | null {
  if ((n[0] ^ n[2]) % 16 !== 3 || !("task" in op) || !s.tasks[op.task]) return null;
  const t = op.task;
  let field: string;
  let taken: number[];
  switch (op.op) {
    case "account.create":
    case "task.create":
    case "container.create":
    case "cap.derive":
    case "dma.wire":
      [field, taken] = ["dest", filledSlots(s, t)];
      break;
    case "cap.copy":
      [field, taken] = ["dest", filledSlots(s, taskNamed(s, t, op.target))];
      break;
    case "page.map":
      [field, taken] = ["vpage", pagesOf(s.tasks[t], true)];
      break;
    case "l4.map":
    case "l4.grant":
    case "l4.share":
      [field, taken] = ["dest", pagesOf(s.tasks[taskNamed(s, t, op.target)], true)];
      break;
    case "container.alloc":
      [field, taken] = ["index", slotsWhere(s, t, op.container, (x) => x.kind !== "empty")];
      break;
    case "container.copy":
      [field, taken] = ["dstIndex", slotsWhere(s, t, op.dst, (x) => x.kind !== "empty")];
      break;
    case "container.free":
    case "container.swapOut":
    case "container.demote":
      [field, taken] = ["index", slotsWhere(s, t, op.container, (x) => x.kind !== "empty" && x.kind !== "swapped" && s.frames[x.frame]!.wired > 0)];
      break;
    default:
      return null;
  }
  const place = pick(taken, n[1]);
  return place === undefined ? null : ({ ...op, [field]: place } as Op);
}

// Helpers for resolveKind, at module level: a closure made per call costs
// more than it seems (tsx keeps function names, which redefines `name` on
// every closure it creates), and resolve runs once per generated step.
const capsOf = (s: State, t: number, pred: (cap: Cap) => boolean): Held[] =>
  (s.tasks[t]?.caps ?? []).flatMap((cap, slot) => (cap && pred(cap) ? [{ slot, cap }] : []));
const freeSlots = (s: State, t: number) => (s.tasks[t]?.caps ?? []).flatMap((cap, slot) => (cap ? [] : [slot]));
const filledSlots = (s: State, t: number) => (s.tasks[t]?.caps ?? []).flatMap((cap, slot) => (cap ? [slot] : []));
/** The task that task t's capability in `slot` names, or -1 if that is not a task capability. */
const taskNamed = (s: State, t: number, slot: number): number => {
  const cap = s.tasks[t]?.caps[slot];
  return cap?.kind === "task" ? cap.object : -1;
};
/** The slots that pass `want` of the container that task t's capability in `slot` names (none if it names no container). */
const slotsWhere = (s: State, t: number, slot: number, want: (x: Slot) => boolean): number[] => {
  const cap = s.tasks[t]?.caps[slot];
  return cap?.kind === "container" ? s.containers[cap.object]!.slots.flatMap((x, i) => (want(x) ? [i] : [])) : [];
};
const has = (mask: number) => (cap: Cap) => (cap.rights & mask) === mask;
const ofKind = (kind: Cap["kind"], mask = 0) => (cap: Cap) => cap.kind === kind && (cap.rights & mask) === mask;
const containerWith = (s: State, want: Slot["kind"]) => (cap: Cap) =>
  cap.kind === "container" && s.containers[cap.object]!.slots.some((x) => x.kind === want);
function funded(s: State, cap: Cap): boolean {
  const acc = s.accounts[s.containers[cap.object]!.account]!;
  return acc.frameQuota > acc.framesCharged;
}
const isBoot = (t: number, slot: number) => t === 0 && slot < 2;
/** Free capability slots of task `to` that `from` may fill: all of them for itself, else those in its receive window. */
const acceptedSlots = (s: State, from: number, to: number) => {
  const t = s.tasks[to];
  if (!t) return [];
  return t.caps.flatMap((cap, slot) => (!cap && (from === to || (slot >= t.window.slot && slot < t.window.slot + t.window.slots)) ? [slot] : []));
};
/** Free pages of task `to` that `from` may map into: all of them for itself, else those in its receive window. */
const acceptedPages = (s: State, from: number, to: number) => {
  const t = s.tasks[to];
  if (!t) return [];
  return t.pages.flatMap((m, v) => (!m && (from === to || (v >= t.window.page && v < t.window.page + t.window.pages)) ? [v] : []));
};
/** Just outside task `to`'s receive window, where off-by-one bugs live: the slot or page before it and the one after it. */
const windowEdges = (s: State, to: number, pages: boolean): number[] => {
  const w = s.tasks[to]?.window;
  if (!w) return [];
  const [base, count, limit] = pages ? [w.page, w.pages, s.config.vpages] : [w.slot, w.slots, s.config.capSlots];
  return count === 0 ? [] : [base - 1, base + count].filter((x) => x >= 0 && x < limit);
};
/**
 * A step towards a task that holds a capability to the (non-root) account
 * that pays for it: copy such a capability into a task paid by it (opening
 * the task's window first if need be), or make a task paid by a sub-account.
 */
function ownAccountSetup(s: State, [a, b]: Intent["n"]): Op | null {
  for (let t = 0; t < s.tasks.length; t++) {
    const holder = s.tasks[t];
    if (!holder) continue;
    const accs = capsOf(s, t, (cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent !== null);
    for (const tc of capsOf(s, t, ofKind("task", R.write))) {
      const target = tc.cap.object;
      const acc = accs.find((h) => h.cap.object === s.tasks[target]?.account);
      if (!acc || target === t || s.tasks[target]!.caps.some((c) => c?.kind === "account" && c.object === acc.cap.object)) continue;
      const slots = acceptedSlots(s, t, target);
      if (slots.length) return { op: "cap.copy", task: t, src: acc.slot, target: tc.slot, dest: pick(slots, a)! };
      if (s.tasks[target]!.caps.some((c) => !c)) return { op: "task.window", task: target, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages };
    }
  }
  // no such pair: a task paid by a sub-account, made by a holder of its capability
  for (let t = 0; t < s.tasks.length; t++) {
    const acc = pick(capsOf(s, t, (cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent !== null && canPay(s, cap)), b);
    const dest = pick(freeSlots(s, t), a);
    if (acc && dest !== undefined && s.tasks.includes(null)) return { op: "task.create", task: t, account: acc.slot, dest };
  }
  return null;
}

/** Is task t the target of a task capability some other task holds (so that it may receive)? */
const reachable = (s: State, t: number) => s.tasks.some((o, id) => id !== t && o?.caps.some((c) => c?.kind === "task" && c.object === t));
/** The virtual pages of a task that are mapped (or, with `mapped` false, free). */
const pagesOf = (task: Task | null | undefined, mapped: boolean): number[] => (task?.pages ?? []).flatMap((m, v) => ((m !== null) === mapped ? [v] : []));
function canPay(s: State, cap: Cap): boolean {
  const acc = s.accounts[cap.object]!;
  return acc.objectQuota - acc.objectsCharged >= 2;
}

/** Can task t usefully perform an operation of this kind? (Chooses the subject.) */
function canAct(s: State, kind: OpKind, t: number): boolean {
  const caps = s.tasks[t]!.caps;
  const any = (pred: (cap: Cap) => boolean) => caps.some((cap) => cap !== null && pred(cap));
  const hasFreeSlot = caps.includes(null);
  const pages = s.tasks[t]!.pages;
  const own = s.tasks[t]!.account;
  // a task waiting for its pager, or with a preempted removal to finish, can do nothing else; the environment always acts
  if ((s.tasks[t]!.fault || s.tasks[t]!.pending) && kind !== "physmem.relocate" && kind !== "physmem.reclaim" && kind !== "sigma0.serve") return false;
  const paged = s.tasks[t]!.pager !== null;
  switch (kind) {
    case "account.create":
    case "task.create":
    case "container.create": {
      const table = kind === "account.create" ? s.accounts : kind === "task.create" ? s.tasks : s.containers;
      // a donation comes from the subject's own account
      const usable = (cap: Cap) => ofKind("account", R.alloc)(cap) && canPay(s, cap) && (kind !== "account.create" || cap.object === own);
      return table.includes(null) && any(usable) && hasFreeSlot;
    }
    case "account.transfer": {
      const accounts = capsOf(s, t, ofKind("account")).map((h) => h.cap.object);
      // (a related account to give to, or any other: a transfer to an unrelated one must be refused)
      return capsOf(s, t, (cap) => ofKind("account", R.alloc)(cap) && cap.object === own).some((h) => accounts.some((x) => x !== h.cap.object));
    }
    case "account.destroy":
      return any((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent !== null);
    case "account.request":
      return any((cap) => ofKind("account", R.alloc)(cap) && cap.object === own && s.accounts[cap.object]!.parent !== null);
    case "account.yield":
      // (yielding with no request pending is a valid no-op: it gives back 0)
      return any((cap) => ofKind("account", R.alloc)(cap) && cap.object === own && s.accounts[cap.object]!.parent !== null);
    case "account.yieldRequest":
      return any((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent === own);
    case "account.answer":
      // (answering 0 with nothing pending is a valid no-op)
      return any((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent === own);
    case "dma.wire":
      return any((cap) => has(R.priv)(cap) && containerWith(s, "hard")(cap)) && hasFreeSlot;
    case "dma.unwire":
      return any(ofKind("dma", R.alloc));
    case "dma.write":
      return any(ofKind("dma", R.write));
    case "physmem.relocate":
    case "physmem.reclaim":
      return true;
    case "sigma0.serve":
      return s.tasks[0]!.queue.length > 0;
    case "task.pager":
      return any((cap) => ofKind("task", R.write)(cap) && cap.object !== 0);
    case "fault.resolve":
      return t !== 0 && s.tasks[t]!.queue.length > 0 && pages.some((m) => m);
    case "fault.refuse":
      return t !== 0 && s.tasks[t]!.queue.length > 0;
    case "fault.notice":
      return s.tasks[t]!.notices.length > 0 || s.tasks[t]!.missed > 0;
    case "task.destroy":
      return any((cap) => ofKind("task", R.alloc)(cap) && cap.object !== 0);
    case "container.destroy":
      return any(ofKind("container", R.alloc));
    case "container.alloc":
      return any((cap) => has(R.alloc)(cap) && containerWith(s, "empty")(cap) && funded(s, cap));
    case "container.free":
    case "container.demote":
    case "container.swapOut":
      return any((cap) => has(R.alloc)(cap) && containerWith(s, "hard")(cap));
    case "container.promote":
      return any((cap) => has(R.alloc)(cap) && containerWith(s, "soft")(cap));
    case "container.swapIn":
      return any((cap) => has(R.alloc)(cap) && containerWith(s, "swapped")(cap) && funded(s, cap));
    case "container.copy":
      return any((cap) => has(R.read)(cap) && containerWith(s, "hard")(cap)) && any((cap) => has(R.alloc)(cap) && containerWith(s, "empty")(cap) && funded(s, cap));
    case "cap.derive":
      return any(() => true) && hasFreeSlot;
    case "cap.copy":
      return any(ofKind("task", R.write));
    case "task.window":
      return true;
    case "cap.delete":
    case "cap.revoke":
      return capsOf(s, t, () => true).some((h) => !isBoot(t, h.slot));
    case "page.map":
      return any((cap) => containerWith(s, "hard")(cap) && (cap.rights & (R.read | R.write)) !== 0) && pages.some((m) => !m);
    case "page.unmap":
    case "page.bits":
      return pages.some((m) => m);
    case "mem.read":
      return paged || pages.some((m) => m);
    case "mem.write":
      return paged || pages.some((m) => m && (m.rights & R.write) !== 0 && s.frames[m.frame]!.wired === 0);
    case "l4.map":
    case "l4.grant":
    case "l4.share":
      return pages.some((m) => m) && capsOf(s, t, ofKind("task", R.write)).some((h) => acceptedPages(s, t, h.cap.object).length > 0);
  }
}

/**
 * The operation of the intent's kind, or null when no live task can usefully
 * perform it (unless `anyway`, which then picks a subject all the same).
 */
function resolveKind(s: State, intent: Intent, anyway = false): Op | null {
  const [a, b, c, d, e] = intent.n;
  const live = s.tasks.flatMap((t, id) => (t ? [id] : []));
  const able = live.filter((t) => canAct(s, intent.kind, t));
  if (able.length === 0 && !anyway) return null;
  // Half of the time, when another task can act, let it: authority handed
  // down from the root task is where the interesting interactions are.
  const others = able.filter((t) => t !== 0);
  // (with none able, rather a task that may act at all than one waiting for its pager or its own preempted removal: those are Blocked, which the preemption steps try on purpose)
  const unblocked = live.filter((t) => !s.tasks[t]!.fault && !s.tasks[t]!.pending);
  let task = (a % 2 === 0 && others.length ? pick(others, a >> 1) : pick(able.length ? able : unblocked.length ? unblocked : live, a)) ?? 0;
  // A quarter of unmaps are by the holder of the tallest mapping tree (three
  // levels and more are rare, and readonly must rewrite every level).
  const heights = intent.kind === "page.unmap" ? treeHeights(s) : undefined;
  if (heights && a % 4 === 1) {
    let best = 0;
    for (const [key, h] of heights) {
      const holder = Number(key.slice(0, key.indexOf(":")));
      if (h > best && able.includes(holder)) [best, task] = [h, holder];
    }
  }
  const me = s.tasks[task];
  const held = (pred: (cap: Cap) => boolean): Held[] => capsOf(s, task, pred);
  const slotOf = (h: Held | undefined) => h?.slot ?? b % s.config.capSlots;
  // (computed only where needed: resolve runs once per generated step)
  const freeSlot = () => pick(freeSlots(s, task), c) ?? c % s.config.capSlots;
  const mapped = () => pagesOf(me, true);
  const accountOf = (h: Held | undefined) => (h ? s.accounts[h.cap.object] : undefined);
  const small = (n: number, max: number) => (max <= 0 ? 0 : n % (max + 1));

  switch (intent.kind) {
    case "account.create": {
      // mostly from the subject's own account (a donation by anyone else fails with NotYours)
      const mine = held((cap) => ofKind("account", R.alloc)(cap) && cap.object === me?.account);
      const h = (c % 8 !== 0 ? pick(mine, b) : undefined) ?? pick(held(ofKind("account", R.alloc)), b);
      const acc = accountOf(h);
      const frames = acc ? small(d, Math.min(3, acc.frameQuota - acc.framesCharged)) : d % 4;
      const objects = acc ? small(e, Math.min(12, acc.objectQuota - acc.objectsCharged - 3)) : e % 12;
      return { op: "account.create", task, account: slotOf(h), dest: freeSlot(), frames, objects };
    }
    case "account.transfer": {
      const mine = held((cap) => ofKind("account", R.alloc)(cap) && cap.object === me?.account);
      const from = (c % 8 !== 0 ? pick(mine, b) : undefined) ?? pick(held(ofKind("account", R.alloc)), b);
      const related = held(ofKind("account")).filter(
        (h) => from && (s.accounts[h.cap.object]?.parent === from.cap.object || s.accounts[from.cap.object]?.parent === h.cap.object),
      );
      // now and then to an account that is neither parent nor child: it must be refused
      const unrelated = held(ofKind("account")).filter((h) => from && !related.includes(h) && h.cap.object !== from.cap.object);
      const to = (c % 8 === 0 ? pick(unrelated, c >> 3) : undefined) ?? pick(related, c) ?? pick(held(ofKind("account")), c);
      const acc = accountOf(from);
      const frames = acc ? small(d, Math.min(2, acc.frameQuota - acc.framesCharged)) : d % 3;
      const objects = acc ? small(e, Math.min(6, acc.objectQuota - acc.objectsCharged)) : e % 6;
      return { op: "account.transfer", task, from: slotOf(from), to: to?.slot ?? c % s.config.capSlots, frames, objects };
    }
    case "account.destroy": {
      const nonRoot = held((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]?.parent !== null);
      return { op: "account.destroy", task, account: slotOf(pick(nonRoot, b) ?? pick(held(ofKind("account")), b)) };
    }
    case "task.create":
    case "container.create":
      return { op: intent.kind, task, account: slotOf(pick(held(ofKind("account", R.alloc)), b)), dest: freeSlot() };
    case "account.request":
    case "account.yield": {
      // the child's own tasks ask and yield (mostly: others must get NotYours)
      const mine = held((cap) => ofKind("account", R.alloc)(cap) && cap.object === me?.account && s.accounts[cap.object]!.parent !== null);
      const asked = mine.filter((h) => s.accounts[h.cap.object]!.yieldRequest > 0);
      const any = held((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent !== null);
      const h = (c % 8 !== 0 ? (intent.kind === "account.yield" && asked.length ? pick(asked, b) : pick(mine, b)) : undefined) ?? pick(any, b) ?? pick(held(ofKind("account")), b);
      if (intent.kind === "account.yield") return { op: intent.kind, task, account: slotOf(h) };
      return { op: intent.kind, task, account: slotOf(h), frames: d % 3 };
    }
    case "account.yieldRequest":
    case "account.answer": {
      // the parent's tasks ask for quota back and answer requests
      const children = held((cap) => ofKind("account", R.alloc)(cap) && s.accounts[cap.object]!.parent === me?.account);
      const asking = children.filter((h) => s.accounts[h.cap.object]!.requested > 0);
      const h = (c % 8 !== 0 ? (intent.kind === "account.answer" && asking.length ? pick(asking, b) : pick(children, b)) : undefined) ?? pick(held(ofKind("account")), b);
      if (intent.kind === "account.yieldRequest") return { op: intent.kind, task, account: slotOf(h), frames: d % 3 };
      const requested = h ? (s.accounts[h.cap.object]?.requested ?? 0) : 0;
      // grant all of it, part of it, or deny
      return { op: intent.kind, task, account: slotOf(h), frames: d % 3 === 0 ? 0 : d % 3 === 1 ? requested : small(d >> 2, requested) };
    }
    case "dma.wire": {
      const cands = held((cap) => has(R.priv)(cap) && containerWith(s, "hard")(cap));
      const h = pick(cands, b) ?? pick(held(ofKind("container")), b);
      const slots = h ? s.containers[h.cap.object]!.slots.flatMap((x, i) => (x.kind === "hard" ? [i] : [])) : [];
      return { op: "dma.wire", task, container: slotOf(h), index: pick(slots, c) ?? c % s.config.containerSlots, dest: freeSlot() };
    }
    case "dma.unwire":
      return { op: "dma.unwire", task, handle: slotOf(pick(held(ofKind("dma", R.alloc)), b)) };
    case "dma.write":
      return { op: "dma.write", task, handle: slotOf(pick(held(ofKind("dma", R.write)), b)), value: c - 500 };
    case "physmem.relocate":
      return { op: "physmem.relocate", frame: a % s.config.frames };
    case "task.destroy": {
      // Now and then try to kill the root task (it must fail with IsRoot).
      const others = held((cap) => ofKind("task", R.alloc)(cap) && (cap.object !== 0 || c % 16 === 0));
      return { op: "task.destroy", task, target: pick(others, b)?.slot ?? pick(freeSlots(s, task), b) ?? b % s.config.capSlots };
    }
    case "container.destroy":
      return { op: "container.destroy", task, container: slotOf(pick(held(ofKind("container", R.alloc)), b)) };
    case "container.copy": {
      const srcs = held((cap) => has(R.read)(cap) && containerWith(s, "hard")(cap));
      // on the bulk copy machine, mostly copy the frame held most (its count must pass 256)
      const top = s.config.frames > 256 && b % 4 !== 0 ? mostHeld(s, srcs) : undefined;
      const src = top?.h ?? pick(srcs, b) ?? pick(held(ofKind("container")), b);
      const srcSlots = top ? [top.index] : src ? s.containers[src.cap.object]!.slots.flatMap((x, i) => (x.kind === "hard" ? [i] : [])) : [];
      const dsts = held((cap) => has(R.alloc)(cap) && containerWith(s, "empty")(cap) && funded(s, cap));
      const dst = pick(dsts, d) ?? pick(held(ofKind("container")), d);
      const dstSlots = dst ? s.containers[dst.cap.object]!.slots.flatMap((x, i) => (x.kind === "empty" ? [i] : [])) : [];
      return {
        op: "container.copy",
        task,
        src: slotOf(src),
        srcIndex: pick(srcSlots, c) ?? c % s.config.containerSlots,
        dst: dst?.slot ?? d % s.config.capSlots,
        dstIndex: pick(dstSlots, e) ?? e % s.config.containerSlots,
      };
    }
    case "container.alloc":
    case "container.free":
    case "container.demote":
    case "container.promote":
    case "container.swapOut":
    case "container.swapIn": {
      const want: Slot["kind"] =
        intent.kind === "container.alloc" ? "empty" : intent.kind === "container.promote" ? "soft" : intent.kind === "container.swapIn" ? "swapped" : "hard";
      const cands = held(ofKind("container", R.alloc));
      const withSlot = cands.filter((h) => s.containers[h.cap.object]?.slots.some((x) => x.kind === want));
      const h = pick(withSlot, b) ?? pick(cands, b);
      const slots = h ? s.containers[h.cap.object]!.slots.flatMap((x, i) => (x.kind === want ? [i] : [])) : [];
      return { op: intent.kind, task, container: slotOf(h), index: pick(slots, c) ?? c % s.config.containerSlots };
    }
    case "cap.derive": {
      // Mostly extend existing derivations, so chains grow deep.
      const all = held(() => true);
      const derived = all.filter((x) => x.cap.parent);
      const h = b % 3 !== 0 && derived.length ? pick(derived, b) : pick(all, b);
      const rights = rightsList((h?.cap.rights ?? 15) & d);
      return { op: "cap.derive", task, src: slotOf(h), dest: freeSlot(), rights };
    }
    case "cap.copy": {
      // Now and then give a task a capability to the account that pays for
      // it: only its own tasks may donate, transfer, ask and yield its quota.
      if (b % 3 === 0) {
        const accs = held(ofKind("account", R.alloc));
        for (const t of held(ofKind("task", R.write))) {
          const payer = s.tasks[t.cap.object]?.account;
          // (one time in two of these, an account that is neither the payer nor its parent or child: a transfer to it must be refused)
          const related = (x: number) => x === payer || s.accounts[x]?.parent === payer || (payer !== undefined && s.accounts[payer]?.parent === x);
          const acc = b % 6 === 0 ? accs.find((h) => !related(h.cap.object)) : accs.find((h) => h.cap.object === payer);
          const slots = acc ? acceptedSlots(s, task, t.cap.object) : [];
          if (acc && slots.length) return { op: "cap.copy", task, src: acc.slot, target: t.slot, dest: pick(slots, c)! };
        }
      }
      // Mostly hand container capabilities on to other tasks, so they can act.
      const containers = held(ofKind("container"));
      const src = (b % 2 === 0 && containers.length ? pick(containers, b >> 1) : pick(held(() => true), b));
      const targets = held(ofKind("task", R.write));
      // Mostly to another task that has opened its window, into the window.
      const away = targets.filter((h) => h.cap.object !== task && acceptedSlots(s, task, h.cap.object).length > 0);
      const target = d % 4 !== 0 && away.length ? pick(away, d) : pick(targets, d);
      const receiver = target?.cap.object ?? task;
      const dest = (c % 8 !== 0 ? pick(acceptedSlots(s, task, receiver), c) : pick(windowEdges(s, receiver, false), c >> 3)) ?? pick(freeSlots(s, receiver), c) ?? c % s.config.capSlots;
      return { op: "cap.copy", task, src: slotOf(src), target: target?.slot ?? d % s.config.capSlots, dest };
    }
    case "task.window": {
      // Mostly a task that others can send to, mostly opening everything.
      const receivers = live.filter((t) => reachable(s, t));
      const t = (b % 4 !== 0 ? pick(receivers, b) : undefined) ?? task;
      const { capSlots, vpages } = s.config;
      // half of the time all open; an eighth closed; the rest a part, whose edges sends then try
      if (c % 2 === 0) return { op: "task.window", task: t, slot: 0, slots: capSlots, page: 0, pages: vpages };
      if (c % 8 === 1) return { op: "task.window", task: t, slot: 0, slots: 0, page: 0, pages: 0 };
      const slot = d % capSlots;
      const page = e % vpages;
      return { op: "task.window", task: t, slot, slots: 1 + ((d >> 4) % (capSlots - slot)), page, pages: 1 + ((e >> 4) % (vpages - page)) };
    }
    case "cap.delete":
    case "cap.revoke": {
      // Revoking a boot capability would take everything: never. Deleting one
      // must fail with IsRoot: tried now and then.
      const cands = held(() => true).filter((x) => !isBoot(task, x.slot) || (intent.kind === "cap.delete" && c % 16 === 0));
      // Mostly revoke or delete capabilities that have something derived from them.
      const parents = new Set(s.tasks.flatMap((t) => (t?.caps ?? []).flatMap((x) => (x?.parent ? [`${x.parent.task}:${x.parent.slot}`] : []))));
      const withKids = cands.filter((x) => parents.has(`${task}:${x.slot}`));
      const h = c % 4 !== 0 && withKids.length ? pick(withKids, b) : pick(cands, b);
      return { op: intent.kind, task, slot: slotOf(h) };
    }
    case "page.map": {
      const cands = held((cap) => cap.kind === "container" && (cap.rights & (R.read | R.write)) !== 0);
      const withFrames = cands.filter((h) => s.containers[h.cap.object]?.slots.some((x) => x.kind === "hard"));
      // Mostly map through derived capabilities, so revoke has mappings to take.
      const derived = withFrames.filter((x) => x.cap.parent);
      const h = (e % 3 !== 0 && derived.length ? pick(derived, b) : pick(withFrames, b)) ?? pick(cands, b);
      const slots = h ? s.containers[h.cap.object]!.slots.flatMap((x, i) => (x.kind === "hard" ? [i] : [])) : [];
      const allowed = (h?.cap.rights ?? 3) & (R.read | R.write);
      const options = [R.read, R.write, R.read | R.write].filter((m) => (m & ~allowed) === 0);
      const rights: Right[] = rightsList(pick(options, e) ?? R.read);
      return { op: "page.map", task, container: slotOf(h), index: pick(slots, c) ?? c % s.config.containerSlots, vpage: pickPage(pagesOf(me, false), d, s.config.vpages) ?? d % s.config.vpages, rights };
    }
    case "page.unmap": {
      // Mostly unmap pages that others derived mappings from, often the
      // one with the tallest tree below it (a readonly unmap must reach
      // every level).
      const own = mapped().map((v) => ({ v, h: heights!.get(`${task}:${v}`) ?? 0 }));
      const withKids = own.filter((x) => x.h > 0).map((x) => x.v);
      const tallestHeight = Math.max(0, ...own.map((x) => x.h));
      const tallest = own.filter((x) => x.h > 1 && x.h === tallestHeight).map((x) => x.v);
      const withGrandKids = own.filter((x) => x.h > 1).map((x) => x.v);
      const v = (e % 4 !== 0 ? pick(e % 4 === 1 && tallest.length ? tallest : withKids, b) : undefined) ?? pick(mapped(), b) ?? b % s.config.vpages;
      let order = c % 4 === 3 ? 1 + (c % 3) : 0; // mostly single pages, sometimes 2, 4 or 8
      while (order > 0 && (v - (v % 2 ** order)) + 2 ** order > s.config.vpages) order--;
      // over a tree of three levels or more, mostly readonly: the mode that must rewrite every level
      const mode = withGrandKids.includes(v) && d % 3 !== 0 ? "readonly" : UNMAP_MODES[d % 3]!;
      return { op: "page.unmap", task, vpage: v - (v % 2 ** order), order, mode };
    }
    case "page.bits":
      return { op: "page.bits", task, vpage: pick(mapped(), b) ?? b % s.config.vpages };
    case "l4.map":
    case "l4.share":
    case "l4.grant": {
      // Mostly pass on the most-passed-on mappings, so chains grow deep
      // (tear-down operations far outnumber sends: without this, trees
      // deeper than two levels are rare).
      const pages = mapped();
      const depths = pages.map((x) => mappingDepth(s, task, x));
      const deepest = pages.filter((_, i) => depths[i] === Math.max(...depths));
      const derived = pages.filter((_, i) => depths[i]! > 0);
      const v = (b % 4 !== 0 ? pick(b % 4 === 1 ? derived : deepest, b) : undefined) ?? pick(pages, b) ?? b % s.config.vpages;
      const targets = held((cap) => ofKind("task", R.write)(cap) && acceptedPages(s, task, cap.object).length > 0);
      const others = targets.filter((h) => h.cap.object !== task);
      const target = (d % 4 !== 0 && others.length ? pick(others, c) : pick(targets, c)) ?? pick(held(ofKind("task")), c);
      const receiver = target?.cap.object ?? task;
      const free = e % 8 !== 0 ? acceptedPages(s, task, receiver) : e % 16 === 0 ? windowEdges(s, receiver, true) : (s.tasks[receiver]?.pages ?? []).flatMap((m, i) => (m ? [] : [i]));
      // (and one in eight more just past the window's end, if it ends inside the address space)
      const edge = e % 8 === 3 ? windowEdges(s, receiver, true).at(-1) : undefined;
      const dest = edge ?? pickPage(free, e, s.config.vpages) ?? e % s.config.vpages;
      const targetSlot = target?.slot ?? c % s.config.capSlots;
      if (intent.kind === "l4.grant") return { op: "l4.grant", task, vpage: v, target: targetSlot, dest };
      const have = me?.pages[v]?.rights ?? R.read;
      const options = [R.read, R.write, R.read | R.write].filter((m) => (m & ~have) === 0);
      return { op: intent.kind, task, vpage: v, target: targetSlot, dest, rights: rightsList(pick(options, a + e) ?? R.read) };
    }
    case "mem.read": {
      // a task with a pager: half of its reads fault on purpose (a page it lacks, one sigma0 has if sigma0 is its pager)
      if (me?.pager !== null && me?.pager !== undefined && b % 2 === 0) return { op: "mem.read", task, vpage: faultingPage(s, task, c) };
      const readable = mapped().filter((v) => (me!.pages[v]!.rights & R.read) !== 0);
      return { op: "mem.read", task, vpage: pick(readable, b) ?? pick(mapped(), b) ?? b % s.config.vpages };
    }
    case "mem.write": {
      if (me?.pager !== null && me?.pager !== undefined && b % 2 === 0) {
        // or a write through a read-only mapping (a protection fault)
        const readOnly = mapped().filter((v) => (me.pages[v]!.rights & R.write) === 0);
        return { op: "mem.write", task, vpage: (b % 8 === 2 ? pick(readOnly, c) : undefined) ?? faultingPage(s, task, c), value: c - 500 };
      }
      const writable = mapped().filter((v) => (me!.pages[v]!.rights & R.write) !== 0 && s.frames[me!.pages[v]!.frame]!.wired === 0);
      return { op: "mem.write", task, vpage: pick(writable, b) ?? pick(mapped(), b) ?? b % s.config.vpages, value: c - 500 };
    }
    case "task.pager": {
      const targets = held((cap) => ofKind("task", R.write)(cap) && cap.object !== 0 && !s.tasks[cap.object]?.fault);
      const target = pick(targets, b) ?? pick(held(ofKind("task")), b);
      const pagers = held(ofKind("task", R.write)).filter((h) => h.cap.object !== target?.cap.object);
      // mostly sigma0 (the root task) or another task; now and then none, or a loop (refused)
      const root = pagers.filter((h) => h.cap.object === 0);
      const pager = c % 8 === 0 ? null : (c % 3 === 0 ? pick(root, d) : undefined) ?? pick(pagers, d) ?? (c % 8 === 1 ? target : undefined);
      return { op: "task.pager", task, target: slotOf(target), pager: pager === null ? null : (pager?.slot ?? d % s.config.capSlots) };
    }
    case "fault.resolve":
      return answerBy(s, task, [a, b, c, d, e]);
    case "fault.refuse":
      return { op: "fault.refuse", task };
    case "fault.notice":
      return { op: "fault.notice", task };
    case "sigma0.serve":
      return { op: "sigma0.serve" };
    case "physmem.reclaim": {
      // mostly frames in use whose mappings are clean; now and then a dirty one (refused) or any frame
      const used = s.frames.flatMap((f, i) => (f.refs > 0 ? [i] : []));
      const dirty = new Set<number>();
      for (const t of s.tasks) for (const m of t?.pages ?? []) if (m && (m.bits & 2) !== 0) dirty.add(m.frame);
      const clean = used.filter((f) => !dirty.has(f));
      const frame = (b % 8 !== 0 ? pick(clean, c) : undefined) ?? pick(used, c) ?? c % s.config.frames;
      return { op: "physmem.reclaim", frame };
    }
  }
}

/**
 * On a configuration with a budget: the step that continues a preempted
 * removal (half of the steps while one is), an attempt of its task to do
 * something else first (one in eight: Blocked), one aimed at what it is taking
 * apart (a quarter; for an unmap: a derivation from a mapping in its
 * trees, refused with Removing; a delivery into its range, refused too; an
 * unmap by the holder of the mapping its walk stands at, or physmem taking
 * that frame, after which the walk starts the page again; for a revoke and
 * a destroy: aimAtRevoke, aimAtDestroy), or, while none is, one step in
 * eight the start of one (a revoke, a container destroy, or the unmap of a
 * page with derived mappings), and on staged configurations half of the
 * steps build towards a situation to destroy (`staged`). Null: an
 * ordinary step.
 */
function preemptionStep(s: State, [a, b, c, , e]: Intent["n"]): Op | null {
  const pending = s.tasks.flatMap((t) => (t?.pending ? [t.pending] : []));
  const children = mapChildren(s);
  /** l4.map by `from`'s holder, with all its rights, to a page some task it holds a capability to accepts from it; null if none does. */
  const passOn = (from: MapRef, k: number): Op | null => {
    const targets = capsOf(s, from.task, ofKind("task", R.write)).flatMap((h) => acceptedPages(s, from.task, h.cap.object).map((dest) => ({ slot: h.slot, dest })));
    const to = pick(targets, k);
    const m = s.tasks[from.task]!.pages[from.vpage]!;
    return to ? { op: "l4.map", task: from.task, vpage: from.vpage, target: to.slot, dest: to.dest, rights: rightsList(m.rights) } : null;
  };
  if (pending.length === 0) {
    // (three steps in four on configurations staging a chain of zombies, an account zombie or what a task destroy hands up, which
    // take the most steps to build; on the last two the stage also replaces the random start of a removal, which would mostly take
    // apart what is being built)
    const long = s.config.objects % 4 === 3 || s.config.objects % 8 === 4;
    if (e % 2 === 1 || (long && e % 4 === 2) || ((s.config.objects % 8 === 7 || s.config.objects % 8 === 4) && e % 8 === 0)) {
      const op = staged(s, b);
      if (op) return op;
    }
    if (e % 4 === 2) {
      // grow a tree one level deeper, keeping the rights: removals then meet deep trees with writable leaves
      const derived = s.tasks.flatMap((t, task) => (t && !t.fault ? t.pages.flatMap((m, vpage) => (m?.source.kind === "map" ? [{ task, vpage, write: (m.rights & R.write) !== 0 }] : [])) : []));
      // mostly a writable one: readonly then has write rights to take at several levels
      const writable = derived.filter((r) => r.write);
      const from = pick(c % 4 !== 0 && writable.length > 0 ? writable : derived, a);
      return from ? passOn(from, b) : null;
    }
    if (e % 4 === 3 && a % 2 === 1) {
      // a task opens its receive windows wide, so that capabilities and mappings can reach it
      const closed = s.tasks.flatMap((t, task) => (t && !t.fault && task !== ROOT_TASK && t.window.slots === 0 && t.window.pages === 0 ? [task] : []));
      const task = pick(closed, b);
      if (task !== undefined) return { op: "task.window", task, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages };
    }
    if (e % 4 === 3 && !s.tasks[ROOT_TASK]!.fault) {
      // the root task hands a task capability (with write) to another task, or to the task itself, so that receivers of mappings can pass them on
      const offers = capsOf(s, ROOT_TASK, ofKind("task", R.write)).flatMap((h) =>
        capsOf(s, ROOT_TASK, ofKind("task", R.write)).flatMap((to) => (to.cap.object !== ROOT_TASK ? acceptedSlots(s, ROOT_TASK, to.cap.object).map((dest) => ({ src: h.slot, target: to.slot, dest })) : [])),
      );
      const offer = pick(offers, b);
      return offer ? { op: "cap.copy", task: ROOT_TASK, ...offer } : null;
    }
    if (e % 8 !== 0) return null;
    if (b % 3 === 1 && c % 2 === 0) {
      // start a container.destroy: of the container with the most mappings rooted at it, by a holder of a capability with alloc
      const rooted = new Map<number, number>();
      for (const t of s.tasks) for (const m of t?.pages ?? []) if (m?.source.kind === "slot") rooted.set(m.source.container, (rooted.get(m.source.container) ?? 0) + 1);
      const holders = s.tasks.flatMap((t, task) => (t && !t.fault ? capsOf(s, task, ofKind("container", R.alloc)).map((h) => ({ task, slot: h.slot, n: rooted.get(h.cap.object) ?? 0 })) : []));
      holders.sort((x, y) => y.n - x.n);
      // mostly one held by another task than the root task, which then goes on acting in between
      const notRoot = holders.filter((x) => x.task !== ROOT_TASK);
      const from = a % 2 === 1 && notRoot.length > 0 ? notRoot : holders;
      const h = a % 4 !== 0 ? from[0] : pick(from, a);
      return h ? { op: "container.destroy", task: h.task, container: h.slot } : null;
    }
    if (b % 3 === 1) {
      // start a task.destroy: of the task with the most mappings and capabilities, by a holder of a capability with alloc to it (now and then the task itself)
      // (mappings it passed on to other tasks weigh most: others may then try to pass them on further)
      const passedOn = new Map<number, number>();
      for (const [t, task] of s.tasks.entries()) for (const m of task?.pages ?? []) if (m?.source.kind === "map" && m.source.parent.task !== t) passedOn.set(m.source.parent.task, (passedOn.get(m.source.parent.task) ?? 0) + 1);
      const size = (t: number) => (s.tasks[t]?.pages.filter(Boolean).length ?? 0) + (s.tasks[t]?.caps.filter(Boolean).length ?? 0) + 8 * (passedOn.get(t) ?? 0);
      const holders = s.tasks.flatMap((t, task) => (t && !t.fault ? capsOf(s, task, (k) => k.kind === "task" && k.object !== ROOT_TASK && (k.rights & R.alloc) !== 0).map((h) => ({ task, slot: h.slot, n: size(h.cap.object), self: h.cap.object === task })) : []));
      holders.sort((x, y) => y.n - x.n);
      const selves = holders.filter((x) => x.self);
      // (half of the time by another task than the root task, if one may: the root task, which holds most mappings, then acts in between)
      const notRoot = holders.filter((x) => x.task !== ROOT_TASK);
      const h = a % 8 === 5 && selves.length > 0 ? selves[0] : a % 2 === 1 && notRoot.length > 0 ? notRoot[0] : a % 4 !== 0 ? holders[0] : pick(holders, a);
      if (c % 4 === 1) return h ? { op: "task.destroy", task: h.task, target: h.slot } : null;
      // start an account.destroy: of the account (not the root account) that pays for the most, by a holder of a capability with alloc to it
      const paid = new Map<number, number>();
      const count = (account: number) => paid.set(account, (paid.get(account) ?? 0) + 1);
      for (const t of s.tasks) if (t) count(t.account);
      for (const x of s.containers) if (x) count(x.account);
      for (const x of s.handles) if (x) count(x.account);
      s.accounts.forEach((x) => x && x.parent !== null && count(x.parent));
      const owners = s.tasks.flatMap((t, task) => (t && !t.fault ? capsOf(s, task, (k) => k.kind === "account" && s.accounts[k.object]?.parent !== null && (k.rights & R.alloc) !== 0).map((o) => ({ task, slot: o.slot, n: paid.get(o.cap.object) ?? 0 })) : []));
      owners.sort((x, y) => y.n - x.n);
      // now and then one that pays for a DMA handle (the first thing its walk takes)
      const wired = owners.filter((x) => s.handles.some((h) => h && h.account === s.tasks[x.task]!.caps[x.slot]!.object));
      const o = a % 4 === 1 && wired.length > 0 ? wired[0] : a % 4 !== 0 ? owners[0] : pick(owners, a);
      return o ? { op: "account.destroy", task: o.task, account: o.slot } : null;
    }
    if (b % 3 === 0) {
      // start a revoke of a capability with descendants (the walk then has capabilities, mappings and objects to take apart)
      const counts = new Map<string, number>();
      s.tasks.forEach((t) =>
        t?.caps.forEach((cap) => {
          for (let r = cap?.parent ?? null, hops = 0; r !== null && hops < 64; r = s.tasks[r.task]?.caps[r.slot]?.parent ?? null, hops++) counts.set(capKey(r), (counts.get(capKey(r)) ?? 0) + 1);
        }),
      );
      const tops = [...counts.entries()].filter(([k]) => !s.tasks[Number(k.split(":")[0])]!.fault).sort((x, y) => y[1] - x[1]);
      // one that is not a boot capability (revoking those takes nearly everything: seldom, when there is no other)
      const derived = tops.filter(([k]) => s.tasks[Number(k.split(":")[0])]!.caps[Number(k.split(":")[1])]!.parent !== null);
      // half of the time one held by another task than the root task: the root task, which holds most capabilities, then acts in between
      const others = derived.filter(([k]) => Number(k.split(":")[0]) !== ROOT_TASK);
      const top = derived.length === 0 ? (c % 8 === 0 ? tops[0] : undefined) : pick(c % 2 === 1 && others.length > 0 ? others : derived, a);
      if (!top) return null;
      const [task, slot] = top[0].split(":").map(Number) as [number, number];
      return { op: "cap.revoke", task, slot };
    }
    const trees = s.tasks.flatMap((t, task) => (t ? t.pages.flatMap((m, vpage) => (m && children.has(mapKey({ task, vpage })) ? [{ task, vpage }] : [])) : []));
    // mostly another task's tree than the root task's: then the root task, which holds capabilities to every task, is among those who may try to grow it
    const others = trees.filter((r) => r.task !== ROOT_TASK);
    const root = pick(a % 4 !== 0 && others.length > 0 ? others : trees, a);
    if (!root || s.tasks[root.task]!.fault) return null;
    // a range of one, two or four pages around it (then pages the walk has not reached may be free, and deliveries there are refused)
    let order = c % 3;
    while (2 ** order > s.config.vpages) order--;
    const vpage = root.vpage - (root.vpage % 2 ** order);
    // half of them readonly (its walk takes rights level by level, the others remove)
    return { op: "page.unmap", task: root.task, vpage, order, mode: b % 2 === 0 ? "readonly" : UNMAP_MODES[(b >> 1) % UNMAP_MODES.length]! };
  }
  const q = pick(pending, a)!;
  // (a chain of zombies whose innermost walk stands at a mapping lasts a few units: aim at it on half of the steps that would go on)
  const chain = zombiesOf(q);
  if (e % 4 === 0 && chain.length > 1 && chain[chain.length - 1]!.cursor !== null) {
    const op = aimAtZombies(s, q, [a, b, c]);
    if (op) return op;
  }
  if (e % 2 === 0) return { ...q.op };
  if (e % 8 === 3) {
    // the task tries something else first (Blocked): another operation, or the same kind with another argument
    const t = q.op.task;
    if (b % 3 === 0) return { op: "mem.read", task: t, vpage: c % s.config.vpages };
    if (isRevoke(q)) return b % 3 === 1 ? { op: "cap.revoke", task: t, slot: (q.op.slot + 1 + (c % (s.config.capSlots - 1))) % s.config.capSlots } : { op: "page.unmap", task: t, vpage: 0, order: 0, mode: "all" };
    if (isDestroy(q)) return b % 3 === 1 ? { op: "container.destroy", task: t, container: (q.op.container + 1 + (c % (s.config.capSlots - 1))) % s.config.capSlots } : { op: "cap.revoke", task: t, slot: c % s.config.capSlots };
    if (isTaskDestroy(q)) return b % 3 === 1 ? { op: "task.destroy", task: t, target: (q.op.target + 1 + (c % (s.config.capSlots - 1))) % s.config.capSlots } : { op: "cap.delete", task: t, slot: c % s.config.capSlots };
    if (isAccountDestroy(q)) return b % 3 === 1 ? { op: "account.destroy", task: t, account: (q.op.account + 1 + (c % (s.config.capSlots - 1))) % s.config.capSlots } : { op: "cap.delete", task: t, slot: c % s.config.capSlots };
    return b % 3 === 1 ? { ...q.op, mode: q.op.mode === "all" ? "derived" : "all" } : { op: "cap.revoke", task: t, slot: c % s.config.capSlots };
  }
  if (e % 4 !== 1) return null;
  if (c % 8 === 5 && !isUnmap(q)) {
    const op = passOverStep(s, [a, b]);
    if (op) return op;
  }
  if (c % 8 === 7 && !isUnmap(q)) {
    const ended = endFromOutside(s, q, b);
    if (ended) return ended;
  }
  if (c % 4 === 3 || (c % 4 === 1 && (zombiesOf(q).length > 1 || zombiesOf(q).some((z) => z.kind === "account")))) {
    const op = aimAtZombies(s, q, [a, b, c]);
    if (op) return op;
  }
  if (isRevoke(q)) return aimAtRevoke(s, q, [a, b, c]);
  if (isDestroy(q)) return aimAtDestroy(s, q, [a, b, c]);
  if (isTaskDestroy(q)) return aimAtTaskDestroy(s, q, [a, b, c]);
  if (isAccountDestroy(q)) return aimAtAccountDestroy(s, q, [a, b, c]);
  const p: PendingUnmap = q;
  // Aimed at the removal in progress.
  const region: MapRef[] = [];
  const stack: MapRef[] = [];
  for (let v = p.page; v < p.op.vpage + 2 ** p.op.order; v++) if (s.tasks[p.op.task]!.pages[v]) stack.push({ task: p.op.task, vpage: v });
  while (stack.length > 0) {
    const r = stack.pop()!;
    if (r.task !== p.op.task) region.push(r);
    stack.push(...(children.get(mapKey(r)) ?? []));
  }
  const inside = region.filter((r) => !s.tasks[r.task]!.pending && !s.tasks[r.task]!.fault);
  const holder = pick(inside, b);
  switch (c % 4) {
    case 0: {
      // derive from a mapping in the trees (Removing), to a page that would accept it otherwise
      if (!holder) return null;
      for (let i = 0; i < inside.length; i++) {
        const op = passOn(inside[(b + i) % inside.length]!, c);
        if (op) return op;
      }
      const target = capsOf(s, holder.task, ofKind("task", R.write))[0];
      return { op: "l4.map", task: holder.task, vpage: holder.vpage, target: target?.slot ?? 0, dest: pick(pagesOf(s.tasks[holder.task], false), c) ?? 0, rights: ["read"] };
    }
    case 1: {
      // deliver into the range (Removing), from any task holding a task capability to the unmapping task
      const senders = s.tasks.flatMap((t, task) => (t && !t.pending && !t.fault ? capsOf(s, task, (cap) => ofKind("task", R.write)(cap) && cap.object === p.op.task).map((h) => ({ task, slot: h.slot })) : []));
      const sender = pick(senders, b);
      const from = sender && pick(pagesOf(s.tasks[sender.task], true), c);
      if (!sender || from === undefined) return null;
      const free: number[] = [];
      for (let v = p.page; v < p.op.vpage + 2 ** p.op.order; v++) if (!s.tasks[p.op.task]!.pages[v]) free.push(v);
      return { op: "l4.map", task: sender.task, vpage: from, target: sender.slot, dest: pick(free, c) ?? p.page, rights: ["read"] };
    }
    case 2: {
      // the holder of the mapping the walk stands at takes it away (the walk starts the page again)
      const at: MapRef | undefined = p.cursor && p.cursor.task !== p.op.task && !s.tasks[p.cursor.task]!.pending ? p.cursor : holder;
      if (!at) return null;
      return { op: "page.unmap", task: at.task, vpage: at.vpage, order: 0, mode: "all" };
    }
    default: {
      // physmem takes the frame of a mapping in the trees
      const r: MapRef | undefined = p.cursor ?? holder;
      const m = r && s.tasks[r.task]!.pages[r.vpage];
      return m ? { op: "physmem.reclaim", frame: m.frame } : null;
    }
  }
}

/**
 * A step aimed at a preempted revoke: the victim keeps using what is being
 * taken from it (deriving a capability, mapping a page, passing a mapping
 * on: Removing), the holder of the capability the walk stands at deletes it
 * (what hangs from it is re-attached, still to go), the holder of a mapping
 * in its trees unmaps it, or the root task destroys the account paying for
 * a task that holds a capability still to go (while the walk empties
 * zombies: aimAtZombies).
 */
function aimAtRevoke(s: State, p: PendingRevoke, [a, b, c]: [number, number, number]): Op | null {
  const caps: CapRef[] = [];
  const maps: MapRef[] = [];
  for (const k of pendingRegion(s, p.op.task)) {
    if (k.startsWith("cap ")) {
      const [task, slot] = k.slice(4).split(":").map(Number) as [number, number];
      caps.push({ task, slot });
    } else if (/^\d+:\d+$/.test(k)) {
      const [task, vpage] = k.split(":").map(Number) as [number, number];
      maps.push({ task, vpage });
    }
  }
  const free = (t: number) => !s.tasks[t]!.pending && !s.tasks[t]!.fault;
  const held = caps.filter((r) => free(r.task));
  const cap = pick(held, b);
  switch (c % 6) {
    case 0: {
      // derive from a capability being revoked (Removing)
      if (!cap) return null;
      const dest = freeSlots(s, cap.task)[0];
      return dest === undefined ? null : { op: "cap.derive", task: cap.task, src: cap.slot, dest, rights: rightsList(s.tasks[cap.task]!.caps[cap.slot]!.rights) };
    }
    case 1: {
      // the victim maps a page through a container capability being revoked (Removing)
      const viaContainer = held.filter((r) => s.tasks[r.task]!.caps[r.slot]!.kind === "container");
      const r = pick(viaContainer, a);
      if (!r) return null;
      const cap = s.tasks[r.task]!.caps[r.slot]!;
      const index = s.containers[cap.object]!.slots.findIndex((x) => x.kind === "hard");
      const vpage = pagesOf(s.tasks[r.task], false)[0];
      return index < 0 || vpage === undefined ? null : { op: "page.map", task: r.task, container: r.slot, index, vpage, rights: ["read"] };
    }
    case 2: {
      // pass a mapping in its trees on (Removing)
      const m = pick(maps.filter((r) => free(r.task)), a);
      const target = m && capsOf(s, m.task, ofKind("task", R.write))[0];
      const dest = target && pick(acceptedPages(s, m.task, target.cap.object), b);
      return m && target && dest !== undefined ? { op: "l4.map", task: m.task, vpage: m.vpage, target: target.slot, dest, rights: ["read"] } : null;
    }
    case 3: {
      // the holder of the capability the walk stands at (or of another one still to go) deletes it
      const at = p.cursor?.kind === "cap" && free(p.cursor.task) ? { task: p.cursor.task, slot: p.cursor.slot } : cap;
      return at ? { op: "cap.delete", task: at.task, slot: at.slot } : null;
    }
    case 4: {
      // the holder of a mapping in its trees unmaps it
      const at = p.cursor?.kind === "map" && free(p.cursor.task) ? p.cursor : pick(maps.filter((r) => free(r.task)), a);
      return at ? { op: "page.unmap", task: at.task, vpage: at.vpage, order: 0, mode: "all" } : null;
    }
    default: {
      // the root task destroys the account paying for a task that holds a capability still to go
      if (s.tasks[ROOT_TASK]!.pending || s.tasks[ROOT_TASK]!.fault) return null;
      const payers = new Set(caps.map((r) => s.tasks[r.task]!.account));
      const slot = capsOf(s, ROOT_TASK, (k) => k.kind === "account" && payers.has(k.object) && k.parent !== null)[0]?.slot;
      return slot === undefined ? null : { op: "account.destroy", task: ROOT_TASK, account: slot };
    }
  }
}

/**
 * A step aimed at a preempted container.destroy: another holder of a
 * capability to the container tries to use it (allocate, map: Removing),
 * to derive from it (Removing), to pass on a mapping rooted in it
 * (Removing), or deletes its capability; the holder of the mapping the
 * walk stands at unmaps it.
 */
function aimAtDestroy(s: State, p: PendingDestroy, [a, b, c]: [number, number, number]): Op | null {
  const free = (t: number) => !s.tasks[t]!.pending && !s.tasks[t]!.fault;
  const holders = s.tasks.flatMap((t, task) => (t && free(task) ? capsOf(s, task, (k) => k.kind === "container" && k.object === p.object).map((h) => ({ task, slot: h.slot })) : []));
  const h = pick(holders, b);
  const rooted = s.tasks.flatMap((t, task) => (t && free(task) ? t.pages.flatMap((m, vpage) => (m?.source.kind === "slot" && m.source.container === p.object ? [{ task, vpage }] : [])) : []));
  switch (c % 5) {
    case 0:
      return h ? { op: "container.alloc", task: h.task, container: h.slot, index: a % s.config.containerSlots } : null;
    case 1: {
      const vpage = h && pagesOf(s.tasks[h.task], false)[0];
      return h && vpage !== undefined ? { op: "page.map", task: h.task, container: h.slot, index: a % s.config.containerSlots, vpage, rights: ["read"] } : null;
    }
    case 2: {
      const dest = h && freeSlots(s, h.task)[0];
      return h && dest !== undefined ? { op: "cap.derive", task: h.task, src: h.slot, dest, rights: ["read"] } : null;
    }
    case 3: {
      const m = pick(rooted, a);
      const target = m && capsOf(s, m.task, ofKind("task", R.write))[0];
      const dest = target && pick(acceptedPages(s, m.task, target.cap.object), b);
      if (m && target && dest !== undefined) return { op: "l4.map", task: m.task, vpage: m.vpage, target: target.slot, dest, rights: ["read"] };
      const at = p.cursor && free(p.cursor.task) ? p.cursor : m;
      return at ? { op: "page.unmap", task: at.task, vpage: at.vpage, order: 0, mode: "all" } : null;
    }
    default:
      return h ? { op: "cap.delete", task: h.task, slot: h.slot } : null;
  }
}

/**
 * A step aimed at a preempted task.destroy: the dying task tries to act
 * (Blocked); another holder of a capability to it tries to send it a
 * capability or a mapping, to set its pager, to derive from the
 * capability or to destroy it too (Removing), or deletes its capability;
 * a pager answers the dying task's fault (Removing); another task passes
 * on a mapping derived from one of the dying task's (Removing); the holder
 * of the mapping the walk stands at unmaps it.
 */
function aimAtTaskDestroy(s: State, p: PendingTaskDestroy, [a, b, c]: [number, number, number]): Op | null {
  const free = (t: number) => !s.tasks[t]!.pending && !s.tasks[t]!.fault && t !== p.object;
  const holders = s.tasks.flatMap((t, task) => (t && free(task) ? capsOf(s, task, (k) => k.kind === "task" && k.object === p.object).map((h) => ({ task, slot: h.slot, rights: h.cap.rights })) : []));
  const h = pick(holders, b);
  const writers = holders.filter((x) => (x.rights & R.write) !== 0);
  // (a third of the time when there is a mapping to pass on: such mappings are rare)
  const passed = c % 3 === 2 ? passOnFromTrees(s, (r) => r.task === p.object, free, [a, b]) : null;
  if (passed) return passed;
  switch (c % 8) {
    case 0:
      return { op: "mem.read", task: p.object, vpage: a % s.config.vpages };
    case 1: {
      // (into a slot the dying task would accept, so that only Removing stands in the way)
      const w = pick(writers, b);
      const src = w && capsOf(s, w.task, () => true)[0];
      const dest = w && pick(acceptedSlots(s, w.task, p.object), a);
      return w && src && dest !== undefined ? { op: "cap.copy", task: w.task, src: src.slot, target: w.slot, dest } : null;
    }
    case 2: {
      const w = pick(writers, b);
      const vpage = w && pagesOf(s.tasks[w.task], true)[0];
      const dest = w && pick(acceptedPages(s, w.task, p.object), a);
      return w && vpage !== undefined && dest !== undefined ? { op: "l4.map", task: w.task, vpage, target: w.slot, dest, rights: ["read"] } : null;
    }
    case 3:
      return h ? { op: "task.pager", task: h.task, target: h.slot, pager: null } : null;
    case 4: {
      const dest = h && freeSlots(s, h.task)[0];
      return h && dest !== undefined ? { op: "cap.derive", task: h.task, src: h.slot, dest, rights: ["read"] } : null;
    }
    case 5: {
      const pager = s.tasks[p.object]!.pager;
      if (s.tasks[p.object]!.fault && pager !== null && pager !== ROOT_TASK && free(pager) && s.tasks[pager]!.queue[0] === p.object) {
        const vpage = pagesOf(s.tasks[pager], true)[0];
        return a % 2 === 0 && vpage !== undefined ? { op: "fault.resolve", task: pager, vpage, rights: ["read"] } : { op: "fault.refuse", task: pager };
      }
      const other = holders.find((x) => (x.rights & R.alloc) !== 0);
      return other ? { op: "task.destroy", task: other.task, target: other.slot } : null;
    }
    case 6: {
      const at = p.cursor && p.cursor.task !== p.object && free(p.cursor.task) ? p.cursor : null;
      return at ? { op: "page.unmap", task: at.task, vpage: at.vpage, order: 0, mode: "all" } : h ? { op: "cap.delete", task: h.task, slot: h.slot } : null;
    }
    default:
      return h ? { op: "cap.delete", task: h.task, slot: h.slot } : null;
  }
}

/**
 * A step of another task that ends preempted removal `q` from outside
 * (the removal is then orphaned, and what is left of it is ordinary
 * again): a revoke of a capability the subject's capability derives from
 * (it takes the capability the removal goes through), by a task that
 * holds it and waits for nothing; or else the destruction, by such a task,
 * of an account that pays for the object being destroyed (for an account
 * destroy: an account above it; not one that pays for the subject). Null
 * when no task can.
 */
function endFromOutside(s: State, q: Pending, b: number): Op | null {
  const subject = q.op.task;
  const free = (t: number) => t !== subject && !!s.tasks[t] && !s.tasks[t]!.pending && !s.tasks[t]!.fault;
  const slot = isRevoke(q) ? q.op.slot : isDestroy(q) ? q.op.container : isTaskDestroy(q) ? q.op.target : isAccountDestroy(q) ? q.op.account : -1;
  const ancestors: CapRef[] = [];
  for (let r = s.tasks[subject]?.caps[slot]?.parent ?? null, hops = 0; r !== null && hops < 64; r = s.tasks[r.task]?.caps[r.slot]?.parent ?? null, hops++) if (free(r.task)) ancestors.push(r);
  const up = pick(ancestors, b);
  if (up) return { op: "cap.revoke", task: up.task, slot: up.slot };
  if (isRevoke(q)) return null;
  const object = (q as PendingDestroy | PendingTaskDestroy | PendingAccountDestroy).object;
  const payer = isDestroy(q) ? s.containers[object]?.account : isTaskDestroy(q) ? s.tasks[object]?.account : s.accounts[object]?.parent;
  if (payer === undefined || payer === null) return null;
  // (an account on the way up from the payer, not the root account, not one that pays for the subject)
  const targets: number[] = [];
  for (let y: number | null = payer, hops = 0; y !== null && hops < 64; y = s.accounts[y]?.parent ?? null, hops++) if (s.accounts[y]?.parent !== null && !accountUnder(s, s.tasks[subject]!.account, y)) targets.push(y);
  const by = s.tasks.flatMap((t, task) => (free(task) ? capsOf(s, task, (k) => ofKind("account", R.alloc)(k) && targets.includes(k.object)).map((h) => ({ task, slot: h.slot })) : []));
  const h = pick(by, b);
  return h ? { op: "account.destroy", task: h.task, account: h.slot } : null;
}

/**
 * A step aimed at a preempted account.destroy: a task it pays for tries to
 * act (Blocked); another task tries to make an object through a capability
 * to an account being destroyed, to derive from a capability to something
 * being destroyed, to send a capability into a task being destroyed, to
 * map or allocate through a capability to a container being destroyed, or
 * to destroy one of the accounts too (Removing), or deletes such a
 * capability; another task passes on a mapping in a tree of a task or
 * container being destroyed (Removing); the holder of the mapping the walk
 * stands at unmaps it.
 */
function aimAtAccountDestroy(s: State, p: PendingAccountDestroy, [a, b, c]: [number, number, number]): Op | null {
  const D = new Set<number>([p.object]);
  for (let grew = true; grew; ) {
    grew = false;
    s.accounts.forEach((x, id) => x && x.parent !== null && D.has(x.parent) && !D.has(id) && (D.add(id), (grew = true)));
  }
  const pays = (x: { account: number } | null | undefined) => !!x && D.has(x.account);
  const dying = (k: Cap) => (k.kind === "account" ? D.has(k.object) : k.kind === "task" ? pays(s.tasks[k.object]) : k.kind === "container" ? pays(s.containers[k.object]) : pays(s.handles[k.object]));
  const free = (t: number) => !s.tasks[t]!.pending && !s.tasks[t]!.fault && !pays(s.tasks[t]);
  const holders = s.tasks.flatMap((t, task) => (t && free(task) ? capsOf(s, task, dying).map((h) => ({ task, slot: h.slot, cap: h.cap })) : []));
  const h = pick(holders, b);
  const holding = (kind: string) => holders.filter((x) => x.cap.kind === kind);
  if (c % 3 === 2) {
    const rootedHere = (r: MapRef) => {
      const m = s.tasks[r.task]?.pages[r.vpage];
      return pays(s.tasks[r.task]) || (m?.source.kind === "slot" && pays(s.containers[m.source.container]));
    };
    const passed = passOnFromTrees(s, rootedHere, free, [a, b]);
    if (passed) return passed;
  }
  switch (c % 8) {
    case 0: {
      const victims = s.tasks.flatMap((t, task) => (t && task !== p.op.task && pays(t) ? [task] : []));
      const v = pick(victims, a);
      return v !== undefined ? { op: "mem.read", task: v, vpage: a % s.config.vpages } : null;
    }
    case 1: {
      const x = pick(holding("account").filter((y) => (y.cap.rights & R.alloc) !== 0), a);
      const dest = x && freeSlots(s, x.task)[0];
      return x && dest !== undefined ? { op: a % 2 === 0 ? "task.create" : "container.create", task: x.task, account: x.slot, dest } : null;
    }
    case 2: {
      // (while the DMA handles go, one capability naming them per unit, mostly from a capability to one of them)
      const dma = p.at === null && a % 4 !== 0 ? pick(holding("dma"), a) : undefined;
      const x = dma ?? h;
      const dest = x && freeSlots(s, x.task)[0];
      return x && dest !== undefined ? { op: "cap.derive", task: x.task, src: x.slot, dest, rights: ["read"] } : null;
    }
    case 3: {
      const x = pick(holding("task").filter((y) => (y.cap.rights & R.write) !== 0), a);
      const src = x && capsOf(s, x.task, () => true)[0];
      const dest = x && pick(acceptedSlots(s, x.task, x.cap.object), b);
      return x && src && dest !== undefined ? { op: "cap.copy", task: x.task, src: src.slot, target: x.slot, dest } : null;
    }
    case 4: {
      const x = pick(holding("container"), a);
      const vpage = x && pagesOf(s.tasks[x.task], false)[0];
      return x && vpage !== undefined ? { op: "page.map", task: x.task, container: x.slot, index: b % s.config.containerSlots, vpage, rights: ["read"] } : null;
    }
    case 5: {
      const x = pick(holding("account").filter((y) => (y.cap.rights & R.alloc) !== 0), a);
      return x ? { op: "account.destroy", task: x.task, account: x.slot } : null;
    }
    case 6: {
      const at = p.cursor && free(p.cursor.task) ? p.cursor : null;
      return at ? { op: "page.unmap", task: at.task, vpage: at.vpage, order: 0, mode: "all" } : h ? { op: "cap.delete", task: h.task, slot: h.slot } : null;
    }
    default:
      return h ? { op: "cap.delete", task: h.task, slot: h.slot } : null;
  }
}

/**
 * A step aimed at the zombies a preempted removal empties (a revoke's, a
 * task destroy's, an account destroy's), or null when there are none: a
 * zombie task tries to act (Blocked), mostly to derive a capability it
 * holds into a free slot, which would add to what is being taken apart;
 * the holder of the mapping the innermost zombie's walk stands at unmaps
 * it, or physmem moves its frame (that walk starts its slot or page
 * again); or the root task deletes or revokes a capability from which the
 * capability naming a zombie derives (a delete re-attaches it, and it
 * stays the only one naming its zombie: the walk goes on; a revoke's walk
 * reaches it too, and empties the same zombie, or takes it: then the
 * chain starts again).
 */
function aimAtZombies(s: State, p: Pending, [a, b]: [number, number, number]): Op | null {
  const chain = zombiesOf(p);
  const z = chain[chain.length - 1];
  if (!z) return null;
  if (z.kind === "account" && a % 3 !== 2) {
    // (an account zombie: the root task allocates in a container the account pays for, or derives from its capability to it (Removing),
    // or deletes its capability to the container the walk takes apart, which takes the container along, and the walk is between
    // objects again; likewise for the task the walk takes apart, and mapping into it (Removing); or the holder of the account's
    // only capability tries to make something through it or to derive from it: Removing)
    const root = s.tasks[ROOT_TASK]!;
    const toTask = z.task === undefined || root.pending || root.fault ? undefined : capsOf(s, ROOT_TASK, (k) => k.kind === "task" && k.object === z.task)[0];
    if (toTask && a % 3 === 0) {
      const dest = freeSlots(s, ROOT_TASK)[0];
      const from = pagesOf(root, true)[0];
      if (b % 3 === 0 && dest !== undefined) return { op: "cap.derive", task: ROOT_TASK, src: toTask.slot, dest, rights: rightsList(toTask.cap.rights) };
      if (b % 3 === 2 && from !== undefined) return { op: "l4.map", task: ROOT_TASK, vpage: from, target: toTask.slot, dest: 0, rights: ["read"] };
      return { op: "cap.delete", task: ROOT_TASK, slot: toTask.slot };
    }
    const boxes = root.pending || root.fault ? [] : capsOf(s, ROOT_TASK, (k) => k.kind === "container" && !!s.containers[k.object] && accountUnder(s, s.containers[k.object]!.account, z.id));
    const box = pick(boxes, b);
    if (box && a % 3 === 0) {
      const empty = s.containers[box.cap.object]!.slots.findIndex((x) => x.kind === "empty");
      const dest = freeSlots(s, ROOT_TASK)[0];
      if (b % 3 === 0 && empty >= 0) return { op: "container.alloc", task: ROOT_TASK, container: box.slot, index: empty };
      if (b % 3 === 1 || dest === undefined) return { op: "cap.delete", task: ROOT_TASK, slot: box.slot };
      return { op: "cap.derive", task: ROOT_TASK, src: box.slot, dest, rights: rightsList(box.cap.rights) };
    }
    const holder = s.tasks.findIndex((t) => t?.caps.some((k) => k?.kind === "account" && k.object === z.id));
    const k = holder < 0 ? -1 : s.tasks[holder]!.caps.findIndex((x) => x?.kind === "account" && x.object === z.id);
    const dest = holder < 0 ? undefined : freeSlots(s, holder)[0];
    if (k >= 0 && dest !== undefined) return b % 4 === 1 ? { op: "container.create", task: holder, account: k, dest } : { op: "cap.derive", task: holder, src: k, dest, rights: rightsList(s.tasks[holder]!.caps[k]!.rights) };
  }
  const tasks = chain.filter((x) => x.kind === "task" && s.tasks[x.id] && !s.tasks[x.id]!.pending && !s.tasks[x.id]!.fault);
  // (mostly one inside another: those are marked only while the chain is)
  const x = pick(tasks.length > 1 && b % 4 !== 0 ? tasks.slice(1) : tasks, b);
  if (x && a % 3 === 0) {
    // (mostly something that would add to what is being taken apart: a capability derived into a free slot)
    const slot = filledSlots(s, x.id)[0];
    const dest = freeSlots(s, x.id)[0];
    if (slot !== undefined && dest !== undefined && b % 4 !== 0) return { op: "cap.derive", task: x.id, src: slot, dest, rights: rightsList(s.tasks[x.id]!.caps[slot]!.rights) };
    return slot !== undefined ? { op: "cap.delete", task: x.id, slot } : { op: "task.window", task: x.id, slot: 0, slots: 0, page: 0, pages: 0 };
  }
  // (while the innermost's walk stands at a mapping, mostly that)
  if (z.cursor && a % 3 !== 0) {
    // (the holder unmaps it; or, if it may not act, physmem moves its frame, which unmaps it too)
    const holder = s.tasks[z.cursor.task];
    if (holder && !holder.pending && !holder.fault && !taskDying(s, z.cursor.task)) return { op: "page.unmap", task: z.cursor.task, vpage: z.cursor.vpage, order: 0, mode: "all" };
    const m = holder?.pages[z.cursor.vpage];
    if (m) return { op: "physmem.relocate", frame: m.frame };
  }
  // the capability naming a zombie (the only one), and the one it derives from, if the root task holds that
  const y = pick(chain.slice(1), a) ?? z;
  const names = s.tasks.flatMap((t) => (t ? t.caps.filter((k) => k?.kind === y.kind && k.object === y.id) : []));
  const parent = names[0]?.parent;
  if (parent && parent.task === ROOT_TASK && !s.tasks[ROOT_TASK]!.pending && !s.tasks[ROOT_TASK]!.fault) return { op: a % 2 === 0 ? "cap.delete" : "cap.revoke", task: ROOT_TASK, slot: parent.slot };
  return null;
}

/**
 * Staged preemption traces: three quarters of the preemption
 * configurations (by their object quota) build, step by step, in half of
 * their steps while no removal is preempted, a situation that random steps
 * seldom reach before their trace ends, then start the removal it is for:
 * - `passedOn` (objects % 8 === 0): a task T whose mapping another task U
 *   holds, U holding a capability to a task that accepts a page from it;
 *   then the root task destroys T, and U may try to pass the mapping on
 *   (aimAtTaskDestroy): that must be refused (Removing);
 * - `handOut` (objects % 8 === 4): capabilities and root mappings a task
 *   destroy hands up, and what other tasks' deletions pass over (see
 *   handOut);
 * - `subWired` (objects % 4 === 2): a DMA handle that a sub-account pays
 *   for, on half of them with a copy of its capability in a task the
 *   sub-account does not pay for (passDmaOn); then the root task destroys
 *   the account, whose walk takes the handle first, a capability naming it
 *   per unit;
 * - `selfDoomed` (objects % 4 === 1): a revoke whose walk takes its own
 *   subject (see selfDoomed);
 * - `nested` (objects % 8 === 3): a chain of zombies (see nested);
 * - `accountZombie` (objects % 16 === 7): an account as a zombie (see
 *   accountZombie).
 * Each step is the first thing missing, made by the root task where it can
 * be (it holds capabilities to what it made); null when the root task
 * cannot act or the configuration has no room for it.
 */
function staged(s: State, b: number): Op | null {
  const root = s.tasks[ROOT_TASK]!;
  if (root.fault || root.pending || s.config.objects % 16 === 15) return null;
  const rootCap = (pred: (k: Cap) => boolean) => capsOf(s, ROOT_TASK, pred)[0];
  const to = (x: number) => rootCap((k) => ofKind("task", R.write)(k) && k.object === x);
  const dest = freeSlots(s, ROOT_TASK)[0];
  /** Root gives task x the capability `give` (opening x's window first if it must). */
  const handTo = (x: number, give: Held | undefined): Op | null => {
    const into = to(x);
    const slot = acceptedSlots(s, ROOT_TASK, x)[0];
    if (!give || !into) return null;
    return slot === undefined ? window(x) : { op: "cap.copy", task: ROOT_TASK, src: give.slot, target: into.slot, dest: slot };
  };
  const window = (x: number): Op => ({ op: "task.window", task: x, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages });
  const others = s.tasks.flatMap((x, id) => (x && id !== ROOT_TASK && !x.fault && !x.pending ? [id] : []));
  if (s.config.objects % 4 === 1) return selfDoomed(s, others, rootCap, to, handTo, window);
  if (s.config.objects % 8 === 3) return nested(s, others, rootCap, to, handTo, b);
  if (s.config.objects % 8 === 7) return accountZombie(s, others, rootCap, to, handTo, b);
  if (s.config.objects % 8 === 4) return handOut(s, others, rootCap, to, handTo, window, b);
  if (s.config.objects % 4 === 0) {
    if (others.length < 2) return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: 0, dest } : null;
    const [t, u] = [others[b % others.length]!, others[(b + 1) % others.length]!];
    const from = pagesOf(root, true)[0];
    if (from === undefined) return rootBuilds(s, true, b);
    const mapped = pagesOf(s.tasks[t], true)[0];
    if (mapped === undefined) {
      const page = acceptedPages(s, ROOT_TASK, t)[0];
      return !to(t) ? null : page === undefined ? window(t) : { op: "l4.map", task: ROOT_TASK, vpage: from, target: to(t)!.slot, dest: page, rights: rightsList(root.pages[from]!.rights) };
    }
    const held = s.tasks[u]!.pages.findIndex((m) => m?.source.kind === "map" && m.source.parent.task === t);
    if (held < 0) {
      const toU = capsOf(s, t, (k) => ofKind("task", R.write)(k) && k.object === u)[0];
      if (!toU) return handTo(t, to(u));
      const page = acceptedPages(s, t, u)[0];
      return page === undefined ? window(u) : { op: "l4.map", task: t, vpage: mapped, target: toU.slot, dest: page, rights: rightsList(s.tasks[t]!.pages[mapped]!.rights) };
    }
    // (u passes it on to itself, or to another task it holds a capability to)
    if (!capsOf(s, u, (k) => ofKind("task", R.write)(k) && k.object !== t && acceptedPages(s, u, k.object).length > 0).length) return handTo(u, to(u));
    const kill = rootCap((k) => ofKind("task", R.alloc)(k) && k.object === t);
    return kill ? { op: "task.destroy", task: ROOT_TASK, target: kill.slot } : null;
  }
  // subWired
  const sub = rootCap((k) => ofKind("account", R.alloc)(k) && s.accounts[k.object]!.parent === root.account);
  if (!sub) return dest !== undefined && s.accounts.includes(null) ? { op: "account.create", task: ROOT_TASK, account: 0, dest, frames: 2, objects: 8 } : null;
  const a = sub.cap.object;
  const wired = s.handles.findIndex((h) => h?.account === a);
  if (wired >= 0) return s.config.objects % 8 === 2 ? passDmaOn(s, a, wired, sub.slot, others, to, handTo, window) : { op: "account.destroy", task: ROOT_TASK, account: sub.slot };
  const acc = s.accounts[a]!;
  if (acc.frameQuota - acc.framesCharged < 1 || acc.objectQuota - acc.objectsCharged < 3) {
    const own = rootCap((k) => ofKind("account", R.alloc)(k) && k.object === root.account);
    const spare = s.accounts[root.account]!.frameQuota - s.accounts[root.account]!.framesCharged;
    return own && spare > 0 ? { op: "account.transfer", task: ROOT_TASK, from: own.slot, to: sub.slot, frames: 1, objects: 3 } : null;
  }
  const x = others.find((id) => s.tasks[id]!.account === a);
  if (x === undefined) return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: sub.slot, dest } : null;
  const wirable = (k: Cap) => has(R.priv)(k) && containerWith(s, "hard")(k);
  const h = capsOf(s, x, wirable)[0];
  if (!h) return rootCap(wirable) ? handTo(x, rootCap(wirable)) : rootBuilds(s, false, b);
  const free = freeSlots(s, x)[0];
  if (free === undefined || !s.handles.includes(null)) return null;
  return { op: "dma.wire", task: x, container: h.slot, index: s.containers[h.cap.object]!.slots.findIndex((y) => y.kind === "hard"), dest: free };
}

/**
 * `handOut` (staged, objects % 8 === 4): what a task destroy hands up. A
 * task X holds two capabilities to containers: one to a container it made
 * through a copy of the root account's capability (its parent is that
 * account capability, which cannot authorize a mapping), one a copy of
 * the root task's (whose parent can). For each, X gives a task Y a copy,
 * Y allocates a frame and maps a page through it and deletes the copy: the
 * root mapping is X's now. X gives Y another copy of each, from which Y
 * derives two capabilities. Then the root task destroys X: before each of
 * the two vanishes, the walk hands up Y's copy and the root mapping, to the
 * root task's capability, or (for the container X made) takes the root's
 * tree apart. Meanwhile Y may delete its copy, whose two children then pass
 * over X's capability (passOverStep), or unmap the root the walk stands at
 * (aimAtTaskDestroy). The first thing missing is made each step; X's own
 * container is left out when no container is free.
 */
function handOut(s: State, others: number[], rootCap: (pred: (k: Cap) => boolean) => Held | undefined, to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null, window: (x: number) => Op, b: number): Op | null {
  const root = s.tasks[ROOT_TASK]!;
  if (others.length < 2) {
    const dest = freeSlots(s, ROOT_TASK)[0];
    return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: 0, dest } : null;
  }
  // (the same two each step, the first two free: the stage builds on what the steps before made)
  const [X, Y] = [others[0]!, others[1]!];
  const parentOf = (k: Cap) => (k.parent ? s.tasks[k.parent.task]?.caps[k.parent.slot] : null);
  const account = capsOf(s, X, ofKind("account", R.alloc))[0];
  if (!account) return handTo(X, rootCap((k) => ofKind("account", R.alloc)(k) && k.object === root.account));
  const made = capsOf(s, X, (k) => ofKind("container", R.alloc)(k) && parentOf(k)?.kind === "account")[0];
  if (!made && s.containers.includes(null)) {
    const dest = freeSlots(s, X)[0];
    return dest === undefined ? null : { op: "container.create", task: X, account: account.slot, dest };
  }
  const copied = capsOf(s, X, (k) => ofKind("container", R.alloc)(k) && k.parent?.task === ROOT_TASK)[0];
  if (!copied) {
    const give = rootCap(ofKind("container", R.alloc));
    return give ? handTo(X, give) : rootBuilds(s, false, b);
  }
  const toY = capsOf(s, X, (k) => ofKind("task", R.write)(k) && k.object === Y)[0];
  if (!toY) return handTo(X, to(Y));
  const give = (cx: Held): Op => {
    const slot = acceptedSlots(s, X, Y)[0];
    return slot === undefined ? window(Y) : { op: "cap.copy", task: X, src: cx.slot, target: toY.slot, dest: slot };
  };
  const authorizes = (task: number, slot: number) => s.tasks.some((t) => t?.pages.some((m) => m?.source.kind === "slot" && m.source.cap.task === task && m.source.cap.slot === slot));
  const hasChildren = (task: number, slot: number) => s.tasks.some((t) => t?.caps.some((k) => k?.parent?.task === task && k.parent.slot === slot));
  for (const cx of made ? [made, copied] : [copied]) {
    const ys = capsOf(s, Y, (k) => k.parent?.task === X && k.parent.slot === cx.slot);
    if (!authorizes(X, cx.slot)) {
      // (Y maps a page through a copy, then deletes it: the root mapping is X's)
      const mapping = ys.find((y) => authorizes(Y, y.slot));
      if (mapping) return { op: "cap.delete", task: Y, slot: mapping.slot };
      const y = ys.find((h) => !hasChildren(Y, h.slot));
      if (!y) return give(cx);
      const slots = s.containers[cx.cap.object]!.slots;
      const hard = slots.findIndex((x) => x.kind === "hard");
      if (hard < 0) {
        const empty = slots.findIndex((x) => x.kind === "empty");
        return empty < 0 ? null : { op: "container.alloc", task: Y, container: y.slot, index: empty };
      }
      const vpage = pagesOf(s.tasks[Y], false)[0];
      return vpage === undefined ? null : { op: "page.map", task: Y, container: y.slot, index: hard, vpage, rights: ["read"] };
    }
    // (a copy with two capabilities derived from it: deleted while X's walk is preempted, they pass over X's capability)
    const y = ys[0];
    if (!y) return give(cx);
    const below = capsOf(s, Y, (k) => k.parent?.task === Y && k.parent.slot === y.slot).length;
    if (below < 2) {
      const dest = freeSlots(s, Y)[0];
      return dest === undefined ? null : { op: "cap.derive", task: Y, src: y.slot, dest, rights: ["read"] };
    }
  }
  const kill = rootCap((k) => ofKind("task", R.alloc)(k) && k.object === X);
  return kill ? { op: "task.destroy", task: ROOT_TASK, target: kill.slot } : null;
}

/**
 * A step aimed at what re-attaches past a capability a preempted removal
 * will make vanish (passedOver): a task holding a capability derived from
 * such a one deletes it if two or more derive from it (they then pass
 * over it: without that rule, the removal would have more to hand up),
 * or else derives one more from it. Null if no such capability is held by
 * a task free to act.
 */
function passOverStep(s: State, [a, b]: [number, number]): Op | null {
  const free = (t: number) => !s.tasks[t]!.pending && !s.tasks[t]!.fault && !taskDying(s, t);
  const below: (CapRef & { children: number })[] = [];
  s.tasks.forEach((t, task) =>
    t?.caps.forEach((k, slot) => {
      if (k?.parent && free(task) && passedOver(s, k.parent) && !passedOver(s, { task, slot })) below.push({ task, slot, children: 0 });
    }),
  );
  if (below.length === 0) return null;
  s.tasks.forEach((t) => t?.caps.forEach((k) => k?.parent && below.forEach((y) => y.task === k.parent!.task && y.slot === k.parent!.slot && y.children++)));
  const full = pick(below.filter((y) => y.children >= 2), a);
  if (full) return { op: "cap.delete", task: full.task, slot: full.slot };
  const y = pick(below, b)!;
  const dest = freeSlots(s, y.task)[0];
  return dest === undefined ? null : { op: "cap.derive", task: y.task, src: y.slot, dest, rights: rightsList(s.tasks[y.task]!.caps[y.slot]!.rights) };
}

/**
 * `subWired`, on half of its configurations (objects % 8 === 2): before the
 * root task destroys account `a`, the task that wired handle `h` (paid by
 * `a`) copies its capability to the handle to a task Y that `a` does not
 * pay for (made by the root task if there is none), and Y derives two more
 * from it. The account destroy then takes the handle's capabilities one
 * per unit, and between its entries Y, free to act, may try to derive
 * from its copies (aimAtAccountDestroy), which must be refused (Removing).
 */
function passDmaOn(s: State, a: number, h: number, subSlot: number, others: number[], to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null, window: (x: number) => Op): Op | null {
  const ofHandle = (k: Cap) => k.kind === "dma" && k.object === h;
  const x = others.find((id) => capsOf(s, id, ofHandle).length > 0 && accountUnder(s, s.tasks[id]!.account, a));
  const y = others.find((id) => !accountUnder(s, s.tasks[id]!.account, a));
  const destroy: Op = { op: "account.destroy", task: ROOT_TASK, account: subSlot };
  const held = y === undefined ? [] : capsOf(s, y, ofHandle);
  // (Y keeps three: the walk takes the capabilities with the greatest keys first, and Y's may be those)
  if (held.length > 0) {
    const dest = freeSlots(s, y!)[0];
    return held.length >= 3 || dest === undefined ? destroy : { op: "cap.derive", task: y!, src: held[0]!.slot, dest, rights: ["read"] };
  }
  if (x === undefined) return destroy;
  if (y === undefined) {
    const dest = freeSlots(s, ROOT_TASK)[0];
    return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: 0, dest } : destroy;
  }
  const toY = capsOf(s, x, (k) => ofKind("task", R.write)(k) && k.object === y)[0];
  if (!toY) return handTo(x, to(y)) ?? destroy;
  const slot = acceptedSlots(s, x, y)[0];
  return slot === undefined ? window(y) : { op: "cap.copy", task: x, src: capsOf(s, x, ofHandle)[0]!.slot, target: toY.slot, dest: slot };
}

/**
 * `selfDoomed` (staged): a task S revokes its capability `top` to an
 * account, below which is the only capability naming a task X that S made
 * through it, and X holds the only capability naming S (or naming the
 * account that pays for S). The revoke's unit that removes that capability
 * takes X and so S itself (the subject rule: the rest of the revoke goes in
 * that unit). The first thing missing is made each step: S with `top`
 * (the root task's account capability; on half of the configurations,
 * by frame count, S paid by a sub-account), X (S makes it), a capability to X for the root task (S passes
 * one on, after the root task gives S a capability to it), a copy of `top`
 * for the root task (still below `top` when the subject rule applies), X's
 * capability to S or to its account (from the root task), and the root
 * task's capabilities naming that go.
 */
function selfDoomed(s: State, others: number[], rootCap: (pred: (k: Cap) => boolean) => Held | undefined, to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null, window: (x: number) => Op): Op | null {
  const dest = freeSlots(s, ROOT_TASK)[0];
  const tops = others.flatMap((t) => capsOf(s, t, (k) => ofKind("account", R.alloc)(k) && k.parent?.task === ROOT_TASK).map((h) => ({ t, top: h })));
  const chosen = tops[0];
  if (!chosen) {
    // (on half of the configurations, by their frame count, S is paid by a sub-account the root task made: X then takes S along through it)
    const sub = rootCap((k) => ofKind("account", R.alloc)(k) && k.object !== s.tasks[ROOT_TASK]!.account);
    const bySub = s.config.frames % 2 === 1;
    if (bySub && !sub) return dest !== undefined && s.accounts.includes(null) ? { op: "account.create", task: ROOT_TASK, account: 0, dest, frames: 1, objects: 16 } : null;
    const t = bySub ? others.find((x) => s.tasks[x]!.account === sub!.cap.object) : others[0];
    if (t === undefined) return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: bySub ? sub!.slot : 0, dest } : null;
    return handTo(t, rootCap((k) => ofKind("account", R.alloc)(k) && k.object === s.tasks[ROOT_TASK]!.account));
  }
  const { t: S, top } = chosen;
  const made = capsOf(s, S, (k) => k.kind === "task" && k.parent?.task === S && k.parent.slot === top.slot)[0];
  if (!made) {
    const slot = freeSlots(s, S)[0];
    return slot !== undefined && s.tasks.includes(null) ? { op: "task.create", task: S, account: top.slot, dest: slot } : null;
  }
  const X = made.cap.object;
  const toRoot = capsOf(s, S, (k) => ofKind("task", R.write)(k) && k.object === ROOT_TASK)[0];
  if (!to(X)) {
    if (!toRoot) return handTo(S, rootCap((k) => ofKind("task", R.write)(k) && k.object === ROOT_TASK));
    const slot = acceptedSlots(s, S, ROOT_TASK)[0];
    return slot === undefined ? window(ROOT_TASK) : { op: "cap.copy", task: S, src: made.slot, target: toRoot.slot, dest: slot };
  }
  // (a sibling below top, in the root task: what the subject rule must revoke rather than re-attach)
  if (!capsOf(s, ROOT_TASK, (k) => k.parent?.task === S && k.parent.slot === top.slot).length) {
    const slot = acceptedSlots(s, S, ROOT_TASK)[0];
    if (toRoot && slot !== undefined) return { op: "cap.copy", task: S, src: top.slot, target: toRoot.slot, dest: slot };
  }
  // X takes S along: holding the last capability naming S, or naming the account that pays for S (if the root task holds one)
  const payer = s.tasks[S]!.account;
  const namesPayer = (k: Cap) => k.kind === "account" && k.object === payer;
  const viaPayer = payer !== s.tasks[ROOT_TASK]!.account && (capsOf(s, X, namesPayer).length > 0 || !!rootCap(namesPayer));
  const doom = viaPayer ? namesPayer : (k: Cap) => k.kind === "task" && k.object === S;
  if (!capsOf(s, X, doom).length) return handTo(X, rootCap(doom));
  const mine = capsOf(s, ROOT_TASK, doom)[0];
  if (mine) return { op: "cap.delete", task: ROOT_TASK, slot: mine.slot };
  return { op: "cap.revoke", task: S, slot: top.slot };
}

/**
 * `nested` (staged): a chain of zombies. A task A, paid by a sub-account
 * the root task made (through which the root task's capability to A
 * derives from its capability to that account), holds the only capability
 * naming a task B, which holds the only capability naming a task C, which
 * holds a capability to the root task and the only one naming a container
 * with a frame, which it has mapped and passed on to the root task. Then,
 * by the step's `b`, the root task destroys A, revokes its capability to
 * the sub-account, or destroys the sub-account: the walk through A makes B
 * a zombie and C one inside B; C's walk goes down to the root task's
 * mapping, then makes the container a zombie inside C. The first thing
 * missing is made each step: the sub-account, A, B and C, C's capabilities
 * (from the root task), its mapping and the one it passes on, B's
 * capability to C and A's to B (from the root task), then the root task
 * deletes its capabilities naming B, C or the container. On
 * configurations with an odd number of pages, a task D destroys A
 * instead, and C holds the only capability naming D: deleting A's
 * capability to B would take D, so B is no zombie, and D's destroy ends in
 * that unit (the subject rule).
 */
function nested(s: State, others: number[], rootCap: (pred: (k: Cap) => boolean) => Held | undefined, to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null, b: number): Op | null {
  const dest = freeSlots(s, ROOT_TASK)[0];
  const create = (account: number): Op | null => (dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account, dest } : null);
  const sub = rootCap((k) => ofKind("account", R.alloc)(k) && s.accounts[k.object]!.parent === s.tasks[ROOT_TASK]!.account);
  if (!sub) return dest !== undefined && s.accounts.includes(null) ? { op: "account.create", task: ROOT_TASK, account: 0, dest, frames: 1, objects: 12 } : null;
  const A = others.find((x) => s.tasks[x]!.account === sub.cap.object && to(x));
  if (A === undefined) return create(sub.slot);
  const names = (h: number, x: number) => capsOf(s, h, (k) => k.kind === "task" && k.object === x).length > 0;
  const rest = others.filter((x) => x !== A && s.tasks[x]!.account !== sub.cap.object);
  const B = rest.find((x) => names(A, x)) ?? rest[0];
  if (B === undefined) return create(0);
  const C = rest.find((x) => x !== B && names(B, x)) ?? rest.find((x) => x !== B);
  if (C === undefined) return create(0);
  const toRoot = capsOf(s, C, (k) => ofKind("task", R.write)(k) && k.object === ROOT_TASK)[0];
  if (!toRoot) return handTo(C, rootCap((k) => ofKind("task", R.write)(k) && k.object === ROOT_TASK));
  // (C's container, with a frame: C maps it and passes the mapping on to the root task)
  const framed = (k: Cap) => has(R.priv | R.read | R.write)(k) && containerWith(s, "hard")(k);
  const box = capsOf(s, C, framed)[0];
  if (!box) return rootCap(framed) ? handTo(C, rootCap(framed)) : rootBuilds(s, false, b);
  const index = s.containers[box.cap.object]!.slots.findIndex((x) => x.kind === "hard");
  const mapped = s.tasks[C]!.pages.findIndex((m) => m?.source.kind === "slot" && m.source.container === box.cap.object);
  const vpage = pagesOf(s.tasks[C], false)[0];
  if (mapped < 0) return vpage === undefined ? null : { op: "page.map", task: C, container: box.slot, index, vpage, rights: ["read", "write"] };
  const passed = s.tasks[ROOT_TASK]!.pages.some((m) => m?.source.kind === "map" && m.source.parent.task === C);
  const into = acceptedPages(s, C, ROOT_TASK)[0];
  if (!passed && into !== undefined) return { op: "l4.map", task: C, vpage: mapped, target: toRoot.slot, dest: into, rights: ["read", "write"] };
  if (!names(B, C)) return handTo(B, to(C));
  if (!names(A, B)) return handTo(A, to(B));
  const killer = (x: number) => capsOf(s, x, (k) => ofKind("task", R.alloc)(k) && k.object === A)[0];
  // (the doomed variant: D, which C names, destroys A)
  const D = s.config.vpages % 2 === 1 ? (rest.find((x) => x !== B && x !== C && killer(x)) ?? rest.find((x) => x !== B && x !== C)) : undefined;
  if (s.config.vpages % 2 === 1) {
    if (D === undefined) return create(0);
    if (!killer(D)) return handTo(D, rootCap((k) => ofKind("task", R.alloc)(k) && k.object === A));
    if (!names(C, D)) return handTo(C, to(D));
  }
  const mine = rootCap((k) => (k.kind === "task" && (k.object === B || k.object === C || k.object === D)) || (k.kind === "container" && k.object === box.cap.object));
  if (mine) return { op: "cap.delete", task: ROOT_TASK, slot: mine.slot };
  if (D !== undefined) return { op: "task.destroy", task: D, target: killer(D)!.slot };
  const kill = rootCap((k) => ofKind("task", R.alloc)(k) && k.object === A);
  if (b % 3 === 0 && kill) return { op: "task.destroy", task: ROOT_TASK, target: kill.slot };
  return b % 3 === 1 ? { op: "cap.revoke", task: ROOT_TASK, slot: sub.slot } : { op: "account.destroy", task: ROOT_TASK, account: sub.slot };
}

/**
 * `accountZombie` (staged): an account that becomes a zombie. The root
 * task makes a sub-account Z and, through it, a container with a frame
 * (two on configurations with an odd number of pages, room permitting),
 * which the root task maps. A task H, paid by the root task's account,
 * gets a copy of the root task's capability to Z, and the root task
 * deletes its own: H holds the only capability naming Z, which pays for
 * no task. Then, by the step's `b`, another task X (given a capability to
 * H by the root task) destroys H: the walk through H's capabilities makes
 * Z a zombie inside H, and the root task may act meanwhile
 * (aimAtZombies); or the root task revokes its capability to its own
 * account: H's copy now derives from it, and, H being a greater key than
 * the root task, the revoke's walk reaches it first and makes Z its
 * zombie, while H may act. On configurations with 8 or 12 capability
 * slots, Z pays for two tasks (made through the root task's capability
 * to it), H the one with the greater id, and the revoke comes mostly: Z's
 * walk then takes the other apart first and H last, but for the
 * capability naming Z, and of the root task's two capabilities naming H,
 * it takes one before its last unit. The first thing missing is made
 * each step.
 */
function accountZombie(s: State, others: number[], rootCap: (pred: (k: Cap) => boolean) => Held | undefined, to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null, b: number): Op | null {
  const root = s.tasks[ROOT_TASK]!;
  const dest = freeSlots(s, ROOT_TASK)[0];
  const make = (op: Op, table: readonly unknown[]): Op | null => (dest !== undefined && table.includes(null) ? op : null);
  const Z = s.accounts.findIndex((x) => x?.parent === root.account);
  if (Z < 0) return make({ op: "account.create", task: ROOT_TASK, account: 0, dest: dest!, frames: richZombieStage(s.config.objects) ? 3 : 2, objects: 10 }, s.accounts);
  const zCap = rootCap((k) => ofKind("account", R.alloc)(k) && k.object === Z);
  // (on configurations with 8 or 12 capability slots, Z pays for H: a revoke's account zombie that pays for its holder, which takes H apart last)
  const paysH = s.config.capSlots % 4 === 0;
  // (then two tasks Z pays for, H the one with the greater id: the other, taken apart first, has the smaller)
  const paid = others.filter((x) => s.tasks[x]!.account === Z && to(x));
  const H = paysH ? (paid.length >= 2 ? paid[paid.length - 1] : undefined) : others.find((x) => s.tasks[x]!.account === root.account && to(x));
  const held = H !== undefined && capsOf(s, H, (k) => k.kind === "account" && k.object === Z).length > 0;
  if (!held) {
    if (!zCap) return null;
    const boxes = s.containers.flatMap((c, id) => (c?.account === Z ? [id] : []));
    if (boxes.length < (s.config.vpages % 2 === 1 ? 2 : 1) && s.containers.includes(null)) return make({ op: "container.create", task: ROOT_TASK, account: zCap.slot, dest: dest! }, s.containers);
    if (boxes.length === 0) return null;
    for (const box of boxes) {
      const bc = rootCap((k) => ofKind("container", R.alloc)(k) && k.object === box);
      if (!bc) return null;
      const slots = s.containers[box]!.slots;
      const index = slots.findIndex((x) => x.kind === "hard");
      if (index < 0) return slots.some((x) => x.kind === "empty") ? { op: "container.alloc", task: ROOT_TASK, container: bc.slot, index: slots.findIndex((x) => x.kind === "empty") } : null;
      if (!root.pages.some((m) => m?.source.kind === "slot" && m.source.container === box)) {
        const vpage = pagesOf(root, false)[0];
        return vpage === undefined ? null : { op: "page.map", task: ROOT_TASK, container: bc.slot, index, vpage, rights: ["read", "write"] };
      }
    }
    if (H === undefined) return make({ op: "task.create", task: ROOT_TASK, account: paysH ? zCap.slot : 0, dest: dest! }, s.tasks);
    if (richZombieStage(s.config.objects)) {
      const op = richZombie(s, Z, zCap, H, boxes[0]!, rootCap, to, handTo);
      if (op !== undefined) return op;
    }
    return handTo(H, zCap);
  }
  if (zCap) return { op: "cap.delete", task: ROOT_TASK, slot: zCap.slot };
  const kill = rootCap((k) => ofKind("task", R.alloc)(k) && k.object === H);
  // (where Z pays for H, the root task names H twice: before the last unit, Z's walk takes all names of H but one)
  if (paysH && kill && capsOf(s, ROOT_TASK, (k) => k.kind === "task" && k.object === H).length < 2 && dest !== undefined) return { op: "cap.derive", task: ROOT_TASK, src: kill.slot, dest, rights: ["read"] };
  // (where W stays, mostly the destroy: the revoke's walk would reach W's capabilities, a greater key, before H's; where Z pays for
  // H, mostly the revoke: a destroy of H makes no zombie of Z, which pays for the task the walk is in)
  if ((paysH ? b % 4 !== 0 : wStays(s.config.objects) ? b % 4 === 1 : b % 2 === 1) || !kill) return { op: "cap.revoke", task: ROOT_TASK, slot: 0 };
  // (another task X destroys H, so that the root task, free to act, may touch the containers Z pays for: aimAtZombies)
  const X = others.find((x) => x !== H && s.tasks[x]!.account === root.account);
  if (X === undefined) return make({ op: "task.create", task: ROOT_TASK, account: 0, dest: dest! }, s.tasks);
  const mine = capsOf(s, X, (k) => ofKind("task", R.alloc)(k) && k.object === H)[0];
  return mine ? { op: "task.destroy", task: X, target: mine.slot } : handTo(X, kill);
}

/**
 * `accountZombie`, on three quarters of its configurations (richZombieStage):
 * before H gets its capability to Z, a task W paid by Z wires a DMA handle
 * (which Z then pays for) from Z's container `box`, makes a sub-account of
 * Z, and copies its capabilities to both into H. Then, on a third of those
 * (objects % 64 === 7), the root task destroys W, so that Z pays for no
 * task again; on the others (objects % 32 === 23: wStays) the root task gives
 * W the only capability naming a container with a frame that the root
 * task pays for, W maps a page from `box` and deletes its capability to
 * Z, so that Z's walk takes W apart too (its page, its capabilities, the
 * capabilities naming it), and makes that container a zombie inside Z
 * (room permitting); and H is then mostly destroyed, not reached by a
 * revoke (whose walk would reach W's capabilities first). Z's walk then
 * takes the
 * handle (its capabilities one per unit) and the sub-account as well as
 * the containers. Undefined once there is nothing more to build (or room
 * is lacking).
 */
function richZombie(s: State, Z: number, zCap: Held, H: number, box: number, rootCap: (pred: (k: Cap) => boolean) => Held | undefined, to: (x: number) => Held | undefined, handTo: (x: number, give: Held | undefined) => Op | null): Op | null | undefined {
  const handle = s.handles.findIndex((h) => h?.account === Z);
  const sub = s.accounts.findIndex((a) => a?.parent === Z);
  const inH = (kind: Cap["kind"], id: number) => capsOf(s, H, (k) => k.kind === kind && k.object === id).length > 0;
  // (each as far as the configuration has room for it)
  const needHandle = handle < 0 && s.handles.includes(null);
  const needSub = sub < 0 && s.accounts.includes(null);
  const needCopy = (handle >= 0 && !inH("dma", handle)) || (sub >= 0 && !inH("account", sub));
  if (!needHandle && !needSub && !needCopy) {
    if (wStays(s.config.objects)) {
      // (built: W, which Z pays for, maps a page and lets its capability to Z go, so that H's is the only one)
      const W = s.tasks.findIndex((t) => t?.account === Z);
      const w = s.tasks[W];
      if (!w || w.fault || w.pending) return undefined;
      // (and holds the only capability naming a container with a frame that the root task pays for: Z's walk through W makes it a zombie inside Z)
      const root = s.tasks[ROOT_TASK]!;
      const rootPaid = (k: Cap) => k.kind === "container" && s.containers[k.object]?.account === root.account;
      const given = capsOf(s, W, rootPaid)[0];
      if (!given) {
        const spare = (k: Cap) => ofKind("container", R.alloc)(k) && rootPaid(k) && !root.pages.some((m) => m?.source.kind === "slot" && m.source.container === k.object) && !s.tasks.some((t, id) => id !== ROOT_TASK && t?.caps.some((c) => c?.kind === "container" && c.object === k.object));
        const c = rootCap(spare);
        const dest = freeSlots(s, ROOT_TASK)[0];
        const acc = s.accounts[root.account]!;
        // (as far as there is room: else W goes on without it)
        if (!c && dest !== undefined && s.containers.includes(null) && acc.objectQuota - acc.objectsCharged >= 2) return { op: "container.create", task: ROOT_TASK, account: 0, dest };
        const hard = c && s.containers[c.cap.object]!.slots.some((x) => x.kind === "hard");
        const empty = c ? s.containers[c.cap.object]!.slots.findIndex((x) => x.kind === "empty") : -1;
        if (c && !hard && empty >= 0 && funded(s, c.cap) && s.frames.some((f) => f.refs === 0)) return { op: "container.alloc", task: ROOT_TASK, container: c.slot, index: empty };
        if (c && hard) return handTo(W, c);
      } else {
        const rootsToo = rootCap((k) => k.kind === "container" && k.object === given.cap.object);
        if (rootsToo) return { op: "cap.delete", task: ROOT_TASK, slot: rootsToo.slot };
      }
      const reader = capsOf(s, W, (k) => has(R.read)(k) && k.kind === "container" && k.object === box)[0];
      const index = s.containers[box]!.slots.findIndex((x) => x.kind === "hard");
      const vpage = pagesOf(w, false)[0];
      if (pagesOf(w, true).length === 0 && reader && index >= 0 && vpage !== undefined) return { op: "page.map", task: W, container: reader.slot, index, vpage, rights: ["read"] };
      const mine = capsOf(s, W, (k) => k.kind === "account" && k.object === Z)[0];
      return mine ? { op: "cap.delete", task: W, slot: mine.slot } : undefined;
    }
    // (built: W goes, if it is still there)
    const W = s.tasks.findIndex((t) => t?.account === Z);
    const kill = W < 0 ? undefined : rootCap((k) => ofKind("task", R.alloc)(k) && k.object === W);
    return kill ? { op: "task.destroy", task: ROOT_TASK, target: kill.slot } : undefined;
  }
  const W = s.tasks.findIndex((t, id) => t?.account === Z && !t.pending && !t.fault && !!to(id));
  const dest = freeSlots(s, ROOT_TASK)[0];
  if (W < 0) return dest !== undefined && s.tasks.includes(null) ? { op: "task.create", task: ROOT_TASK, account: zCap.slot, dest } : undefined;
  const free = freeSlots(s, W)[0];
  if (needHandle) {
    const wirable = (k: Cap) => has(R.priv)(k) && k.kind === "container" && k.object === box;
    const c = capsOf(s, W, wirable)[0];
    if (!c) return handTo(W, rootCap(wirable));
    const index = s.containers[box]!.slots.findIndex((x) => x.kind === "hard");
    return free === undefined || index < 0 ? undefined : { op: "dma.wire", task: W, container: c.slot, index, dest: free };
  }
  if (needSub) {
    const mine = capsOf(s, W, (k) => ofKind("account", R.alloc)(k) && k.object === Z)[0];
    if (!mine) return handTo(W, zCap);
    return free === undefined ? undefined : { op: "account.create", task: W, account: mine.slot, dest: free, frames: 0, objects: 1 };
  }
  const toH = capsOf(s, W, (k) => ofKind("task", R.write)(k) && k.object === H)[0];
  if (!toH) return handTo(W, to(H));
  const into = acceptedSlots(s, W, H)[0];
  if (into === undefined) return { op: "task.window", task: H, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages };
  const give = capsOf(s, W, (k) => (k.kind === "dma" && k.object === handle && !inH("dma", handle)) || (k.kind === "account" && k.object === sub && !inH("account", sub)))[0];
  return give ? { op: "cap.copy", task: W, src: give.slot, target: toH.slot, dest: into } : undefined;
}

/**
 * A step of the root task towards a container with a frame (container.create,
 * container.alloc) and, with `page`, towards a mapped page of its own
 * (page.map); null when it has them, or can do none of these.
 */
function rootBuilds(s: State, page: boolean, b: number): Op | null {
  const root = s.tasks[ROOT_TASK]!;
  const framed = capsOf(s, ROOT_TASK, (k) => has(R.priv | R.read | R.write)(k) && containerWith(s, "hard")(k));
  if (framed.length === 0) {
    const c = pick(capsOf(s, ROOT_TASK, (k) => ofKind("container", R.alloc)(k) && containerWith(s, "empty")(k)), b);
    if (c) return { op: "container.alloc", task: ROOT_TASK, container: c.slot, index: s.containers[c.cap.object]!.slots.findIndex((x) => x.kind === "empty") };
    const dest = freeSlots(s, ROOT_TASK)[0];
    return dest !== undefined && s.containers.includes(null) ? { op: "container.create", task: ROOT_TASK, account: 0, dest } : null;
  }
  if (!page || pagesOf(root, true).length > 0) return null;
  const h = pick(framed, b)!;
  const vpage = pick(pagesOf(root, false), b);
  const index = s.containers[h.cap.object]!.slots.findIndex((x) => x.kind === "hard");
  return vpage !== undefined ? { op: "page.map", task: ROOT_TASK, container: h.slot, index, vpage, rights: ["read", "write"] } : null;
}

/**
 * l4.map by a task for which `free` holds of a mapping below one for which
 * `top` holds (in a tree a preempted removal has still to take apart),
 * into a page the receiver accepts; if no holder of such a mapping holds a
 * capability to a task that accepts one, the root task gives one a
 * capability first (cap.copy); null if neither can be done.
 */
function passOnFromTrees(s: State, top: (r: MapRef) => boolean, free: (t: number) => boolean, [a, b]: [number, number]): Op | null {
  const children = new Map<string, MapRef[]>();
  s.tasks.forEach((t, task) =>
    t?.pages.forEach((m, vpage) => {
      if (m?.source.kind !== "map") return;
      const k = mapKey(m.source.parent);
      children.set(k, [...(children.get(k) ?? []), { task, vpage }]);
    }),
  );
  const below: MapRef[] = [];
  const stack: MapRef[] = [];
  s.tasks.forEach((t, task) => t?.pages.forEach((m, vpage) => m && top({ task, vpage }) && stack.push({ task, vpage })));
  const seen = new Set<string>();
  while (stack.length > 0) {
    const r = stack.pop()!;
    if (seen.has(mapKey(r))) continue;
    seen.add(mapKey(r));
    if (free(r.task) && !top(r)) below.push(r);
    stack.push(...(children.get(mapKey(r)) ?? []));
  }
  // (the first mapping from the picked one on whose holder holds a capability to a task that accepts a page from it)
  for (let i = 0; i < below.length; i++) {
    const m = below[(a + i) % below.length]!;
    const targets = capsOf(s, m.task, ofKind("task", R.write)).flatMap((h) => acceptedPages(s, m.task, h.cap.object).map((dest) => ({ slot: h.slot, dest })));
    const to = pick(targets, b);
    if (to) return { op: "l4.map", task: m.task, vpage: m.vpage, target: to.slot, dest: to.dest, rights: ["read"] };
  }
  // none can: the root task gives a holder a capability to a task that accepts a page from it
  const m = pick(below, a);
  if (!m || m.task === ROOT_TASK || !free(ROOT_TASK)) return null;
  const into = capsOf(s, ROOT_TASK, (k) => ofKind("task", R.write)(k) && k.object === m.task)[0];
  const give = pick(capsOf(s, ROOT_TASK, (k) => ofKind("task", R.write)(k) && free(k.object) && acceptedPages(s, m.task, k.object).length > 0), b);
  const dest = into && pick(acceptedSlots(s, ROOT_TASK, m.task), b);
  return into && give && dest !== undefined ? { op: "cap.copy", task: ROOT_TASK, src: give.slot, target: into.slot, dest } : null;
}

/** physmem.reclaim of a clean, unwired frame that a task with a pager maps (its pager gets a notice), or null if there is none. */
function noticeSetup(s: State, [, , c]: Intent["n"]): Op | null {
  // Mostly the frame that most paged tasks' pages map (the most notices), now and then another;
  // not a frame a pager with faults waiting maps: it may need it for its answer.
  const spared = new Set<number>();
  const paged = new Map<number, number>();
  for (const t of s.tasks) {
    for (const m of t?.pages ?? []) {
      if (!m) continue;
      if ((m.bits & BIT_DIRTY) !== 0 || t!.queue.length > 0) spared.add(m.frame);
      if (t!.pager !== null) paged.set(m.frame, (paged.get(m.frame) ?? 0) + 1);
    }
  }
  const frames = [...paged].filter(([f]) => !spared.has(f) && s.frames[f]!.wired === 0).sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const frame = c % 4 === 0 ? pick(frames, c)?.[0] : frames[0]?.[0];
  return frame === undefined ? null : { op: "physmem.reclaim", frame };
}

/**
 * An answer by pager `task` to the oldest fault waiting at it: fault.resolve
 * with one of its pages that has the right the access needs (mostly with
 * exactly the rights it has, now and then with fewer), or fault.refuse when
 * it has none.
 */
function answerBy(s: State, task: number, [, b, c, d]: Intent["n"]): Op {
  const me = s.tasks[task];
  const mapped = pagesOf(me, true);
  const waiting = me?.queue[0];
  const fault = waiting !== undefined ? s.tasks[waiting]?.fault : null;
  const need = fault?.write ? R.write : R.read;
  const fits = mapped.filter((v) => (me!.pages[v]!.rights & need) !== 0);
  // a pager with no page that can answer refuses (now and then it tries all the same: BadRights)
  if (fits.length === 0 && c % 8 !== 0) return { op: "fault.refuse", task };
  const v = (c % 8 !== 0 ? pick(fits, b) : undefined) ?? pick(mapped, b) ?? b % s.config.vpages;
  const have = (me?.pages[v]?.rights ?? R.read) & (R.read | R.write);
  // mostly the rights the access needs and more; now and then fewer (refused: BadRights)
  const options = [have, need & have, R.read & have].filter((x) => x !== 0);
  return { op: "fault.resolve", task, vpage: v, rights: rightsList(pick(options, d) ?? R.read) };
}

/**
 * A step towards a fault that `kind` (a pager's answer) can answer: an
 * access by a task whose pager fits (sigma0 for sigma0.serve, another task
 * for fault.resolve and fault.refuse) at a page it lacks; failing that, a
 * task.pager giving such a pager to a task someone holds a capability to.
 */
function faultSetup(s: State, kind: OpKind, n: Intent["n"], bySigma0 = kind === "sigma0.serve"): Op | null {
  const [a, b, c, d] = n;
  if (!bySigma0) {
    // a pager with faults waiting that waits itself: its own pager answers first
    const stuck = s.tasks.flatMap((t, id) => (t && id !== 0 && t.fault && t.queue.length > 0 ? [id] : []));
    const blocked = pick(stuck, b);
    if (blocked !== undefined) {
      const above = s.tasks[blocked]!.pager!;
      if (above === 0) return { op: "sigma0.serve" };
      if (!s.tasks[above]!.fault) return answerBy(s, above, n);
    }
    // a pager with faults waiting and no page to answer them with: give it one
    const needy = s.tasks.flatMap((t, id) => (t && id !== 0 && !t.fault && t.queue.length > 0 && !t.pages.some((m) => m) ? [id] : []));
    const pager = pick(needy, a);
    if (pager !== undefined) {
      const op = pagesFor(s, pager, n);
      if (op) return op;
    }
  } else if (!s.tasks[0]!.pages.some((m) => m)) {
    // sigma0 has nothing to hand out yet: it maps a page of its own first
    const op = rootPages(s, b);
    if (op) return op;
  }
  const fits = (pager: number | null) => pager !== null && (bySigma0 ? pager === 0 : pager !== 0) && s.tasks[pager]!.queue.length < (s.config.faultQueue ?? 4);
  const paged = s.tasks.flatMap((t, id) => (t && id !== 0 && !t.fault && fits(t.pager) ? [id] : []));
  // (for fault.resolve, mostly tasks whose pager has pages to give)
  const giving = paged.filter((id) => s.tasks[s.tasks[id]!.pager!]!.pages.some((m) => m));
  const task = pick(b % 4 !== 0 && giving.length ? giving : paged, a);
  if (task !== undefined) {
    const vpage = faultingPage(s, task, c);
    return d % 3 === 0 ? { op: "mem.write", task, vpage, value: c - 500 } : { op: "mem.read", task, vpage };
  }
  // a pager other than sigma0 needs two tasks besides the root task: make them first (task.create, the prerequisite)
  const others = s.tasks.filter((t, id) => t && id !== 0).length;
  if (!bySigma0 && others < 2 && s.tasks.includes(null)) return null;
  for (const [holder, t] of s.tasks.entries()) {
    if (!t || t.fault) continue;
    const tasks = capsOf(s, holder, ofKind("task", R.write));
    const targets = tasks.filter((h) => h.cap.object !== 0 && !s.tasks[h.cap.object]!.fault);
    const target = pick(targets, b);
    if (!target) continue;
    const pagers = tasks.filter((h) => (bySigma0 ? h.cap.object === 0 : h.cap.object !== 0 && h.cap.object !== target.cap.object));
    // (mostly a pager that has pages to answer with)
    const giving = pagers.filter((h) => s.tasks[h.cap.object]!.pages.some((m) => m));
    if (!bySigma0 && giving.length === 0 && pagers.length > 0 && d % 2 === 0) {
      // none has a page to answer with: give one a page first
      const op = pagesFor(s, pick(pagers, c)!.cap.object, n);
      if (op) return op;
    }
    const pager = pick(c % 4 !== 0 && giving.length ? giving : pagers, c);
    if (pager) return { op: "task.pager", task: holder, target: target.slot, pager: pager.slot };
  }
  // every task that could fault waits already: answer the oldest fault of a pager that does not wait itself
  const answerable = s.tasks.flatMap((t, id) => (t && !t.fault && t.queue.length > 0 ? [id] : []));
  const pager = pick(answerable, d);
  if (pager !== undefined) return pager === 0 ? { op: "sigma0.serve" } : answerBy(s, pager, n);
  // (no task can have a pager other than sigma0: fault to sigma0 instead)
  return bySigma0 ? null : faultSetup(s, kind, n, true);
}

/** A step towards a page in the root task's address space: page.map, else container.alloc, else container.create (by the root task). */
function rootPages(s: State, b: number): Op | null {
  if (s.tasks[0]!.fault) return null;
  const own = ownPageMap(s, 0, b);
  if (own) return own;
  for (const h of capsOf(s, 0, ofKind("container", R.alloc))) {
    const index = s.containers[h.cap.object]?.slots.findIndex((x) => x.kind === "empty") ?? -1;
    if (index >= 0) return { op: "container.alloc", task: 0, container: h.slot, index };
  }
  const dest = pick(freeSlots(s, 0), b);
  return dest === undefined ? null : { op: "container.create", task: 0, account: 0, dest };
}

/**
 * A step that gives task `to` a mapped page: a page.map of its own, else an
 * open receive window, else an l4.map from a task that can send to it.
 */
function pagesFor(s: State, to: number, n: Intent["n"]): Op | null {
  const [a, b, c] = n;
  const me = s.tasks[to]!;
  const own = ownPageMap(s, to, b);
  if (own) return own;
  if (me.window.pages === 0) return { op: "task.window", task: to, slot: me.window.slot, slots: me.window.slots, page: 0, pages: s.config.vpages };
  for (const [sender, t] of s.tasks.entries()) {
    if (!t || t.fault || sender === to) continue;
    const target = capsOf(s, sender, (cap) => ofKind("task", R.write)(cap) && cap.object === to)[0];
    const v = pick(pagesOf(t, true), a);
    const dest = pick(acceptedPages(s, sender, to), c);
    if (target && v !== undefined && dest !== undefined) return { op: "l4.map", task: sender, vpage: v, target: target.slot, dest, rights: rightsList(t.pages[v]!.rights) };
  }
  // nobody that can send to it has a page: the root task maps one of its own
  return s.tasks[0]!.fault ? null : ownPageMap(s, 0, b);
}

/** A page.map by `task` of a hard slot one of its container capabilities reaches, if it has one and a free page. */
function ownPageMap(s: State, task: number, b: number): Op | null {
  const free = pagesOf(s.tasks[task], false);
  if (free.length === 0) return null;
  for (const h of capsOf(s, task, (cap) => cap.kind === "container" && (cap.rights & (R.read | R.write)) !== 0)) {
    const index = s.containers[h.cap.object]?.slots.findIndex((x) => x.kind === "hard") ?? -1;
    if (index >= 0) return { op: "page.map", task, container: h.slot, index, vpage: pick(free, b)!, rights: rightsList(h.cap.rights & (R.read | R.write)) };
  }
  return null;
}

/**
 * A page for task `task` to fault on: one it has not mapped, preferring
 * (when sigma0 is its pager) pages sigma0 has mapped and has not handed to
 * another task, so that sigma0 serves some and refuses others.
 */
function faultingPage(s: State, task: number, n: number): number {
  const me = s.tasks[task]!;
  const free = pagesOf(me, false);
  if (me.pager === 0) {
    const sigma0 = s.tasks[0]!;
    const servable = free.filter((v) => sigma0.pages[v] && (s.sigma0[v] === null || s.sigma0[v] === task));
    // (one in eight asks for a page sigma0 gave another task first: it must refuse)
    const taken = free.filter((v) => sigma0.pages[v] && s.sigma0[v] !== null && s.sigma0[v] !== task);
    if (n % 8 === 1 && taken.length) return pick(taken, n >> 3)!;
    if (n % 4 !== 0 && servable.length) return pick(servable, n >> 2)!;
  }
  return pick(free, n) ?? n % s.config.vpages;
}

/** Of the hard slots the container capabilities `caps` reach, the one holding the frame with most references. */
function mostHeld(s: State, caps: readonly Held[]): { h: Held; index: number } | undefined {
  let best: { h: Held; index: number } | undefined;
  let most = 0;
  for (const h of caps) {
    s.containers[h.cap.object]?.slots.forEach((x, index) => {
      if (x.kind === "hard" && s.frames[x.frame]!.refs > most) {
        most = s.frames[x.frame]!.refs;
        best = { h, index };
      }
    });
  }
  return best;
}

/** The height of the mapping tree below each mapping that has derived mappings (1: children only), by `task:vpage`. */
function treeHeights(s: State): Map<string, number> {
  const heights = new Map<string, number>();
  s.tasks.forEach((t) =>
    t?.pages.forEach((m) => {
      // walk up from every mapping, raising each ancestor's height to its distance from here
      let h = 0;
      for (let at: Mapping | null | undefined = m; at?.source.kind === "map"; at = s.tasks[at.source.parent.task]?.pages[at.source.parent.vpage]) {
        const key = `${at.source.parent.task}:${at.source.parent.vpage}`;
        if ((heights.get(key) ?? 0) < ++h) heights.set(key, h);
      }
    }),
  );
  return heights;
}

/** How many times the mapping at (task, vpage) was passed on from its root (0 for a root mapping). */
function mappingDepth(s: State, task: number, vpage: number): number {
  let depth = 0;
  for (let m = s.tasks[task]?.pages[vpage]; m?.source.kind === "map"; m = s.tasks[m.source.parent.task]?.pages[m.source.parent.vpage]) depth++;
  return depth;
}

/** Revoking a boot capability takes every authority there is: raw operations leave it to other tasks. */
const DESTRUCTIVE = new Set<OpKind>(["cap.revoke"]);

/** An operation from the raw numbers: small values, often out of range. */
function rawOp(kind: OpKind, [a, b, c, d, e]: Intent["n"]): Op {
  // Raw numbers may name anything, except that a revoke by the root task
  // could take everything and end the interesting part of the trace (the root
  // task cannot be killed and its boot capabilities cannot be deleted: those
  // attempts are welcome, they must fail with IsRoot).
  const task = DESTRUCTIVE.has(kind) ? 1 + (a % 4) : a % 5;
  const x = b % 12;
  const y = c % 12;
  const z = d % 12;
  const rights = rightsList(e % 16);
  switch (kind) {
    case "account.create":
      return { op: kind, task, account: x, dest: y, frames: d % 10, objects: e % 60 };
    case "account.transfer":
      return { op: kind, task, from: x, to: y, frames: d % 10, objects: e % 60 };
    case "account.destroy":
    case "account.yield":
      return { op: kind, task, account: x };
    case "account.request":
    case "account.answer":
    case "account.yieldRequest":
      return { op: kind, task, account: x, frames: d % 10 };
    case "dma.wire":
      return { op: kind, task, container: x, index: y % 6, dest: z };
    case "dma.unwire":
      return { op: kind, task, handle: x };
    case "dma.write":
      return { op: kind, task, handle: x, value: e - 500 };
    case "physmem.relocate":
    case "physmem.reclaim":
      return { op: kind, frame: (a % 12) - 2 };
    case "task.pager":
      return { op: kind, task, target: x, pager: e % 5 === 0 ? null : y };
    case "fault.resolve":
      return { op: kind, task, vpage: x, rights };
    case "fault.refuse":
    case "fault.notice":
      return { op: kind, task };
    case "sigma0.serve":
      return { op: kind };
    case "task.create":
    case "container.create":
      return { op: kind, task, account: x, dest: y };
    case "task.destroy":
      return { op: kind, task, target: x };
    case "container.destroy":
      return { op: kind, task, container: x };
    case "container.alloc":
    case "container.free":
    case "container.demote":
    case "container.promote":
    case "container.swapOut":
    case "container.swapIn":
      return { op: kind, task, container: x, index: y % 6 };
    case "container.copy":
      return { op: kind, task, src: x, srcIndex: y % 6, dst: z, dstIndex: e % 6 };
    case "cap.derive":
      return { op: kind, task, src: x, dest: y, rights };
    case "cap.copy":
      return { op: kind, task, src: x, target: y, dest: z };
    case "task.window":
      return { op: kind, task, slot: x, slots: y, page: z, pages: e % 12 };
    case "cap.delete":
    case "cap.revoke":
      return { op: kind, task, slot: x };
    case "page.map":
      return { op: kind, task, container: x, index: y % 6, vpage: z, rights };
    case "page.unmap":
      return { op: kind, task, vpage: x, order: d % 4, mode: UNMAP_MODES[e % 3]! };
    case "page.bits":
    case "mem.read":
      return { op: kind, task, vpage: x };
    case "l4.map":
    case "l4.share":
      return { op: kind, task, vpage: x, target: y, dest: z, rights };
    case "l4.grant":
      return { op: kind, task, vpage: x, target: y, dest: z };
    case "mem.write":
      return { op: kind, task, vpage: x, value: e - 500 };
  }
}
