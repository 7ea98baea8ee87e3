/**
 * Bounded-exhaustive exploration: breadth-first search over every state the
 * spec can reach from boot in a few operations on a tiny configuration,
 * trying every operation with every argument from small domains. Each new
 * state is checked against the named invariants (and each step against the
 * two-state properties); with `impl`, the impl is driven along the same path
 * and its abstraction compared. Breadth-first order means the first broken
 * invariant found comes with a shortest trace.
 */
import { checkInvariants } from "../../spec/invariants.js";
import { checkTransition } from "../../spec/transitions.js";
import { continues } from "../../spec/preemption.js";
import { step } from "../../spec/operations.js";
import type { Cap, CapRef, Mapping, Slot, State } from "../../spec/state.js";
import { boot, leafSpan, ROOT_TASK } from "../../spec/state.js";
import type { Config, Op, Right, Trace } from "../../spec/vocabulary.js";
import { OP_KINDS, UNMAP_MODES } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import type { Hang } from "./watchdog.js";
import { inImpl, inSpec, markWhere, runningFrom, SPEC_SECONDS, THREAD_CELLS, watchThreads, whereNow } from "./watchdog.js";
import { Machine } from "../../impl/machine.js";
import { type Driver, DriverSetupError } from "../driver/client.js";
import { firstDifference } from "./compare.js";
import { fingerprint } from "./fingerprint.js";
import { describeThrow } from "./lockstep.js";
import { Worker } from "node:worker_threads";
import type { Job, JobResult } from "./explore-worker.js";

export { fingerprint };

export const TINY_CONFIG: Config = { frames: 2, objects: 10, accounts: 2, tasks: 2, containers: 1, capSlots: 4, vpages: 2, containerSlots: 1, handles: 1 };

/** A key that is the same for equal states whatever the key order of their objects. */
export function canonicalKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const RIGHTS: Right[][] = [[], ["read"], ["read", "write"], ["read", "write", "alloc", "priv"]];
const MAP_RIGHTS: Right[][] = [["read"], ["write"], ["read", "write"]];

