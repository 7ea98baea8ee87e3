/**
 * capmem's end of the driver protocol: a child process spoken to in JSON
 * lines, made to look synchronous so that the lockstep, the fuzzer's
 * shrinking and the explorer drive it exactly as they drive impl/.
 *
 * A worker thread owns the child process and relays its lines; the main
 * thread sends a request and blocks (Atomics.wait, with the timeout) until
 * the worker signals that an answer, or the child's exit, has arrived, then
 * takes it with receiveMessageOnPort. Whatever goes wrong on the driver's
 * side (it exits, says nothing in time, answers a line that is not an answer
 * to the request, or the wrong answer) is a DriverFailure with a verdict in
 * words and the end of the driver's stderr; the lockstep reports it as a
 * divergence at the step that provoked it, so it is shrunk and saved like
 * any other. After a failure the process is killed and the next session
 * starts a new one.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { State } from "../../spec/state.js";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { malformedState, PROTOCOL_VERSION, type Request, WireAnswer as Answer } from "./protocol.js";

export class DriverFailure extends Error {
  override name = "DriverFailure";
}

/** The driver failed before any operation (cannot start, wrong protocol): a usage problem, not a divergence. */
export class DriverSetupError extends Error {
  override name = "DriverSetupError";
}

type FromWorker = { kind: "pid"; pid: number } | { kind: "line"; line: string } | { kind: "exit"; code: number | null; signal: string | null; stderr: string } | { kind: "spawn-error"; message: string };

// The worker is plain JavaScript, evaluated, so that it runs the same from the sources and from the package.
const WORKER = `
const { workerData } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const { command, port, signal } = workerData;
const wake = () => { Atomics.add(signal, 0, 1); Atomics.notify(signal, 0); };
let stderr = "";
let pending = "";
// its own process group, so that the driver and whatever it starts (a shell, a runtime) are killed together
const child = spawn(command, { shell: true, stdio: ["pipe", "pipe", "pipe"], detached: true });
if (child.pid !== undefined) { port.postMessage({ kind: "pid", pid: child.pid }); wake(); }
child.stdout.setEncoding("utf8");
child.stdout.on("data", (chunk) => {
  pending += chunk;
  for (let i = pending.indexOf("\\n"); i >= 0; i = pending.indexOf("\\n")) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    port.postMessage({ kind: "line", line });
    wake();
  }
});
child.stderr.setEncoding("utf8");
child.stderr.on("data", (chunk) => { stderr = (stderr + chunk).slice(-2000); });
child.stdin.on("error", () => {});
child.on("error", (e) => { port.postMessage({ kind: "spawn-error", message: String(e && e.message) }); wake(); });
child.on("close", (code, sig) => { port.postMessage({ kind: "exit", code, signal: sig, stderr }); wake(); port.close(); });
port.on("message", (m) => {
  if (m.kind === "send") child.stdin.write(m.line + "\\n");
});
`;

/**
 * One driver process, restarted after a failure. `session(config)` boots it
 * and returns the implementation a Lockstep drives.
 */
export class Driver {
  private worker: Worker | null = null;
  private port: import("node:worker_threads").MessagePort | null = null;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private exited: FromWorker | null = null;
  /** answers sent for and not yet read */
  private unread = 0;
  /** the driver's process (and process group) id, once known */
  private pid = 0;

  constructor(
    readonly command: string,
    /** how long an answer may take, in ms */
    readonly timeout = 10_000,
  ) {}

