/**
 * Deep and large structures: a 100,000-deep derivation chain with a mapping
 * authorized by every link, revoked, deleted from the middle and rescinded,
 * on both sides. Nothing may recurse over these structures (a recursive walk
 * would overflow the stack long before 100,000 levels), and the two sides
 * must still agree. The impl builds the chain through its operations; the
 * spec gets the same state through the abstraction function, which is then
 * itself exercised at scale.
 */
import { describe, expect, it } from "vitest";
import { checkInvariants } from "../../spec/invariants.js";
import { step } from "../../spec/operations.js";
import type { State } from "../../spec/state.js";
import type { Config, Op } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation } from "../../impl/check.js";
import { Machine } from "../../impl/machine.js";
import { firstDifference } from "./compare.js";

const N = 100_000;
const CONFIG: Config = { frames: 4, objects: 3 * N, accounts: 1, tasks: 2, containers: 1, capSlots: N + 8, vpages: 1 << 17, containerSlots: 1, handles: 0 };

/** Container cap in slot 2; chain link i in slot 3 + i, derived from the previous one; link i maps page i. */
function buildChain(): Machine {
  const m = new Machine(CONFIG);
  const must = (op: Op) => expect(m.exec(op), JSON.stringify(op)).toBe(0);
  must({ op: "container.create", task: 0, account: 0, dest: 2 });
  must({ op: "container.alloc", task: 0, container: 2, index: 0 });
  for (let i = 0; i < N; i++) {
    must({ op: "cap.derive", task: 0, src: i === 0 ? 2 : 2 + i, dest: 3 + i, rights: ["read", "write"] });
    must({ op: "page.map", task: 0, container: 3 + i, index: 0, vpage: i, rights: ["read"] });
  }
  return m;
}

function bothDo(m: Machine, spec: State, op: Op): State {
  const s = step(spec, op);
  expect(m.apply(op)).toEqual(s.result);
  expect(s.result.ok).toBe(true);
  expect(firstDifference(s.state, toSpec(m))).toBeNull();
  expect(checkInvariants(s.state)).toEqual([]);
  expect(checkRepresentation(m)).toEqual([]);
  return s.state;
}

describe(`a ${N.toLocaleString("en")}-deep derivation chain`, () => {
  it("is built, checked and revoked (100,000 caps and 100,000 mappings) on both sides", () => {
    const m = buildChain();
    const spec = toSpec(m);
    expect(checkInvariants(spec)).toEqual([]);
    expect(spec.tasks[0]!.caps[2 + N]!.parent).toEqual({ task: 0, slot: 1 + N });
    const after = bothDo(m, spec, { op: "cap.revoke", task: 0, slot: 2 });
    expect(after.tasks[0]!.caps.filter((c) => c !== null)).toHaveLength(3);
    expect(after.tasks[0]!.pages.every((p) => p === null)).toBe(true);
    expect(after.accounts[0]!.objectsCharged).toBe(5); // task, 3 caps, container
  });

  it("survives a delete in the middle (the rest re-attaches) and a container rescind", () => {
    const m = buildChain();
    let spec = toSpec(m);
    spec = bothDo(m, spec, { op: "cap.delete", task: 0, slot: 3 + N / 2 });
    expect(spec.tasks[0]!.caps[4 + N / 2]!.parent).toEqual({ task: 0, slot: 2 + N / 2 });
    spec = bothDo(m, spec, { op: "container.destroy", task: 0, container: 2 });
    expect(spec.tasks[0]!.caps.filter((c) => c !== null)).toHaveLength(2);
  });

  it("goes with its task when the task is destroyed", () => {
    const m = buildChain();
    expect(m.exec({ op: "task.create", task: 0, account: 0, dest: N + 5 })).toBe(0);
    expect(m.exec({ op: "cap.copy", task: 0, src: N + 5, target: N + 5, dest: N + 6 })).toBe(0);
    // task 0 kills itself: the chain, all mappings and all caps naming task 0 go
    const spec = bothDo(m, toSpec(m), { op: "task.destroy", task: 0, target: 1 });
    expect(spec.tasks[0]).toBeNull();
  });
});