/** Every operation from the small domains, for every live task of `s` (and the environment). */
export function enumerateOps(s: State): Op[] {
  const { capSlots, containerSlots, vpages, frames } = s.config;
  const slots = range(capSlots);
  const idx = range(containerSlots);
  const pages = range(vpages);
  const out: Op[] = [];
  for (let task = 0; task < s.tasks.length; task++) {
    if (!s.tasks[task]) continue;
    for (const kind of OP_KINDS) {
      switch (kind) {
        case "account.create":
          for (const account of slots) for (const dest of slots) for (const frames of [0, 1]) out.push({ op: kind, task, account, dest, frames, objects: 2 });
          break;
        case "account.transfer":
          for (const from of slots) for (const to of slots) out.push({ op: kind, task, from, to, frames: 1, objects: 1 });
          break;
        case "account.request":
        case "account.answer":
        case "account.yieldRequest":
          for (const account of slots) out.push({ op: kind, task, account, frames: 1 });
          break;
        case "account.destroy":
        case "account.yield":
          for (const account of slots) out.push({ op: kind, task, account });
          break;
        case "task.create":
        case "container.create":
          for (const account of slots) for (const dest of slots) out.push({ op: kind, task, account, dest });
          break;
        case "task.destroy":
          for (const target of slots) out.push({ op: kind, task, target });
          break;
        case "task.window":
          // open everything, or close it again
          out.push({ op: kind, task, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages });
          out.push({ op: kind, task, slot: 0, slots: 0, page: 0, pages: 0 });
          break;
        case "container.destroy":
          for (const container of slots) out.push({ op: kind, task, container });
          break;
        case "container.alloc":
        case "container.free":
        case "container.demote":
        case "container.promote":
        case "container.swapOut":
        case "container.swapIn":
          for (const container of slots) for (const index of idx) out.push({ op: kind, task, container, index });
          break;
        case "container.copy":
          for (const src of slots) for (const srcIndex of idx) for (const dst of slots) for (const dstIndex of idx) out.push({ op: kind, task, src, srcIndex, dst, dstIndex });
          break;
        case "cap.derive":
          for (const src of slots) for (const dest of slots) for (const rights of RIGHTS) out.push({ op: kind, task, src, dest, rights });
          break;
        case "cap.copy":
          for (const src of slots) for (const target of slots) for (const dest of slots) out.push({ op: kind, task, src, target, dest });
          break;
        case "cap.delete":
        case "cap.revoke":
          for (const slot of slots) out.push({ op: kind, task, slot });
          break;
        case "page.map":
          for (const container of slots) for (const index of idx) for (const vpage of pages) for (const rights of MAP_RIGHTS) out.push({ op: kind, task, container, index, vpage, rights });
          break;
        case "page.unmap":
          for (const vpage of pages) for (const mode of UNMAP_MODES) out.push({ op: kind, task, vpage, order: 0, mode });
          break;
        case "page.bits":
        case "mem.read":
          for (const vpage of pages) out.push({ op: kind, task, vpage });
          break;
        case "mem.write":
          for (const vpage of pages) out.push({ op: kind, task, vpage, value: 7 });
          break;
        case "l4.map":
        case "l4.share":
          for (const vpage of pages) for (const target of slots) for (const dest of pages) for (const rights of MAP_RIGHTS) out.push({ op: kind, task, vpage, target, dest, rights });
          break;
        case "l4.grant":
          for (const vpage of pages) for (const target of slots) for (const dest of pages) out.push({ op: kind, task, vpage, target, dest });
          break;
        case "dma.wire":
          for (const container of slots) for (const index of idx) for (const dest of slots) out.push({ op: kind, task, container, index, dest });
          break;
        case "dma.unwire":
          for (const handle of slots) out.push({ op: kind, task, handle });
          break;
        case "dma.write":
          for (const handle of slots) out.push({ op: kind, task, handle, value: 9 });
          break;
        case "task.pager":
          for (const target of slots) {
            out.push({ op: kind, task, target, pager: null });
            for (const pager of slots) out.push({ op: kind, task, target, pager });
          }
          break;
        case "fault.resolve":
          for (const vpage of pages) for (const rights of MAP_RIGHTS) out.push({ op: kind, task, vpage, rights });
          break;
        case "fault.refuse":
        case "fault.notice":
          out.push({ op: kind, task });
          break;
        case "sigma0.serve":
        case "physmem.relocate":
        case "physmem.reclaim":
          break; // environment: below, once per state
      }
    }
  }
  out.push({ op: "sigma0.serve" });
  for (const frame of range(frames)) out.push({ op: "physmem.relocate", frame });
  for (const frame of range(frames)) out.push({ op: "physmem.reclaim", frame });
  return out;
}

export interface ExploreOptions {
  readonly config: Config;
  readonly depth: number;
  readonly maxStates?: number;
  /** drive the impl along every new path and compare its abstraction */
  readonly impl?: boolean;
  /** the implementation to drive (default: impl/machine.ts) */
  readonly Impl?: new (config: Config) => Machine;
  /** or a driver process (refinement-tests/driver) */
  readonly driver?: Driver;
  readonly onProgress?: (r: ExploreReport) => void;
  /** called with everything needed to resume, every `checkpointEvery` seconds (default 60) and at the end */
  readonly onCheckpoint?: (p: ExploreProgress) => void;
  readonly checkpointEvery?: number;
  /** a search to continue (from a checkpoint) */
  readonly resume?: ExploreProgress;
  /** merge states that differ only in which capability slot, page or container slot holds what (see relabeled) */
  readonly symmetry?: boolean;
  /** on worker threads: how long a call into impl/ may run (default 10 s; the spec's, SPEC_SECONDS) before the search ends with ExploreHang */
  readonly implSeconds?: number;
}

export interface ExploreReport {
  states: number;
  edges: number;
  /** operations tried from states with a preempted removal, by anyone but the task that must continue it (refused ones included) */
  interleaved?: number;
  depthReached: number;
  seconds: number;
  complete: boolean;
  /** the first problem found (breadth-first: along a shortest path) */
  violation?: { message: string; trace: Trace } | undefined;
  /** bytes of bookkeeping per distinct state (fingerprints, parents, operation indices) */
  bytesPerState?: number;
}