  /** Starts the process and shakes hands; DriverSetupError if it cannot. */
  private start(): void {
    const { port1, port2 } = new MessageChannel();
    this.exited = null;
    this.unread = 0;
    this.port = port1;
    this.worker = new Worker(WORKER, { eval: true, workerData: { command: this.command, port: port2, signal: this.signal }, transferList: [port2] });
    this.worker.unref();
    let hello: Answer;
    try {
      // starting may take longer than answering (a runtime to load): the handshake gets 30 s at least
      this.send({ type: "hello", protocol: PROTOCOL_VERSION });
      hello = this.receive({ type: "hello", protocol: PROTOCOL_VERSION }, Math.max(this.timeout, 30_000));
    } catch (e) {
      this.stop();
      throw new DriverSetupError(`driver "${this.command}" did not start: ${(e as Error).message}`);
    }
    if (hello.type !== "hello") {
      this.stop();
      throw new DriverSetupError(`driver "${this.command}" answered hello with ${JSON.stringify(hello)}`);
    }
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.stop();
      throw new DriverSetupError(`driver "${this.command}" speaks protocol version ${hello.protocol}; this capmem speaks ${PROTOCOL_VERSION}`);
    }
  }

  /** Kills the process (if any) and forgets it. */
  stop(): void {
    killGroup(this.pid);
    this.pid = 0;
    if (this.port) this.port.close();
    void this.worker?.terminate();
    this.worker = null;
    this.port = null;
  }

  /** Ends the session politely: bye; a driver still there when capmem exits is killed then. */
  close(): void {
    if (this.port && !this.exited) this.port.postMessage({ kind: "send", line: JSON.stringify({ type: "bye" } satisfies Request) });
    const pid = this.pid;
    if (pid) process.once("exit", () => killGroup(pid));
  }

  /** A fresh session: the driver booted from `config`. */
  session(config: Config): DriverSession {
    // answers still owed to a run that stopped early (a batch cut short) are read and dropped
    try {
      while (this.port !== null && this.unread > 0) this.receive({ type: "state" });
    } catch {
      // a driver that fails while catching up is restarted below
    }
    if (this.worker === null || this.exited || this.port === null) {
      this.stop();
      this.start();
    }
    try {
      const a = this.request({ type: "boot", config });
      if (a.type !== "booted") throw new DriverFailure(`answered boot with ${brief(a)}`);
    } catch (e) {
      this.stop();
      throw e;
    }
    return new DriverSession(this);
  }

  /** Sends one request and waits for its answer; DriverFailure (process killed) on anything else. */
  request(req: Request): Answer {
    this.send(req);
    return this.receive(req);
  }

  /** Sends a request without waiting (a batch: its answers are received one by one). */
  send(req: Request): void {
    this.unread += req.type === "batch" ? req.ops.length : req.type === "bye" ? 0 : 1;
    this.port!.postMessage({ kind: "send", line: JSON.stringify(req) });
  }

  /** Waits for the next answer line, to `req` (for messages), at most the timeout. */
  receive(req: Request, timeout = this.timeout): Answer {
    const port = this.port;
    if (port === null) throw new DriverFailure(`the driver is gone (an earlier answer failed) before ${brief(req)}`);
    const t0 = performance.now();
    const deadline = t0 + timeout;
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      const got = receiveMessageOnPort(port);
      if (got !== undefined) {
        const m = got.message as FromWorker;
        if (m.kind === "pid") {
          this.pid = m.pid;
          continue;
        }
        if (m.kind === "line") {
          this.unread--;
          return this.parse(m.line, req);
        }
        this.exited = m;
        const why = m.kind === "spawn-error" ? `could not be started: ${m.message}` : `exited${m.code !== null ? ` with code ${m.code}` : ""}${m.signal ? ` on signal ${m.signal}` : ""}`;
        const tail = m.kind === "exit" && m.stderr.trim() ? `; its stderr ended with:\n${indent(m.stderr.trim())}` : "";
        this.stop();
        throw new DriverFailure(`the driver ${why} while capmem waited for its answer to ${brief(req)}${tail}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.stop();
        throw new DriverFailure(`the driver did not answer ${brief(req)} within ${timeout / 1000} s (killed)`);
      }
      Atomics.wait(this.signal, 0, seen, left);
    }
  }

  private parse(line: string, req: Request): Answer {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.stop();
      throw new DriverFailure(`the driver answered ${brief(req)} with a line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
    }
    const r = Answer.safeParse(json);
    if (!r.success) {
      this.stop();
      const issue = r.error.issues[0]!;
      throw new DriverFailure(`the driver answered ${brief(req)} with something that is not a protocol answer (${issue.path.join(".") || "top level"}: ${issue.message}): ${line.slice(0, 200)}`);
    }
    if (r.data.type === "error") {
      this.stop();
      throw new DriverFailure(`the driver could not do ${brief(req)}: ${r.data.message}`);
    }
    return r.data;
  }
}

/** One trace's worth of a driver, shaped like an implementation the lockstep can drive. */
export class DriverSession {
  private last: unknown = null;
  /** a batch sent ahead (prefetch): its operations, answered one line each, in order */
  private ahead: { ops: readonly Op[]; states: boolean; next: number } | null = null;

  constructor(private readonly driver: Driver) {}

  /**
   * Sends the operations a trace will apply as one batch, so that the
   * following apply calls only read their answers: no round trip each.
   * Run exactly these operations, in order, next.
   */
  prefetch(ops: readonly Op[], states: boolean): this {
    if (ops.length > 0) {
      this.driver.send({ type: "batch", ops: ops as Op[], states });
      this.ahead = { ops, states, next: 0 };
    }
    return this;
  }

  /** Applies an operation; the state after it comes with the answer and is kept for abstractState. */
  apply(op: Op, withState = true): Result {
    const ahead = this.ahead;
    let req: Request;
    if (ahead) {
      // capmem's own bug, not the driver's, if it runs anything else
      if (ahead.ops[ahead.next] !== op || (withState && !ahead.states)) throw new Error("capmem: a session was driven off the batch it sent");
      req = { type: "apply", op, state: ahead.states };
      if (++ahead.next === ahead.ops.length) this.ahead = null;
    } else {
      req = { type: "apply", op, state: withState };
      this.driver.send(req);
    }
    const a = this.driver.receive(req);
    if (a.type !== "result") throw this.wrong(JSON.stringify(req), a);
    if (req.state && a.state === undefined) throw this.wrong(`${JSON.stringify(req)} (state asked for) without a state`, a);
    this.last = a.state ?? null;
    return a.result;
  }

  /** The abstract state after the last operation (asked for if it did not come with it); checked only by comparison. */
  abstractState(): State {
    if (this.last === null) {
      const a = this.driver.request({ type: "state" });
      if (a.type !== "state") throw this.wrong("state", a);
      this.last = a.state;
    }
    return this.last as State;
  }

  /** Why the last state the driver reported is not a capmem state, or null. */
  malformed(): string | null {
    return this.last === null ? null : malformedState(this.last);
  }

  private wrong(what: string, a: Answer): DriverFailure {
    this.driver.stop();
    return new DriverFailure(`the driver answered ${what} with ${brief(a)}`);
  }
}

/** Kills a driver's whole process group (the driver, and a shell or runtime around it). */
function killGroup(pid: number): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

const brief = (x: unknown): string => {
  const s = JSON.stringify(x);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};
const indent = (s: string) => s.split("\n").map((l) => `    ${l}`).join("\n");
