/**
 * The capmem command line: fuzz, replay, check, explore, draw, schema, docs.
 *
 *   capmem fuzz | replay | check | explore | draw | schema | docs  (see USAGE below)
 *
 * Exit codes: 0 all well; 1 a divergence, a broken invariant, an unexpected result or stale docs;
 * 2 bad usage or a malformed file (with a message naming the problem).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism, tmpdir } from "node:os";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { checkInvariants } from "../../spec/invariants.js";
import { checkTransition } from "../../spec/transitions.js";
import { step } from "../../spec/operations.js";
import { boot } from "../../spec/state.js";
import type { State } from "../../spec/state.js";
import type { Config, Op, OpKind, Result, Trace } from "../../spec/vocabulary.js";
import { Config as ConfigSchema, OP_KINDS } from "../../spec/vocabulary.js";
import type { Machine } from "../../impl/machine.js";
import { boundaryConfigArb, BULK_CONFIGS, bulkConfigArb, configArb, intentArb, type Intent, pagerConfigArb, preemptConfigArb, SMALL_CONFIG } from "../harness/generate.js";
import { Divergence, formatStats, Lockstep, type LockstepOptions, newStats, opsOf, Pacer, runTrace, type Stats } from "../harness/lockstep.js";
import type { Hang } from "../harness/watchdog.js";
import { inSpec, runningFrom, SPEC_SECONDS, watchImpl } from "../harness/watchdog.js";
import { equal } from "../harness/compare.js";
import { graphToDot, graphToMermaid, graphToSvg, mermaidTooBig, toGraph } from "./draw.js";
import { ExploreHang, type ExploreProgress, exploreParallel, type ExploreReport, FingerprintSet, TINY_CONFIG } from "../harness/explore.js";
import { Driver, DriverSetupError } from "../driver/client.js";
import { serve } from "../driver/serve.js";
import { protocolJsonSchema } from "../driver/protocol.js";
import { itfToTrace, traceToItf } from "./itf.js";
import { generateDocs, PACKAGE_ROOT, ROOT, staleFiles, strayReferenceFiles } from "../docs/reference.js";
import { checkFootprint, describeIssues, fileError, formatTrace, parseJson, readText, readTrace, showResult, showSurprise, type Surprise, TraceFileError, traceJsonSchema, unexpected, writeTrace } from "./traces.js";

class UsageError extends Error {}

const USAGE = `usage:
  capmem fuzz   [--seed S] [--time SECONDS] [--traces N] [--steps N] [--config small|tiny|random|pager|preempt|boundary|bulk|FILE]
                [--shard I/N] [--workers N] [--out DIR] [--impl MODULE [--impl-timeout S] | --impl-cmd CMD] [--quiet] [--json]
  capmem replay FILE [--impl MODULE [--impl-timeout S] | --impl-cmd CMD] [--full] [--json]
  capmem check  FILE [--full] [--update] [--json]
  capmem explore [--depth D] [--config tiny|small|FILE] [--max-states N] [--spec-only] [--out DIR]
                 [--impl MODULE [--impl-timeout S] | --impl-cmd CMD] [--workers N] [--symmetry] [--checkpoint FILE] [--resume FILE] [--json]
  capmem draw   FILE [--at N|boot] [--task T]... [--container C]... [--out FILE.mmd|.md|.dot|.svg]
  capmem schema [--protocol]
  capmem docs   [--check]
  capmem driver [--impl MODULE]
  capmem export --itf FILE [--out FILE]
  capmem import --itf FILE [--config small|tiny|FILE] [--out FILE]

fuzz     random state-aware traces run on spec and impl in lockstep, a process per core
         (--workers N; 1 repeats a run exactly) (defaults: 10 s,
         up to 100 operations a trace, small and random configs alternating, every
         other random one a pager config (a third of its steps to pagers and faults),
         every fourth a preempt config (a work budget of 1 to 4 units: removals
         stop at preemption points, others act in between), and
         every sixteenth trace (from the 64th) five times longer on a config at the impl's structural
         boundaries: bitmap words, leaf pages, pool growth; every 128th (from the 72nd) thirty
         times longer on a bulk config, steered past 1,024 frames in use, 256 copies
         of a frame or 256 mappings in a leaf); on a
         divergence writes the shrunk trace to DIR (default ./counterexamples) and
         prints the command that replays it; exit 1
replay   runs a trace file on both sides and shows the first divergent step
check    runs a trace file on the spec alone, printing each result (and its note),
         and reports any named invariant that breaks, and where; --update writes
         the results into the file's "expect" (keeping its name, description, notes)
explore  breadth-first search of every state reachable in D operations (default 3) on a
         tiny config, every operation with every argument from small domains; checks
         the invariants on each new state and the impl along each new path; reports
         distinct states and states/s; a violation comes with a shortest trace; exit 1;
         --workers N threads (default: every core), --symmetry merges states that differ
         only in which slot or page holds what, --checkpoint FILE saves the
         search (every 60 s and at the end), --resume FILE continues it
draw     the spec state after a trace (or after step N) as a Mermaid flowchart, or
         Graphviz DOT, or SVG: accounts and who pays, tasks with their capabilities
         and mappings, derivation and mapping trees, containers, frames and DMA
         handles; --task and --container draw those and their neighbours only
schema   prints the JSON Schema of trace files (--protocol: of the driver protocol)
docs     regenerates docs/reference (a page per operation and invariant, from the
         spec) and the generated parts of docs/scenarios; --check only reports
         what is out of date (exit 1)
replay and check compare each result with the trace's "expect", if it has one. On
traces over 1,000 operations they check every result, but the states (invariants,
abstraction) at paced steps, and name the first bad step if one is found; --full
checks every state. --json prints a summary object instead of text, for tools.
driver   serves impl/ (or --impl MODULE) over the driver protocol on stdin/stdout
export   a trace as ITF (Apalache ADR-015, read by Apalache and Quint): the spec's
         state after each step, with the operation and its result
import   an ITF trace whose actions are capmem operations, as a capmem trace (its
         results become expect)
--impl   an ES module (.mts or .mjs outside this package) whose default export is
         a class like impl/machine.ts's Machine (usually a subclass overriding exec): fuzz your own impl;
         --impl-timeout S: fuzz, replay and explore stop a call into it that has not returned
         after S s (default 10) and report it as a divergence, with where it was stuck
--impl-cmd  a command that starts a driver for an implementation in any language,
         spoken to in JSON lines (docs/protocol.md); --driver-timeout S per answer (default 10)`;

function int(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${value}"`);
  return n;
}

async function loadImpl(module: string | undefined): Promise<(new (config: Config) => Machine) | undefined> {
  if (module === undefined) return undefined;
  const url = pathToFileURL(resolvePath(module)).href;
  let mod: { default?: unknown };
  const g = globalThis as { capmemTypeScript?: boolean };
  if (/\.[mc]?ts$/.test(module) && !g.capmemTypeScript) {
    // the compiled package: TypeScript impls still load, through tsx
    const { register } = await import("tsx/esm/api");
    register();
    g.capmemTypeScript = true;
  }
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`--impl ${module}: cannot load: ${loadError(e, module)}`);
  }
  if (typeof mod.default !== "function") throw new UsageError(`--impl ${module}: the module has no default export class`);
  return mod.default as new (config: Config) => Machine;
}

/**
 * Why a module did not load, in full: tsx's messages span several lines (the
 * file, line and column come second), and Node's syntax errors in a .mjs
 * module do not say where they are, so `node --check` is asked.
 */
function loadError(e: unknown, module: string): string {
  const message = e instanceof Error ? e.message.trim() : String(e);
  const lines = message.split("\n").slice(0, 12);
  if (e instanceof SyntaxError && !module.endsWith(".mts") && !module.endsWith(".ts")) {
    const checked = spawnSync(process.execPath, ["--check", module], { encoding: "utf8" });
    const where = checked.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Node.js") && !/^\s+at /.test(l));
    if (where.length) return ["syntax error:", ...where.slice(0, 6)].join("\n  ");
  }
  return lines.join("\n  ");
}

