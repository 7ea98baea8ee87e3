/**
 * `npm run bench`: one run, one table per question of issue 5.
 *
 * 1. impl vs spec on the same 10k-operation traces;
 * 2. impl operations per second (tinybench: map+unmap, read, write, l4.map+unmap);
 * 3. removal cost per node for subtrees of 1k, 10k, 100k and 1M nodes
 *    (page.unmap of a mapping tree, cap.revoke of a capability tree);
 * 4. memory: bytes per mapping and per capability at 2^20 of each, and the
 *    heap for 2^20 frames + 2^20 mappings;
 * 5. refinement throughput: checked lockstep steps/s, explore states/s.
 *
 * Everything is built through `exec` with operation objects made up front, so
 * the timed loops allocate nothing. Options: `--quick` (smaller sizes and
 * shorter runs: a smoke test of the harness, not figures to quote) and
 * `--only N,M` (sections by number). Run with --expose-gc (the npm script
 * does) so memory is measured after a collection.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import os from "node:os";
import fc from "fast-check";
import { Bench } from "tinybench";
import { step } from "../../spec/operations.js";
import { boot, type State } from "../../spec/state.js";
import { type Config, ERROR_CODES, type Op } from "../../spec/vocabulary.js";
import { Machine } from "../../impl/machine.js";
import { explore, TINY_CONFIG } from "../harness/explore.js";
import { configArb, intentArb, resolve, SMALL_CONFIG } from "../harness/generate.js";
import { Lockstep, Snapshot } from "../harness/lockstep.js";
import { checkInvariants, INVARIANTS } from "../../spec/invariants.js";
import { checkTransition, TRANSITION_INVARIANTS } from "../../spec/transitions.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation, REPR_INVARIANTS } from "../../impl/check.js";
import { equal } from "../harness/compare.js";

const { values } = parseArgs({ options: { quick: { type: "boolean" }, only: { type: "string" } }, strict: true });
const QUICK = values.quick === true;
const ONLY = values.only ? new Set(values.only.split(",").map(Number)) : null;
const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------
// Helpers

const now = () => performance.now();
const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const goal = (ok: boolean) => (ok ? "met" : "MISSED");

function table(title: string, rows: Record<string, string>[]): void {
  console.log(`\n## ${title}\n`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((x, i) => (i === 0 ? x.padEnd(width[i]!) : x.padStart(width[i]!))).join(" | ")} |`;
  console.log(line(cols));
  console.log(`|${width.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of rows) console.log(line(cols.map((c) => r[c] ?? "")));
}

/** Runs `op` on m and insists it succeeds (a builder that fails is a bug in the benchmark). */
/** Task t opens its receive window over its whole capability space and address space. */
function openWindow(m: Machine, t: number): void {
  must(m, { op: "task.window", task: t, slot: 0, slots: m.config.capSlots, page: 0, pages: m.config.vpages });
}

function must(m: Machine, op: Op): number {
  const status = m.exec(op);
  if (status !== 0) throw new Error(`benchmark setup failed: ${JSON.stringify(op)} -> ${JSON.stringify(m.apply(op))}`);
  return m.value ?? -1;
}

function memoryNow(): { heap: number; buffers: number } {
  gc?.();
  gc?.();
  const u = process.memoryUsage();
  return { heap: u.heapUsed, buffers: u.arrayBuffers };
}

/** Bytes held by the typed arrays of m whose field names pass `pick`. */
function arrayBytes(m: Machine, pick: (name: string) => boolean): number {
  let n = 0;
  const visit = (name: string, v: unknown, depth: number): void => {
    if (ArrayBuffer.isView(v)) {
      if (pick(name)) n += v.byteLength;
    } else if (v !== null && typeof v === "object" && depth < 2 && name !== "config") {
      for (const [k, w] of Object.entries(v)) visit(name ? `${name}.${k}` : k, w, depth + 1);
    }
  };
  visit("", m, 0);
  return n;
}

const MB = 1024 * 1024;

// ---------------------------------------------------------------------------
// 1. impl vs spec on the same traces

/** A state-aware random trace of n operations (resolved against the spec as it goes). */
function randomTrace(config: Config, n: number, seed: number): Op[] {
  const intents = fc.sample(intentArb, { seed, numRuns: n });
  let s: State = boot(config);
  const ops: Op[] = [];
  for (const intent of intents) {
    const op = resolve(s, intent);
    ops.push(op);
    s = step(s, op).state;
  }
  return ops;
}

const MEDIUM_CONFIG: Config = { frames: 64, objects: 2000, accounts: 8, tasks: 8, containers: 8, capSlots: 32, vpages: 64, containerSlots: 16, handles: 8 };
const LARGE_CONFIG: Config = { frames: 512, objects: 20_000, accounts: 16, tasks: 16, containers: 16, capSlots: 64, vpages: 256, containerSlots: 64, handles: 16 };

/** Runs ops on a fresh machine; returns how many succeeded. */
function replayImpl(config: Config, ops: Op[]): number {
  const m = new Machine(config);
  let ok = 0;
  for (let i = 0; i < ops.length; i++) if (m.exec(ops[i]!) === 0) ok++;
  return ok;
}

