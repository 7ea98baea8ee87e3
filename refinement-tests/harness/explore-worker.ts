/**
 * A worker thread of `capmem explore --workers N`: expands a run of the
 * frontier's nodes (see expandRange) against the fingerprints of every state
 * found at earlier depths, and sends back the new states it found, in the
 * order it found them, for the main thread to merge (in run order, so that
 * the search visits the same states, with the same ids, as one thread does).
 */
import { parentPort } from "node:worker_threads";
import { boot } from "../../spec/state.js";
import type { Config } from "../../spec/vocabulary.js";
import { expandRange, FingerprintSet, Rebuilder } from "./explore.js";
import { markInto } from "./watchdog.js";

export interface Job {
  /** where this worker marks its calls for the main thread's watchdog (watchdog.ts markInto) */
  cells: SharedArrayBuffer;
  config: Config;
  impl: boolean;
  symmetry: boolean;
  parents: Int32Array;
  opIndex: Int32Array;
  seen: Uint32Array;
  seenSize: number;
  from: number;
  to: number;
}

export interface JobResult {
  edges: number;
  interleaved: number;
  /** (parent, operation index) per new state */
  children: Int32Array;
  /** (hi, lo) fingerprint per new state */
  fingerprints: Uint32Array;
  violation?: { message: string; ops: unknown[] };
}

parentPort!.on("message", (job: Job) => {
  markInto(job.cells);
  const global = FingerprintSet.fromRaw(job.seen, job.seenSize);
  const local = new FingerprintSet();
  const children: number[] = [];
  const fps: number[] = [];
  const rb = new Rebuilder(boot(job.config), job.parents, job.opIndex);
  const x = expandRange(
    { config: job.config, impl: job.impl, symmetry: job.symmetry },
    rb,
    job.from,
    job.to,
    (hi, lo) => !global.has(hi, lo) && local.add(hi, lo),
    (parent, i, hi, lo) => {
      children.push(parent, i);
      fps.push(hi, lo);
    },
  );
  const result: JobResult = { edges: x.edges, interleaved: x.interleaved, children: Int32Array.from(children), fingerprints: Uint32Array.from(fps), ...(x.violation ? { violation: x.violation } : {}) };
  parentPort!.postMessage(result, [result.children.buffer as ArrayBuffer, result.fingerprints.buffer as ArrayBuffer]);
});
