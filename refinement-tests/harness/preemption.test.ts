/**
 * Preemption (spec/preemption.ts): a budget past any removal changes
 * nothing; a small one splits page.unmap into entries, ceil(n / W) of them
 * for n units of work, however deep the trees; spec and impl agree at
 * every preemption point (the lockstep checks every step).
 */
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { step } from "../../spec/operations.js";
import type { State } from "../../spec/state.js";
import { checkInvariants } from "../../spec/invariants.js";
import { Machine } from "../../impl/machine.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation } from "../../impl/check.js";
import { firstDifference } from "./compare.js";
import { removalLength } from "../../spec/preemption.js";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { traceFiles } from "../cli/traces.js";
import { Lockstep } from "./lockstep.js";
import { intentArb, preemptConfigArb } from "./generate.js";

const ROOT = join(import.meta.dirname, "../..");
const FILES = [...traceFiles(join(ROOT, "docs/scenarios"), "docs/scenarios"), ...traceFiles(join(ROOT, "refinement-tests/harness/regressions"), "regressions")];

describe("preemption", () => {
  it("with a budget no removal reaches, every trace file gives the same results and states as without one", () => {
    for (const [file, trace] of FILES) {
      const { budget: _, ...without } = trace.config;
      const plain = new Lockstep(without, { concrete: true });
      const budgeted = new Lockstep({ ...trace.config, budget: 2 ** 40 }, { concrete: true });
      trace.ops.forEach((op, i) => expect(budgeted.run(op), `${file} step ${i}`).toEqual(plain.run(op)));
      expect({ ...budgeted.spec, config: null }, file).toEqual({ ...plain.spec, config: null });
    }
  });

  /** Task 0 maps its page 0 to its page 1, that one to page 2, ...: a chain as deep as the address space. */
  function chain(budget: number, depth: number): { ls: Lockstep; unmap: Op } {
    const config: Config = { frames: 2, objects: 3 * depth + 20, accounts: 1, tasks: 1, containers: 1, capSlots: 4, vpages: depth + 1, containerSlots: 1, handles: 0, budget };
    const ls = new Lockstep(config, { concrete: true });
    const must = (op: Op) => expect(ls.run(op).ok, JSON.stringify(op)).toBe(true);
    must({ op: "container.create", task: 0, account: 0, dest: 2 });
    must({ op: "container.alloc", task: 0, container: 2, index: 0 });
    must({ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] });
    for (let v = 0; v < depth; v++) must({ op: "l4.map", task: 0, vpage: v, target: 1, dest: v + 1, rights: ["read", "write"] });
    return { ls, unmap: { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "all" } };
  }

  for (const [budget, depth] of [
    [1, 40],
    [3, 40],
    [7, 200],
  ] as const) {
    it(`a chain ${depth} deep under a budget of ${budget} finishes in ceil(n / W) entries, from the leaves up`, () => {
      const { ls, unmap } = chain(budget, depth);
      const n = removalLength(ls.spec, unmap as Extract<Op, { op: "page.unmap" }>, null);
      // start the page, go down `depth` levels, finish `depth + 1` mappings
      expect(n).toBe(1 + depth + depth + 1);
      let entries = 0;
      for (;;) {
        const r = ls.run(unmap);
        entries++;
        expect(r.ok).toBe(true);
        if (r.ok && !r.preempted) break;
        // the deepest mappings go first: what is left is still one chain from page 0
        const mapped = ls.spec.tasks[0]!.pages.flatMap((m, v) => (m ? [v] : []));
        expect(mapped).toEqual(mapped.map((_, i) => i));
        // meanwhile the task may do nothing else
        expect(ls.run({ op: "mem.read", task: 0, vpage: 0 })).toEqual({ ok: false, error: "Blocked" });
      }
      expect(entries).toBe(Math.ceil(n / budget));
      expect(ls.spec.tasks[0]!.pages.every((m) => m === null)).toBe(true);
      expect(ls.spec.tasks[0]!.pending).toBeNull();
    });
  }

  // Split or not, a removal ends in the same state when nobody else acts:
  // at every page.unmap, cap.revoke and container, task and account destroy of a random trace on a preemption
  // configuration, run it to the end entry by entry and compare with the
  // one-step removal of a configuration without a budget.
  test.prop([preemptConfigArb, fc.array(intentArb, { minLength: 1, maxLength: 120, size: "max" })], { numRuns: 150 })(
    "a removal run entry by entry, nobody else acting, ends where the one-step removal does",
    (config, intents) => {
      const ls = new Lockstep(config, {});
      for (const intent of intents) ls.runIntent(intent);
      const { budget: _, ...unbudgeted } = config;
      let s: State = new Lockstep(config, {}).spec;
      for (const op of ls.ops) {
        const subject = (op as { task?: number }).task;
        if ((op.op === "cap.revoke" || op.op === "page.unmap" || op.op === "container.destroy" || op.op === "task.destroy" || op.op === "account.destroy") && typeof subject === "number" && !s.tasks[subject]?.pending) {
          const once = step({ ...s, config: unbudgeted }, op);
          let split = step(s, op);
          for (let entries = 1; split.result.ok && split.result.preempted; entries++) {
            expect(entries).toBeLessThan(100_000);
            split = step(split.state, op);
          }
          expect({ ...split.state, config: null }, JSON.stringify(op)).toEqual({ ...once.state, config: null });
          expect({ ...split.result, preempted: undefined }).toEqual({ ...once.result, preempted: undefined });
        }
        s = step(s, op).state;
      }
    },
  );

  // The story of docs/preemption.md: the root task revokes the container
  // capability it gave a victim, which mapped a page 5,000 times and passed
  // each mapping on: 10,001 nodes, 20,003 units, 201 entries of 100 units.
  // Between every two entries the victim keeps going: what is being
  // revoked is frozen (Removing), what is not works as before.
  it("a revoke of a 10,001-node tree under a budget of 100 takes 201 entries, while the victim keeps mapping", () => {
    const N = 5000;
    const W = 100;
    const config: Config = { frames: 3, objects: 4 * N + 100, accounts: 1, tasks: 3, containers: 2, capSlots: 8, vpages: N + 8, containerSlots: 1, handles: 0, budget: W };
    // spec and impl side by side (the lockstep's checks after every step would cost O(n) each, so
    // results are compared at every step and states and invariants at a few points)
    const m = new Machine(config);
    let spec = toSpec(m);
    const run = (op: Op): Result => {
      const s = step(spec, op);
      expect(m.apply(op), JSON.stringify(op)).toEqual(s.result);
      spec = s.state;
      return s.result;
    };
    const same = () => {
      expect(firstDifference(spec, toSpec(m))).toBeNull();
      expect(checkInvariants(spec)).toEqual([]);
      expect(checkRepresentation(m)).toEqual([]);
    };
    const must = (op: Op) => expect(run(op), JSON.stringify(op)).toMatchObject({ ok: true });
    must({ op: "task.create", task: 0, account: 0, dest: 2 }); // task 1, the victim
    must({ op: "task.create", task: 0, account: 0, dest: 3 }); // task 2
    must({ op: "task.window", task: 1, slot: 0, slots: 8, page: 0, pages: N + 8 });
    must({ op: "task.window", task: 2, slot: 0, slots: 8, page: 0, pages: N + 8 });
    for (const dest of [4, 5]) {
      must({ op: "container.create", task: 0, account: 0, dest });
      must({ op: "container.alloc", task: 0, container: dest, index: 0 });
    }
    must({ op: "cap.copy", task: 0, src: 4, target: 2, dest: 0 }); // the victim's container capability, to be revoked
    must({ op: "cap.copy", task: 0, src: 5, target: 2, dest: 1 }); // another one, not revoked
    must({ op: "cap.copy", task: 0, src: 3, target: 2, dest: 2 }); // a task capability to task 2
    for (let v = 0; v < N; v++) {
      must({ op: "page.map", task: 1, container: 0, index: 0, vpage: v, rights: ["read", "write"] });
      must({ op: "l4.map", task: 1, vpage: v, target: 2, dest: v, rights: ["read"] });
    }
    same();
    const revoke: Op = { op: "cap.revoke", task: 0, slot: 4 };
    const n = removalLength(spec, revoke as Extract<Op, { op: "cap.revoke" }>, null);
    expect(n).toBe(4 * N + 3);
    let entries = 0;
    let spare = N;
    for (;;) {
      const r = run(revoke);
      entries++;
      if (r.ok && !r.preempted) break;
      if (entries === 100) same();
      // the victim keeps mapping: through the capability being revoked it can do nothing new ...
      expect(run({ op: "page.map", task: 1, container: 0, index: 0, vpage: spare, rights: ["read"] })).toEqual({ ok: false, error: "Removing" });
      expect(run({ op: "cap.derive", task: 1, src: 0, dest: 3, rights: ["read"] })).toEqual({ ok: false, error: "Removing" });
      // (the walk takes the root mappings from the greatest page down: page `left` is still there)
      const left = N - 1 - Math.floor((entries * W - 1) / 4);
      expect(run({ op: "l4.map", task: 1, vpage: left, target: 2, dest: N + 1, rights: ["read"] })).toEqual({ ok: false, error: "Removing" });
      // ... what it still has it still uses, and what the revoke does not reach works as before
      expect(run({ op: "mem.read", task: 1, vpage: left })).toMatchObject({ ok: true });
      if (spare < N + 8) must({ op: "page.map", task: 1, container: 1, index: 0, vpage: spare++, rights: ["read"] });
    }
    expect(entries).toBe(Math.ceil(n / W));
    same();
    // nothing derived from the revoked capability is left; the other container's mappings stay
    expect(spec.tasks[1]!.caps[0]).toBeNull();
    expect(spec.tasks[2]!.pages.every((p) => p === null)).toBe(true);
    expect(spec.tasks[1]!.pages.filter((p) => p !== null)).toHaveLength(8);
    expect(spec.tasks[0]!.pending).toBeNull();
  });
});