/** The implementation under test: --impl (a module in this process) or --impl-cmd (a driver process). */
async function implUnderTest(values: { impl?: string; "impl-cmd"?: string; "driver-timeout"?: string; "impl-timeout"?: string }) {
  if (values.impl !== undefined && values["impl-cmd"] !== undefined) throw new UsageError("--impl and --impl-cmd both name the implementation under test: give one");
  const seconds = values["driver-timeout"] === undefined ? 10 : Number(values["driver-timeout"]);
  if (!(seconds > 0)) throw new UsageError(`--driver-timeout: expected a number of seconds > 0, got "${values["driver-timeout"]}"`);
  const limit = values["impl-timeout"] === undefined ? 10 : Number(values["impl-timeout"]);
  if (!(limit > 0)) throw new UsageError(`--impl-timeout: expected a number of seconds > 0, got "${values["impl-timeout"]}"`);
  if (values["impl-timeout"] !== undefined && values["impl-cmd"] !== undefined) throw new UsageError("--impl-timeout is for an implementation in this process; a driver's answers have --driver-timeout");
  if (values["impl-cmd"] !== undefined && values["impl-cmd"].trim() === "") throw new UsageError("--impl-cmd: expected a command");
  const driver = values["impl-cmd"] !== undefined ? new Driver(values["impl-cmd"], seconds * 1000) : undefined;
  if (driver) drivers.push(driver);
  const flags = values.impl !== undefined ? ` --impl ${values.impl}` : driver ? ` --impl-cmd ${JSON.stringify(driver.command)}` : "";
  return { Impl: await loadImpl(values.impl), driver, flags, limit };
}

/**
 * Starts the watchdog for the spec, and for an implementation in this
 * process (watchdog.ts; a driver has its own timeout, and its calls are
 * not marked): a call into the implementation that lasts more than
 * `limit` seconds is reported by `report` as the divergence it is, with
 * the trace run up to it (by the latest lockstep, or explore's path); the
 * process then exits with the status `report` returns. A stuck spec is a
 * bug in capmem: reportHang.
 */
function watchForHangs(limit: number, report: (what: string, trace: Trace, step: number) => number): void {
  watchImpl(limit, (h) => reportHang(h, limit, report));
}

/**
 * Reports a call that did not return (watchdog.ts): the impl's as a
 * divergence, through `report`; the spec's as an internal error (exit 3),
 * its trace saved to a temporary file. Returns the exit status.
 */
function reportHang(h: Hang, limit: number, report: (what: string, trace: Trace, step: number) => number): number {
  const trace: Trace = { config: h.running!.config, ops: [...h.running!.ops] };
  const step = trace.ops.length - 1;
  const where = h.stack.length ? `; stuck in ${h.stack.slice(0, 3).join(" < ")}` : h.worker ? "; on a worker thread: run with --workers 1 to see where it was stuck" : "";
  if (h.side === "spec") {
    // (the spec is capmem's own: that is a bug in capmem, not a divergence)
    const file = join(tmpdir(), `capmem-spec-hang-${process.pid}.json`);
    const why = saveTrace(file, trace);
    process.stderr.write(`\ncapmem: internal error, a bug in capmem itself (please report it with the command that ran): at step ${step} ${JSON.stringify(trace.ops[step])}, the spec did not return from ${h.call} within ${SPEC_SECONDS} s (stopped after ${h.seconds.toFixed(1)} s${where}); ${why === null ? `the trace so far is in ${file}` : `the trace could not be saved: ${why}`}\n`);
    return 3;
  }
  const what = `${step < 0 ? "at boot" : `step ${step} ${JSON.stringify(trace.ops[step])}`}: the impl did not return from ${h.call} within ${limit} s (stopped after ${h.seconds.toFixed(1)} s${where})`;
  return report(what, trace, step);
}

/**
 * For a command that runs the spec alone (check, draw, export, docs): a
 * step or check of the spec that never returns is reported as the bug in
 * capmem it is (reportHang: exit 3), with `opsSoFar()` as the trace saved.
 */
function watchSpecAlone(config: Config, opsSoFar: () => readonly Op[]): void {
  runningFrom(() => ({ config, ops: opsSoFar() }));
  watchForHangs(SPEC_SECONDS, () => 3); // (no implementation runs: the impl's limit never applies)
}

/** Drivers started by this command, told bye when it ends. */
const drivers: Driver[] = [];

const IMPL_OPTIONS = {
  impl: { type: "string" },
  "impl-cmd": { type: "string" },
  "driver-timeout": { type: "string" },
  "impl-timeout": { type: "string" },
} as const;

/** A configuration from a JSON file, validated; TraceFileError names the problem. */
function readConfig(file: string, named: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new TraceFileError(`--config ${file}: cannot read: ${fileError(e)}; the named configurations are ${named}`);
  }
  let json = parseJson(text, `--config ${file}`);
  // a trace file will do: its configuration is taken
  if (json !== null && typeof json === "object" && "config" in json && "ops" in json) json = (json as { config: unknown }).config;
  const r = ConfigSchema.safeParse(json);
  if (!r.success) throw new TraceFileError(`--config ${file}: not a capmem config:\n  ${describeIssues(r.error).join("\n  ")}`);
  checkFootprint(r.data, `--config ${file}`);
  return r.data;
}

/** fuzz's --config: the small config, random small configs, boundary configs, bulk configs, all of them alternating, or a file. */
function configChoice(choice: string): fc.Arbitrary<Config> | "alternate" {
  if (choice === "small") return fc.constant(SMALL_CONFIG);
  if (choice === "tiny") return fc.constant(TINY_CONFIG);
  if (choice === "random") return configArb;
  if (choice === "boundary") return boundaryConfigArb;
  if (choice === "pager") return pagerConfigArb;
  if (choice === "preempt") return preemptConfigArb;
  if (choice === "bulk") return bulkConfigArb;
  if (choice === "alternate") return "alternate";
  return fc.constant(readConfig(choice, "small, tiny, random, pager, preempt, boundary, bulk"));
}

// ---------------------------------------------------------------------------

/** The seed of trace k of a campaign: 31 bits of a SHA-256 of (seed, k). */
export function traceSeedOf(seed: string, k: number): number {
  return createHash("sha256").update(`capmem fuzz ${seed} ${k}`).digest().readUInt32BE(0) >>> 1;
}

/** Writes a trace file (making its directory); null when done, else why not. */
function saveTrace(file: string, trace: Trace): string | null {
  try {
    mkdirSync(dirname(resolvePath(file)), { recursive: true });
    writeTrace(file, trace);
    return null;
  } catch (e) {
    return fileError(e);
  }
}