// ---------------------------------------------------------------------------
// Compact bookkeeping: a visited state costs a 64-bit fingerprint in an
// open-addressing table and two 32-bit words (its parent and which of the
// parent's enumerated operations led to it). States are not kept: a state is
// rebuilt by replaying its path from boot, which costs one step per
// expansion because breadth-first order expands siblings one after another
// (the path to the last one is cached).


/**
 * Symmetry reduction: the state relabeled so that states that differ only
 * in which capability slot, page or container slot holds what get one
 * fingerprint. The explorer enumerates every slot, page and index alike and
 * the spec never chooses one by its number, so relabeling these is a
 * symmetry of the search: a state is explored once for all its relabelings.
 * Fixed: the root task's boot slots (the properties name them), and pages
 * across leaf pages (a leaf is charged as a unit), and every page once a
 * task has a pager or sigma0 has handed out a page (a fault names its page,
 * and sigma0 answers page p with its own page p). Not relabeled: task,
 * account, container, handle, frame and swap-page ids, which the spec
 * chooses lowest-free. Each set of labels is sorted by what it holds,
 * described without the labels being sorted (a capability by its kind,
 * object, rights and its parent's; a mapping by its frame, rights, bits and
 * source), ties kept in their order: a relabeling, so merging is sound; it
 * may miss some symmetric pairs (ties), never merge states that are not.
 */
export function relabeled(s: State): State {
  const order = <T>(items: readonly T[], key: (x: T, i: number) => string, fixed = 0): number[] => {
    // new label of each old label: the fixed ones stay, the rest sorted by key (empty ones last), ties in order
    const rest = items.map((x, i) => [key(x, i), i] as const).slice(fixed);
    rest.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    const map = items.map((_, i) => i);
    rest.forEach(([, old], k) => (map[old] = fixed + k));
    return map;
  };
  const slotKey = (x: Slot) => (x.kind === "empty" ? "~" : x.kind === "hard" ? `h${x.frame}` : x.kind === "soft" ? `s${x.frame}:${x.epoch}` : `w${x.page}`);
  // (under a work budget a preempted container.destroy empties slots in order of index and names the one it is at: they keep their labels)
  const indexMap = s.containers.map((c) => (!c ? [] : s.config.budget !== undefined ? c.slots.map((_, i) => i) : order(c.slots, slotKey)));
  const capAt = (r: CapRef | null) => (r ? s.tasks[r.task]?.caps[r.slot] ?? null : null);
  const capKeyOf = (c: Cap | null) => (c ? `${c.kind}:${c.object}:${c.rights}` : "~");
  // under a work budget a preempted revoke walks capabilities in order of slot and names them in its record: slots keep their labels
  const capMap = s.tasks.map((t, id) =>
    !t ? [] : s.config.budget !== undefined ? t.caps.map((_, i) => i) : order(t.caps, (c) => (c ? `${capKeyOf(c)}<${c.parent ? `${c.parent.task}:${capKeyOf(capAt(c.parent))}` : "-"}` : "~"), id === ROOT_TASK ? 2 : 0),
  );
  const span = leafSpan(s.config);
  // sigma0 serves page p of a task with its own page p, and a fault names its page: once pagers are in play, pages keep their labels;
  // so they do under a work budget, where a preempted unmap walks children in order of page
  const pagesFixed = s.config.budget !== undefined || s.sigma0.some((o) => o !== null) || s.tasks.some((t) => t !== null && (t.pager !== null || t.fault !== null));
  const pageMap = s.tasks.map((t) => {
    if (!t) return [];
    if (pagesFixed) return t.pages.map((_, v) => v);
    const mapKey = (m: Mapping | null) =>
      m ? `${m.frame}:${m.rights}:${m.bits}:${m.source.kind === "slot" ? `${m.source.container}.${indexMap[m.source.container]![m.source.index]}.${m.source.cap.task}` : `${m.source.parent.task}`}` : "~";
    const map: number[] = [];
    for (let base = 0; base < t.pages.length; base += span) {
      const leaf = t.pages.slice(base, base + span);
      for (const v of order(leaf, mapKey)) map.push(base + v);
    }
    return map;
  });
  const cap = (r: CapRef): CapRef => ({ task: r.task, slot: capMap[r.task]![r.slot]! });
  const permute = <T>(xs: readonly T[], map: readonly number[], f: (x: T) => T): T[] => {
    const out = new Array<T>(xs.length);
    xs.forEach((x, i) => (out[map[i]!] = f(x)));
    return out;
  };
  return {
    ...s,
    containers: s.containers.map((c, id) => (c ? { account: c.account, slots: permute(c.slots, indexMap[id]!, (x) => x) } : null)),
    tasks: s.tasks.map((t, id) =>
      t
        ? {
            account: t.account,
            window: t.window,
            pager: t.pager,
            fault: t.fault,
            queue: t.queue,
            notices: t.notices.map((n) => ({ task: n.task, vpage: pageMap[n.task]![n.vpage]! })),
            missed: t.missed,
            pending: t.pending,
            caps: permute(t.caps, capMap[id]!, (c) => (c ? { ...c, parent: c.parent ? cap(c.parent) : null } : null)),
            pages: permute(t.pages, pageMap[id]!, (m) =>
              m
                ? {
                    ...m,
                    source:
                      m.source.kind === "slot"
                        ? { kind: "slot" as const, container: m.source.container, index: indexMap[m.source.container]![m.source.index]!, cap: cap(m.source.cap) }
                        : { kind: "map" as const, parent: { task: m.source.parent.task, vpage: pageMap[m.source.parent.task]![m.source.parent.vpage]! } },
                  }
                : null,
            ),
          }
        : null,
    ),
  };
}

