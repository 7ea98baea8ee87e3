/**
 * Index lists sorted on demand (tables/lists.ts): the merge sort and the
 * per-account lists of what an account pays for. Runs under vitest (npm
 * test) and under mocha (npm run mutation).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, it } from "../../refinement-tests/harness/testapi.js";
import { IndexLists, sortDescending } from "./lists.js";

/** The list from `head`, checking its back links on the way. */
function listed(head: number, next: Int32Array, prev: Int32Array): number[] {
  const out: number[] = [];
  for (let x = head, p = -1; x !== -1; p = x, x = next[x]!) {
    assert.equal(prev[x], p, `back link of ${x}`);
    out.push(x);
    assert.ok(out.length <= next.length, "the list does not end");
  }
  return out;
}

describe("sortDescending", () => {
  it("sorts any list, greatest index first, and rewrites its back links", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 299 }), { maxLength: 300 }), (ids) => {
        const next = new Int32Array(300).fill(-7);
        const prev = new Int32Array(300).fill(-7);
        ids.forEach((x, i) => {
          next[x] = ids[i + 1] ?? -1;
          prev[x] = ids[i - 1] ?? -1;
        });
        const head = sortDescending(ids[0] ?? -1, next, prev);
        assert.deepEqual(listed(head, next, prev), [...ids].sort((a, b) => b - a));
      }),
      { numRuns: 300 },
    );
  });

  it("sorts runs across the powers of two (1, 2, 3, 4, 5, 1023, 1024, 1025 nodes, reversed and shuffled)", () => {
    for (const n of [1, 2, 3, 4, 5, 1023, 1024, 1025]) {
      for (const order of ["ascending", "shuffled"]) {
        const ids = Array.from({ length: n }, (_, i) => i);
        // (a fixed shuffle: swap each place with one a prime stride away)
        if (order === "shuffled") {
          for (let i = n - 1; i > 0; i--) {
            const j = (i * 7919) % (i + 1);
            [ids[i], ids[j]] = [ids[j]!, ids[i]!];
          }
        }
        const next = new Int32Array(n);
        const prev = new Int32Array(n);
        ids.forEach((x, i) => {
          next[x] = ids[i + 1] ?? -1;
          prev[x] = ids[i - 1] ?? -1;
        });
        assert.deepEqual(listed(sortDescending(ids[0]!, next, prev), next, prev), ids.map((_, i) => n - 1 - i), `${n} ${order}`);
      }
    }
  });
});

describe("IndexLists", () => {
  it("keeps each account's ids, sorted when asked, through additions and removals in any order", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }), (ops) => {
        const lists = new IndexLists(4, 41);
        const model: Set<number>[] = [0, 1, 2, 3].map(() => new Set());
        const payer = new Map<number, number>();
        for (const [add, a, id] of ops) {
          if (add && !payer.has(id)) {
            lists.add(a, id);
            model[a]!.add(id);
            payer.set(id, a);
          } else if (!add && payer.has(id)) {
            lists.remove(payer.get(id)!, id);
            model[payer.get(id)!]!.delete(id);
            payer.delete(id);
            assert.deepEqual([lists.next[id], lists.prev[id]], [-1, -1]);
          }
          // (now and then, the walk's question: the list sorted in place, which later additions and removals must keep consistent)
          if (id % 3 === 0) {
            const g = lists.greatest(a);
            assert.equal(g, model[a]!.size === 0 ? -1 : Math.max(...model[a]!));
            assert.deepEqual(listed(lists.first[a]!, lists.next, lists.prev), [...model[a]!].sort((x, y) => y - x));
          }
        }
        for (let a = 0; a < 4; a++) {
          const ids = listed(lists.first[a]!, lists.next, lists.prev);
          assert.deepEqual([...ids].sort((x, y) => x - y), [...model[a]!].sort((x, y) => x - y));
          if (lists.sorted[a] === 1) assert.deepEqual(ids, [...ids].sort((x, y) => y - x), `account ${a} is marked sorted`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