async function fuzz(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: "string" },
      time: { type: "string" },
      traces: { type: "string" },
      steps: { type: "string" },
      config: { type: "string" },
      shard: { type: "string" },
      out: { type: "string" },
      ...IMPL_OPTIONS,
      quiet: { type: "boolean" },
      json: { type: "boolean" },
      workers: { type: "string" },
    },
    strict: true,
  });
  // Any string is a seed (a number of any size too: it is not parsed). Each
  // trace's own seed is a hash of (seed, trace number), so campaigns with
  // neighbouring seeds do not run each other's traces shifted by one.
  if (values.seed !== undefined && values.seed.trim() === "") throw new UsageError("--seed: expected a non-empty seed");
  const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
  const seconds = int(values.time, "time", 0) ?? (values.traces ? Infinity : 10);
  const maxTraces = int(values.traces, "traces", 1) ?? Infinity;
  const steps = int(values.steps, "steps", 1) ?? 100;
  let shard = 0;
  let shards = 1;
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard: expected I/N with 0 <= I < N, got "${values.shard}"`);
    shard = Number(m[1]);
    shards = Number(m[2]);
  }
  // default: a process per core (one when the implementation is a driver process, which would be one per worker)
  const workers = int(values.workers, "workers", 1) ?? (values["impl-cmd"] !== undefined ? 1 : availableParallelism());
  if (workers > 1) return fuzzOnWorkers(argv, { seed, shard, shards, workers, json: values.json === true, quiet: values.quiet === true, traces: maxTraces });
  const outDir = values.out ?? "counterexamples";
  const { Impl, driver, flags, limit } = await implUnderTest(values);
  const configs = configChoice(values.config ?? "alternate");
  // Alternate: the fixed small configuration, a random small one (every
  // other one a pager configuration, where a third of the steps go to pagers
  // and faults, and every fourth a preemption configuration, with a work
  // budget), and every
  // sixteenth trace one at the impl's structural boundaries, with traces five
  // times longer so that they get past those boundaries (a step there costs
  // several times a small one: these take about half of the time). They
  // start after the first 64 traces, so that a bug small traces show is
  // found, and shrunk, on a small trace first (shrinking a long trace on a
  // large configuration takes minutes).
  // Every 128th trace (from the 72nd) is a bulk trace, thirty times longer,
  // on the bulk configurations in turn: counters past a byte, a bitmap past
  // its first summary word (each takes a few seconds).
  const boundary = (k: number) => configs === "alternate" && k >= 64 && k % 16 === 15;
  const bulk = (k: number) => (configs === "alternate" && k % 128 === 72) || configs === bulkConfigArb;
  const arbFor = (k: number) =>
    configs === "alternate"
      ? bulk(k)
        ? fc.constant(BULK_CONFIGS[Math.floor(k / 128) % BULK_CONFIGS.length]!)
        : boundary(k)
          ? boundaryConfigArb
          : k % 2 === 0
            ? fc.constant(SMALL_CONFIG)
            : k % 4 === 3
              ? pagerConfigArb
              : k % 8 === 1
                ? preemptConfigArb
                : configArb
      : configs;
  const length = (k: number) => (bulk(k) ? 30 * steps : boundary(k) ? 5 * steps : steps);
  const traceArb = (k: number) => fc.tuple(arbFor(k), fc.array(intentArb, { minLength: 1, maxLength: length(k), size: "max" }));
  /** Runs one trace; with `stopAt`, stops (without failing) once that time has passed, so --time holds inside long traces too. */
  const runOne = ([config, intents]: [Config, Intent[]], stats?: Stats, stopAt = Infinity) => {
    // a driver gets the whole trace in one message (the spec says what it will be; before the lockstep, whose trace a hang report shows from then on)
    const ops = driver ? opsOf(config, intents) : null;
    const ls = new Lockstep(config, { concrete: true, stats, Impl, driver });
    if (ops) {
      ls.prefetch(ops);
      for (let i = 0; i < ops.length; i++) {
        if ((i & 63) === 63 && Date.now() > stopAt) return;
        ls.run(ops[i]!);
      }
      return;
    }
    for (let i = 0; i < intents.length; i++) {
      if ((i & 63) === 63 && Date.now() > stopAt) return;
      ls.runIntent(intents[i]!);
    }
  };

  const stats = newStats();
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const tty = process.stderr.isTTY === true;
  let lastReport = started;
  let traces = 0;
  const progress = (final: boolean) => {
    const secs = (Date.now() - started) / 1000;
    const covered = OP_KINDS.filter((k: OpKind) => (stats.byKind.get(k)?.ok ?? 0) > 0).length;
    const line = `fuzz seed ${seed} shard ${shard}/${shards}: ${traces} traces, ${stats.steps} steps (${Math.round(stats.steps / Math.max(secs, 0.001))}/s), ${((100 * stats.ok) / Math.max(1, stats.steps)).toFixed(1)}% ok, ${covered}/${OP_KINDS.length} kinds covered, ${secs.toFixed(0)} s`;
    if (values.quiet && !final) return;
    if (tty && !final) process.stderr.write(`\r${line}`);
    else process.stderr.write(`${tty ? "\r" : ""}${line}\n`);
  };

  const summary = () => {
    const secs = (Date.now() - started) / 1000;
    return {
      command: "fuzz",
      seed,
      shard: `${shard}/${shards}`,
      traces,
      steps: stats.steps,
      seconds: secs,
      stepsPerSecond: Math.round(stats.steps / Math.max(secs, 0.001)),
      okRatio: stats.ok / Math.max(1, stats.steps),
      byKind: Object.fromEntries([...stats.byKind].sort()),
      preemption: { preempted: stats.preempted, revokes: stats.revokes, destroys: stats.destroys, taskDestroys: stats.taskDestroys, accountDestroys: stats.accountDestroys, interleaved: stats.interleaved, touching: stats.touching, zombies: stats.zombies, nested: stats.nested, accountZombies: stats.accountZombies, accountTasks: stats.accountTasks, accountLinks: stats.accountLinks, accountHolders: stats.accountHolders, handUps: stats.handUps, rootHandUps: stats.rootHandUps, passOvers: stats.passOvers },
    };
  };
  // Say the seed first: a run that is killed or hangs can still be repeated.
  process.stderr.write(`fuzz seed ${seed} shard ${shard}/${shards}${values.impl ? `, impl ${values.impl}` : ""}${driver ? `, driver "${driver.command}"` : ""}\n`);
  let current = { k: shard, traceSeed: 0 };
  watchForHangs(limit, (what, trace) => {
    // (not shrunk: every run of a shrinking candidate that hangs would take the whole limit, and could not be stopped)
    progress(true);
    process.stderr.write(`divergence in trace ${current.k} (seed ${current.traceSeed}): the impl did not return\n`);
    const file = join(outDir, `counterexample-${current.traceSeed}.json`);
    const shown = isAbsolute(file) ? file : relative(process.cwd(), resolvePath(file));
    const saved = deliver(what, notShrunk(trace.ops.length), trace, shown, `replay ${shown}${flags}`, values.json === true);
    if (values.json) writeJson({ ...summary(), divergence: { trace: current.k, traceSeed: current.traceSeed, ...saved, shrunk: false }, ok: false });
    return 1;
  });
  for (let k = shard; traces < maxTraces && Date.now() < deadline; k += shards) {
    const traceSeed = traceSeedOf(seed, k);
    current = { k, traceSeed };
    const value = fc.sample(traceArb(k), { seed: traceSeed, numRuns: 1 })[0]!;
    traces++;
    try {
      runOne(value, stats, deadline);
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      progress(true);
      process.stderr.write(`divergence in trace ${k} (seed ${traceSeed}); shrinking (at most ${SHRINK_SECONDS + NEEDLESS_SECONDS} s)...\n`);
      // Shrink: fast-check regenerates the same first value from the same seed.
      const shrinking = new ShrinkProgress(values.quiet === true, e.trace.ops.length);
      const shrunk = fc.check(
        fc.property(traceArb(k), (v) => {
          if (shrinking.stale()) return; // (ends fast-check's pass: ShrinkProgress.stale)
          try {
            runOne(v);
          } catch (e3) {
            if (e3 instanceof Divergence) shrinking.failed(e3.trace.ops.length);
            throw e3;
          } finally {
            shrinking.tried();
          }
        }),
        { seed: traceSeed, numRuns: 1, interruptAfterTimeLimit: SHRINK_SECONDS * 1000 },
      );
      shrinking.done();
      const example = (shrunk.counterexample?.[0] ?? value) as [Config, Intent[]];
      let found: Divergence = e;
      try {
        runOne(example);
      } catch (e2) {
        if (e2 instanceof Divergence) found = e2;
      }
      found = withoutNeedlessOps(found, { concrete: true, Impl, driver });
      const file = join(outDir, `counterexample-${traceSeed}.json`);
      const shown = isAbsolute(file) ? file : relative(process.cwd(), resolvePath(file));
      const saved = deliver(found.what, `shrunk to ${found.trace.ops.length} operation(s)`, found.trace, shown, `replay ${shown}${flags}`, values.json === true);
      if (values.json) writeJson({ ...summary(), divergence: { trace: k, traceSeed, ...saved }, ok: false });
      return 1;
    }
    if (Date.now() - lastReport > (tty ? 250 : 5000)) {
      lastReport = Date.now();
      progress(false);
    }
  }
  progress(true);
  if (values.json) writeJson({ ...summary(), divergence: null, ok: true });
  else if (!values.quiet) process.stdout.write(`${formatStats(stats)}\nno divergence: ${traces} traces, ${stats.steps} steps agreed\n`);
  return 0;
}

/** How long fuzz shrinks a counterexample: fast-check's pass, then withoutNeedlessOps. */
const SHRINK_SECONDS = 120;
const NEEDLESS_SECONDS = 30;
/** fast-check's pass stops early once this many seconds and STALE_TRIES tries have passed without a shorter failing trace (ShrinkProgress.stale). */
const STALE_SECONDS = 20;
const STALE_TRIES = 200;

/**
 * Progress while fuzz shrinks a counterexample (on stderr, every second on
 * a terminal, else every five): the tries so far and the shortest failing
 * trace found, so a long shrink does not look like a hang.
 */
class ShrinkProgress {
  private readonly started = Date.now();
  private last = Date.now();
  private tries = 0;
  /** when, and after how many tries, the shortest failing trace was last made shorter */
  private better = { at: Date.now(), tries: 0 };
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly quiet: boolean,
    private shortest: number,
  ) {}

  failed(ops: number): void {
    if (ops < this.shortest) this.better = { at: Date.now(), tries: this.tries };
    this.shortest = Math.min(this.shortest, ops);
  }

  /**
   * Has fast-check stopped making the trace shorter (STALE_SECONDS and
   * STALE_TRIES without a shorter one)? Its pass then ends: every further
   * candidate is let pass untried, and withoutNeedlessOps, which drops
   * operations one at a time, does the rest faster than fast-check's
   * remaining candidates (on a 35-operation trace it went on for 90 s
   * without one shorter, and the operation pass then halved it in seconds).
   */
  stale(): boolean {
    return Date.now() - this.better.at > STALE_SECONDS * 1000 && this.tries - this.better.tries >= STALE_TRIES;
  }

  tried(): void {
    this.tries++;
    if (this.quiet || Date.now() - this.last < (this.tty ? 1000 : 5000)) return;
    this.last = Date.now();
    process.stderr.write(`${this.tty ? "\r" : ""}${this.line()}${this.tty ? "" : "\n"}`);
  }

  done(): void {
    if (!this.quiet && Date.now() - this.started >= 1000) process.stderr.write(`${this.tty ? "\r" : ""}${this.line()}, done${this.stale() ? ` (none shorter in the last ${((Date.now() - this.better.at) / 1000).toFixed(0)} s)` : ""}\n`);
  }

  private line(): string {
    return `shrinking: ${this.tries} tries, shortest failing trace so far ${this.shortest} operations, ${((Date.now() - this.started) / 1000).toFixed(0)} s`;
  }
}

/**
 * The last shrinking pass, on operations rather than on what generated them:
 * drops one operation at a time, keeping each drop after which spec and impl
 * still part, until a whole pass drops nothing or `seconds` have gone.
 * fast-check shrinks the generator's intents, and on a long trace at the
 * impl's boundaries its time limit can leave dozens of operations that an
 * intent cannot lose without changing what the others resolve to.
 */
function withoutNeedlessOps(d: Divergence, options: LockstepOptions, seconds = NEEDLESS_SECONDS): Divergence {
  let best = d;
  const deadline = Date.now() + seconds * 1000;
  for (let changed = true; changed && Date.now() < deadline; ) {
    changed = false;
    for (let i = best.trace.ops.length - 1; i >= 0 && Date.now() < deadline; i--) {
      if (i >= best.trace.ops.length) continue;
      try {
        runTrace({ config: best.trace.config, ops: best.trace.ops.filter((_, j) => j !== i) }, options);
      } catch (e) {
        if (e instanceof Divergence && e.trace.ops.length < best.trace.ops.length) {
          best = e; // (a divergence's trace ends at the step that parted them)
          changed = true;
        }
      }
    }
  }
  return best;
}

/**
 * `fuzz --workers N` (default: one per core): the campaign split into N
 * shards (of the shard asked for, if any), each run by a capmem process of
 * its own with the same seed and time, and --traces shared out exactly. Their
 * progress lines are added up into one, and so are their summaries; the
 * first to find a divergence stops the others, and its counterexample is the
 * one reported, as one process would report it.
 */
async function fuzzOnWorkers(argv: string[], o: { seed: string; shard: number; shards: number; workers: number; json: boolean; quiet: boolean; traces: number }): Promise<number> {
  const keep: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag] = argv[i]!.split("=");
    if (["--workers", "--shard", "--seed", "--traces"].includes(flag!)) {
      if (!argv[i]!.includes("=")) i++;
      continue;
    }
    if (flag === "--json" || flag === "--quiet") continue;
    keep.push(argv[i]!);
  }
  const total = o.shards * o.workers;
  const tracesOf = (w: number) => (Number.isFinite(o.traces) ? Math.floor(o.traces / o.workers) + (w < o.traces % o.workers ? 1 : 0) : Infinity);
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  process.stderr.write(`fuzz seed ${o.seed} shard ${o.shard}/${o.shards}, ${o.workers} workers (shards ${o.shard * o.workers} to ${o.shard * o.workers + o.workers - 1} of ${total})\n`);
  const bin = join(PACKAGE_ROOT, "refinement-tests/cli/bin/capmem.mjs");
  // the latest progress each worker reported: traces, steps, ok steps
  const seen = Array.from({ length: o.workers }, () => ({ traces: 0, steps: 0, ok: 0 }));
  const line = (final: boolean, covered?: number) => {
    const t = seen.reduce((n, x) => n + x.traces, 0);
    const st = seen.reduce((n, x) => n + x.steps, 0);
    const ok = seen.reduce((n, x) => n + x.ok, 0);
    const secs = (Date.now() - started) / 1000;
    const text = `fuzz seed ${o.seed} shard ${o.shard}/${o.shards}: ${t} traces, ${st} steps (${Math.round(st / Math.max(secs, 0.001))}/s), ${((100 * ok) / Math.max(1, st)).toFixed(1)}% ok${covered !== undefined ? `, ${covered}/${OP_KINDS.length} kinds covered` : ""}, ${secs.toFixed(0)} s`;
    if (final || !o.quiet) process.stderr.write(tty && !final ? `\r${text}` : `${tty ? "\r" : ""}${text}\n`);
  };
  const ticker = setInterval(() => line(false), tty ? 1000 : 5000);
  type Preemption = { preempted: number; revokes: number; destroys: number; taskDestroys: number; accountDestroys: number; interleaved: number; touching: number; zombies: number; nested: number; accountZombies: number; accountTasks: number; accountLinks: number; accountHolders: number; handUps: number; rootHandUps: number; passOvers: number };
  type Summary = { traces: number; steps: number; okRatio: number; byKind: Record<string, { steps: number; ok: number }>; preemption?: Preemption; divergence: Delivered | null };
  const children = Array.from({ length: o.workers }, (_, w) => w).filter((w) => tracesOf(w) > 0).map((w) => {
    const args = [bin, "fuzz", ...keep, ...(Number.isFinite(o.traces) ? ["--traces", String(tracesOf(w))] : []), "--seed", o.seed, "--shard", `${o.shard * o.workers + w}/${total}`, "--workers", "1", "--json"];
    return { w, child: spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] }) };
  });
  const results = await Promise.all(
    children.map(
      ({ w, child }) =>
        new Promise<{ code: number | null; summary: Summary | null; err: string }>((resolve) => {
          let out = "";
          let err = "";
          let partial = "";
          child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
          child.stderr.setEncoding("utf8").on("data", (d: string) => {
            err += d;
            // (a worker's divergence and its shrinking progress are shown as they come: a shrink can take minutes)
            const lines = (partial + d).split("\n");
            partial = lines.pop()!;
            for (const l of lines) if (l.startsWith("divergence in trace") || l.startsWith("shrinking:")) process.stderr.write(`${tty ? "\r" : ""}${l}\n`);
            for (const m of d.matchAll(/: (\d+) traces, (\d+) steps \(\d+\/s\), ([\d.]+)% ok/g)) seen[w] = { traces: Number(m[1]), steps: Number(m[2]), ok: (Number(m[3]) / 100) * Number(m[2]) };
          });
          child.on("close", (code) => {
            let summary: Summary | null = null;
            try {
              summary = JSON.parse(out) as Summary;
            } catch {
              // stopped, or failed before a summary
            }
            if (summary) seen[w] = { traces: summary.traces, steps: summary.steps, ok: summary.okRatio * summary.steps };
            if (code === 1) for (const other of children) if (other.child !== child && other.child.exitCode === null) other.child.kill("SIGTERM");
            resolve({ code, summary, err });
          });
        }),
    ),
  );
  clearInterval(ticker);
  const broken = results.find((r) => r.code === 1 && r.summary?.divergence);
  const failed = results.find((r) => r.code !== 0 && r.code !== 1 && r.code !== null);
  if (failed && !broken) {
    // a usage error, a malformed file or an internal error: every worker says the same, say it once
    process.stderr.write(failed.err.split("\n").filter((l) => !l.startsWith("fuzz seed")).join("\n"));
    return failed.code ?? 2;
  }
  // (a worker that ended without its summary, other than one stopped after another's divergence: never read as "no divergence")
  const lost = broken ? undefined : results.find((r) => r.summary === null);
  if (lost) {
    process.stderr.write(`capmem: a fuzz worker ended without a result (exit status ${lost.code ?? "none: killed by a signal"}); what it wrote:\n${lost.err.split("\n").filter((l) => !l.startsWith("fuzz seed")).join("\n")}\n`);
    return 3;
  }
  const byKind: Record<string, { steps: number; ok: number }> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.summary?.byKind ?? {})) byKind[k] = { steps: (byKind[k]?.steps ?? 0) + v.steps, ok: (byKind[k]?.ok ?? 0) + v.ok };
  const preemption: Preemption = { preempted: 0, revokes: 0, destroys: 0, taskDestroys: 0, accountDestroys: 0, interleaved: 0, touching: 0, zombies: 0, nested: 0, accountZombies: 0, accountTasks: 0, accountLinks: 0, accountHolders: 0, handUps: 0, rootHandUps: 0, passOvers: 0 };
  for (const r of results) for (const k of ["preempted", "revokes", "destroys", "taskDestroys", "accountDestroys", "interleaved", "touching", "zombies", "nested", "accountZombies", "accountTasks", "accountLinks", "accountHolders", "handUps", "rootHandUps", "passOvers"] as const) preemption[k] += r.summary?.preemption?.[k] ?? 0;
  const covered = OP_KINDS.filter((k) => (byKind[k]?.ok ?? 0) > 0).length;
  line(true, covered);
  const traces = seen.reduce((n, x) => n + x.traces, 0);
  const steps = seen.reduce((n, x) => n + x.steps, 0);
  const ok = seen.reduce((n, x) => n + x.ok, 0);
  const seconds = (Date.now() - started) / 1000;
  const summary = { command: "fuzz", seed: o.seed, shard: `${o.shard}/${o.shards}`, workers: o.workers, traces, steps, seconds, stepsPerSecond: Math.round(steps / Math.max(seconds, 0.001)), okRatio: ok / Math.max(1, steps), byKind, preemption };
  const d = broken?.summary?.divergence ?? null;
  if (o.json) writeJson({ ...summary, divergence: d, ok: !broken });
  else if (d) process.stdout.write(deliveredText(d, d.shrunk === false ? notShrunk(d.operations) : `shrunk to ${d.operations} operation(s)`));
  else if (!o.quiet) {
    const stats = newStats();
    for (const [k, v] of Object.entries(byKind)) {
      stats.byKind.set(k as OpKind, v);
      stats.steps += v.steps;
      stats.ok += v.ok;
    }
    Object.assign(stats, preemption);
    process.stdout.write(`${formatStats(stats)}\nno divergence: ${traces} traces, ${steps} steps agreed\n`);
  }
  return broken ? 1 : 0;
}

/**
 * Saves a counterexample and says how to run it again; one that cannot be
 * written is printed instead, so it is never lost. Returns what --json
 * reports of it.
 */
function deliver(headline: string, lead: string, trace: Trace, file: string, again: string, json: boolean): Delivered {
  const saved = saveTrace(file, trace);
  const d: Delivered =
    saved !== null
      ? { what: headline, operations: trace.ops.length, file: null, notWritten: `${file} (${saved})`, trace }
      : { what: headline, operations: trace.ops.length, file, command: `${replayCommand()} ${again}` };
  if (!json) process.stdout.write(deliveredText(d, lead));
  return d;
}

/** How a counterexample that could not be shrunk (the impl never returned) is introduced. */
const notShrunk = (n: number) => `not shrunk (${n} operation(s): a call that never returns cannot be stopped to try a shorter trace)`;

/** A counterexample as --json reports it: written to `file` (with the command that replays it), or not (and then the trace itself); `shrunk: false` when the impl never returned. */
interface Delivered {
  what: string;
  operations: number;
  shrunk?: boolean;
  file: string | null;
  command?: string;
  notWritten?: string;
  trace?: Trace;
}

/** What a person reads of a delivered counterexample (`lead`: how it was found). */
function deliveredText(d: Delivered, lead: string): string {
  return d.file !== null
    ? `${d.what}\n${lead}, written to ${d.file}\nreplay it with:\n  ${d.command}\n`
    : `${d.what}\n${lead}; could not write ${d.notWritten}, so here it is:\n${formatTrace(d.trace!)}`;
}

/** How to run capmem from the current directory: npm in the package, node elsewhere. */
function replayCommand(): string {
  const root = PACKAGE_ROOT;
  if (resolvePath(process.cwd()) === root) return "npm run capmem --";
  if (root.split(sep).includes("node_modules")) return "npx capmem";
  const bin = relative(process.cwd(), join(root, "refinement-tests/cli/bin/capmem.mjs"));
  return `node ${bin.includes(" ") ? JSON.stringify(bin) : bin}`;
}

// ---------------------------------------------------------------------------

/** Progress on stderr for long runs, once a trace has more than 2,000 operations: every second on a terminal, else every five. */
class Progress {
  private readonly started = Date.now();
  private last = Date.now();
  private shown = false;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly n: number,
  ) {}

  tick(i: number): void {
    if (this.n <= 2000 || Date.now() - this.last < (this.tty ? 1000 : 5000)) return;
    this.last = Date.now();
    this.shown = true;
    const secs = (this.last - this.started) / 1000;
    const line = `${this.label}: step ${i + 1} of ${this.n}, ${Math.round((i + 1) / secs)} steps/s, ${secs.toFixed(0)} s`;
    process.stderr.write(this.tty ? `\r${line}` : `${line}\n`);
  }

  end(): void {
    if (this.shown && this.tty) process.stderr.write("\n");
  }
}

/** What the state checks covered, in words, when pacing left steps out. */
function coverage(pacer: Pacer, n: number): string {
  return pacer.checked >= n ? "" : ` (states checked in full at ${pacer.checked} of ${n} steps: every step up to ${pacer.always}, then paced; --full checks every one)`;
}

function writeJson(x: unknown): void {
  process.stdout.write(JSON.stringify(x, null, 2) + "\n");
}

async function replay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...IMPL_OPTIONS, full: { type: "boolean" }, json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError("replay: expected one trace FILE");
  const file = positionals[0]!;
  const trace = readTrace(file);
  const { Impl, driver, limit } = await implUnderTest(values);
  const n = trace.ops.length;
  watchForHangs(limit, (what, _, step) => {
    progress.end();
    const op = trace.ops[step];
    if (values.json) writeJson({ command: "replay", file, operations: n, checkedInFull: pacer.checked, agree: false, divergence: { step, op, what, differences: [] }, unexpected: surprises, ok: false });
    else process.stdout.write(`${step < 0 ? "divergence at boot, before the first operation:" : `first divergence at step ${step} of ${n}:`}\n${op ? `  op:   ${JSON.stringify(op)}\n` : ""}  ${what}\n`);
    return 1;
  });
  const pacer = new Pacer(values.full === true);
  const progress = new Progress("replay", n);
  const surprises: Surprise[] = [];
  let goodAt = -1; // the last step whose states were checked in full and agreed
  let divergence: Divergence | null = null;
  let located = "";
  try {
    const ls = new Lockstep(trace.config, { concrete: true, Impl, driver });
    for (let i = 0; i < n; i++) {
      const full = pacer.due(i, n);
      const t0 = performance.now();
      let r: Result;
      try {
        r = ls.run(trace.ops[i]!, full);
      } catch (e) {
        if (!(e instanceof Divergence) || goodAt === i - 1) throw e;
        // Found after unchecked steps: run again from boot, checking each of
        // them, to name the first step at which the two sides parted.
        located = ` (found at step ${i}; steps ${goodAt + 1} to ${i} re-run with every state checked)`;
        const again = new Lockstep(trace.config, { concrete: true, Impl, driver });
        for (let j = 0; j <= i; j++) again.run(trace.ops[j]!, j > goodAt);
        throw e; // the re-run agreed up to i: report what was found
      }
      if (full) goodAt = i;
      pacer.took(performance.now() - t0, full);
      const miss = unexpected(trace, i, r);
      if (miss) surprises.push(miss);
      progress.tick(i);
    }
  } catch (e) {
    if (!(e instanceof Divergence)) throw e;
    divergence = e;
  }
  progress.end();
  if (values.json) {
    const d = divergence?.detail;
    writeJson({
      command: "replay",
      file,
      operations: n,
      checkedInFull: pacer.checked,
      agree: divergence === null,
      divergence: divergence && { step: d!.step, op: d!.op, spec: d!.spec, impl: d!.impl, what: divergence.what, differences: d!.differences ?? [] },
      unexpected: surprises,
      ok: divergence === null && surprises.length === 0,
    });
    return divergence !== null || surprises.length > 0 ? 1 : 0;
  }
  if (divergence) {
    const d = divergence.detail;
    const out = [d.step < 0 ? "divergence at boot, before the first operation:" : `first divergence at step ${d.step} of ${n}${located}:`];
    if (d.op) out.push(`  op:   ${JSON.stringify(d.op)}`);
    if (d.spec) out.push(`  spec: ${JSON.stringify(d.spec)}`);
    if (d.impl) out.push(`  impl: ${JSON.stringify(d.impl)}`);
    out.push(`  ${divergence.what.split("\n").join("\n  ")}`);
    if (d.differences?.length) {
      out.push("  abstract state, spec vs impl:");
      for (const diff of d.differences) out.push(`    ${diff}`);
    }
    process.stdout.write(out.join("\n") + "\n");
    return 1;
  }
  process.stdout.write(`${n} operation(s): spec and impl agree at every step${coverage(pacer, n)}\n`);
  return expectations(trace, surprises);
}

/** Reports results that differ from the trace's `expect`; the exit status. */
function expectations(trace: Trace, surprises: Surprise[]): number {
  if (!trace.expect) return 0;
  if (surprises.length === 0) {
    process.stdout.write(`every result is the one the trace expects\n`);
    return 0;
  }
  process.stdout.write(`${surprises.length} result(s) differ from the trace's expect:\n${surprises.map((x) => `  ${showSurprise(x)}\n`).join("")}`);
  return 1;
}

