/**
 * Hand-written scenarios, run in lockstep on spec and impl (every step
 * checked as in the random traces) with the results each step must give.
 * They pin down stories that random traces reach only rarely. The worked
 * stories from the seeds live as trace files in docs/scenarios (run by
 * docs.test.ts); these are the ones that are not documentation.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Config, Op } from "../../spec/vocabulary.js";
import { traceFiles } from "../cli/traces.js";
import { Lockstep } from "./lockstep.js";

const CONFIG: Config = { frames: 4, objects: 40, accounts: 3, tasks: 3, containers: 3, capSlots: 8, vpages: 8, containerSlots: 2, handles: 2 };

/** Runs [op, expected] pairs in lockstep; expected is "ok", an ok value, or an error code. */
function play(steps: [Op, string | number][], config = CONFIG): Lockstep {
  const ls = new Lockstep(config, { concrete: true });
  steps.forEach(([op, want], i) => {
    const r = ls.run(op);
    const got = r.ok ? (typeof want === "number" ? r.value : "ok") : r.error;
    expect(got, `step ${i}: ${JSON.stringify(op)}`).toBe(want);
  });
  return ls;
}

describe("scenarios (spec and impl in lockstep)", () => {
  it("destroying the account that pays for a handle unwires it", () => {
    const ls = play([
      [{ op: "account.create", task: 0, account: 0, dest: 2, frames: 1, objects: 6 }, 1], // one frame: the handle pays for the pinned frame
      [{ op: "task.create", task: 0, account: 2, dest: 3 }, 1], // the driver, paid by account 1
      [{ op: "container.create", task: 0, account: 0, dest: 4 }, 0],
      [{ op: "container.alloc", task: 0, container: 4, index: 0 }, 0],
      [{ op: "task.window", task: 1, slot: 0, slots: 1, page: 0, pages: 0 }, "ok"],
      [{ op: "cap.copy", task: 0, src: 4, target: 3, dest: 0 }, "ok"],
      [{ op: "dma.wire", task: 1, container: 0, index: 0, dest: 1 }, 0], // the handle is paid by account 1
      [{ op: "account.destroy", task: 0, account: 2 }, "ok"],
    ]);
    expect(ls.spec.handles[0]).toBeNull();
    expect(ls.spec.frames[0]!.wired).toBe(0);
  });

  it("physmem relocates a frame: content moves, mappings go, wired frames stay", () => {
    play([
      [{ op: "container.create", task: 0, account: 0, dest: 2 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 0 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 1 }, 1],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] }, "ok"],
      [{ op: "mem.write", task: 0, vpage: 0, value: 9 }, "ok"],
      [{ op: "physmem.relocate", frame: 0 }, 2],
      [{ op: "mem.read", task: 0, vpage: 0 }, "NotMapped"],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read"] }, "ok"],
      [{ op: "mem.read", task: 0, vpage: 0 }, 9],
      [{ op: "dma.wire", task: 0, container: 2, index: 1, dest: 3 }, 0],
      [{ op: "physmem.relocate", frame: 1 }, "Wired"],
      [{ op: "physmem.relocate", frame: 3 }, "FrameNotInUse"],
    ]);
  });
});

/**
 * Attacks that the spec once let through (each broke a security property
 * that did not exist yet, or a promise of an operation's doc comment), kept
 * as trace files with the results the spec now gives: refinement-tests/
 * harness/regressions/*.json, each with a name and a description.
 */
describe("regression traces (spec and impl in lockstep, expected results)", () => {
  for (const [file, trace] of traceFiles(join(import.meta.dirname, "regressions"), "regressions")) {
    it(`${file}: ${trace.name ?? ""}`, () => {
      expect(trace.expect, `${file} has no expect`).toBeDefined();
      const ls = new Lockstep(trace.config, { concrete: true });
      trace.ops.forEach((op, i) => expect(ls.run(op), `${file} step ${i}: ${JSON.stringify(op)}`).toEqual(trace.expect![i]));
    });
  }
});
