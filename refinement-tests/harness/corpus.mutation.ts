/**
 * The test set of mutation testing (npm run mutation): a fixed corpus of
 * lockstep traces, one test per trace, so that StrykerJS (per-test coverage)
 * runs on a mutant only the traces that reach the mutated code and stops at
 * the first that diverges. Unlike the property tests, a failing trace here is
 * not shrunk: a killed mutant costs one trace, not a minute of shrinking.
 *
 * Each generated trace is recorded once on the spec (operation, result, a
 * fingerprint of the state after it) and cached on disk; against a mutant
 * only the impl runs, checked as the lockstep checks it (results, abstract
 * state by fingerprint, nothing changed by an error, representation
 * invariants: on long traces every 16th step after the 200th), about four
 * times faster than a full lockstep, which would
 * also re-run the unmutated spec and its invariants for every mutant.
 *
 * The traces come from the same generator as `capmem fuzz`, from fixed seeds:
 * the small configuration, random small ones, configurations at the impl's
 * structural boundaries (longer traces), traces on a machine whose leaf-page
 * and directory-page pools grow, a long small-configuration trace that drives ids, slots and
 * counters round many times, a trace on two of the bulk configurations (a
 * frame copied past 256 times, a leaf with more than 256 mappings), and every
 * trace file of docs/scenarios (the regression traces are in
 * scenarios.test.ts, which mutation runs too). It is kept small: a mutant
 * that survives runs all of it, slowed down several times by StrykerJS's
 * instrumentation. Not part of `npm test` (the refinement tests cover the
 * same ground with fresh seeds).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, it } from "vitest";
import { step } from "../../spec/operations.js";
import { boot } from "../../spec/state.js";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation } from "../../impl/check.js";
import { Machine } from "../../impl/machine.js";
import { showSurprise, unexpected } from "../cli/traces.js";
import { scenarioTraces } from "../docs/reference.js";
import { equal } from "./compare.js";
import { fingerprint } from "./explore.js";
import { boundaryConfigArb, BULK_CONFIGS, configArb, intentArb, resolve, SMALL_CONFIG, type Intent } from "./generate.js";
import { Lockstep, Snapshot } from "./lockstep.js";

/** `count` traces of up to `length` intents (exactly `length` with `exact`) on configurations drawn from `configs`, from seed `seed`. */
function corpus(seed: number, count: number, configs: fc.Arbitrary<Config>, length: number, exact = false): [Config, Intent[]][] {
  const arb = fc.tuple(configs, fc.array(intentArb, { minLength: exact ? length : 1, maxLength: length, size: "max" }));
  return fc.sample(arb, { seed, numRuns: count });
}

/** A machine whose leaf-page and directory-page pools grow (each starts with four pages): address spaces of five leaf pages, six live tasks. */
const GROWTH_CONFIG: Config = { frames: 33, objects: 400, accounts: 3, tasks: 12, containers: 3, capSlots: 12, vpages: 2560, containerSlots: 8, handles: 2 };

/** How long each bulk configuration's trace must be to pass its goal (frames in use, copies of a frame, mappings in a leaf). */
const BULK_LENGTHS = [2000, 1200, 600];

/**
 * A corpus trace as the spec runs it, recorded once: each operation, the
 * spec's result and a 64-bit fingerprint of the spec state after it (boot
 * first). Against a mutant only the impl runs: the spec is never mutated,
 * so running it (and checking its invariants) again for every mutant would
 * only repeat this recording.
 */
interface Recorded {
  readonly config: Config;
  readonly boot: readonly [number, number];
  readonly steps: readonly { readonly op: Op; readonly result: Result; readonly after: readonly [number, number] }[];
}

function record(config: Config, intents: readonly Intent[]): Recorded {
  let s = boot(config);
  const steps: Recorded["steps"][number][] = [];
  for (const intent of intents) {
    const op = resolve(s, intent);
    const next = step(s, op);
    s = next.state;
    steps.push({ op, result: next.result, after: fingerprint(s) });
  }
  return { config, boot: fingerprint(boot(config)), steps };
}

/**
 * The recordings, cached on disk under a hash of the sources they depend on
 * (the spec, the generator and this file), so a mutation run records them
 * once, in its first (unmutated) test run, and reads them back for every
 * mutant; a change to the spec or the generator records them anew.
 */
