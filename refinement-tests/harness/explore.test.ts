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