function implVsSpec(): void {
  const n = QUICK ? 1000 : 10_000;
  const rows: Record<string, string>[] = [];
  for (const [name, config] of [["small", SMALL_CONFIG], ["medium", MEDIUM_CONFIG], ["large", LARGE_CONFIG]] as const) {
    const traces = [1, 2, 3].map((seed) => randomTrace(config, n, seed));
    for (const ops of traces) for (let i = 0; i < 3; i++) replayImpl(config, ops); // warm the JIT up
    let specMs = 0;
    let implMs = 0;
    let okOps = 0;
    for (const ops of traces) {
      let t = now();
      let s: State = boot(config);
      let specOk = 0;
      for (const op of ops) {
        const r = step(s, op);
        if (r.result.ok) specOk++;
        s = r.state;
      }
      specMs += now() - t;
      // the impl run is short: best of 5
      let best = Infinity;
      for (let rep = 0; rep < 5; rep++) {
        t = now();
        const implOk = replayImpl(config, ops);
        best = Math.min(best, now() - t);
        if (implOk !== specOk) throw new Error(`spec and impl disagree: ${specOk} vs ${implOk} operations ok`);
      }
      implMs += best;
      okOps += specOk;
    }
    const ratio = specMs / implMs;
    rows.push({
      config: name,
      "ops per trace": fmt(n),
      traces: "3",
      ok: `${fmt((100 * okOps) / (3 * n))}%`,
      "spec ops/s": fmt((3 * n) / (specMs / 1000)),
      "impl ops/s": fmt((3 * n) / (implMs / 1000)),
      "impl/spec": `${fmt(ratio)}x`,
      "goal >= 100x": goal(ratio >= 100),
    });
  }
  table("1. impl vs spec on the same traces (spec: one run; impl: best of 5, after warm-up)", rows);
}

// ---------------------------------------------------------------------------
// 2. impl operations per second

async function implOps(): Promise<void> {
  const P = 4096; // pages in one batch
  const config: Config = { frames: 8, objects: 4 * P, accounts: 1, tasks: 3, containers: 1, capSlots: 8, vpages: P, containerSlots: 1, handles: 0 };
  const m = new Machine(config);
  must(m, { op: "task.create", task: 0, account: 0, dest: 2 }); // task 1
  openWindow(m, 1);
  must(m, { op: "task.create", task: 0, account: 0, dest: 4 }); // task 2: task 1's pager
  openWindow(m, 2);
  must(m, { op: "task.pager", task: 0, target: 2, pager: 4 });
  must(m, { op: "container.create", task: 0, account: 0, dest: 3 });
  must(m, { op: "container.alloc", task: 0, container: 3, index: 0 });
  const maps: Op[] = [];
  const unmaps: Op[] = [];
  const reads: Op[] = [];
  const writes: Op[] = [];
  const l4maps: Op[] = [];
  const l4unmaps: Op[] = [];
  for (let v = 0; v < P; v++) {
    maps.push({ op: "page.map", task: 0, container: 3, index: 0, vpage: v, rights: ["read", "write"] });
    unmaps.push({ op: "page.unmap", task: 0, vpage: v, order: 0, mode: "all" });
    reads.push({ op: "mem.read", task: 0, vpage: v });
    writes.push({ op: "mem.write", task: 0, vpage: v, value: v });
    l4maps.push({ op: "l4.map", task: 0, vpage: 0, target: 2, dest: v, rights: ["read"] });
  }
  l4unmaps.push({ op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "derived" });
  // a fault and its answer per page: task 1 reads a page it lacks, its pager (task 2) maps its page 0 there
  const faults: Op[] = [];
  for (let v = 0; v < P; v++) faults.push({ op: "mem.read", task: 1, vpage: v }, { op: "fault.resolve", task: 2, vpage: 0, rights: ["read"] });
  const pagerUnmap: Op[] = [{ op: "page.unmap", task: 2, vpage: 0, order: 0, mode: "derived" }];
  const pagerPage: Op[] = [maps[0]!, { op: "l4.map", task: 0, vpage: 0, target: 4, dest: 0, rights: ["read"] }];
  const run = (ops: Op[]) => {
    for (let i = 0; i < ops.length; i++) {
      const status = m.exec(ops[i]!);
      if (status !== 0) throw new Error(`failed: ${JSON.stringify(ops[i])}: ${ERROR_CODES[status - 1]}`);
    }
  };

  const bench = new Bench({ time: QUICK ? 100 : 1000, warmupTime: QUICK ? 50 : 300 });
  bench.add("page.map + page.unmap (root mapping)", () => {
    run(maps);
    run(unmaps);
  });
  bench.add("mem.read", () => run(reads), { beforeAll: () => run(maps), afterAll: () => run(unmaps) });
  bench.add("mem.write", () => run(writes), { beforeAll: () => run(maps), afterAll: () => run(unmaps) });
  bench.add("l4.map into another task + page.unmap derived", () => {
    run(l4maps);
    run(l4unmaps);
  }, { beforeAll: () => run(maps.slice(0, 1)), afterAll: () => run(unmaps.slice(0, 1)) });
  // (its setup and tear-down, three operations, are in the batch: 0.04 % of it)
  bench.add("mem.read fault + fault.resolve + page.unmap derived", () => {
    run(pagerPage);
    run(faults);
    run(pagerUnmap);
    run(unmaps.slice(0, 1));
  });
  await bench.run();

  const opsPerBatch: Record<string, number> = {
    "page.map + page.unmap (root mapping)": 2 * P,
    "mem.read": P,
    "mem.write": P,
    "l4.map into another task + page.unmap derived": P + 1,
    "mem.read fault + fault.resolve + page.unmap derived": 2 * P + 4,
  };
  table(
    "2. impl operations per second (tinybench, batches of 4,096 operations)",
    bench.tasks.map((t) => {
      const r = t.result;
      if (r.state !== "completed") throw new Error(`${t.name}: ${r.state}${"error" in r ? `: ${String(r.error)}` : ""}`);
      const perOp = (r.latency.mean * 1e6) / opsPerBatch[t.name]!;
      const opsPerSec = 1e9 / perOp;
      const mapUnmap = t.name.startsWith("page.map");
      return {
        task: t.name,
        "ns/op": fmt(perOp, 1),
        "ops/s": fmt(opsPerSec),
        "±": `${fmt(r.latency.rme, 1)}%`,
        samples: fmt(r.latency.samplesCount ?? 0),
        goal: mapUnmap ? `>= 5M ops/s: ${goal(opsPerSec >= 5e6)}` : "",
      };
    }),
  );
}

