/**
 * The page tables' size limit: two levels of 512 entries reach 2^18 pages,
 * the most a configuration may ask for (spec/vocabulary.ts), and no more.
 * Runs under vitest (npm test) and under mocha (npm run mutation).
 */
import assert from "node:assert/strict";
import { describe, it } from "../../refinement-tests/harness/testapi.js";
import { PT_SIZE } from "../constants.js";
import { PageTables } from "./pagetables.js";

describe("PageTables", () => {
  it("reaches exactly two levels of 512 entries", () => {
    const full = new PageTables(1, PT_SIZE * PT_SIZE, 1);
    assert.equal(full.dirEntries, PT_SIZE);
    assert.equal(full.leafSize, PT_SIZE);
    assert.throws(() => new PageTables(1, PT_SIZE * PT_SIZE + 1, 1), /^RangeError: vpages 262145 exceeds a two-level table \(262144\)$/);
  });
});