/** A set of 64-bit fingerprints: open addressing over one Uint32Array, grown at half full. */
export class FingerprintSet {
  private keys: Uint32Array = new Uint32Array(2 << 12);
  size = 0;

  /** Adds a fingerprint; false if it was there. */
  add(hi: number, lo: number): boolean {
    if (2 * (this.size + 1) > this.keys.length / 2) this.grow();
    const i = this.cell(hi, lo);
    if (this.keys[2 * i] !== 0 || this.keys[2 * i + 1] !== 0) return false;
    this.keys[2 * i] = hi;
    this.keys[2 * i + 1] = lo === 0 && hi === 0 ? 1 : lo;
    this.size++;
    return true;
  }

  has(hi: number, lo: number): boolean {
    const i = this.cell(hi, lo);
    return this.keys[2 * i] !== 0 || this.keys[2 * i + 1] !== 0;
  }

  /** The cell holding (hi, lo), or the empty cell where it would go (linear probing). */
  private cell(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty cell
    const keys = this.keys;
    const mask = keys.length / 2 - 1;
    for (let i = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & mask; ; i = (i + 1) & mask) {
      const h = keys[2 * i]!;
      const l = keys[2 * i + 1]!;
      if ((h === 0 && l === 0) || (h === hi && l === lo)) return i;
    }
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Uint32Array(old.length * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.add(old[i]!, old[i + 1]!);
  }

  get bytes(): number {
    return this.keys.byteLength;
  }

  /** The table as it is, for a checkpoint. */
  raw(): Uint32Array {
    return this.keys;
  }

  static fromRaw(keys: Uint32Array, size: number): FingerprintSet {
    const s = new FingerprintSet();
    s.keys = keys;
    s.size = size;
    return s;
  }
}

/** A growable Int32Array. */
class Column {
  data: Int32Array = new Int32Array(1 << 12);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = x;
  }
}

/** Where a search stands: everything a checkpoint holds. */
export interface ExploreProgress {
  /** node i's parent and the index, among its parent's enumerated operations, of the operation that led to it (node 0: boot) */
  readonly parents: Int32Array;
  readonly opIndex: Int32Array;
  readonly nodes: number;
  /** the first node of each depth (depthStart[d]), up to the one being expanded */
  readonly depthStart: readonly number[];
  /** the next node to expand */
  readonly expand: number;
  readonly seen: FingerprintSet;
  readonly report: ExploreReport;
}

