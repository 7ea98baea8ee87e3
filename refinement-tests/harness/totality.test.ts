/**
 * Every operation is total: whatever it is given, it returns a result and an
 * error changes nothing. Here the operations get values no zod schema would
 * let through (negative, fractional, huge, NaN, strings, missing fields,
 * unknown kinds): the spec and the impl must still agree, never throw, and
 * leave their states as they were. (The lockstep also checks the "nothing
 * changed" part on every error in the random traces.) It runs under vitest
 * (npm test) and under mocha (npm run mutation): see testapi.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, it } from "./testapi.js";
import type { Op } from "../../spec/vocabulary.js";
import { OP_KINDS } from "../../spec/vocabulary.js";
import { step } from "../../spec/operations.js";
import { intentArb, resolve, SMALL_CONFIG } from "./generate.js";
import { Machine } from "../../impl/machine.js";
import { Divergence, Lockstep, Snapshot } from "./lockstep.js";

/** An impl that marks the mapping dirty before checking that the write is allowed. */
class DirtiesOnFault extends Machine {
  override exec(op: Op): number {
    if (op.op === "mem.write") {
      const e = this.lookup(op.task, op.vpage);
      if (e >= 0) this.pages.flags[e]! |= 2;
    }
    return super.exec(op);
  }
}

const weird = fc.oneof(
  fc.constantFrom(-1, 0.5, 1e300, Number.NaN, Infinity, -0, 2 ** 31, 2 ** 53, "1", null, undefined, [], {}, ["read", "read"], ["bogus"], ["read", "write", "alloc", "priv", "read"]),
  fc.integer({ min: -3, max: 12 }),
);
/** A sensible operation (resolved against the current state) with one field made malformed. */
const corruption = fc.record({ intent: intentArb, field: fc.nat(), value: weird });
const junkOp = fc.record({
  op: fc.oneof(fc.constantFrom(...OP_KINDS), fc.constantFrom("no.such.op", "", "__proto__", "toString")),
  task: weird,
});

describe("operations are total", () => {
  it("malformed operations agree, do not throw, and change nothing on error", () => {
    const malformed = fc.property(fc.array(intentArb, { maxLength: 40 }), fc.array(corruption, { minLength: 1, maxLength: 30 }), (setup, corruptions) => {
      const ls = new Lockstep(SMALL_CONFIG, { concrete: true });
      for (const intent of setup) ls.runIntent(intent);
      for (const { intent, field, value } of corruptions) {
        const op: Record<string, unknown> = { ...resolve(ls.spec, { ...intent, raw: false }) };
        const keys = Object.keys(op).filter((k) => k !== "op");
        op[keys[field % keys.length]!] = value;
        ls.run(op as unknown as Op); // Lockstep checks agreement, no throw, and "unchanged" on error
      }
    });
    fc.assert(malformed, { numRuns: Number(process.env.CAPMEM_TOTALITY_RUNS ?? 300) });
  });

  it("every field of every kind of operation, given each malformed value, on both sides (deterministic)", () => {
    // The property above draws its corruptions at random; this one tries each
    // (kind, field, value) once, each on the first operation of that kind
    // that would succeed in a fixed generated trace, so that every
    // range and type check of every operation is tried where it matters.
    const values: unknown[] = [-1, 0.5, Number.NaN, 2 ** 53, "1", null, ["bogus"]];
    // (a pager configuration: a third of the steps go to pagers, so that fault.resolve succeeds too)
    const ls = new Lockstep({ ...SMALL_CONFIG, faultQueue: 2 }, { concrete: true });
    const done = new Set<string>();
    for (const intent of fc.sample(intentArb, { seed: 5, numRuns: 1500 })) {
      const op = resolve(ls.spec, intent);
      if (!done.has(op.op) && step(ls.spec, op).result.ok) {
        done.add(op.op);
        for (const field of Object.keys(op).filter((k) => k !== "op")) {
          for (const value of values) ls.run({ ...op, [field]: value } as unknown as Op);
        }
      }
      if (done.size === OP_KINDS.length) break;
      ls.run(op);
    }
    assert.deepEqual(OP_KINDS.filter((k) => !done.has(k)), [], "kinds the fixed trace never performs");
    for (const op of [null, undefined, 5, "mem.read", [], true]) assert.deepEqual(ls.run(op as unknown as Op), { ok: false, error: "BadValue" });
  });

  it("junk operations are rejected the same way on both sides", () => {
    fc.assert(
      fc.property(fc.array(junkOp, { minLength: 1, maxLength: 10 }), (ops) => {
        const ls = new Lockstep(SMALL_CONFIG, { concrete: true });
        for (const op of ops) ls.run(op as unknown as Op);
      }),
    );
  });

  it("rejects an unknown operation kind with BadValue on both sides", () => {
    const ls = new Lockstep(SMALL_CONFIG, { concrete: true });
    const before = new Snapshot().take(ls.impl);
    assert.deepEqual(ls.run({ op: "frobnicate", task: 0 } as unknown as Op), { ok: false, error: "BadValue" });
    assert.deepEqual(before.changed(ls.impl), []);
  });

  it("the lockstep catches an impl that changes its state on an error, and names the field", () => {
    const ls = new Lockstep(SMALL_CONFIG, { concrete: true, Impl: DirtiesOnFault });
    ls.run({ op: "container.create", task: 0, account: 0, dest: 2 });
    ls.run({ op: "container.alloc", task: 0, container: 2, index: 0 });
    ls.run({ op: "page.map", task: 0, container: 2, index: 0, vpage: 3, rights: ["read"] });
    let message = "no divergence";
    try {
      ls.run({ op: "mem.write", task: 0, vpage: 3, value: 1 }); // read-only mapping: ProtectionFault
    } catch (e) {
      message = e instanceof Divergence ? e.what : String(e);
    }
    assert.match(message, /the impl changed its state on error ProtectionFault \(pages.flags\)/);
  });
});
