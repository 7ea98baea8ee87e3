/**
 * The capmem command line: fuzz, replay, check, explore, draw, schema, docs.
 *
 *   capmem fuzz   [--seed S] [--time S] [--traces N] [--steps N] [--config small|random|boundary|FILE]
 *                 [--shard I/N] [--out DIR] [--impl MODULE]
 *   capmem replay FILE [--impl MODULE]
 *   capmem check  FILE
 *   capmem explore [--depth D] [--config tiny|FILE] [--max-states N] [--spec-only] [--out DIR]
 *   capmem draw   FILE [--out FILE]
 *   capmem schema
 *   capmem docs   [--check]
 *
 * Exit codes: 0 all well; 1 a divergence, a broken invariant, an unexpected result or stale docs;
 * 2 bad usage or a malformed file (with a message naming the problem).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { checkInvariants } from "../../spec/invariants.js";
import { checkTransition } from "../../spec/transitions.js";
import { step } from "../../spec/operations.js";
import { boot } from "../../spec/state.js";
import type { Config, OpKind, Trace } from "../../spec/vocabulary.js";
import { Config as ConfigSchema, OP_KINDS } from "../../spec/vocabulary.js";
import type { Machine } from "../../impl/machine.js";
import { boundaryConfigArb, configArb, intentArb, type Intent, SMALL_CONFIG } from "../harness/generate.js";
import { Divergence, formatStats, Lockstep, newStats, type Stats } from "../harness/lockstep.js";
import { toMermaid } from "./draw.js";
import { explore, type ExploreReport, TINY_CONFIG } from "../harness/explore.js";
import { generateDocs, ROOT, staleFiles, strayReferenceFiles } from "../docs/reference.js";
import { checkFootprint, describeIssues, fileError, formatTrace, parseJson, readTrace, showResult, TraceFileError, traceJsonSchema, unexpected, writeTrace } from "./traces.js";

class UsageError extends Error {}

const USAGE = `usage:
  capmem fuzz   [--seed S] [--time SECONDS] [--traces N] [--steps N] [--config small|random|boundary|FILE]
                [--shard I/N] [--out DIR] [--impl MODULE] [--quiet]
  capmem replay FILE [--impl MODULE]
  capmem check  FILE
  capmem explore [--depth D] [--config tiny|FILE] [--max-states N] [--spec-only] [--out DIR] [--impl MODULE]
  capmem draw   FILE [--out FILE.mmd|FILE.md]
  capmem schema
  capmem docs   [--check]

fuzz     random state-aware traces run on spec and impl in lockstep (defaults: 10 s,
         up to 100 operations a trace, small and random configs alternating, and
         every sixteenth trace (from the 64th) five times longer on a config at the impl's structural
         boundaries: bitmap words, leaf pages, pool growth); on a
         divergence writes the shrunk trace to DIR (default ./counterexamples) and
         prints the command that replays it; exit 1
replay   runs a trace file on both sides and shows the first divergent step
check    runs a trace file on the spec alone, printing each result, and reports
         any named invariant that breaks, and where
explore  breadth-first search of every state reachable in D operations (default 3) on a
         tiny config, every operation with every argument from small domains; checks
         the invariants on each new state and the impl along each new path; reports
         distinct states and states/s; a violation comes with a shortest trace; exit 1
draw     the spec state after a trace as a Mermaid flowchart: accounts and who pays,
         tasks with their capabilities and mappings, derivation and mapping trees,
         containers, frames and DMA handles
schema   prints the JSON Schema of trace files
docs     regenerates docs/reference (a page per operation and invariant, from the
         spec) and the generated parts of docs/scenarios; --check only reports
         what is out of date (exit 1)
replay and check also compare each result with the trace's "expect", if it has one.
--impl   an ES module (.mts or .mjs outside this package) whose default export is
         a class like impl/machine.ts's Machine (usually a subclass overriding exec): fuzz your own impl`;

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
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`--impl ${module}: cannot load: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof mod.default !== "function") throw new UsageError(`--impl ${module}: the module has no default export class`);
  return mod.default as new (config: Config) => Machine;
}

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

/** fuzz's --config: the small config, random small configs, boundary configs, all of them alternating, or a file. */
function configChoice(choice: string): fc.Arbitrary<Config> | "alternate" {
  if (choice === "small") return fc.constant(SMALL_CONFIG);
  if (choice === "random") return configArb;
  if (choice === "boundary") return boundaryConfigArb;
  if (choice === "alternate") return "alternate";
  return fc.constant(readConfig(choice, "small, random, boundary"));
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
      impl: { type: "string" },
      quiet: { type: "boolean" },
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
  const outDir = values.out ?? "counterexamples";
  const Impl = await loadImpl(values.impl);
  const configs = configChoice(values.config ?? "alternate");
  // Alternate: the fixed small configuration, a random small one, and every
  // sixteenth trace one at the impl's structural boundaries, with traces five
  // times longer so that they get past those boundaries (a step there costs
  // several times a small one: these take about half of the time). They
  // start after the first 64 traces, so that a bug small traces show is
  // found, and shrunk, on a small trace first (shrinking a long trace on a
  // large configuration takes minutes).
  const boundary = (k: number) => configs === "alternate" && k >= 64 && k % 16 === 15;
  const arbFor = (k: number) => (configs === "alternate" ? (boundary(k) ? boundaryConfigArb : k % 2 === 0 ? fc.constant(SMALL_CONFIG) : configArb) : configs);
  const traceArb = (k: number) => fc.tuple(arbFor(k), fc.array(intentArb, { minLength: 1, maxLength: boundary(k) ? 5 * steps : steps, size: "max" }));
  /** Runs one trace; with `stopAt`, stops (without failing) once that time has passed, so --time holds inside long traces too. */
  const runOne = ([config, intents]: [Config, Intent[]], stats?: Stats, stopAt = Infinity) => {
    const ls = new Lockstep(config, { concrete: true, stats, Impl });
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

  // Say the seed first: a run that is killed or hangs can still be repeated.
  process.stderr.write(`fuzz seed ${seed} shard ${shard}/${shards}${values.impl ? `, impl ${values.impl}` : ""}\n`);
  for (let k = shard; traces < maxTraces && Date.now() < deadline; k += shards) {
    const traceSeed = traceSeedOf(seed, k);
    const value = fc.sample(traceArb(k), { seed: traceSeed, numRuns: 1 })[0]!;
    traces++;
    try {
      runOne(value, stats, deadline);
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      progress(true);
      process.stderr.write(`divergence in trace ${k} (seed ${traceSeed}); shrinking...\n`);
      // Shrink: fast-check regenerates the same first value from the same seed.
      const shrunk = fc.check(
        fc.property(traceArb(k), (v) => runOne(v)),
        { seed: traceSeed, numRuns: 1, interruptAfterTimeLimit: 120_000 },
      );
      const example = (shrunk.counterexample?.[0] ?? value) as [Config, Intent[]];
      let found: Divergence = e;
      try {
        runOne(example);
      } catch (e2) {
        if (e2 instanceof Divergence) found = e2;
      }
      const file = join(outDir, `counterexample-${traceSeed}.json`);
      const shown = isAbsolute(file) ? file : relative(process.cwd(), resolvePath(file));
      process.stdout.write(`${found.what.split("\n")[0]}\n`);
      const saved = saveTrace(file, found.trace);
      if (saved !== null) {
        // never lose the counterexample: print it instead
        process.stdout.write(`shrunk to ${found.trace.ops.length} operation(s); could not write ${shown} (${saved}), so here it is:\n${formatTrace(found.trace)}`);
        return 1;
      }
      process.stdout.write(`shrunk to ${found.trace.ops.length} operation(s), written to ${shown}\n`);
      process.stdout.write(`replay it with:\n  ${replayCommand()} replay ${shown}${values.impl ? ` --impl ${values.impl}` : ""}\n`);
      return 1;
    }
    if (Date.now() - lastReport > (tty ? 250 : 5000)) {
      lastReport = Date.now();
      progress(false);
    }
  }
  progress(true);
  if (!values.quiet) process.stdout.write(`${formatStats(stats)}\nno divergence: ${traces} traces, ${stats.steps} steps agreed\n`);
  return 0;
}

/** How to run capmem from the current directory: npm in the package, node elsewhere. */
function replayCommand(): string {
  const root = resolvePath(import.meta.dirname, "../..");
  if (resolvePath(process.cwd()) === root) return "npm run capmem --";
  const bin = relative(process.cwd(), join(root, "refinement-tests/cli/bin/capmem.mjs"));
  return `node ${bin.includes(" ") ? JSON.stringify(bin) : bin}`;
}

// ---------------------------------------------------------------------------

async function replay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { impl: { type: "string" } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError("replay: expected one trace FILE");
  const trace = readTrace(positionals[0]!);
  const Impl = await loadImpl(values.impl);
  let ls: Lockstep | undefined;
  const surprises: string[] = [];
  try {
    ls = new Lockstep(trace.config, { concrete: true, Impl });
    trace.ops.forEach((op, i) => {
      const miss = unexpected(trace, i, ls!.run(op));
      if (miss) surprises.push(miss);
    });
  } catch (e) {
    if (!(e instanceof Divergence)) throw e;
    const d = e.detail;
    const out = [d.step < 0 ? "divergence at boot, before the first operation:" : `first divergence at step ${d.step} of ${trace.ops.length}:`];
    if (d.op) out.push(`  op:   ${JSON.stringify(d.op)}`);
    if (d.spec) out.push(`  spec: ${JSON.stringify(d.spec)}`);
    if (d.impl) out.push(`  impl: ${JSON.stringify(d.impl)}`);
    out.push(`  ${e.what.split("\n")[0]}`);
    if (d.differences?.length) {
      out.push("  abstract state, spec vs impl:");
      for (const diff of d.differences) out.push(`    ${diff}`);
    }
    process.stdout.write(out.join("\n") + "\n");
    return 1;
  }
  process.stdout.write(`${trace.ops.length} operation(s): spec and impl agree at every step\n`);
  return expectations(trace, surprises);
}

/** Reports results that differ from the trace's `expect`; the exit status. */
function expectations(trace: Trace, surprises: string[]): number {
  if (!trace.expect) return 0;
  if (surprises.length === 0) {
    process.stdout.write(`every result is the one the trace expects\n`);
    return 0;
  }
  process.stdout.write(`${surprises.length} result(s) differ from the trace's expect:\n${surprises.map((x) => `  ${x}\n`).join("")}`);
  return 1;
}

function check(argv: string[]): number {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError("check: expected one trace FILE");
  const trace = readTrace(positionals[0]!);
  let state = boot(trace.config);
  let broken = 0;
  const report = (where: string, list: { invariant: string; message: string }[]) => {
    for (const v of list) {
      broken++;
      process.stdout.write(`  ${where}: invariant ${v.invariant} broken: ${v.message}\n`);
    }
  };
  report("boot", checkInvariants(state));
  const surprises: string[] = [];
  trace.ops.forEach((op, i) => {
    const s = step(state, op);
    process.stdout.write(`${String(i).padStart(4)} ${JSON.stringify(op)} -> ${showResult(s.result)}\n`);
    const miss = unexpected(trace, i, s.result);
    if (miss) surprises.push(miss);
    if (s.result.ok) report(`step ${i}`, checkTransition(state, op, s.state));
    report(`step ${i}`, checkInvariants(s.state));
    state = s.state;
  });
  process.stdout.write(broken === 0 ? `${trace.ops.length} operation(s): every invariant holds at every step\n` : `${broken} invariant violation(s)\n`);
  return Math.max(broken === 0 ? 0 : 1, expectations(trace, surprises));
}

function draw(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { out: { type: "string" } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError("draw: expected one trace FILE");
  const trace = readTrace(positionals[0]!);
  let state = boot(trace.config);
  for (const op of trace.ops) state = step(state, op).state;
  const text = toMermaid(state);
  if (values.out) {
    try {
      mkdirSync(dirname(resolvePath(values.out)), { recursive: true });
      writeFileSync(values.out, values.out.endsWith(".md") ? "```mermaid\n" + text + "```\n" : text);
    } catch (e) {
      throw new UsageError(`draw: cannot write ${values.out}: ${fileError(e)}`);
    }
    process.stdout.write(`the state after ${trace.ops.length} operation(s) drawn to ${values.out}\n`);
  } else {
    process.stdout.write(text);
  }
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
      impl: { type: "string" },
    },
    strict: true,
  });
  if (values["spec-only"] && values.impl !== undefined) throw new UsageError("explore: --spec-only explores the spec alone, so --impl would be ignored: give one or the other");
  const depth = int(values.depth, "depth", 0) ?? 3;
  const maxStates = int(values["max-states"], "max-states", 1) ?? 1_000_000;
  const config = values.config === undefined || values.config === "tiny" ? TINY_CONFIG : readConfig(values.config, "tiny");
  const tty = process.stderr.isTTY === true;
  const line = (r: ExploreReport) =>
    `explore depth ${r.depthReached}/${depth}: ${r.states} distinct states, ${r.edges} transitions, ${Math.round(r.states / Math.max(r.seconds, 0.001))} states/s, ${r.seconds.toFixed(1)} s`;
  const report = explore({
    config,
    depth,
    maxStates,
    impl: !values["spec-only"],
    Impl: await loadImpl(values.impl),
    onProgress: (r) => process.stderr.write(tty ? `\r${line(r)}` : `${line(r)}\n`),
  });
  process.stderr.write(`${tty ? "\r" : ""}${line(report)}${report.complete ? "" : ` (stopped at --max-states ${maxStates})`}\n`);
  if (report.violation) {
    const dir = values.out ?? "counterexamples";
    const file = join(dir, `explore-depth-${report.violation.trace.ops.length}.json`);
    const saved = saveTrace(file, report.violation.trace);
    if (saved !== null) {
      process.stdout.write(`${report.violation.message}\nshortest trace: ${report.violation.trace.ops.length} operation(s); could not write ${file} (${saved}), so here it is:\n${formatTrace(report.violation.trace)}`);
      return 1;
    }
    const again = report.violation.message.startsWith("spec and impl") ? `replay ${file}${values.impl ? ` --impl ${values.impl}` : ""}` : `check ${file}`;
    process.stdout.write(`${report.violation.message}\nshortest trace: ${report.violation.trace.ops.length} operation(s), written to ${file}\nreplay it with:\n  ${replayCommand()} ${again}\n`);
    return 1;
  }
  process.stdout.write(`no violation in ${report.states} distinct states up to depth ${report.depthReached}\n`);
  return 0;
}

function docsCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { check: { type: "boolean" } }, strict: true });
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
    switch (command) {
      case "fuzz":
        return await fuzz(rest);
      case "replay":
        return await replay(rest);
      case "check":
        return check(rest);
      case "draw":
        return draw(rest);
      case "explore":
        return await exploreCommand(rest);
      case "docs":
        return docsCommand(rest);
      case "schema":
        if (rest.length > 0) throw new UsageError(`schema takes no arguments, got "${rest.join(" ")}"`);
        process.stdout.write(JSON.stringify(traceJsonSchema(), null, 2) + "\n");
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`capmem: ${e.message}\n(run "capmem help" for usage)\n`);
      return 2;
    }
    if (e instanceof TraceFileError) {
      process.stderr.write(`capmem: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`capmem: ${e.message}\n(run "capmem help" for usage)\n`);
      return 2;
    }
    throw e;
  }
}
