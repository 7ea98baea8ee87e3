/**
 * Hand-written scenarios from the seeds, run in lockstep on spec and impl
 * (every step checked as in the random traces) with the results each step
 * must give. They pin down stories that random traces reach only rarely.
 */
import { describe, expect, it } from "vitest";
import type { Config, Op } from "../spec/vocabulary.js";
import { Lockstep } from "./lockstep.js";

const CONFIG: Config = { frames: 4, objects: 40, accounts: 3, tasks: 3, containers: 3, capSlots: 8, vpages: 8, containerSlots: 2, handles: 2 };

/** Runs [op, expected] pairs in lockstep; expected is "ok", an ok value, or an error code. */
function play(steps: [Op, string | number][], config = CONFIG): Lockstep {
  const ls = new Lockstep(config, { concrete: true });
  steps.forEach(([op, want], i) => {
    const r = ls.run(op);
    const got = r.ok ? (typeof want === "number" ? r.value : "ok") : r.error;
    expect(got, `step ${i}: ${JSON.stringify(op)}`).toBe(want);
  });
  return ls;
}

describe("scenarios (spec and impl in lockstep)", () => {
  it("kill -9 during DMA: the client's account goes, the wired frame waits for the driver (seed 000)", () => {
    const ls = play([
      [{ op: "account.create", task: 0, account: 0, dest: 2, frames: 1, objects: 6 }, 1],
      [{ op: "task.create", task: 0, account: 2, dest: 3 }, 1], // the client, paid by account 1
      [{ op: "container.create", task: 0, account: 2, dest: 4 }, 0], // its buffer, paid by account 1
      [{ op: "container.alloc", task: 0, container: 4, index: 0 }, 0],
      [{ op: "dma.wire", task: 0, container: 4, index: 0, dest: 5 }, 0], // the driver (task 0) wires it
      [{ op: "account.destroy", task: 0, account: 2 }, "ok"], // kill -9 the client and its account
      [{ op: "dma.write", task: 0, handle: 5, value: 7 }, "ok"], // the device still writes safely
      [{ op: "container.create", task: 0, account: 0, dest: 2 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 0 }, 1], // frame 0 is not reused
      [{ op: "dma.unwire", task: 0, handle: 5 }, "ok"],
      [{ op: "container.alloc", task: 0, container: 2, index: 1 }, 0], // now it is
    ]);
    expect(ls.spec.handles.every((h) => h === null)).toBe(true);
  });

  it("destroying the account that pays for a handle unwires it", () => {
    const ls = play([
      [{ op: "account.create", task: 0, account: 0, dest: 2, frames: 0, objects: 6 }, 1],
      [{ op: "task.create", task: 0, account: 2, dest: 3 }, 1], // the driver, paid by account 1
      [{ op: "container.create", task: 0, account: 0, dest: 4 }, 0],
      [{ op: "container.alloc", task: 0, container: 4, index: 0 }, 0],
      [{ op: "cap.copy", task: 0, src: 4, target: 3, dest: 0 }, "ok"],
      [{ op: "dma.wire", task: 1, container: 0, index: 0, dest: 1 }, 0], // the handle is paid by account 1
      [{ op: "account.destroy", task: 0, account: 2 }, "ok"],
    ]);
    expect(ls.spec.handles[0]).toBeNull();
    expect(ls.spec.frames[0]!.wired).toBe(0);
  });

  it("L4 map chain: unmap takes the chain, a co-equal share survives the sender's unmap (seed 001)", () => {
    const ls = play([
      [{ op: "container.create", task: 0, account: 0, dest: 2 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 0 }, 0],
      [{ op: "task.create", task: 0, account: 0, dest: 3 }, 1],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] }, "ok"],
      [{ op: "l4.map", task: 0, vpage: 0, target: 3, dest: 0, rights: ["read", "write"] }, "ok"], // 1:0 child of 0:0
      [{ op: "l4.map", task: 0, vpage: 0, target: 3, dest: 1, rights: ["read"] }, "ok"], // 1:1 child of 0:0
      [{ op: "l4.share", task: 0, vpage: 0, target: 3, dest: 2, rights: ["read"] }, "ok"], // 1:2 sibling of 0:0
      [{ op: "cap.copy", task: 0, src: 3, target: 3, dest: 0 }, "ok"], // task 1 may pass pages on (to itself)
      [{ op: "l4.map", task: 1, vpage: 0, target: 0, dest: 3, rights: ["read", "write"] }, "ok"], // 1:3 grandchild of 0:0
      [{ op: "mem.write", task: 0, vpage: 0, value: 5 }, "ok"],
      [{ op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "readonly" }, 3], // referenced | dirty
      [{ op: "mem.write", task: 1, vpage: 0, value: 6 } as Op, "ProtectionFault"],
      [{ op: "mem.write", task: 1, vpage: 3, value: 6 } as Op, "ProtectionFault"], // write is gone all the way down
      [{ op: "mem.read", task: 1, vpage: 3 } as Op, 5],
      [{ op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "all" }, 3],
      [{ op: "mem.read", task: 1, vpage: 0 } as Op, "NotMapped"],
      [{ op: "mem.read", task: 1, vpage: 2 } as Op, 5], // the share survived
    ]);
    expect(ls.spec.tasks[1]!.pages.filter((p) => p)).toHaveLength(1);
  });

  it("a filesystem cache: copy-on-write reads, soft references, reuse makes them stale (seeds 000, 004)", () => {
    play(
      [
        [{ op: "container.create", task: 0, account: 0, dest: 2 }, 0], // the cache
        [{ op: "container.create", task: 0, account: 0, dest: 3 }, 1], // a client buffer
        [{ op: "container.alloc", task: 0, container: 2, index: 0 }, 0],
        [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] }, "ok"],
        [{ op: "mem.write", task: 0, vpage: 0, value: 11 }, "ok"], // read from "disk"
        [{ op: "container.copy", task: 0, src: 2, srcIndex: 0, dst: 3, dstIndex: 0 }, "ok"], // logical copy to the client
        [{ op: "page.map", task: 0, container: 3, index: 0, vpage: 1, rights: ["read", "write"] }, "ok"],
        [{ op: "mem.read", task: 0, vpage: 1 }, 11],
        [{ op: "mem.write", task: 0, vpage: 1, value: 12 }, "ok"], // the client's write breaks the copy
        [{ op: "mem.read", task: 0, vpage: 0 }, 11], // the cache still has the old data
        [{ op: "container.demote", task: 0, container: 2, index: 0 }, "ok"], // memory pressure: soft
        [{ op: "container.promote", task: 0, container: 2, index: 0 }, "ok"], // still there
        [{ op: "container.demote", task: 0, container: 2, index: 0 }, "ok"],
        [{ op: "container.alloc", task: 0, container: 2, index: 1 }, 2],
        [{ op: "container.create", task: 0, account: 0, dest: 4 }, 2],
        [{ op: "container.alloc", task: 0, container: 4, index: 0 }, 3],
        [{ op: "container.alloc", task: 0, container: 4, index: 1 }, 0], // nothing free: reclaims the soft frame
        [{ op: "container.promote", task: 0, container: 2, index: 0 }, "Stale"],
      ],
      { ...CONFIG, frames: 4 },
    );
  });

  it("ballooning: request until denied, yield when asked (seed 003)", () => {
    const ls = play([
      [{ op: "account.create", task: 0, account: 0, dest: 2, frames: 1, objects: 4 }, 1],
      [{ op: "account.request", task: 0, account: 2, frames: 2 }, "ok"],
      [{ op: "account.request", task: 0, account: 2, frames: 1 }, "ok"],
      [{ op: "account.request", task: 0, account: 2, frames: 1 }, "Denied"], // the parent has nothing left
      [{ op: "container.create", task: 0, account: 2, dest: 3 }, 0],
      [{ op: "container.alloc", task: 0, container: 3, index: 0 }, 0],
      [{ op: "account.yieldRequest", task: 0, account: 2, frames: 2 }, "ok"],
      [{ op: "account.yield", task: 0, account: 2 }, 2], // no more than asked
      [{ op: "account.yieldRequest", task: 0, account: 2, frames: 2 }, "ok"],
      [{ op: "account.yield", task: 0, account: 2 }, 1], // only what it does not use
      [{ op: "container.free", task: 0, container: 3, index: 0 }, "ok"], // evicts its cache
      [{ op: "account.yield", task: 0, account: 2 }, 1],
      [{ op: "account.yield", task: 0, account: 2 }, 0],
    ]);
    expect(ls.spec.accounts[1]).toMatchObject({ frameQuota: 0, yieldRequest: 0 });
  });

  it("physmem relocates a frame: content moves, mappings go, wired frames stay", () => {
    play([
      [{ op: "container.create", task: 0, account: 0, dest: 2 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 0 }, 0],
      [{ op: "container.alloc", task: 0, container: 2, index: 1 }, 1],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] }, "ok"],
      [{ op: "mem.write", task: 0, vpage: 0, value: 9 }, "ok"],
      [{ op: "physmem.relocate", frame: 0 }, 2],
      [{ op: "mem.read", task: 0, vpage: 0 }, "NotMapped"],
      [{ op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read"] }, "ok"],
      [{ op: "mem.read", task: 0, vpage: 0 }, 9],
      [{ op: "dma.wire", task: 0, container: 2, index: 1, dest: 3 }, 0],
      [{ op: "physmem.relocate", frame: 1 }, "Wired"],
      [{ op: "physmem.relocate", frame: 3 }, "FrameNotInUse"],
    ]);
  });
});