/**
 * Rebuilds states from the compact node table: node i's state is its
 * parent's after the opIndex[i]-th enumerated operation. The path to the
 * last node rebuilt is cached, so rebuilding nodes in order costs one step
 * each.
 */
export class Rebuilder {
  private ids: number[] = [0];
  private states: State[];
  private ops: (Op[] | null)[] = [null];

  constructor(
    root: State,
    private parents: Int32Array,
    private opIndex: Int32Array,
  ) {
    this.states = [root];
  }

  /** New tables (grown), same nodes. */
  update(parents: Int32Array, opIndex: Int32Array): void {
    this.parents = parents;
    this.opIndex = opIndex;
  }

  /** The operations enumerated from the k-th state of the cached path. */
  opsAt(k: number): Op[] {
    return (this.ops[k] ??= enumerateOps(this.states[k]!));
  }

  /** The state of `node`; it becomes the end of the cached path. */
  stateOf(node: number): State {
    const chain: number[] = [];
    for (let x = node; x > 0; x = this.parents[x]!) chain.push(x);
    chain.push(0);
    chain.reverse();
    let k = 0;
    while (k + 1 < chain.length && this.ids[k + 1] === chain[k + 1]) k++;
    this.ids.length = this.states.length = this.ops.length = k + 1;
    for (let j = k + 1; j < chain.length; j++) {
      const op = this.opsAt(j - 1)[this.opIndex[chain[j]!]!]!;
      this.ids.push(chain[j]!);
      this.states.push(step(this.states[j - 1]!, op).state);
      this.ops.push(null);
    }
    return this.states[chain.length - 1]!;
  }

  /** The operations enumerated from the end of the cached path. */
  lastOps(): Op[] {
    return this.opsAt(this.ids.length - 1);
  }

  /** The operations from boot to the end of the cached path, then `last`. */
  path(last?: Op): Op[] {
    const ops: Op[] = [];
    for (let j = 1; j < this.ids.length; j++) ops.push(this.opsAt(j - 1)[this.opIndex[this.ids[j]!]!]!);
    if (last) ops.push(last);
    return ops;
  }
}

/** What expanding a run of nodes found: children in the order found, and the first violation. */
export interface Expansion {
  edges: number;
  /** operations tried from states with a preempted removal, other than its continuation */
  interleaved: number;
  /** stop here: a violation, found along this path */
  violation?: { message: string; ops: Op[] };
}

/**
 * Expands nodes [from, to): every enumerated operation from each node's
 * state; each successful step is checked against the two-state properties,
 * and each new state (as `isNew` says, which also records it) against the
 * invariants and, with opts.impl, the impl. `child` is told each new state.
 * `stop` is asked after each new state (a state budget).
 */
export function expandRange(
  opts: Pick<ExploreOptions, "config" | "impl" | "Impl" | "driver" | "symmetry">,
  rb: Rebuilder,
  from: number,
  to: number,
  isNew: (hi: number, lo: number) => boolean,
  child: (parent: number, opIndex: number, hi: number, lo: number) => void,
  stop: () => boolean = () => false,
  after: (node: number) => void = () => {},
): Expansion {
  const out: Expansion = { edges: 0, interleaved: 0 };
  for (let node = from; node < to; node++) {
    const state = rb.stateOf(node);
    const ops = rb.lastOps();
    const waiting = state.tasks.flatMap((t) => (t?.pending ? [t.pending] : []));
    markWhere(0, node); // (for a hang report: hangPath)
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      markWhere(1, i);
      if (waiting.length > 0 && !waiting.some((p) => continues(p, op))) out.interleaved++;
      const s = inSpec(0, () => step(state, op));
      if (!s.result.ok) continue; // errors change nothing: no new state
      out.edges++;
      const transition = inSpec(2, () => checkTransition(state, op, s.state));
      if (transition.length) {
        out.violation = { ops: rb.path(op), message: `two-state property ${transition[0]!.invariant} broken: ${transition[0]!.message}` };
        return out;
      }
      const [hi, lo] = fingerprint(opts.symmetry ? relabeled(s.state) : s.state);
      if (!isNew(hi, lo)) continue;
      child(node, i, hi, lo);
      const broken = inSpec(1, () => checkInvariants(s.state));
      if (broken.length) {
        out.violation = { ops: rb.path(op), message: `invariant ${broken[0]!.invariant} broken: ${broken[0]!.message}` };
        return out;
      }
      if (opts.impl) {
        const path = rb.path(op);
        const diff = implDiffers(opts, path, s.state);
        if (diff) {
          out.violation = { ops: path, message: `spec and impl differ: ${diff}` };
          return out;
        }
      }
      if (stop()) return out;
    }
    after(node);
  }
  return out;
}