// ---------------------------------------------------------------------------
// 3. Removal: time per node for large subtrees

/**
 * A mapping tree of k*k + 1 nodes: a root in task 0 page 0, mapped (l4.map)
 * to pages 0..k-1 of task 1, each of which starts a chain through tasks 2..k
 * at the same page: fan-out and depth k. Returns the machine ready for the
 * unmap of the root. With `chain`, the root task then deletes its
 * capabilities naming tasks 2..k: task t holds the only one naming task
 * t+1, so destroying task 1 makes a chain of k-1 zombies. With
 * `zombieAccount`, the container is paid by account 1, which pays for no
 * task, and task k holds the only capability naming that account (slot
 * 3): destroying task k makes the account a zombie, whose walk takes the
 * tree rooted at the container's slot.
 */
function buildMappingTree(k: number, budget?: number, subAccount = false, chain = false, zombieAccount = false): Machine {
  const config: Config = { frames: 4, objects: (subAccount ? 2 : 1) * (k * k + 8 * k + 16), accounts: subAccount || zombieAccount ? 2 : 1, tasks: k + 1, containers: 1, capSlots: k + 4, vpages: k, containerSlots: 1, handles: 0, ...(budget ? { budget } : {}) };
  const m = new Machine(config);
  // with subAccount, tasks 1..k are paid by account 1 (its capability in slot k+3)
  if (subAccount) must(m, { op: "account.create", task: 0, account: 0, dest: k + 3, frames: 0, objects: k * k + 8 * k + 16 });
  // with zombieAccount, account 1 (its capability in slot k+3) pays for the container and its frame
  if (zombieAccount) must(m, { op: "account.create", task: 0, account: 0, dest: k + 3, frames: 1, objects: 4 });
  for (let t = 1; t <= k; t++) must(m, { op: "task.create", task: 0, account: subAccount ? k + 3 : 0, dest: t + 1 }); // task t in slot t+1
  for (let t = 1; t <= k; t++) openWindow(m, t);
  for (let t = 1; t < k; t++) must(m, { op: "cap.copy", task: 0, src: t + 2, target: t + 1, dest: 2 }); // task t holds task t+1 in slot 2
  must(m, { op: "container.create", task: 0, account: zombieAccount ? k + 3 : 0, dest: k + 2 });
  must(m, { op: "container.alloc", task: 0, container: k + 2, index: 0 });
  must(m, { op: "page.map", task: 0, container: k + 2, index: 0, vpage: 0, rights: ["read"] });
  const op = { op: "l4.map", task: 0, vpage: 0, target: 2, dest: 0, rights: ["read"] } as { op: "l4.map"; task: number; vpage: number; target: number; dest: number; rights: ["read"] };
  for (let v = 0; v < k; v++) {
    op.dest = v;
    must(m, op);
  }
  for (let t = 1; t < k; t++) {
    for (let v = 0; v < k; v++) must(m, { op: "l4.map", task: t, vpage: v, target: 2, dest: v, rights: ["read"] });
  }
  if (chain) for (let t = 2; t <= k; t++) must(m, { op: "cap.delete", task: 0, slot: t + 1 });
  if (zombieAccount) {
    must(m, { op: "cap.copy", task: 0, src: k + 3, target: k + 1, dest: 3 });
    must(m, { op: "cap.delete", task: 0, slot: k + 3 });
  }
  return m;
}

/**
 * A capability tree of k*k + 1 nodes: a root cap in task 0, copied into slot
 * 2 of tasks 1..k, each copy the head of a chain of k-1 derivations inside
 * its task. Returns the machine ready for the revoke of the root.
 */
function buildCapTree(k: number, budget?: number): Machine {
  const config: Config = { frames: 4, objects: k * k + 4 * k + 16, accounts: 1, tasks: k + 1, containers: 1, capSlots: k + 4, vpages: 1, containerSlots: 1, handles: 0, ...(budget ? { budget } : {}) };
  const m = new Machine(config);
  for (let t = 1; t <= k; t++) must(m, { op: "task.create", task: 0, account: 0, dest: t + 1 });
  for (let t = 1; t <= k; t++) openWindow(m, t);
  must(m, { op: "cap.derive", task: 0, src: 0, dest: k + 2, rights: ["alloc"] }); // the root of the tree
  for (let t = 1; t <= k; t++) must(m, { op: "cap.copy", task: 0, src: k + 2, target: t + 1, dest: 2 });
  for (let t = 1; t <= k; t++) {
    for (let s = 2; s < k + 1; s++) must(m, { op: "cap.derive", task: t, src: s, dest: s + 1, rights: ["alloc"] });
  }
  return m;
}

