/**
 * A watchdog for an implementation in this process that never returns (and
 * for capmem's own spec, which might: a bug in capmem).
 *
 * An implementation plugged in with `--impl` runs on capmem's own thread,
 * and JavaScript cannot interrupt itself: a call into it that loops for
 * ever would hang `capmem fuzz` with no report. (An implementation in
 * another process, `--impl-cmd`, has the driver's timeout instead.)
 *
 * So the lockstep marks every call into the implementation (boot, apply,
 * the abstraction function, the representation checks) in a small shared
 * array: a call counter and an "inside" flag, two stores per call. A worker
 * thread looks at it a few times a second. When one call has lasted longer
 * than the limit, the worker stops the main thread the way a debugger
 * does (the inspector's Debugger.pause, which a running loop obeys), reads
 * where it stands (the stack of the stuck call), and runs the command's
 * hang handler there, on the main thread, with the trace so far at hand.
 * The stuck call can never be unwound, so the handler reports and the
 * process exits.
 *
 * The spec's calls (a step, the invariants, the two-state properties) are
 * marked the same way, with a limit of their own (SPEC_SECONDS, far above
 * what a step of the spec takes): a spec that loops for ever is a bug in
 * capmem, and is reported as one instead of hanging.
 *
 * On worker threads (explore --workers N) the marks go to cells of a shared
 * array the main thread watches (markInto, watchThreads), with where the
 * worker stands (markWhere: the node it expands, the operation, the step
 * of the impl's replay). A stuck worker cannot be paused from the main
 * thread, but it can be terminated: the main thread does that and reports
 * the path from those cells, without the stack.
 */
import { closeSync } from "node:fs";
import { findSourceMap } from "node:module";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Config, Op } from "../../spec/vocabulary.js";

/** What the caller of the implementation was running: the trace so far (its last operation the one being applied, if any). */
export interface Running {
  readonly config: Config;
  readonly ops: readonly Op[];
}

/** What the handler is told: how long the call had run, which side and call it was, where it was stuck (innermost frame first), and what was running. */
export interface Hang {
  readonly seconds: number;
  readonly side: "impl" | "spec";
  readonly call: string;
  readonly stack: readonly string[];
  readonly running: Running | null;
  /** it was on a worker thread, terminated without a stack (watchThreads) */
  readonly worker?: boolean;
}

/** The calls into an implementation that the lockstep marks. */
export const IMPL_CALLS = ["the constructor (boot)", "apply", "the abstraction function", "the representation checks"] as const;

/** The calls into the spec that the lockstep, opsOf and explore mark. */
export const SPEC_CALLS = ["a step", "the invariants", "the two-state properties", "the generator's choice of the next operation"] as const;

/** How long a call into the spec may run before the watchdog reports it (seconds). */
export const SPEC_SECONDS = 120;

/** How many numbers markWhere keeps. */
const WHERE = 3;
/** A worker thread's cells (markInto): the call counter, inside (0 no call, 1 the impl, 2 the spec), which call, then markWhere's numbers. */
export const THREAD_CELLS = 3 + WHERE;

let cell: Int32Array | null = null;
/** where the marked call stands, as its caller says (markWhere): explore's node, operation index and step of the impl's replay */
let where: Int32Array<ArrayBufferLike> = new Int32Array(WHERE);
let call = 0;
let side: "impl" | "spec" = "impl";
let running: (side: "impl" | "spec") => Running | null = () => null;

/** Says where a hang report takes its trace from (the lockstep, or explore's path), given the side that hung: the latest caller to say so. */
export function runningFrom(source: (side: "impl" | "spec") => Running | null): void {
  running = source;
}

/** Runs `f`, a call into the implementation in this process, marked for the watchdog (`which`: an index into IMPL_CALLS). */
export function inImpl<T>(which: number, f: () => T): T {
  enterImpl(which);
  try {
    return f();
  } finally {
    leaveImpl();
  }
}