async function check(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { full: { type: "boolean" }, update: { type: "boolean" }, json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError("check: expected one trace FILE");
  const file = positionals[0]!;
  const trace = readTrace(file);
  const n = trace.ops.length;
  const say = values.json ? (_: string) => {} : (text: string) => void process.stdout.write(text);
  const pacer = new Pacer(values.full === true);
  const progress = new Progress("check", n);
  const violations: { step: number | "boot"; invariant: string; message: string }[] = [];
  const report = (at: number | "boot", list: readonly { invariant: string; message: string }[]) => {
    for (const v of list) {
      violations.push({ step: at, invariant: v.invariant, message: v.message });
      say(`  ${at === "boot" ? "boot" : `step ${at}`}: invariant ${v.invariant} broken: ${v.message}\n`);
    }
  };
  const brokenBy = (prev: State, op: Op, s: { state: State; result: Result }) => [...(s.result.ok ? inSpec(2, () => checkTransition(prev, op, s.state)) : []), ...inSpec(1, () => checkInvariants(s.state))];
  let at = -1;
  watchSpecAlone(trace.config, () => trace.ops.slice(0, at + 1));
  let state = boot(trace.config);
  report("boot", checkInvariants(state));
  const surprises: Surprise[] = [];
  const results: Result[] = [];
  // The last state checked in full and found whole, to search back from when
  // a later full check finds something broken.
  let good = state;
  let goodAt = -1;
  let searched = false;
  for (let i = 0; i < n; i++) {
    const op = trace.ops[i]!;
    const full = pacer.due(i, n);
    const t0 = performance.now();
    at = i;
    const s = inSpec(0, () => step(state, op));
    results.push(s.result);
    const note = trace.notes?.[String(i)];
    say(`${String(i).padStart(4)} ${JSON.stringify(op)} -> ${showResult(s.result)}${note ? `   # ${note}` : ""}\n`);
    const miss = unexpected(trace, i, s.result);
    if (miss) surprises.push(miss);
    if (full) {
      const broken = brokenBy(state, op, s);
      if (broken.length > 0 && !searched && goodAt < i - 1) {
        // Steps since the last full check were not checked: find the first broken one.
        searched = true;
        let from = good;
        for (let j = goodAt + 1; j < i; j++) {
          const sj = step(from, trace.ops[j]!);
          const b = brokenBy(from, trace.ops[j]!, sj);
          if (b.length > 0) {
            say(`  (found by the full check at step ${i}; steps ${goodAt + 1} to ${i} checked one by one:)\n`);
            report(j, b);
            break;
          }
          from = sj.state;
        }
      }
      report(i, broken);
      if (broken.length === 0) {
        good = s.state;
        goodAt = i;
      }
    }
    pacer.took(performance.now() - t0, full);
    state = s.state;
    progress.tick(i);
  }
  progress.end();
  let updated: number | undefined;
  if (values.update) {
    updated = results.filter((r, i) => trace.expect === undefined || !equal(r, trace.expect[i]!)).length;
    try {
      writeTrace(file, { ...trace, expect: results });
    } catch (e) {
      throw new TraceFileError(`check --update: cannot write ${file}: ${fileError(e)}`);
    }
  }
  const unexpectedCount = values.update ? 0 : surprises.length;
  if (values.json) {
    writeJson({
      command: "check",
      file,
      operations: n,
      checkedInFull: pacer.checked,
      violations,
      unexpected: values.update ? [] : surprises,
      ...(updated !== undefined ? { updated } : {}),
      ok: violations.length === 0 && unexpectedCount === 0,
    });
    return violations.length > 0 || unexpectedCount > 0 ? 1 : 0;
  }
  say(violations.length === 0 ? `${n} operation(s): every invariant holds at every step${coverage(pacer, n)}\n` : `${violations.length} invariant violation(s)\n`);
  if (values.update) {
    say(`expect of ${file}: ${n} result(s) written, ${updated} of them new or changed\n`);
    return violations.length === 0 ? 0 : 1;
  }
  return Math.max(violations.length === 0 ? 0 : 1, expectations(trace, surprises));
}

async function draw(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: "string" }, at: { type: "string" }, task: { type: "string", multiple: true }, container: { type: "string", multiple: true } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError("draw: expected one trace FILE");
  const trace = readTrace(positionals[0]!);
  const n = trace.ops.length;
  // --at N: the state after step N (numbered from 0, as check prints them); --at boot: before any
  const last = values.at === undefined ? n - 1 : values.at === "boot" ? -1 : int(values.at, "at", 0)!;
  if (last >= n) throw new UsageError(`--at: the trace has steps 0 to ${n - 1}, got ${last}`);
  const ids = (xs: string[] | undefined, name: string, max: number) =>
    (xs ?? []).map((x) => {
      const id = int(x, name, 0)!;
      if (id >= max) throw new UsageError(`--${name}: ids go from 0 to ${max - 1}, got ${id}`);
      return id;
    });
  const selection = { tasks: ids(values.task, "task", trace.config.tasks), containers: ids(values.container, "container", trace.config.containers) };
  let state = boot(trace.config);
  let at = -1;
  watchSpecAlone(trace.config, () => trace.ops.slice(0, at + 1));
  for (at = 0; at <= last; at++) state = inSpec(0, () => step(state, trace.ops[at]!)).state;
  const g = toGraph(state, selection);
  const what = `the state ${last < 0 ? "at boot" : `after step ${last}`}${selection.tasks.length || selection.containers.length ? ` (${[...selection.tasks.map((t) => `task ${t}`), ...selection.containers.map((c) => `container ${c}`)].join(", ")} and their neighbours)` : ""}`;
  const out = values.out;
  let text: string;
  if (out?.endsWith(".svg")) text = await graphToSvg(g);
  else if (out?.endsWith(".dot") || out?.endsWith(".gv")) text = graphToDot(g);
  else {
    text = graphToMermaid(g);
    const big = mermaidTooBig(text, g);
    if (big) process.stderr.write(`capmem: warning: the drawing has ${big}; renderers will refuse it: draw some tasks or containers (--task T, --container C) or write SVG (--out FILE.svg)\n`);
    if (out?.endsWith(".md")) text = "```mermaid\n" + text + "```\n";
  }
  emit(text, out, "draw", `${what} drawn to ${out}`, process.stdout);
  return 0;
}

async function exploreCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      depth: { type: "string" },
      config: { type: "string" },
      "max-states": { type: "string" },
      "spec-only": { type: "boolean" },
      out: { type: "string" },
      ...IMPL_OPTIONS,
      json: { type: "boolean" },
      workers: { type: "string" },
      symmetry: { type: "boolean" },
      checkpoint: { type: "string" },
      resume: { type: "string" },
    },
    strict: true,
  });
  if (values["spec-only"] && (values.impl !== undefined || values["impl-cmd"] !== undefined || values["impl-timeout"] !== undefined))
    throw new UsageError(`explore: --spec-only explores the spec alone, so --${values.impl !== undefined ? "impl" : values["impl-cmd"] !== undefined ? "impl-cmd" : "impl-timeout"} would be ignored: give one or the other`);
  const { Impl, driver, flags, limit } = await implUnderTest(values);
  // (the spec and the impl run on this thread or on worker threads: either way a call that does not return is reported; watchdog.ts)
  const hangReport = (what: string, trace: Trace) => {
    process.stderr.write("\n");
    const file = join(values.out ?? "counterexamples", `explore-depth-${trace.ops.length}.json`);
    const saved = deliver(what, `the path to it: ${trace.ops.length} operation(s)`, trace, file, `replay ${file}${flags}`, values.json === true);
    if (values.json) writeJson({ command: "explore", depth, violation: { ...saved, shrunk: false }, ok: false });
    return 1;
  };
  watchForHangs(limit, hangReport);
  const depth = int(values.depth, "depth", 0) ?? 3;
  const maxStates = int(values["max-states"], "max-states", 1) ?? 1_000_000;
  // the fixed configurations fuzz knows too (random and boundary are families, not states to start from)
  let config = values.config === undefined || values.config === "tiny" ? TINY_CONFIG : values.config === "small" ? SMALL_CONFIG : readConfig(values.config, "tiny, small");
  const workers = int(values.workers, "workers", 1) ?? availableParallelism();
  let resume: ExploreProgress | undefined;
  if (values.resume !== undefined) {
    const r = readCheckpoint(values.resume);
    if (values.config !== undefined && !equal(config, r.config)) throw new UsageError(`--resume ${values.resume}: the checkpoint is of another configuration than --config ${values.config}`);
    config = r.config;
    resume = r.progress;
    process.stderr.write(`resuming ${values.resume}: ${resume.report.states} states found, ${resume.nodes - resume.expand} left to expand\n`);
  }
  const onCheckpoint = values.checkpoint === undefined ? undefined : (p: ExploreProgress) => writeCheckpoint(values.checkpoint!, config, p);
  const tty = process.stderr.isTTY === true;
  const line = (r: ExploreReport) =>
    `explore depth ${r.depthReached}/${depth}: ${r.states} distinct states, ${r.edges} transitions${r.interleaved ? ` (${r.interleaved} operations tried between the entries of preempted removals)` : ""}, ${Math.round(r.states / Math.max(r.seconds, 0.001))} states/s, ${r.seconds.toFixed(1)} s`;
  let report: ExploreReport;
  try {
    report = await exploreParallel({
      workers,
      implSeconds: limit,
      symmetry: values.symmetry === true,
      resume,
      onCheckpoint,
      config,
      depth,
      maxStates,
      impl: !values["spec-only"],
      Impl,
      driver,
      onProgress: (r) => process.stderr.write(tty ? `\r${line(r)}` : `${line(r)}\n`),
    });
  } catch (e) {
    if (e instanceof ExploreHang) return reportHang(e.hang, limit, hangReport);
    throw e;
  }
  process.stderr.write(`${tty ? "\r" : ""}${line(report)}${report.complete ? "" : ` (stopped at --max-states ${maxStates})`}\n`);
  const searched = report.complete
    ? `every state reachable in up to ${depth} operation(s)`
    : `depths up to ${report.depthReached - 1} searched in full, depth ${report.depthReached} stopped at --max-states ${maxStates}`;
  if (values.checkpoint !== undefined && !report.violation) process.stderr.write(`checkpoint written to ${values.checkpoint} (resume with --resume ${values.checkpoint} --depth D)\n`);
  const json = {
    command: "explore",
    depth,
    states: report.states,
    transitions: report.edges,
    interleaved: report.interleaved ?? 0,
    depthReached: report.depthReached,
    complete: report.complete,
    seconds: report.seconds,
    statesPerSecond: Math.round(report.states / Math.max(report.seconds, 0.001)),
    bytesPerState: Math.round(report.bytesPerState ?? 0),
    workers,
    symmetry: values.symmetry === true,
  };
  if (report.violation) {
    const dir = values.out ?? "counterexamples";
    const file = join(dir, `explore-depth-${report.violation.trace.ops.length}.json`);
    const again = report.violation.message.startsWith("spec and impl") ? `replay ${file}${flags}` : `check ${file}`;
    const saved = deliver(report.violation.message, `shortest trace: ${report.violation.trace.ops.length} operation(s)`, report.violation.trace, file, again, values.json === true);
    if (values.json) writeJson({ ...json, violation: saved, ok: false });
    return 1;
  }
  if (values.json) writeJson({ ...json, violation: null, ok: true });
  else process.stdout.write(`no violation in ${report.states} distinct states: ${searched}\n`);
  return 0;
}