/** Account 2 (a sub-account of the root's) pays for n containers, in tables of 2^20 containers and 2^20 DMA handles. */
function sparseAccount(n: number, budget?: number): Machine {
  const config: Config = { frames: 16, objects: 4 * n + 64, accounts: 4, tasks: 2, containers: 2 ** 20, capSlots: n + 4, vpages: 1, containerSlots: 1, handles: 2 ** 20, ...(budget ? { budget } : {}) };
  const m = new Machine(config);
  must(m, { op: "account.create", task: 0, account: 0, dest: 2, frames: 1, objects: 2 * n + 8 });
  for (let i = 0; i < n; i++) must(m, { op: "container.create", task: 0, account: 2, dest: 3 + i });
  return m;
}

/** Container 0, made in task 0's slot 2, named by n capabilities in all: slots 3 to n + 1 derive from slot 2. */
function manyNames(n: number, budget?: number): Machine {
  const config: Config = { frames: 4, objects: 2 * n + 16, accounts: 1, tasks: 1, containers: 1, capSlots: n + 2, vpages: 1, containerSlots: 1, handles: 0, ...(budget ? { budget } : {}) };
  const m = new Machine(config);
  must(m, { op: "container.create", task: 0, account: 0, dest: 2 });
  for (let s = 3; s < n + 2; s++) must(m, { op: "cap.derive", task: 0, src: 2, dest: s, rights: ["read"] });
  return m;
}

/** Task 1 holds a copy of task 0's capability to container 0; task 2 holds n - 1 copies of task 1's (slots 0 to n - 2). */
function manyDerived(n: number, budget?: number): Machine {
  const config: Config = { frames: 4, objects: 2 * n + 16, accounts: 1, tasks: 3, containers: 1, capSlots: n + 4, vpages: 1, containerSlots: 1, handles: 0, ...(budget ? { budget } : {}) };
  const m = new Machine(config);
  must(m, { op: "container.create", task: 0, account: 0, dest: 2 });
  must(m, { op: "task.create", task: 0, account: 0, dest: 3 });
  must(m, { op: "task.create", task: 0, account: 0, dest: 4 });
  openWindow(m, 1);
  openWindow(m, 2);
  must(m, { op: "cap.copy", task: 0, src: 2, target: 3, dest: 0 });
  must(m, { op: "cap.copy", task: 0, src: 4, target: 3, dest: 1 });
  for (let s = 0; s < n - 1; s++) must(m, { op: "cap.copy", task: 1, src: 0, target: 1, dest: s });
  return m;
}

/**
 * A task table of `tasks` entries, two of them live: task 1 holds a copy of
 * the root account's capability. With `pending`, the root task's revoke of
 * a container capability with 16 derived ones is preempted after its first
 * unit (a budget of 1).
 */
function othersWhilePending(tasks: number, pending: boolean): Machine {
  const config: Config = { frames: 4, objects: 64, accounts: 1, tasks, containers: 1, capSlots: 24, vpages: 1, containerSlots: 1, handles: 0, budget: 1 };
  const m = new Machine(config);
  must(m, { op: "task.create", task: 0, account: 0, dest: 2 });
  openWindow(m, 1);
  must(m, { op: "cap.copy", task: 0, src: 1, target: 2, dest: 0 });
  must(m, { op: "container.create", task: 0, account: 0, dest: 3 });
  for (let s = 4; s < 20; s++) must(m, { op: "cap.derive", task: 0, src: 3, dest: s, rights: ["read"] });
  if (pending) {
    must(m, { op: "cap.revoke", task: 0, slot: 3 });
    if (!m.preempted) throw new Error("benchmark setup failed: the revoke was not preempted");
  }
  return m;
}

