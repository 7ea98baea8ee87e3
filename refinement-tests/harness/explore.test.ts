/**
 * The explorer's compact bookkeeping loses nothing: the 64-bit fingerprint
 * tells apart every state the full canonical key does (a field left out of
 * `fingerprint` would merge states that differ in it and fail this), and the
 * search visits exactly the states a plain breadth-first search with full
 * keys does.
 */
import { expect, test } from "vitest";
import { step } from "../../spec/operations.js";
import { boot, type State } from "../../spec/state.js";
import type { Op } from "../../spec/vocabulary.js";
import { checkInvariants } from "../../spec/invariants.js";
import { canonicalKey, enumerateOps, explore, fingerprint, relabeled, TINY_CONFIG } from "./explore.js";

test("fingerprints and full keys agree on every state within 4 steps of boot (tiny config)", () => {
  const byKey = new Map<string, string>();
  const byPrint = new Map<string, string>();
  let frontier: State[] = [boot(TINY_CONFIG)];
  for (let depth = 0; depth < 4; depth++) {
    const next: State[] = [];
    for (const s of frontier) {
      for (const op of enumerateOps(s)) {
        const r = step(s, op);
        if (!r.result.ok) continue;
        const key = canonicalKey(r.state);
        const print = fingerprint(r.state).join(":");
        if (byKey.has(key)) {
          expect(byKey.get(key)).toBe(print);
          continue;
        }
        expect(byPrint.has(print), `two different states share the fingerprint ${print}`).toBe(false);
        byKey.set(key, print);
        byPrint.set(print, key);
        next.push(r.state);
      }
    }
    frontier = next;
  }
  expect(byKey.size).toBeGreaterThan(3000);
  const report = explore({ config: TINY_CONFIG, depth: 4, impl: false });
  expect(report.states).toBe(byKey.size + (byKey.has(canonicalKey(boot(TINY_CONFIG))) ? 0 : 1));
  expect(report.bytesPerState).toBeLessThan(200);
});

test("symmetry: a relabeled state is a whole state (every reference relabeled with what it names), and the search shrinks by the reduction factor", () => {
  let frontier: State[] = [boot(TINY_CONFIG)];
  let checked = 0;
  for (let depth = 0; depth < 3; depth++) {
    const next: State[] = [];
    for (const s of frontier)
      for (const op of enumerateOps(s)) {
        const r = step(s, op);
        if (!r.result.ok) continue;
        // the invariants follow every reference (parents, mapping sources, slots): a label missed breaks one
        expect(checkInvariants(relabeled(r.state)), JSON.stringify(op)).toEqual([]);
        checked++;
        if (depth < 2) next.push(r.state);
      }
    frontier = next;
  }
  expect(checked).toBeGreaterThan(1000);
  const full = explore({ config: TINY_CONFIG, depth: 4, impl: false });
  const reduced = explore({ config: TINY_CONFIG, depth: 4, impl: false, symmetry: true });
  expect(reduced.states).toBeLessThan(full.states / 2);
});