/** Writes a command's output to --out (making its directory) and says so on `say`, or to stdout when there is no --out. */
function emit(text: string, out: string | undefined, command: string, done: string, say: NodeJS.WriteStream = process.stderr): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    mkdirSync(dirname(resolvePath(out)), { recursive: true });
    writeFileSync(out, text);
  } catch (e) {
    throw new UsageError(`${command}: cannot write ${out}: ${fileError(e)}`);
  }
  say.write(`${done}\n`);
}

function exportCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { itf: { type: "boolean" }, out: { type: "string" } }, allowPositionals: true, strict: true });
  if (!values.itf) throw new UsageError("export: say the format: --itf (the Informal Trace Format of Apalache and Quint)");
  if (positionals.length !== 1) throw new UsageError("export: expected one trace FILE");
  const trace = readTrace(positionals[0]!);
  let at = -1;
  watchSpecAlone(trace.config, () => trace.ops.slice(0, at + 1));
  emit(JSON.stringify(traceToItf(trace, positionals[0]!, (i) => (at = i)), null, 1) + "\n", values.out, "export", `ITF trace of ${trace.ops.length} operation(s) written to ${values.out}`);
  return 0;
}

function importCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { itf: { type: "boolean" }, out: { type: "string" }, config: { type: "string" } }, allowPositionals: true, strict: true });
  if (!values.itf) throw new UsageError("import: say the format: --itf (the Informal Trace Format of Apalache and Quint)");
  if (positionals.length !== 1) throw new UsageError("import: expected one ITF FILE");
  const file = positionals[0]!;
  const config = values.config === undefined ? undefined : values.config === "small" ? SMALL_CONFIG : values.config === "tiny" ? TINY_CONFIG : readConfig(values.config, "small, tiny");
  const trace = itfToTrace(parseJson(readText(file), file), file, config);
  checkFootprint(trace.config, `${file}: config`);
  emit(formatTrace(trace), values.out, "import", `capmem trace of ${trace.ops.length} operation(s)${trace.expect ? " with their results" : ""} written to ${values.out}`);
  return 0;
}

