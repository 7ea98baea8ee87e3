/**
 * Preemption (spec/preemption.ts): a budget past any removal changes
 * nothing; a small one splits page.unmap into entries, ceil(n / W) of them
 * for n units of work, however deep the trees; spec and impl agree at
 * every preemption point (the lockstep checks every step).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { walkLength } from "../../spec/preemption.js";
import type { Config, Op } from "../../spec/vocabulary.js";
import { traceFiles } from "../cli/traces.js";
import { Lockstep } from "./lockstep.js";

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
      const n = walkLength(ls.spec, unmap as Extract<Op, { op: "page.unmap" }>, null);
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
});
