/** A short trace the CLI and driver tests share: a frame allocated, mapped, written and read. */
import type { Trace } from "../../spec/vocabulary.js";

export const GOOD: Trace = {
  config: { frames: 4, objects: 20, accounts: 2, tasks: 2, containers: 2, capSlots: 6, vpages: 4, containerSlots: 2, handles: 1 },
  ops: [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 1, rights: ["read", "write"] },
    { op: "mem.write", task: 0, vpage: 1, value: 42 },
    { op: "mem.read", task: 0, vpage: 1 },
  ],
};