/** Runs `f`, a call into the spec, marked for the watchdog (`which`: an index into SPEC_CALLS). */
export function inSpec<T>(which: number, f: () => T): T {
  enter(which, "spec");
  try {
    return f();
  } finally {
    leaveImpl();
  }
}

/** Marks the start of a call into the implementation (`which`: an index into IMPL_CALLS). */
function enterImpl(which: number): void {
  enter(which, "impl");
}

/** Marks the start of a call (the spec's calls are watched with their own limit: cell[1] 2 instead of 1; cell[2] says which call, for a watcher on another thread). */
function enter(which: number, s: "impl" | "spec"): void {
  if (cell === null) return;
  call = which;
  side = s;
  Atomics.add(cell, 0, 1);
  Atomics.store(cell, 2, which);
  Atomics.store(cell, 1, s === "spec" ? 2 : 1);
}

/** Says where the caller stands (`i` < 3), for a hang report: kept on this thread, and in the shared cells on a worker thread (markInto). */
export function markWhere(i: number, v: number): void {
  Atomics.store(where, i, v);
}

/** Where the callers last said they stood (markWhere). */
export const whereNow = (): readonly number[] => Array.from(where);

/** Marks this thread's calls, and where its callers stand, in `buffer` (THREAD_CELLS numbers): on a worker thread, one the main thread watches (watchThreads); on the main thread, watchImpl's. */
export function markInto(buffer: SharedArrayBuffer): void {
  cell = new Int32Array(buffer);
  where.forEach((v, i) => (cell![3 + i] = v));
  where = cell.subarray(3);
}

/** What the main thread learns of a stuck worker thread (watchThreads): how long, which side and call, and where its caller stood (markWhere). */
export interface ThreadHang {
  readonly thread: number;
  readonly seconds: number;
  readonly side: "impl" | "spec";
  readonly call: string;
  readonly where: readonly number[];
}

/**
 * On the main thread: watches worker threads' cells (markInto), a few
 * times a second; when one call has lasted longer than its limit (seconds,
 * per side), stops watching and tells `onStuck` once. Returns a function
 * that stops watching.
 */
export function watchThreads(cells: readonly Int32Array[], limits: { readonly impl: number; readonly spec: number }, onStuck: (h: ThreadHang) => void): () => void {
  const seen = cells.map(() => -1);
  const since = cells.map(() => 0);
  let stopped = false;
  const tick = setInterval(() => {
    const now = Date.now();
    cells.forEach((c, k) => {
      if (stopped) return;
      const n = Atomics.load(c, 0);
      const inside = Atomics.load(c, 1);
      if (inside === 0 || n !== seen[k]) {
        seen[k] = n;
        since[k] = now;
        return;
      }
      const s = inside === 2 ? "spec" : "impl";
      if (now - since[k]! < limits[s] * 1000) return;
      stopped = true;
      clearInterval(tick);
      const which = Atomics.load(c, 2);
      onStuck({ thread: k, seconds: (now - since[k]!) / 1000, side: s, call: (s === "spec" ? SPEC_CALLS[which] : IMPL_CALLS[which]) ?? "?", where: Array.from(c.subarray(3)) });
    });
  }, Math.min(250, Math.min(limits.impl, limits.spec) * 250));
  tick.unref();
  return () => {
    stopped = true;
    clearInterval(tick);
  };
}

/** Marks its end. */
function leaveImpl(): void {
  if (cell !== null) Atomics.store(cell, 1, 0);
}

const HANDLER = Symbol.for("capmem.implHang");