// An explore checkpoint: "CAPMEMX1", the length of a JSON header, the header,
// then the node table (parents, operation indices) and the fingerprint table.
const CHECKPOINT_MAGIC = "CAPMEMX1";

function writeCheckpoint(file: string, config: Config, p: ExploreProgress): void {
  const header = Buffer.from(JSON.stringify({ config, nodes: p.nodes, depthStart: p.depthStart, expand: p.expand, seenSize: p.seen.size, report: p.report }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = [
    Buffer.from(CHECKPOINT_MAGIC),
    len,
    header,
    Buffer.from(p.parents.buffer, p.parents.byteOffset, p.nodes * 4),
    Buffer.from(p.opIndex.buffer, p.opIndex.byteOffset, p.nodes * 4),
    Buffer.from(p.seen.raw().buffer, p.seen.raw().byteOffset, p.seen.raw().byteLength),
  ];
  try {
    mkdirSync(dirname(resolvePath(file)), { recursive: true });
    writeFileSync(`${file}.tmp`, Buffer.concat(body));
    renameSync(`${file}.tmp`, file); // a run killed while writing keeps the previous checkpoint
  } catch (e) {
    process.stderr.write(`capmem: warning: could not write the checkpoint ${file}: ${fileError(e)}\n`);
  }
}

function readCheckpoint(file: string): { config: Config; progress: ExploreProgress } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new TraceFileError(`--resume ${file}: cannot read: ${fileError(e)}`);
  }
  if (buf.length < 12 || buf.subarray(0, 8).toString() !== CHECKPOINT_MAGIC) throw new TraceFileError(`--resume ${file}: not a capmem explore checkpoint`);
  const hlen = buf.readUInt32LE(8);
  let h: { config: Config; nodes: number; depthStart: number[]; expand: number; seenSize: number; report: ExploreReport };
  try {
    h = JSON.parse(buf.subarray(12, 12 + hlen).toString());
  } catch {
    throw new TraceFileError(`--resume ${file}: the checkpoint's header is damaged`);
  }
  let at = 12 + hlen;
  const take = (bytes: number) => {
    if (at + bytes > buf.length) throw new TraceFileError(`--resume ${file}: the checkpoint is cut short`);
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(at, at + bytes));
    at += bytes;
    return copy.buffer;
  };
  const parents = new Int32Array(take(h.nodes * 4));
  const opIndex = new Int32Array(take(h.nodes * 4));
  const seen = FingerprintSet.fromRaw(new Uint32Array(take(buf.length - at)), h.seenSize);
  return { config: ConfigSchema.parse(h.config), progress: { parents, opIndex, nodes: h.nodes, depthStart: h.depthStart, expand: h.expand, seen, report: h.report } };
}

function docsCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { check: { type: "boolean" } }, strict: true });
  if (!existsSync(join(ROOT, "spec/operations.ts"))) throw new UsageError("docs: the docs are generated from the spec's TypeScript sources, which a clone of the repository has and the package does not");
  watchForHangs(SPEC_SECONDS, () => 3); // (the scenario pages step the spec: renderScenario says which trace runs)
  const generated = generateDocs();
  const stale = staleFiles(generated);
  const stray = strayReferenceFiles(generated);
  if (values.check) {
    if (stale.length === 0 && stray.length === 0) {
      process.stdout.write(`${generated.size} generated doc files are up to date\n`);
      return 0;
    }
    for (const path of stale) process.stdout.write(`out of date: ${path}\n`);
    for (const path of stray) process.stdout.write(`not generated any more: ${path}\n`);
    process.stdout.write(`run "npm run docs" to regenerate\n`);
    return 1;
  }
  for (const path of stale) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), generated.get(path)!);
  }
  for (const path of stray) rmSync(join(ROOT, path));
  process.stdout.write(`${stale.length} of ${generated.size} generated doc files rewritten${stray.length ? `, ${stray.length} stale removed` : ""}\n`);
  return 0;
}

// ---------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  const [command, ...given] = argv;
  // "--time -1": a negative number is a value, not an option; joined, the
  // option's own check reports it ("expected an integer >= 0").
  const rest: string[] = [];
  for (let i = 0; i < given.length; i++) {
    const a = given[i]!;
    const next = given[i + 1];
    if (a.startsWith("--") && !a.includes("=") && next !== undefined && /^-\d/.test(next)) {
      rest.push(`${a}=${next}`);
      i++;
    } else rest.push(a);
  }
  try {
    return await dispatch(command, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`capmem: ${e.message}\n(run "capmem help" for usage)\n`);
      return 2;
    }
    if (e instanceof TraceFileError || e instanceof DriverSetupError) {
      process.stderr.write(`capmem: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`capmem: ${e.message}\n(run "capmem help" for usage)\n`);
      return 2;
    }
    // (not the user's input nor the implementation under test: capmem's own code failed)
    process.stderr.write(`capmem: internal error, a bug in capmem itself (please report it with the command that ran):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 3;
  } finally {
    for (const d of drivers) d.close();
  }
}

async function dispatch(command: string | undefined, rest: string[]): Promise<number> {
  {
    switch (command) {
      case "fuzz":
        return await fuzz(rest);
      case "replay":
        return await replay(rest);
      case "check":
        return await check(rest);
      case "draw":
        return await draw(rest);
      case "explore":
        return await exploreCommand(rest);
      case "docs":
        return docsCommand(rest);
      case "export":
        return exportCommand(rest);
      case "import":
        return importCommand(rest);
      case "driver": {
        const { values } = parseArgs({ args: rest, options: { impl: { type: "string" } }, strict: true });
        return await serve(await loadImpl(values.impl), values.impl ? `capmem impl/ with ${values.impl}` : undefined);
      }
      case "schema": {
        const protocol = rest[0] === "--protocol";
        if (rest.length > (protocol ? 1 : 0)) throw new UsageError(`schema takes no arguments but --protocol, got "${rest.join(" ")}"`);
        process.stdout.write(JSON.stringify(protocol ? protocolJsonSchema() : traceJsonSchema(), null, 2) + "\n");
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  }
}
