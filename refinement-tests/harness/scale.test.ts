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
import { faultedIn } from "./paging.js";

const N = 100_000;
const CONFIG: Config = { frames: 4, objects: 3 * N, accounts: 1, tasks: 2, containers: 1, capSlots: N + 8, vpages: 1 << 17, containerSlots: 1, handles: 0 };

/**
 * Built by task `holder` (0, or 1, which the root task creates and gives its
 * account capability in slot 0): container cap in slot 2; chain link i in
 * slot 3 + i, derived from the previous one; link i maps page i.
 */
function buildChain(holder = 0): Machine {
  const m = new Machine(CONFIG);
  const must = (op: Op) => expect(m.exec(op), JSON.stringify(op)).toBe(0);
  if (holder === 1) {
    must({ op: "task.create", task: 0, account: 0, dest: 2 });
    must({ op: "task.window", task: 1, slot: 0, slots: 1, page: 0, pages: 0 });
    must({ op: "cap.copy", task: 0, src: 0, target: 2, dest: 0 });
  }
  const t = holder;
  must({ op: "container.create", task: t, account: 0, dest: 2 });
  must({ op: "container.alloc", task: t, container: 2, index: 0 });
  for (let i = 0; i < N; i++) {
    must({ op: "cap.derive", task: t, src: i === 0 ? 2 : 2 + i, dest: 3 + i, rights: ["read", "write"] });
    must({ op: "page.map", task: t, container: 3 + i, index: 0, vpage: i, rights: ["read"] });
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

  it("goes with the task that holds it: every link vanishes, and the container with its last capability", () => {
    const m = buildChain(1);
    const spec = bothDo(m, toSpec(m), { op: "task.destroy", task: 0, target: 2 });
    expect(spec.tasks[1]).toBeNull();
    expect(spec.containers[0]).toBeNull();
    expect(spec.tasks[0]!.caps.filter((c) => c !== null)).toHaveLength(2); // the boot capabilities
  });
});

/**
 * Epochs past 32 bits. A frame's epoch is bumped at every write and every
 * new use; a soft reference is valid while it still records its frame's
 * epoch. A 32-bit counter comes back to an old value after 2^32 bumps of one
 * frame (seconds of writing, for a real machine), and a stale soft reference
 * would then pass for a valid one: promote would hand back a frame that now
 * holds someone else's data. No trace gets there by writing, so the frames
 * start aged: the impl's epochs are set just below 2^31 or 2^32, the spec's
 * state is read back through the abstraction function, and both sides then
 * run the same operations across that boundary.
 */
describe("frame epochs across 2^31 and 2^32", () => {
  for (const aged of [2 ** 31 - 2, 2 ** 32 - 2, 2 ** 52]) {
    it(`from ${aged.toLocaleString("en")}: soft references go stale at every write, and both sides agree`, () => {
      const m = new Machine({ frames: 4, objects: 40, accounts: 1, tasks: 1, containers: 1, capSlots: 4, vpages: 2, containerSlots: 2, handles: 0 });
      m.frames.epoch.fill(aged);
      let spec = toSpec(m);
      expect(spec.frames.map((f) => f.epoch)).toEqual([aged, aged, aged, aged]);
      const ops: Op[] = [
        { op: "container.create", task: 0, account: 0, dest: 2 },
        { op: "container.alloc", task: 0, container: 2, index: 0 }, // frame 0: aged + 1
        { op: "container.copy", task: 0, src: 2, srcIndex: 0, dst: 2, dstIndex: 1 },
        { op: "container.demote", task: 0, container: 2, index: 1 }, // a soft reference at aged + 1
        { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] },
        { op: "mem.write", task: 0, vpage: 0, value: 7 }, // aged + 2: the soft reference is stale
        { op: "mem.write", task: 0, vpage: 0, value: 8 }, // aged + 3
      ];
      for (const op of ops) spec = bothDo(m, spec, op);
      expect(spec.frames[0]!.epoch).toBe(aged + 3);
      const promote = step(spec, { op: "container.promote", task: 0, container: 2, index: 1 });
      expect(promote.result).toEqual({ ok: false, error: "Stale" });
      expect(m.apply({ op: "container.promote", task: 0, container: 2, index: 1 })).toEqual(promote.result);
    });
  }
});

/**
 * The count of notices a pager missed (its fault queue full) grows without
 * bound until the pager asks (fault.notice). As for epochs, no trace loses
 * 2^31 notices, so the impl's count starts aged, read back into the spec's
 * state, and one more notice is lost across the boundary.
 */
it("a pager's count of missed notices passes 2^31 on both sides", () => {
  const m = new Machine({ frames: 4, objects: 40, accounts: 1, tasks: 2, containers: 1, capSlots: 6, vpages: 4, containerSlots: 3, handles: 0, faultQueue: 2 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.pager", task: 0, target: 3, pager: 1 },
  ];
  ops.push(...faultedIn(3));
  for (let f = 0; f < 2; f++) ops.push({ op: "physmem.reclaim", frame: f });
  for (const op of ops) expect(m.apply(op).ok, JSON.stringify(op)).toBe(true);
  expect(m.tasks.noteLen[0]).toBe(2); // (the queue is full: the next notice is missed)
  m.tasks.missed[0] = 2 ** 31 - 1;
  let spec = toSpec(m);
  expect(spec.tasks[0]!.missed).toBe(2 ** 31 - 1);
  spec = bothDo(m, spec, { op: "physmem.reclaim", frame: 2 });
  expect(spec.tasks[0]!.missed).toBe(2 ** 31);
  const notice = step(spec, { op: "fault.notice", task: 0 });
  expect(notice.result).toMatchObject({ ok: true, value: 2 ** 31 });
  expect(m.apply({ op: "fault.notice", task: 0 })).toEqual(notice.result);
});