function removal(): void {
  const ks = QUICK ? [32, 100] : [32, 100, 317, 1000];
  const rows: Record<string, string>[] = [];
  for (const [what, build, op] of [
    ["page.unmap of a mapping tree", buildMappingTree, { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "all" }],
    ["cap.revoke of a capability tree", buildCapTree, null],
  ] as const) {
    // warm up: the first removals run before the JIT has compiled the walk
    for (let i = 0; i < 20; i++) must(build(32), op ?? { op: "cap.revoke", task: 0, slot: 32 + 2 });
    for (const k of ks) {
      const nodes = k * k + (op ? 1 : 0);
      const reps = nodes <= 10_000 ? 15 : nodes <= 100_000 ? 7 : 3;
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const m = build(k);
        const o: Op = op ?? { op: "cap.revoke", task: 0, slot: k + 2 };
        gc?.();
        const t = now();
        must(m, o);
        times.push(now() - t);
      }
      const ns = (median(times) * 1e6) / nodes;
      rows.push({
        removal: what,
        nodes: fmt(nodes),
        "ms (median)": fmt(median(times), 2),
        "ns/node": fmt(ns, 1),
        "goal <= 100 ns/node at 1M": nodes >= 1e6 ? goal(ns <= 100) : "",
      });
    }
  }
  table("3. Removal: one operation removing a whole subtree (fan-out k, depth k)", rows);

  // The same removals under a work budget: entries until they finish (spec/preemption.ts).
  const prows: Record<string, string>[] = [];
  const unmap: Op = { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "all" };
  for (const [what, build, opOf] of [
    ["page.unmap", buildMappingTree, () => unmap],
    ["cap.revoke", buildCapTree, (k: number): Op => ({ op: "cap.revoke", task: 0, slot: k + 2 })],
    // the container whose slot the mapping tree's root maps: its destroy takes the whole tree
    ["container.destroy", buildMappingTree, (k: number): Op => ({ op: "container.destroy", task: 0, container: k + 2 })],
    // task 1 holds the k mappings below the root: its destroy takes all but the root
    ["task.destroy", buildMappingTree, (): Op => ({ op: "task.destroy", task: 0, target: 2 })],
    // the account paying for tasks 1..k: its destroy takes them, and all but the root
    ["account.destroy", (k: number, b?: number) => buildMappingTree(k, b, true), (k: number): Op => ({ op: "account.destroy", task: 0, account: k + 3 })],
    // the account capability tasks 1..k were made with: its revoke takes their capabilities, and with the last one naming
    // each task the task, a zombie emptied page by page under a budget (spec/preemption.ts, zombieUnit)
    ["cap.revoke (zombies)", (k: number, b?: number) => buildMappingTree(k, b, true), (k: number): Op => ({ op: "cap.revoke", task: 0, slot: k + 3 })],
    // task 1, whose walk takes the k*k - k mappings below its pages, then holds the only capability naming task 2, which
    // holds the only one naming task 3, and so on: a chain of k-1 zombies, each made and emptied in bounded units
    ["task.destroy (nested zombies)", (k: number, b?: number) => buildMappingTree(k, b, false, true), (): Op => ({ op: "task.destroy", task: 0, target: 2 })],
    // task k, whose walk takes the k mappings at its pages (the leaves), then holds the only capability naming the account
    // that pays for the container: that account is a zombie, whose walk takes the rest of the tree, rooted at the container's slot
    ["task.destroy (account zombie)", (k: number, b?: number) => buildMappingTree(k, b, false, false, true), (k: number): Op => ({ op: "task.destroy", task: 0, target: k + 1 })],
  ] as const) {
    for (let i = 0; i < 5; i++) for (const b of [undefined, 1000, 100]) finish(build(32, b), opOf(32));
    for (const k of QUICK ? [100] : [100, 317, 1000]) {
      const nodes = k * k + (what === "page.unmap" || what === "container.destroy" || what === "task.destroy (account zombie)" ? 1 : 0);
      const reps = nodes <= 10_000 ? 15 : nodes <= 100_000 ? 7 : 3;
      let base = 0;
      for (const budget of [undefined, 1000, 100]) {
        const times: number[] = [];
        let entries = 0;
        for (let r = 0; r < reps; r++) {
          const m = build(k, budget);
          gc?.();
          const t = now();
          entries = finish(m, opOf(k));
          times.push(now() - t);
        }
        const ns = (median(times) * 1e6) / nodes;
        if (budget === undefined) base = ns;
        prows.push({
          removal: what,
          nodes: fmt(nodes),
          budget: budget === undefined ? "none (one step)" : fmt(budget),
          entries: fmt(entries),
          "ms (median)": fmt(median(times), 2),
          "ns/node": fmt(ns, 1),
          "per node over one step": budget === undefined ? "" : `${fmt(ns - base, 1)} ns`,
        });
      }
    }
  }
  table("3b. Preemption: the same removals under a work budget (all entries)", prows);

  // Walks in large tables: a walk's unit that looks for the next object or the next capability must not scan a table
  // whose size the configuration sets, nor the list of an object's names, once per unit (tables/lists.ts).
  const lrows: Record<string, string>[] = [];
  for (const [what, build, op] of [
    // an account that pays for n containers, in tables of 2^20 containers and 2^20 DMA handles: each step between two
    // containers asks for the greatest handle, then the greatest container, the account or an account below it pays for
    ["account.destroy, 2^20-entry tables", sparseAccount, { op: "account.destroy", task: 0, account: 2 }],
    // a container named by n capabilities: after its slot, its destroy removes the names one per unit, the greatest first
    ["container.destroy, n names", manyNames, { op: "container.destroy", task: 0, container: 2 }],
    // task 1 holds a copy of the root task's container capability from which n - 1 capabilities in task 2 derive: its
    // destroy hands them up to the root task's capability one per unit (spec/preemption.ts handUp)
    ["task.destroy, n derived", manyDerived, { op: "task.destroy", task: 0, target: 3 }],
  ] as const) {
    for (let i = 0; i < 3; i++) for (const b of [undefined, 10]) finish(build(QUICK ? 100 : 500, b), op);
    for (const n of QUICK ? [1_000] : [1_000, 16_384]) {
      for (const budget of [undefined, 10]) {
        const times: number[] = [];
        let entries = 0;
        let worst = 0;
        for (let r = 0; r < 3; r++) {
          const m = build(n, budget);
          gc?.();
          const t = now();
          entries = 0;
          do {
            const e = now();
            entries++;
            if (m.exec(op) !== 0) throw new Error(`${op.op} failed`);
            worst = Math.max(worst, now() - e);
          } while (m.preempted);
          times.push(now() - t);
        }
        lrows.push({ removal: what, n: fmt(n), budget: budget === undefined ? "none (one step)" : fmt(budget), entries: fmt(entries), "ms (median)": fmt(median(times), 2), "worst entry (ms)": fmt(worst, 3) });
      }
    }
  }
  // The same hand-up with task 2 deleting, after every entry, the capability handed up last (the walk's hint): the next
  // hand-up then starts from the one before it in the parent's list (preemption.ts unlinkCap), not from the list's head.
  for (const n of QUICK ? [1_000] : [1_000, 16_384]) {
    const times: number[] = [];
    let entries = 0;
    let worst = 0;
    const op: Op = { op: "task.destroy", task: 0, target: 3 };
    for (let r = 0; r < 3; r++) {
      const m = manyDerived(n, 10);
      const copy = m.caps.at(1, 0);
      gc?.();
      const t = now();
      entries = 0;
      let more = true;
      while (more) {
        const e = now();
        entries++;
        if (m.exec(op) !== 0) throw new Error(`${op.op} failed`);
        worst = Math.max(worst, now() - e);
        more = m.preempted;
        // (the last handed up comes right before task 1's copy in the root task's list: the copy has the least key)
        const last = m.caps.isEmpty(copy) ? -1 : m.caps.prevSib[copy]!;
        if (more && last !== -1 && m.caps.taskOf(last) === 2 && m.exec({ op: "cap.delete", task: 2, slot: m.caps.slotOf(last) }) !== 0) throw new Error("cap.delete failed");
      }
      times.push(now() - t);
    }
    lrows.push({ removal: "task.destroy, n derived, the last handed up deleted after each entry", n: fmt(n), budget: "10", entries: fmt(entries), "ms (median)": fmt(median(times), 2), "worst entry (ms)": fmt(worst, 3) });
  }
  table("3c. Preemption in large tables: finding the next thing to take apart", lrows);

  // Another task's operations while a removal is preempted: each asks whether what it touches is being taken apart, and
  // after each the preempted walks are settled. Those look at the tasks with a preempted removal (Machine.pendingTasks),
  // not at the whole task table, whose size the configuration sets.
  const orows: Record<string, string>[] = [];
  for (const tasks of QUICK ? [1_024] : [1_024, 65_536]) {
    let base = 0;
    for (const pending of [false, true]) {
      const m = othersWhilePending(tasks, pending);
      // (the operation objects made before the timed loops)
      const derives: Op[] = [1, 2, 3, 4].map((dest) => ({ op: "cap.derive", task: 1, src: 0, dest, rights: ["read"] }));
      const deletes: Op[] = [1, 2, 3, 4].map((slot) => ({ op: "cap.delete", task: 1, slot }));
      const pair = (i: number) => {
        must(m, derives[i % 4]!);
        must(m, deletes[i % 4]!);
      };
      for (let i = 0; i < 2_000; i++) pair(i);
      const times: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t = now();
        for (let i = 0; i < 5_000; i++) pair(i);
        times.push(now() - t);
      }
      const ns = (median(times) * 1e6) / 10_000;
      if (!pending) base = ns;
      orows.push({ tasks: fmt(tasks), "removal preempted": pending ? "yes" : "no", "ns per operation (median)": fmt(ns, 0), "over none preempted": pending ? `${fmt(ns - base, 0)} ns` : "" });
    }
  }
  table("3d. Preemption: another task's operations while a removal is preempted (cap.derive and cap.delete of an account capability)", orows);

  /** Invokes `op` until it is not preempted; returns the number of entries. */
  function finish(m: Machine, op: Op): number {
    let entries = 0;
    do {
      entries++;
      if (m.exec(op) !== 0) throw new Error(`${op.op} failed`);
    } while (m.preempted);
    return entries;
  }
}