// The worker (plain JavaScript, run with eval: no file to ship or compile).
const WORKER = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const cell = new Int32Array(workerData.buffer);
const limits = [0, workerData.seconds * 1000, workerData.specSeconds * 1000];
let seen = -1, since = 0;
const tick = setInterval(() => {
  const n = Atomics.load(cell, 0);
  const inside = Atomics.load(cell, 1);
  if (inside === 0 || n !== seen) { seen = n; since = Date.now(); return; }
  const limit = limits[inside];
  if (Date.now() - since < limit) return;
  clearInterval(tick);
  setInterval(() => {}, 60000); // (stay alive for the inspector's answers)
  const seconds = (Date.now() - since) / 1000;
  const giveUp = (why) => {
    writeSync(2, "capmem: " + (inside === 2 ? "the spec" : "the implementation") + " did not return within " + limit / 1000 + " s, and capmem could not interrupt it (" + why + "); stopping\\n");
    process.kill(process.pid, "SIGKILL");
  };
  let inspector;
  try { inspector = require("node:inspector"); } catch (e) { return giveUp("this Node has no inspector"); }
  const session = new inspector.Session();
  try { session.connectToMainThread(); } catch (e) { return giveUp(String(e && e.message)); }
  const urls = new Map();
  session.on("Debugger.scriptParsed", (m) => urls.set(m.params.scriptId, m.params.url));
  session.once("Debugger.paused", (m) => {
    const frames = m.params.callFrames.map((f) => ({ name: f.functionName, url: urls.get(f.location.scriptId) || "", line: f.location.lineNumber, column: f.location.columnNumber }));
    const expression = "globalThis[Symbol.for('capmem.implHang')](" + JSON.stringify(seconds) + ", " + JSON.stringify(frames) + ")";
    session.post("Debugger.evaluateOnCallFrame", { callFrameId: m.params.callFrames[0].callFrameId, expression }, (err, r) => {
      // (the handler exits the process; if it could not, say why)
      giveUp(err ? err.message : r && r.exceptionDetails ? r.exceptionDetails.exception && r.exceptionDetails.exception.description : "the hang handler returned");
    });
  });
  session.post("Debugger.enable", (err) => (err ? giveUp(err.message) : session.post("Debugger.pause", (e) => e && giveUp(e.message))));
  // (a thread blocked outside JavaScript, in a native call, does not pause)
  setTimeout(() => giveUp("it did not stop within 10 s of being asked"), 10000);
}, Math.min(250, workerData.seconds * 250));
`;

/** A stack frame as the inspector gives it (line and column from 0, in the code as loaded). */
interface Frame {
  readonly name: string;
  readonly url: string;
  readonly line: number;
  readonly column: number;
}

/** `name (file:line)`, in the source the code was compiled from when a source map says (TypeScript through tsx). */
function showFrame(f: Frame): string {
  let file = f.url;
  let line = f.line + 1;
  try {
    const entry = findSourceMap(f.url)?.findEntry(f.line, f.column);
    if (entry && "originalSource" in entry) {
      file = entry.originalSource;
      line = entry.originalLine + 1;
    }
  } catch {
    // no source map: the line as loaded
  }
  if (file.startsWith("file://")) file = fileURLToPath(file);
  return `${f.name || "(anonymous)"} (${file === "" ? "?" : relative(process.cwd(), file) || file}:${line})`;
}

/**
 * Starts the watchdog: a call into the implementation that lasts more than
 * `seconds` ends the process through `onHang`, which reports (synchronous
 * writes only) and returns the exit status. Once per process.
 */
export function watchImpl(seconds: number, onHang: (h: Hang) => number): void {
  if (cell !== null) return;
  const buffer = new SharedArrayBuffer(THREAD_CELLS * 4);
  markInto(buffer);
  (globalThis as Record<symbol, unknown>)[HANDLER] = (secs: number, frames: Frame[]) => {
    let code = 1;
    try {
      code = onHang({ seconds: secs, side, call: (side === "spec" ? SPEC_CALLS[call] : IMPL_CALLS[call]) ?? "?", stack: frames.map(showFrame), running: running(side) });
    } catch (e) {
      process.stderr.write(`capmem: the implementation did not return within ${seconds} s; reporting it failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    // The inspector session that stopped this thread is still attached, and
    // Node would say at exit that it waits for it to disconnect (it does not
    // wait: no debugger port is open). Standard error is closed first so
    // that this line does not follow the report.
    try {
      closeSync(2);
    } catch {
      // already closed
    }
    process.exit(code);
  };
  new Worker(WORKER, { eval: true, workerData: { buffer, seconds, specSeconds: SPEC_SECONDS } }).unref();
}
