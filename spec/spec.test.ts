/**
 * Scenario tests on the spec alone: small, readable stories that pin down the
 * decisions the spec's doc comments describe.
 */
import { describe, expect, it } from "vitest";
import { checkInvariants } from "./invariants.js";
import { step } from "./operations.js";
import type { State } from "./state.js";
import { boot } from "./state.js";
import type { Config, Op, Result } from "./vocabulary.js";

const CONFIG: Config = { frames: 4, objects: 30, accounts: 3, tasks: 3, containers: 2, capSlots: 8, vpages: 4, containerSlots: 2, handles: 2 };

/** Runs ops, expecting each to succeed (or to give the error named), checking invariants each step. */
function run(state: State, ops: (Op | [Op, string])[]): { state: State; results: Result[] } {
  const results: Result[] = [];
  for (const item of ops) {
    const [op, expected] = Array.isArray(item) ? item : [item, "ok"];
    const s = step(state, op);
    expect(s.result.ok ? "ok" : s.result.error, JSON.stringify(op)).toBe(expected);
    expect(checkInvariants(s.state)).toEqual([]);
    if (!s.result.ok) expect(s.state).toBe(state);
    state = s.state;
    results.push(s.result);
  }
  return { state, results };
}

/** Root task 0 creates a container (slot 2), a frame in slot 0 of it, and a second task (slot 3). */
const SETUP: Op[] = [
  { op: "container.create", task: 0, account: 0, dest: 2 },
  { op: "container.alloc", task: 0, container: 2, index: 0 },
  { op: "task.create", task: 0, account: 0, dest: 3 },
];