function recordings(corpus: readonly (readonly [string, Config, Intent[]])[]): Map<string, Recorded> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const hash = createHash("sha256");
  const sources = [
    ...readdirSync(join(root, "spec")).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => join(root, "spec", f)),
    join(root, "refinement-tests/harness/generate.ts"),
    fileURLToPath(import.meta.url),
  ].sort();
  for (const f of sources) hash.update(f.slice(root.length)).update(readFileSync(f));
  const file = join(tmpdir(), `capmem-mutation-corpus-${hash.digest("hex").slice(0, 16)}.json`);
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, Recorded>));
  } catch {
    const out = new Map(corpus.map(([name, config, intents]) => [name, record(config, intents)] as const));
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(Object.fromEntries(out)));
    renameSync(`${file}.${process.pid}`, file);
    return out;
  }
}

/** Representation checks on long traces: every step of the first 200, then every 16th and the last. */
const reprDue = (i: number, n: number) => i < 200 || i % 16 === 0 || i === n - 1;

/**
 * Runs a recording on the impl and checks what the lockstep checks of the
 * impl: the same result, an abstract state with the recorded fingerprint,
 * nothing changed by an error (every typed array compared), and the
 * representation invariants.
 */
function replay(r: Recorded): void {
  const m = new Machine(r.config);
  const snapshot = new Snapshot();
  const same = (f: readonly [number, number]) => {
    const g = fingerprint(toSpec(m));
    return g[0] === f[0] && g[1] === f[1];
  };
  if (!same(r.boot)) throw new Error("the impl boots into another state");
  r.steps.forEach(({ op, result, after }, i) => {
    const where = `step ${i} ${JSON.stringify(op)}`;
    if (!result.ok) snapshot.take(m);
    const got = m.apply(op);
    if (!equal(got, result)) throw new Error(`${where}: spec ${JSON.stringify(result)}, impl ${JSON.stringify(got)}`);
    if (!result.ok) {
      const changed = snapshot.changed(m);
      if (changed.length) throw new Error(`${where}: the impl changed ${changed.join(", ")} on an error`);
      return;
    }
    if (!same(after)) throw new Error(`${where}: abstract states differ`);
    if (reprDue(i, r.steps.length)) {
      const broken = checkRepresentation(m);
      if (broken.length) throw new Error(`${where}: ${broken[0]!.invariant}: ${broken[0]!.message}`);
    }
  });
}

const CORPUS: [string, Config, Intent[]][] = [
  ...corpus(1, 12, fc.constant(SMALL_CONFIG), 120).map(([c, t], i) => [`small ${i}`, c, t] as [string, Config, Intent[]]),
  ...corpus(2, 12, configArb, 120).map(([c, t], i) => [`random small ${i}`, c, t] as [string, Config, Intent[]]),
  ...corpus(3, 2, boundaryConfigArb, 600).map(([c, t], i) => [`boundary ${i}`, c, t] as [string, Config, Intent[]]),
  ...corpus(4, 1, fc.constant(SMALL_CONFIG), 1000).map(([c, t], i) => [`long small ${i}`, c, t] as [string, Config, Intent[]]),
  // address spaces of five leaf pages and six live tasks: the leaf and directory pools grow
  ...corpus(9, 2, fc.constant(GROWTH_CONFIG), 600, true).map(([c, t], i) => [`pool growth ${i}`, c, t] as [string, Config, Intent[]]),
  // (not the 1,060-frame machine: it takes longer than all the rest, and bitmap.test.ts covers the bitmap past 1,024)
  ...BULK_CONFIGS.flatMap((config, i) => (i > 0 ? corpus(5 + i, 1, fc.constant(config), BULK_LENGTHS[i]!, true).map(([c, t]) => [`bulk ${i}`, c, t] as [string, Config, Intent[]]) : [])),
];

describe("mutation corpus", () => {
  const recorded = recordings(CORPUS);
  for (const [name] of CORPUS) it(name, () => replay(recorded.get(name)!));

  // (the regression traces are run by scenarios.test.ts, also in this test set)
  for (const [file, trace] of scenarioTraces()) {
    it(`docs/scenarios/${file}`, () => {
      const ls = new Lockstep(trace.config, { concrete: true });
      trace.ops.forEach((op, i) => {
        const miss = unexpected(trace, i, ls.run(op));
        if (miss) throw new Error(showSurprise(miss));
      });
    });
  }
});