// ---------------------------------------------------------------------------
// 4. Memory

/** The page tables with their entries (= mapping nodes), without the per-task and per-slot heads. */
const MAPPING_FIELDS = (k: string) => k.startsWith("pages.") && k !== "pages.dirOf" && k !== "pages.slotRoots";
/** The capability slots (each with its capability), without the per-object list heads and flags. */
const CAP_FIELDS = (k: string) => k.startsWith("caps.") && k !== "caps.objFirst" && k !== "caps.objSorted";

/** Heap + array-buffer bytes that `build` leaves reachable (measured around it, after gc) and the machine it built. */
function measured(build: () => Machine): { bytes: number; m: Machine } {
  const before = memoryNow();
  const m = build();
  const after = memoryNow();
  return { bytes: after.heap + after.buffers - before.heap - before.buffers, m };
}

/** 2^20 root mappings: 4 tasks x 2^18 pages, all mapping one frame. */
function manyMappings(N: number): Record<string, string> {
  const tasks = 4;
  const vpages = N / tasks;
  const { bytes, m } = measured(() => {
    const config: Config = { frames: 4, objects: N + N / 256 + 64, accounts: 1, tasks, containers: 1, capSlots: 8, vpages, containerSlots: 1, handles: 0 };
    const m = new Machine(config);
    must(m, { op: "container.create", task: 0, account: 0, dest: 2 });
    must(m, { op: "container.alloc", task: 0, container: 2, index: 0 });
    for (let t = 1; t < tasks; t++) {
      must(m, { op: "task.create", task: 0, account: 0, dest: 2 + t });
      openWindow(m, t);
      must(m, { op: "cap.copy", task: 0, src: 2, target: 2 + t, dest: 2 });
    }
    for (let t = 0; t < tasks; t++) for (let v = 0; v < vpages; v++) must(m, { op: "page.map", task: t, container: 2, index: 0, vpage: v, rights: ["read"] });
    return m;
  });
  const structural = arrayBytes(m, MAPPING_FIELDS);
  return {
    measure: `${fmt(N)} mappings (page tables included)`,
    "structural bytes/item": fmt(structural / N, 1),
    "measured bytes/item": fmt(bytes / N, 1),
    goal: `<= 32 bytes/mapping: ${goal(structural / N <= 32)}`,
  };
}