describe("spec scenarios", () => {
  it("boots into a state where every invariant holds and sigma0 owns everything", () => {
    const s = boot(CONFIG);
    expect(checkInvariants(s)).toEqual([]);
    expect(s.accounts[0]).toMatchObject({ frameQuota: 4, objectQuota: 30, objectsCharged: 3 });
  });

  it("shares a container through a proxy without alloc, and revoke takes the proxy's mappings back", () => {
    const { state } = run(boot(CONFIG), [
      ...SETUP,
      // a read-write proxy without alloc, handed to task 1 (slot 0 there, in its receive window)
      { op: "task.window", task: 1, slot: 0, slots: 1, page: 0, pages: 0 },
      { op: "cap.derive", task: 0, src: 2, dest: 4, rights: ["read", "write"] },
      { op: "cap.copy", task: 0, src: 4, target: 3, dest: 0 },
      { op: "page.map", task: 1, container: 0, index: 0, vpage: 1, rights: ["read", "write"] },
      { op: "mem.write", task: 1, vpage: 1, value: 42 },
      // the proxy cannot allocate at its owner's cost
      [{ op: "container.alloc", task: 1, container: 0, index: 1 }, "NoRights"],
      // the owner revokes everything derived from its container cap
      { op: "cap.revoke", task: 0, slot: 2 },
      [{ op: "mem.read", task: 1, vpage: 1 }, "NotMapped"],
    ]);
    expect(state.tasks[1]!.caps[0]).toBeNull();
    expect(state.tasks[0]!.caps[4]).toBeNull();
    // the data is still in the owner's container
    expect(state.frames[0]!.content).toBe(42);
  });

  it("delete keeps derived capabilities and mappings, re-attached to the deleted one's parent", () => {
    const { state } = run(boot(CONFIG), [
      ...SETUP,
      { op: "cap.derive", task: 0, src: 2, dest: 4, rights: ["read", "write"] },
      { op: "cap.derive", task: 0, src: 4, dest: 5, rights: ["read"] },
      { op: "page.map", task: 0, container: 4, index: 0, vpage: 0, rights: ["read"] },
      { op: "cap.delete", task: 0, slot: 4 },
    ]);
    expect(state.tasks[0]!.caps[5]!.parent).toEqual({ task: 0, slot: 2 });
    const m = state.tasks[0]!.pages[0]!; // the mapping it authorized is now authorized by its parent
    expect(m.source.kind === "slot" && m.source.cap).toEqual({ task: 0, slot: 2 });
  });

  it("destroying a sub-account returns all of its quota and takes what it paid for", () => {
    const { state } = run(boot(CONFIG), [
      { op: "account.create", task: 0, account: 0, dest: 2, frames: 2, objects: 10 },
      { op: "container.create", task: 0, account: 2, dest: 3 },
      { op: "container.alloc", task: 0, container: 3, index: 0 },
      { op: "container.alloc", task: 0, container: 3, index: 1 },
      [{ op: "container.create", task: 0, account: 2, dest: 4 }, "ok"],
      [{ op: "container.alloc", task: 0, container: 4, index: 0 }, "FrameQuotaExceeded"],
      { op: "account.destroy", task: 0, account: 2 },
    ]);
    expect(state.accounts[0]).toMatchObject({ frameQuota: 4, objectQuota: 30, objectsCharged: 3 });
    expect(state.containers).toEqual([null, null]);
    expect(state.frames.map((f) => f.refs)).toEqual([0, 0, 0, 0]);
  });

  it("charges the receiver for a copied capability and fails cleanly when it cannot pay", () => {
    const { state } = run(boot(CONFIG), [
      { op: "account.create", task: 0, account: 0, dest: 2, frames: 0, objects: 2 },
      { op: "task.create", task: 0, account: 2, dest: 3 }, // account 1 pays 1 object for the task
      [{ op: "cap.copy", task: 0, src: 2, target: 3, dest: 0 }, "NotInWindow"], // not before task 1 accepts it
      { op: "task.window", task: 1, slot: 0, slots: 2, page: 0, pages: 0 },
      { op: "cap.copy", task: 0, src: 2, target: 3, dest: 0 }, // and 1 for this cap
      [{ op: "cap.copy", task: 0, src: 2, target: 3, dest: 1 }, "ObjectQuotaExceeded"],
    ]);
    expect(state.accounts[1]).toMatchObject({ objectQuota: 2, objectsCharged: 2 });
  });

  it("allocates the lowest free frame, zeroed, with a new epoch", () => {
    const { state, results } = run(boot(CONFIG), [
      ...SETUP,
      { op: "container.alloc", task: 0, container: 2, index: 1 },
      { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] },
      { op: "mem.write", task: 0, vpage: 0, value: -7 },
      { op: "container.free", task: 0, container: 2, index: 0 },
      { op: "container.alloc", task: 0, container: 2, index: 0 },
    ]);
    expect(results[3]).toEqual({ ok: true, value: 1 });
    expect(results[7]).toEqual({ ok: true, value: 0 });
    // epochs: allocated (1), written (2), allocated again (3)
    expect(state.frames[0]).toEqual({ content: 0, refs: 1, epoch: 3, wired: 0 });
  });

  it("faults on reads and writes the mapping does not allow", () => {
    run(boot(CONFIG), [
      ...SETUP,
      { op: "page.map", task: 0, container: 2, index: 0, vpage: 3, rights: ["read"] },
      [{ op: "mem.write", task: 0, vpage: 3, value: 1 }, "ProtectionFault"],
      [{ op: "mem.read", task: 0, vpage: 2 }, "NotMapped"],
      [{ op: "mem.read", task: 0, vpage: 4 }, "BadPage"],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 3, rights: ["read"] }, "PageMapped"],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 2, rights: ["alloc"] }, "BadRights"],
    ]);
  });

  it("moves quota only along a parent/child edge, and only by the giving account's own tasks", () => {
    run(boot(CONFIG), [
      { op: "account.create", task: 0, account: 0, dest: 2, frames: 1, objects: 6 },
      { op: "account.create", task: 0, account: 0, dest: 3, frames: 1, objects: 3 },
      [{ op: "account.transfer", task: 0, from: 2, to: 0, frames: 1, objects: 0 }, "NotYours"], // the parent cannot take it back
      { op: "account.transfer", task: 0, from: 0, to: 2, frames: 1, objects: 0 }, // it can give
      { op: "task.create", task: 0, account: 2, dest: 4 }, // task 1, paid by account 1
      { op: "task.window", task: 1, slot: 0, slots: 3, page: 0, pages: 0 },
      { op: "cap.copy", task: 0, src: 2, target: 4, dest: 0 },
      { op: "cap.copy", task: 0, src: 3, target: 4, dest: 1 },
      { op: "cap.copy", task: 0, src: 0, target: 4, dest: 2 },
      [{ op: "account.transfer", task: 1, from: 0, to: 1, frames: 1, objects: 0 }, "NotRelated"], // siblings
      { op: "account.transfer", task: 1, from: 0, to: 2, frames: 2, objects: 0 }, // back to the parent, by the child
      [{ op: "account.transfer", task: 1, from: 0, to: 2, frames: 1, objects: 0 }, "FrameQuotaExceeded"],
    ]);
  });
});