/** The search's tables, grown as it goes. */
class Search {
  readonly parents = new Column();
  readonly opIndex = new Column();
  readonly depthStart: number[] = [];
  seen = new FingerprintSet();
  expand = 0;
  /** what the search has found so far (continued from the checkpoint's, when resumed) */
  readonly report: ExploreReport;
  private readonly started = Date.now();
  private readonly secondsBefore: number;

  constructor(
    readonly root: State,
    resume?: ExploreProgress,
  ) {
    this.report = resume ? { ...resume.report, violation: undefined, complete: true } : { states: 1, edges: 0, depthReached: 0, seconds: 0, complete: true };
    this.secondsBefore = this.report.seconds;
    if (resume) {
      this.parents.data = resume.parents.slice(0, Math.max(resume.nodes, 1 << 12));
      this.opIndex.data = resume.opIndex.slice(0, Math.max(resume.nodes, 1 << 12));
      this.parents.length = this.opIndex.length = resume.nodes;
      this.seen = resume.seen;
      this.depthStart.push(...resume.depthStart);
      this.expand = resume.expand;
    } else {
      const [hi, lo] = fingerprint(root);
      this.seen.add(hi, lo);
      this.parents.push(-1);
      this.opIndex.push(-1);
      this.depthStart.push(0, 1); // depth 0 is node 0; depth 1 starts at node 1
    }
  }

  depthOf(node: number): number {
    let d = 0;
    while (d + 1 < this.depthStart.length && this.depthStart[d + 1]! <= node) d++;
    return d;
  }

  add(parent: number, opIndex: number): void {
    this.parents.push(parent);
    this.opIndex.push(opIndex);
  }

  /** Seconds of searching, those before a resume included. */
  elapsed(): number {
    return this.secondsBefore + (Date.now() - this.started) / 1000;
  }

  /** Everything a checkpoint holds. */
  progress(): ExploreProgress {
    return { parents: this.parents.data, opIndex: this.opIndex.data, nodes: this.parents.length, depthStart: [...this.depthStart], expand: this.expand, seen: this.seen, report: { ...this.report, seconds: this.elapsed() } };
  }

  /** The report at the end of a search (and its last checkpoint, unless it found a violation). */
  end(onCheckpoint?: (p: ExploreProgress) => void): ExploreReport {
    this.report.seconds = this.elapsed();
    this.report.bytesPerState = this.bytes() / this.report.states;
    if (onCheckpoint && !this.report.violation) onCheckpoint(this.progress());
    return this.report;
  }

  bytes(): number {
    return this.parents.data.byteLength + this.opIndex.data.byteLength + this.seen.bytes;
  }
}

/**
 * The path a hang report shows (markWhere says where the search stood):
 * from boot to `node`, then its `i`-th operation, when the spec hung; the
 * impl's replay of that path up to the operation it was applying (`at`;
 * none, -1, in its constructor), when the impl hung.
 */
function hangPath(rb: Rebuilder, side: "impl" | "spec", [node, i, at]: readonly number[]): Op[] {
  rb.stateOf(node!);
  const path = rb.path(rb.lastOps()[i!]);
  return side === "impl" ? path.slice(0, at! + 1) : path;
}

/** A worker thread of exploreParallel did not return from a call into the spec or the impl within its limit; it was terminated. */
export class ExploreHang extends Error {
  constructor(readonly hang: Hang) {
    super(`the ${hang.side} did not return from ${hang.call} on a worker thread within its limit`);
  }
}

