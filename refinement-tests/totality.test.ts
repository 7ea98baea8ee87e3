/**
 * Every operation is total: whatever it is given, it returns a result and an
 * error changes nothing. Here the operations get values no zod schema would
 * let through (negative, fractional, huge, NaN, strings, missing fields,
 * unknown kinds): the spec and the impl must still agree, never throw, and
 * leave their states as they were. (The lockstep also checks the "nothing
 * changed" part on every error in the random traces.)
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { Op } from "../spec/vocabulary.js";
import { OP_KINDS } from "../spec/vocabulary.js";
import { intentArb, SMALL_CONFIG } from "./generate.js";
import { fingerprint, Lockstep } from "./lockstep.js";

const FIELDS = ["task", "account", "dest", "frames", "objects", "from", "to", "target", "container", "index", "src", "slot", "vpage", "value", "rights"];
const weird = fc.oneof(
  fc.constantFrom(-1, 0.5, 1e300, Number.NaN, Infinity, -0, 2 ** 31, 2 ** 53, "1", null, undefined, [], {}, ["read", "read"], ["bogus"], ["read", "write", "alloc", "priv", "read"]),
  fc.integer({ min: -3, max: 12 }),
);
const weirdOp = fc.record({
  op: fc.oneof(fc.constantFrom(...OP_KINDS), fc.constantFrom("no.such.op", "", "__proto__")),
  fields: fc.dictionary(fc.constantFrom(...FIELDS), weird),
});

describe("operations are total", () => {
  test.prop([fc.array(intentArb, { maxLength: 40 }), fc.array(weirdOp, { minLength: 1, maxLength: 20 })], { numRuns: 200 })(
    "malformed operations agree, do not throw, and change nothing on error",
    (setup, bad) => {
      const ls = new Lockstep(SMALL_CONFIG, { concrete: true });
      for (const intent of setup) ls.runIntent(intent);
      for (const { op, fields } of bad) ls.run({ op, ...fields } as unknown as Op); // Lockstep checks agreement and "unchanged"
    },
  );

  it("rejects an unknown operation kind with BadValue on both sides", () => {
    const ls = new Lockstep(SMALL_CONFIG, { concrete: true });
    const before = fingerprint(ls.impl);
    expect(ls.run({ op: "frobnicate", task: 0 } as unknown as Op)).toEqual({ ok: false, error: "BadValue" });
    expect(fingerprint(ls.impl)).toBe(before);
  });
});
