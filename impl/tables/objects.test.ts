/**
 * The marks of account links (tables/objects.ts): a short list that grows
 * by doubling past its first four entries, one entry per account and chain.
 * Runs under vitest (npm test) and under mocha (npm run mutation).
 */
import assert from "node:assert/strict";
import { describe, it } from "../../refinement-tests/harness/testapi.js";
import { TaskTable } from "./objects.js";

describe("TaskTable marks of account links", () => {
  it("grow past four, keep one entry per account and chain, and go with their chain", () => {
    const tt = new TaskTable(3, 8);
    for (let a = 1; a <= 6; a++) tt.markAccount(a, a % 2, 2);
    tt.markAccount(1, 2, 0);
    assert.equal(tt.zMarks, 7);
    assert.equal(tt.markAcct.length, 8);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => tt.linkOf(a, a % 2)), [2, 2, 2, 2, 2, 2]);
    assert.equal(tt.linkOf(1, 2), 0);
    assert.equal(tt.linkOf(1, 0), -1);
    tt.unmarkAccount(3, 1);
    assert.equal(tt.linkOf(3, 1), -1);
    assert.equal(tt.zMarks, 6);
    tt.clearChain(1);
    assert.deepEqual([tt.zMarks, tt.linkOf(1, 1), tt.linkOf(5, 1), tt.linkOf(2, 0), tt.linkOf(1, 2)], [4, -1, -1, 2, 0]);
    // (the entries past zMarks are clear: the representation check asks that)
    for (let i = tt.zMarks; i < tt.markAcct.length; i++) assert.deepEqual([tt.markAcct[i], tt.markOwner[i], tt.markAt[i]], [-1, -1, -1]);
  });
});