/** 2^20 capabilities, one in every slot: task 0 copies one cap into every slot of T-1 other tasks and fills its own (T + 1 <= N / T). */
function manyCaps(N: number, T: number): Record<string, string> {
  const S = N / T;
  const { bytes, m } = measured(() => {
    const config: Config = { frames: 4, objects: N + 2 * T + 64, accounts: 1, tasks: T, containers: 1, capSlots: S, vpages: 1, containerSlots: 1, handles: 0 };
    const m = new Machine(config);
    for (let t = 1; t < T; t++) must(m, { op: "task.create", task: 0, account: 0, dest: t + 1 }); // fills task 0's slots 2..T
    for (let t = 1; t < T; t++) openWindow(m, t);
    let caps = T + 1; // two boot caps and T-1 task caps
    const op = { op: "cap.copy", task: 0, src: 0, target: 0, dest: 0 } as { op: "cap.copy"; task: number; src: number; target: number; dest: number };
    for (let t = 1; t < T && caps < N; t++) {
      op.target = t + 1;
      for (let s = 0; s < S && caps < N; s++, caps++) {
        op.dest = s;
        must(m, op);
      }
    }
    for (let s = T + 1; s < S && caps < N; s++, caps++) must(m, { op: "cap.derive", task: 0, src: 0, dest: s, rights: ["alloc"] });
    if (caps !== N) throw new Error(`built ${caps} caps, wanted ${N}`);
    return m;
  });
  const structural = arrayBytes(m, CAP_FIELDS);
  return {
    measure: `${fmt(N)} capabilities (capability spaces included)`,
    "structural bytes/item": fmt(structural / N, 1),
    "measured bytes/item": fmt(bytes / N, 1),
    goal: `<= 32 bytes/capability: ${goal(structural / N <= 32)}`,
  };
}

/** 2^20 frames, each allocated in a container slot and mapped once. */
function wholeMachine(N: number, containers: number): Record<string, string> {
  const slots = N / containers;
  const tasks = 4;
  const vpages = N / tasks;
  const { bytes, m } = measured(() => {
    const config: Config = { frames: N, objects: N + N / 256 + 8 * containers + 64, accounts: 1, tasks, containers, capSlots: containers + 8, vpages, containerSlots: slots, handles: 0 };
    const m = new Machine(config);
    for (let t = 1; t < tasks; t++) must(m, { op: "task.create", task: 0, account: 0, dest: 1 + t });
    for (let t = 1; t < tasks; t++) openWindow(m, t);
    const base = tasks + 1; // task 0's container caps: slots base ..
    for (let c = 0; c < containers; c++) {
      must(m, { op: "container.create", task: 0, account: 0, dest: base + c });
      for (let i = 0; i < slots; i++) must(m, { op: "container.alloc", task: 0, container: base + c, index: i });
    }
    // an address space has 2^18 pages: tasks 1..3 map the rest through their own copies of the container caps (slots 2 ..)
    for (let t = 1; t < tasks; t++) for (let c = 0; c < containers; c++) must(m, { op: "cap.copy", task: 0, src: base + c, target: 1 + t, dest: 2 + c });
    let f = 0;
    for (let t = 0; t < tasks; t++) {
      for (let v = 0; v < vpages; v++, f++) {
        const c = Math.floor(f / slots);
        must(m, { op: "page.map", task: t, container: t === 0 ? base + c : 2 + c, index: f % slots, vpage: v, rights: ["read", "write"] });
      }
    }
    return m;
  });
  return {
    measure: `${fmt(N)} frames + ${fmt(N)} mappings: whole machine`,
    "structural bytes/item": `${fmt(arrayBytes(m, () => true) / MB, 1)} MB in typed arrays`,
    "measured bytes/item": `${fmt(bytes / MB, 1)} MB heap + buffers`,
    goal: `< 256 MB: ${goal(bytes < 256 * MB)}`,
  };
}

function memory(): void {
  const N = QUICK ? 1 << 16 : 1 << 20;
  const rows = [manyMappings(N), manyCaps(N, QUICK ? 128 : 512), wholeMachine(N, QUICK ? 64 : 1024)];
  table("4. Memory (structural: typed-array bytes / items; measured: heap + array buffers after gc, minus before)", rows);
}

// ---------------------------------------------------------------------------
// 5. Refinement throughput