test("the fingerprint reads every field of the state: changing any one of them changes it", () => {
  const config = { frames: 4, objects: 60, accounts: 2, tasks: 3, containers: 1, capSlots: 8, vpages: 4, containerSlots: 2, handles: 1, faultQueue: 1, budget: 1 };
  let s = boot(config);
  const ops: Op[] = [
    { op: "task.create", task: 0, account: 0, dest: 2 },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.pager", task: 0, target: 2, pager: 1 },
    { op: "task.pager", task: 0, target: 3, pager: 1 },
    { op: "container.create", task: 0, account: 0, dest: 4 },
    { op: "container.alloc", task: 0, container: 4, index: 0 },
    { op: "container.alloc", task: 0, container: 4, index: 1 },
    { op: "page.map", task: 0, container: 4, index: 0, vpage: 0, rights: ["read", "write"] },
    { op: "page.map", task: 0, container: 4, index: 1, vpage: 1, rights: ["read", "write"] },
    { op: "mem.read", task: 1, vpage: 0 },
    { op: "sigma0.serve" },
    { op: "mem.read", task: 1, vpage: 1 },
    { op: "sigma0.serve" },
    { op: "physmem.reclaim", frame: 0 },
    { op: "physmem.reclaim", frame: 1 }, // sigma0 holds one notice and missed one
    { op: "container.swapIn", task: 0, container: 4, index: 0 },
    { op: "page.map", task: 0, container: 4, index: 0, vpage: 0, rights: ["read", "write"] },
    { op: "l4.map", task: 0, vpage: 0, target: 1, dest: 2, rights: ["read"] },
    { op: "l4.map", task: 0, vpage: 2, target: 1, dest: 3, rights: ["read"] },
    { op: "mem.write", task: 0, vpage: 0, value: 5 },
    { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "readonly" },
    { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "readonly" },
    { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "readonly" }, // preempted, its walk below page 0
    { op: "mem.read", task: 2, vpage: 3 }, // a fault waiting at task 1
  ];
  for (const op of ops) {
    const r = step(s, op);
    expect(r.result.ok, `${JSON.stringify(op)}: ${JSON.stringify(r.result)}`).toBe(true);
    s = r.state;
  }
  expect(s.tasks[0]!.pending?.cursor).not.toBeNull();
  expect(s.tasks[0]!.notices.length + s.tasks[0]!.missed).toBe(2);
  expect(s.tasks[2]!.fault).not.toBeNull();
  const print = fingerprint(s).join(":");
  const plain = JSON.parse(JSON.stringify({ ...s, config: undefined })) as Record<string, unknown>;
  const leaves: (string | number)[][] = [];
  const walk = (x: unknown, path: (string | number)[]) => {
    if (x !== null && typeof x === "object") for (const [k, v] of Object.entries(x)) walk(v, [...path, Array.isArray(x) ? Number(k) : k]);
    else if (typeof x === "number" || typeof x === "boolean" || (typeof x === "string" && path.at(-1) === "mode")) leaves.push(path);
  };
  walk(plain, []);
  expect(leaves.length).toBeGreaterThan(90);
  for (const path of leaves) {
    const copy = JSON.parse(JSON.stringify(plain)) as Record<string, unknown>;
    let parent = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const k = path.at(-1)!;
    const v = parent[k];
    parent[k] = typeof v === "number" ? v + 1 : typeof v === "boolean" ? !v : v === "readonly" ? "all" : "readonly";
    expect(fingerprint({ ...(copy as unknown as State), config }).join(":"), `a change at ${path.join(".")} left the fingerprint as it was`).not.toBe(print);
  }
});

test("under a budget of one unit, the search tries other tasks' operations between the entries of preempted removals, and every state holds", () => {
  const config = { ...TINY_CONFIG, accounts: 1, objects: 12, handles: 0, budget: 1 };
  const report = explore({ config, depth: 5, impl: true });
  expect(report.violation).toBeUndefined();
  expect(report.interleaved).toBeGreaterThan(10_000);
});

test("the fingerprint tells preempted revokes apart: the slot revoked, the cursor's kind, task, slot or page", () => {
  const config = { ...TINY_CONFIG, capSlots: 6, vpages: 4, objects: 30, budget: 1 };
  let s = boot(config);
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "cap.derive", task: 0, src: 2, dest: 3, rights: ["read"] },
    { op: "page.map", task: 0, container: 3, index: 0, vpage: 1, rights: ["read"] },
    { op: "cap.revoke", task: 0, slot: 2 }, // down to slot 3
    { op: "cap.revoke", task: 0, slot: 2 }, // down to page 1
  ];
  for (const op of ops) s = step(s, op).state;
  expect(s.tasks[0]!.pending).toEqual({ op: { op: "cap.revoke", task: 0, slot: 2 }, cursor: { kind: "map", task: 0, vpage: 1 } });
  const withPending = (pending: unknown): State => ({ ...s, tasks: s.tasks.map((t, i) => (i === 0 ? { ...t!, pending } : t)) as State["tasks"] });
  const variants = [
    { op: { op: "cap.revoke", task: 0, slot: 3 }, cursor: { kind: "map", task: 0, vpage: 1 } },
    { op: { op: "cap.revoke", task: 0, slot: 2 }, cursor: { kind: "map", task: 0, vpage: 2 } },
    { op: { op: "cap.revoke", task: 0, slot: 2 }, cursor: { kind: "map", task: 1, vpage: 1 } },
    { op: { op: "cap.revoke", task: 0, slot: 2 }, cursor: { kind: "cap", task: 0, slot: 1 } },
    { op: { op: "cap.revoke", task: 0, slot: 2 }, cursor: null },
    null,
  ];
  const prints = new Set([fingerprint(s).join(":"), ...variants.map((p) => fingerprint(withPending(p)).join(":"))]);
  expect(prints.size).toBe(variants.length + 1);
});