export function explore(opts: ExploreOptions): ExploreReport {
  const search = new Search(boot(opts.config), opts.resume);
  const report = search.report;
  const rb = new Rebuilder(search.root, search.parents.data, search.opIndex.data);
  runningFrom((side) => ({ config: opts.config, ops: hangPath(rb, side, whereNow()) })); // (a hang report shows the path to the call: watchdog.ts)
  let lastProgress = Date.now();
  let lastCheckpoint = Date.now();
  for (let depth = search.depthOf(search.expand) + 1; depth <= opts.depth; depth++) {
    const end = search.depthStart[depth]!; // this depth's frontier ends here
    if (search.expand >= end) break; // nothing new at the previous depth
    const x = expandRange(
      opts,
      rb,
      search.expand,
      end,
      (hi, lo) => search.seen.add(hi, lo),
      (parent, i) => {
        search.add(parent, i);
        rb.update(search.parents.data, search.opIndex.data);
        report.states++;
        report.depthReached = depth;
      },
      () => opts.maxStates !== undefined && report.states >= opts.maxStates,
      (node) => {
        search.expand = node + 1;
        const now = Date.now();
        if (opts.onProgress && now - lastProgress > 1000) {
          lastProgress = now;
          report.seconds = search.elapsed();
          opts.onProgress(report);
        }
        if (opts.onCheckpoint && now - lastCheckpoint > (opts.checkpointEvery ?? 60) * 1000) {
          lastCheckpoint = now;
          opts.onCheckpoint(search.progress());
        }
      },
    );
    report.edges += x.edges;
    report.interleaved = (report.interleaved ?? 0) + x.interleaved;
    if (x.violation) {
      report.violation = { message: x.violation.message, trace: { config: opts.config, ops: x.violation.ops } };
      break;
    }
    if (opts.maxStates !== undefined && report.states >= opts.maxStates) {
      report.complete = false;
      break;
    }
    search.depthStart.push(search.parents.length); // the next depth starts after the nodes found at this one
  }
  return search.end(opts.onCheckpoint);
}

/**
 * The same search on `workers` threads: each depth's frontier is cut into
 * runs, expanded in parallel against the fingerprints of the earlier depths,
 * and merged in run order, so that the states found, their ids and the first
 * violation are the ones the one-thread search finds. (A state two runs both
 * reach is checked by both, and kept once.) Depths with a small frontier are
 * expanded here. A driver (--impl-cmd) is one process: it is not shared.
 */
