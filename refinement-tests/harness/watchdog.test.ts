import { Worker } from "node:worker_threads";
import { expect, test } from "vitest";
import { THREAD_CELLS, type ThreadHang, watchThreads } from "./watchdog.js";

// A worker thread that marks its calls as markInto would (watchdog.ts: the
// counter, inside, which call, then markWhere's numbers), then makes one
// call of the spec or the impl that never returns. (Plain JavaScript: a
// worker has no TypeScript loader.)
const STUCK = `
const { workerData } = require("node:worker_threads");
const cell = new Int32Array(workerData.buffer);
for (let k = 0; k < 50; k++) { Atomics.add(cell, 0, 1); Atomics.store(cell, 1, 2); Atomics.store(cell, 1, 0); } // (calls that return)
cell.set(workerData.where, 3);
Atomics.store(cell, 2, workerData.call);
Atomics.add(cell, 0, 1);
Atomics.store(cell, 1, workerData.inside);
for (;;) {}
`;

/** Runs a worker stuck in a call (inside 1: of the impl, 2: of the spec; `call` its index) beside an idle one; what the watcher reports, and after how long. */
async function watch(inside: number, call: number, where: number[]): Promise<{ hang: ThreadHang; ms: number }> {
  const buffers = [new SharedArrayBuffer(THREAD_CELLS * 4), new SharedArrayBuffer(THREAD_CELLS * 4)];
  const idle = new Worker(`setTimeout(() => {}, 5000)`, { eval: true }); // (marks nothing: never reported)
  const stuck = new Worker(STUCK, { eval: true, workerData: { buffer: buffers[1], inside, call, where } });
  const started = Date.now();
  try {
    const hang = await new Promise<ThreadHang>((resolve) => watchThreads(buffers.map((b) => new Int32Array(b)), { impl: 0.5, spec: 1 }, resolve));
    return { hang, ms: Date.now() - started };
  } finally {
    await stuck.terminate(); // (a looping worker can be terminated: what exploreParallel does)
    await idle.terminate();
  }
}

test("watchThreads reports a worker thread stuck in the spec, with which call and where its caller stood, after the spec's limit", async () => {
  const { hang, ms } = await watch(2, 1, [17, 4, -1]);
  expect(hang).toMatchObject({ thread: 1, side: "spec", call: "the invariants", where: [17, 4, -1] });
  expect(hang.seconds).toBeGreaterThanOrEqual(1);
  expect(ms).toBeGreaterThanOrEqual(1000);
});

test("watchThreads reports a worker thread stuck in the impl after the impl's limit", async () => {
  const { hang } = await watch(1, 1, [3, 0, 2]);
  expect(hang).toMatchObject({ thread: 1, side: "impl", call: "apply", where: [3, 0, 2] });
  expect(hang.seconds).toBeGreaterThanOrEqual(0.5);
});