test("the fingerprint tells preempted container destroys apart: the slot, the container, the slot being emptied, the cursor", () => {
  const config = { ...TINY_CONFIG, capSlots: 6, vpages: 4, objects: 30, containerSlots: 2, budget: 1 };
  let s = boot(config);
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 1 },
    { op: "page.map", task: 0, container: 2, index: 1, vpage: 1, rights: ["read"] },
    { op: "container.destroy", task: 0, container: 2 }, // down to page 1
  ];
  for (const op of ops) s = step(s, op).state;
  expect(s.tasks[0]!.pending).toEqual({ op: { op: "container.destroy", task: 0, container: 2 }, object: 0, slot: 1, cursor: { task: 0, vpage: 1 } });
  const withPending = (pending: unknown): State => ({ ...s, tasks: s.tasks.map((t, i) => (i === 0 ? { ...t!, pending } : t)) as State["tasks"] });
  const base = { op: { op: "container.destroy", task: 0, container: 2 }, object: 0, slot: 1, cursor: { task: 0, vpage: 1 } };
  const variants = [
    { ...base, op: { ...base.op, container: 3 } },
    { ...base, object: 1 },
    { ...base, slot: 0 },
    { ...base, cursor: { task: 0, vpage: 2 } },
    { ...base, cursor: { task: 1, vpage: 1 } },
    { ...base, cursor: null },
    null,
  ];
  const prints = new Set([fingerprint(s).join(":"), ...variants.map((p) => fingerprint(withPending(p)).join(":"))]);
  expect(prints.size).toBe(variants.length + 1);
});

test("the fingerprint tells preempted task destroys apart: the slot, the task, the page, the capability slot, the cursor", () => {
  const config = { ...TINY_CONFIG, capSlots: 6, vpages: 4, objects: 30, budget: 1 };
  let s = boot(config);
  const ops: Op[] = [
    { op: "task.create", task: 0, account: 0, dest: 2 },
    { op: "task.destroy", task: 0, target: 2 }, // no page mapped: on to the capabilities
  ];
  for (const op of ops) s = step(s, op).state;
  expect(s.tasks[0]!.pending).toEqual({ op: { op: "task.destroy", task: 0, target: 2 }, object: 1, page: -1, slot: 5, cursor: null });
  const withPending = (pending: unknown): State => ({ ...s, tasks: s.tasks.map((t, i) => (i === 0 ? { ...t!, pending } : t)) as State["tasks"] });
  const base = { op: { op: "task.destroy", task: 0, target: 2 }, object: 1, page: -1, slot: 5, cursor: null };
  const variants = [
    { ...base, op: { ...base.op, target: 3 } },
    { ...base, object: 0 },
    { ...base, page: 3, slot: 5 },
    { ...base, slot: 4 },
    { ...base, slot: -1 },
    { ...base, page: 2, cursor: { task: 1, vpage: 2 } },
    { ...base, page: 2, cursor: { task: 0, vpage: 2 } },
    { op: { op: "container.destroy", task: 0, container: 2 }, object: 1, slot: -1, cursor: null },
    null,
  ];
  const prints = new Set([fingerprint(s).join(":"), ...variants.map((p) => fingerprint(withPending(p)).join(":"))]);
  expect(prints.size).toBe(variants.length + 1);
});

test("the fingerprint tells preempted account destroys apart: the slot, the account, the object it takes apart, the page, the slot, the cursor", () => {
  const config = { ...TINY_CONFIG, capSlots: 6, vpages: 4, objects: 30, budget: 1 };
  let s = boot(config);
  const ops: Op[] = [
    { op: "account.create", task: 0, account: 0, dest: 2, frames: 0, objects: 5 },
    { op: "cap.derive", task: 0, src: 2, dest: 3, rights: ["read"] },
    { op: "account.destroy", task: 0, account: 2 }, // nothing paid for: the other capability naming it goes
  ];
  for (const op of ops) s = step(s, op).state;
  expect(s.tasks[0]!.pending).toEqual({ op: { op: "account.destroy", task: 0, account: 2 }, object: 1, at: null, page: -1, slot: -1, cursor: null });
  const withPending = (pending: unknown): State => ({ ...s, tasks: s.tasks.map((t, i) => (i === 0 ? { ...t!, pending } : t)) as State["tasks"] });
  const base = { op: { op: "account.destroy", task: 0, account: 2 }, object: 1, at: null, page: -1, slot: -1, cursor: null };
  const variants = [
    { ...base, op: { ...base.op, account: 3 } },
    { ...base, object: 0 },
    { ...base, at: { kind: "container", id: 0 }, slot: 0 },
    { ...base, at: { kind: "task", id: 0 }, slot: 0 },
    { ...base, at: { kind: "task", id: 1 }, slot: 0 },
    { ...base, at: { kind: "task", id: 1 }, page: 3, slot: 5 },
    { ...base, at: { kind: "task", id: 1 }, page: 3, slot: 5, cursor: { task: 1, vpage: 3 } },
    { op: { op: "task.destroy", task: 0, target: 2 }, object: 1, page: -1, slot: -1, cursor: null },
    null,
  ];
  const prints = new Set([fingerprint(s).join(":"), ...variants.map((p) => fingerprint(withPending(p)).join(":"))]);
  expect(prints.size).toBe(variants.length + 1);
});
