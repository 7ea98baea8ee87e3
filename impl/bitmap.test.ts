/**
 * The lowest-free bitmap against a plain set, at the sizes where its two
 * levels have edges: a 32-bit word (31, 32, 33), the 1,024 members one
 * summary word covers (1,023, 1,024, 1,025) and several summary words. The
 * lockstep traces reach the first edge on boundary configurations and the
 * second only on the bulk ones; this reaches both in milliseconds. It runs
 * under vitest (npm test) and under mocha (npm run mutation): see testapi.ts.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "../refinement-tests/harness/testapi.js";
import { LowestFreeSet } from "./bitmap.js";

const SIZES = [1, 31, 32, 33, 1023, 1024, 1025, 2049, 40_000];

describe("LowestFreeSet", () => {
  for (const size of SIZES) {
    it(`agrees with a set at size ${size}`, () => {
      // operations: add or delete a member, mostly near the edges
      const member = fc.oneof(fc.nat(size - 1), fc.constantFrom(...[0, 31, 32, 33, 1023, 1024, 1025, size - 1].filter((i) => i < size)));
      fc.assert(
        fc.property(fc.boolean(), fc.array(fc.tuple(fc.boolean(), member), { maxLength: 200 }), (full, ops) => {
          const bits = new LowestFreeSet(size, full);
          const model = new Set<number>(full ? Array.from({ length: size }, (_, i) => i) : []);
          for (const [add, i] of ops) {
            if (add) {
              bits.add(i);
              model.add(i);
            } else {
              bits.delete(i);
              model.delete(i);
            }
            assert.equal(bits.has(i), model.has(i));
            assert.equal(bits.lowest(), model.size === 0 ? -1 : Math.min(...model));
          }
        }),
        { seed: size, numRuns: size > 2000 ? 5 : 40 },
      );
    });
  }

  it("hands out every member, lowest first", () => {
    const bits = new LowestFreeSet(2049, true);
    for (let i = 0; i < 2049; i++) {
      assert.equal(bits.lowest(), i);
      bits.delete(i);
    }
    assert.equal(bits.lowest(), -1);
  });

  it("takes one bit per member and one summary bit per word, no more (the memory the bench reports)", () => {
    for (const [size, words, summary] of [[1, 1, 1], [32, 1, 1], [33, 2, 1], [1024, 32, 1], [1025, 33, 2], [40000, 1250, 40]] as const) {
      const bits = new LowestFreeSet(size, false);
      assert.equal(bits.words.length, words, `words at size ${size}`);
      assert.equal(bits.summary.length, summary, `summary words at size ${size}`);
    }
  });
});