/** Runs `capmem fuzz --workers jobs` (a process per shard, one command: how a user spreads a campaign over cores); total steps. */
async function parallelFuzz(jobs: number, seconds: number): Promise<{ steps: number; traces: number; wall: number }> {
  const bin = fileURLToPath(new URL("../cli/bin/capmem.mjs", import.meta.url));
  const t = now();
  const out = await new Promise<string>((done, fail) => {
    const p = spawn(process.execPath, [bin, "fuzz", "--config", "small", "--seed", "1", "--workers", String(jobs), "--time", String(seconds), "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let err = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => (code === 0 ? done(text) : fail(new Error(`capmem fuzz --workers ${jobs} exited ${code}:\n${err}`))));
  });
  const r = JSON.parse(out) as { steps: number; traces: number };
  return { steps: r.steps, traces: r.traces, wall: (now() - t) / 1000 };
}

/**
 * Where a lockstep step's time goes: the same work as Lockstep.run, each part
 * timed (the timers add about 1 us per step). Small config, 100-op traces.
 */
function stepBreakdown(seconds: number): Record<string, string>[] {
  const spent = new Map<string, number>();
  const timed = <X>(part: string, f: () => X): X => {
    const t = now();
    const x = f();
    spent.set(part, (spent.get(part) ?? 0) + now() - t);
    return x;
  };
  const snap = new Snapshot();
  let steps = 0;
  const t0 = now();
  for (let k = 0; now() - t0 < seconds * 1000; k++) {
    const intents = timed("generate intents (fast-check)", () => fc.sample(fc.array(intentArb, { minLength: 1, maxLength: 100, size: "max" }), { seed: k, numRuns: 1 })[0]!);
    let s = timed("boot both sides", () => boot(SMALL_CONFIG));
    const m = timed("boot both sides", () => new Machine(SMALL_CONFIG));
    for (const intent of intents) {
      steps++;
      const op = timed("resolve intent against the spec state", () => resolve(s, intent));
      const r = timed("spec step (copy state, apply)", () => step(s, op));
      if (!r.result.ok) timed("impl snapshot and compare (errors only)", () => snap.take(m));
      timed("impl apply", () => m.apply(op));
      if (!r.result.ok) {
        timed("impl snapshot and compare (errors only)", () => snap.changed(m));
        continue;
      }
      timed(`${TRANSITION_INVARIANTS.length} two-state properties`, () => checkTransition(s, op, r.state));
      s = r.state;
      const a = timed("abstraction function (toSpec)", () => toSpec(m));
      timed("compare abstract states", () => equal(s, a));
      timed(`${INVARIANTS.length} spec invariants`, () => checkInvariants(s));
      timed(`${REPR_INVARIANTS.length} representation invariants`, () => checkRepresentation(m));
    }
  }
  const total = now() - t0;
  return [...spent]
    .sort((a, b) => b[1] - a[1])
    .map(([part, ms]) => ({ part, "us/step": fmt((ms * 1000) / steps, 1), share: `${fmt((100 * ms) / total)}%` }))
    .concat([{ part: `total (${fmt(steps)} steps)`, "us/step": fmt((total * 1000) / steps, 1), share: "100%" }]);
}

async function throughput(): Promise<void> {
  const seconds = QUICK ? 1 : 10;
  const rows: Record<string, string>[] = [];
  for (const [name, arb] of [
    ["small config", fc.constant(SMALL_CONFIG)],
    ["random small configs", configArb],
  ] as const) {
    const traceArb = fc.tuple(arb, fc.array(intentArb, { minLength: 1, maxLength: 100, size: "max" }));
    let steps = 0;
    let traces = 0;
    const t = now();
    for (let k = 0; now() - t < seconds * 1000; k++) {
      const [config, intents] = fc.sample(traceArb, { seed: k, numRuns: 1 })[0]!;
      const ls = new Lockstep(config, { concrete: true });
      for (const intent of intents) ls.runIntent(intent);
      steps += intents.length;
      traces++;
    }
    const rate = steps / ((now() - t) / 1000);
    rows.push({ harness: `fuzz (lockstep, all checks), ${name}`, work: `${fmt(traces)} traces, ${fmt(steps)} steps`, rate: `${fmt(rate)} steps/s`, goal: `>= 20k/s: ${goal(rate >= 20_000)}` });
  }
  {
    const jobs = os.availableParallelism();
    const r = await parallelFuzz(jobs, seconds);
    // the CLI's own "steps" exclude process start-up; the rate here is over the wall time of the whole run
    const rate = r.steps / r.wall;
    rows.push({ harness: `capmem fuzz --config small --workers ${jobs}`, work: `${fmt(r.traces)} traces, ${fmt(r.steps)} steps`, rate: `${fmt(rate)} steps/s (wall, start-up included)`, goal: `>= 20k/s: ${goal(rate >= 20_000)}` });
  }
  for (const depth of QUICK ? [3] : [3, 4]) {
    const r = explore({ config: TINY_CONFIG, depth, impl: true });
    rows.push({ harness: `explore --depth ${depth} (impl replayed per state)`, work: `${fmt(r.states)} states, ${fmt(r.edges)} transitions`, rate: `${fmt(r.states / r.seconds)} states/s`, goal: "" });
  }
  {
    const r = explore({ config: TINY_CONFIG, depth: QUICK ? 3 : 4, impl: false });
    rows.push({ harness: `explore --depth ${QUICK ? 3 : 4} --spec-only`, work: `${fmt(r.states)} states, ${fmt(r.edges)} transitions`, rate: `${fmt(r.states / r.seconds)} states/s`, goal: "" });
  }
  table("5. Refinement throughput", rows);
  table("5b. Where a checked step's time goes (small config; timers add ~1 us/step)", stepBreakdown(QUICK ? 1 : 5));
}

// ---------------------------------------------------------------------------

const cpus = os.cpus();
console.log(`# capmem bench${QUICK ? " (--quick: smoke test, not figures to quote)" : ""}`);
console.log(`\nnode ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model ?? "?"}, ${fmt(os.totalmem() / 1024 ** 3)} GiB; gc ${gc ? "exposed" : "NOT exposed (memory figures include garbage)"}; ${new Date().toISOString()}`);
const started = now();
const sections: [number, () => void | Promise<void>][] = [
  [1, implVsSpec],
  [2, implOps],
  [3, removal],
  [4, memory],
  [5, throughput],
];
for (const [n, f] of sections) {
  if (ONLY && !ONLY.has(n)) continue;
  const t = now();
  await f();
  process.stderr.write(`(section ${n}: ${fmt((now() - t) / 1000, 1)} s)\n`);
}
console.log(`\ntotal ${fmt((now() - started) / 1000, 1)} s`);