export async function exploreParallel(opts: ExploreOptions & { readonly workers: number }): Promise<ExploreReport> {
  if (opts.workers <= 1 || opts.driver || opts.Impl) return explore(opts);
  const search = new Search(boot(opts.config), opts.resume);
  const report = search.report;
  // From the sources, each worker first registers tsx's loader (a worker does not inherit it), then loads the worker module.
  const ts = import.meta.url.endsWith(".ts");
  const url = new URL(`./explore-worker.${ts ? "ts" : "js"}`, import.meta.url).href;
  const bootstrap = ts ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });` : `import(${JSON.stringify(url)});`;
  const pool = Array.from({ length: opts.workers }, () => new Worker(bootstrap, { eval: true }));
  // Each worker marks its calls into the spec and the impl in its cells; a
  // call that outlasts its limit ends the search with ExploreHang, the
  // worker terminated (a JavaScript loop cannot be stopped otherwise).
  const cells = pool.map(() => new SharedArrayBuffer(THREAD_CELLS * 4));
  let hung: (e: ExploreHang) => void = () => {};
  const stuck = new Promise<never>((_, reject) => (hung = reject));
  stuck.catch(() => {}); // (observed by the race below)
  const unwatch = watchThreads(
    cells.map((b) => new Int32Array(b)),
    { impl: opts.implSeconds ?? 10, spec: SPEC_SECONDS },
    (h) => {
      for (const w of pool) void w.terminate();
      const ops = hangPath(new Rebuilder(search.root, search.parents.data, search.opIndex.data), h.side, h.where);
      hung(new ExploreHang({ seconds: h.seconds, side: h.side, call: h.call, stack: [], running: { config: opts.config, ops }, worker: true }));
    },
  );
  const run = (w: Worker, job: Job) =>
    new Promise<JobResult>((resolve, reject) => {
      const done = (x: JobResult) => {
        w.off("error", failed);
        resolve(x);
      };
      const failed = (e: Error) => {
        w.off("message", done);
        reject(e);
      };
      w.once("message", done);
      w.once("error", failed);
      w.postMessage(job);
    });
  try {
    for (let depth = search.depthOf(search.expand) + 1; depth <= opts.depth; depth++) {
      const end = search.depthStart[depth]!;
      const from = search.expand;
      if (from >= end) break;
      const n = end - from;
      const runs = n < 256 ? 1 : opts.workers * 4;
      const size = Math.ceil(n / runs);
      const parents = search.parents.data.slice(0, end);
      const opIndex = search.opIndex.data.slice(0, end);
      const seenRaw = search.seen.raw();
      const seen = new Uint32Array(new SharedArrayBuffer(seenRaw.byteLength));
      seen.set(seenRaw);
      const results: JobResult[] = new Array(runs);
      let next = 0;
      const jobFor = (r: number, k: number): Job => ({ cells: cells[k]!, config: opts.config, impl: opts.impl === true, symmetry: opts.symmetry === true, parents, opIndex, seen, seenSize: search.seen.size, from: from + r * size, to: Math.min(end, from + (r + 1) * size) });
      await Promise.race([
        Promise.all(
          pool.map(async (w, k) => {
            while (next < runs) {
              const r = next++;
              results[r] = await run(w, jobFor(r, k));
            }
          }),
        ),
        stuck,
      ]);
      // merge in run order
      let stopped = false;
      for (const x of results) {
        report.edges += x.edges;
        report.interleaved = (report.interleaved ?? 0) + x.interleaved;
        for (let i = 0; i < x.children.length / 2; i++) {
          if (!search.seen.add(x.fingerprints[2 * i]!, x.fingerprints[2 * i + 1]!)) continue;
          search.add(x.children[2 * i]!, x.children[2 * i + 1]!);
          report.states++;
          report.depthReached = depth;
          if (opts.maxStates !== undefined && report.states >= opts.maxStates) {
            report.complete = false;
            stopped = true;
            break;
          }
        }
        if (x.violation) {
          report.violation = { message: x.violation.message, trace: { config: opts.config, ops: x.violation.ops as Op[] } };
          stopped = true;
        }
        if (stopped) break;
        if (opts.onProgress) {
          report.seconds = search.elapsed();
          opts.onProgress(report);
        }
      }
      if (stopped) break;
      search.expand = end;
      search.depthStart.push(search.parents.length);
      if (opts.onCheckpoint) opts.onCheckpoint(search.progress());
    }
  } finally {
    unwatch();
    for (const w of pool) void w.terminate();
  }
  return search.end(opts.onCheckpoint);
}

/** Drives the impl (or a driver) along `ops` and compares its abstraction with the spec's state; why they differ, or null. */
function implDiffers(opts: Pick<ExploreOptions, "config" | "Impl" | "driver">, ops: Op[], spec: State): string | null {
  try {
    if (opts.driver) {
      const d = opts.driver.session(opts.config).prefetch(ops, false);
      let i = 0;
      for (; i < ops.length; i++) if (!d.apply(ops[i]!, false).ok) break;
      return i < ops.length ? `the impl failed operation ${i}` : firstDifference(spec, d.abstractState());
    }
    markWhere(2, -1); // (the operation being applied, for a hang report: hangPath)
    const m = inImpl(0, () => new (opts.Impl ?? Machine)(opts.config));
    let i = 0;
    for (; i < ops.length; i++) {
      markWhere(2, i);
      if (!inImpl(1, () => m.apply(ops[i]!)).ok) break;
    }
    return i < ops.length ? `the impl failed operation ${i}` : firstDifference(spec, inImpl(2, () => toSpec(m)));
  } catch (e) {
    if (e instanceof DriverSetupError) throw e;
    // a throwing implementation is a failing one, not a crash of capmem
    return `the impl threw: ${describeThrow(e)}`;
  }
}
