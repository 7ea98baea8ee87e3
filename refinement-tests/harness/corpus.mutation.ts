/**
 * The test set of mutation testing (npm run mutation): a fixed corpus of
 * traces, one test per trace, so that StrykerJS (per-test coverage) runs on
 * a mutant only the traces that reach the mutated code and stops at the
 * first that diverges. Unlike the property tests, a failing trace here is
 * not shrunk: a killed mutant costs one trace, not a minute of shrinking.
 *
 * Each trace (listed in corpus.record.ts: generated ones from fixed seeds,
 * traces chosen to provoke errors the others never meet, the docs/scenarios
 * and the regression trace files) is recorded once on the spec (operation,
 * result, a fingerprint of the state after it) and cached on disk. Against
 * a mutant only the impl runs, checked as the lockstep checks it: the same
 * results, the recorded abstract state (by fingerprint), nothing changed by
 * an error, the representation invariants (the last two after some steps
 * only: statePeriod, reprDue). The spec is never mutated, so running it and
 * its invariants again for every mutant would only repeat the recording.
 * This file imports no more than the impl and the checks (the recorder, the
 * generator and fast-check load only on a cache miss).
 * Not part of `npm test` (the refinement tests cover the same ground with
 * fresh seeds).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation } from "../../impl/check.js";
import { Machine } from "../../impl/machine.js";
import { equal } from "./compare.js";
import { fingerprint } from "./fingerprint.js";
import { Snapshot } from "./snapshot.js";
import { describe, it } from "./testapi.js";

/**
 * A corpus trace as the spec runs it, recorded once: each operation, the
 * spec's result and a 64-bit fingerprint of the spec state after it (boot
 * first). Against a mutant only the impl runs: the spec is never mutated,
 * so running it (and checking its invariants) again for every mutant would
 * only repeat this recording.
 */
export interface Recorded {
  readonly config: Config;
  readonly boot: readonly [number, number];
  readonly steps: readonly { readonly op: Op; readonly result: Result; readonly after: readonly [number, number] }[];
}

/**
 * The recordings, cached on disk under a hash of the sources they depend on
 * (the spec, the generator, the recorder, this file and the trace files),
 * so a mutation run records them once, in its first (unmutated) test run,
 * and reads them back for every mutant; a change to any of those sources
 * records them anew.
 */
async function recordings(): Promise<[string, Recorded][]> {
  const root = join(import.meta.dirname, "../..");
  const dir = (d: string, ext: string) => readdirSync(join(root, d)).filter((f) => f.endsWith(ext) && !f.endsWith(".test.ts")).map((f) => join(root, d, f));
  const sources = [
    ...dir("spec", ".ts"),
    ...dir("docs/scenarios", ".json"),
    ...dir("refinement-tests/harness/regressions", ".json"),
    ...["generate.ts", "corpus.record.ts", "corpus.mutation.ts", "fingerprint.ts"].map((f) => join(root, "refinement-tests/harness", f)),
  ].sort();
  const hash = createHash("sha256");
  for (const f of sources) hash.update(f.slice(root.length)).update(readFileSync(f));
  const file = join(tmpdir(), `capmem-mutation-corpus-${hash.digest("hex").slice(0, 16)}.json`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as [string, Recorded][];
  } catch {
    const { recordCorpus } = await import("./corpus.record.js");
    const out = recordCorpus();
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(out));
    renameSync(`${file}.${process.pid}`, file);
    return out;
  }
}

/**
 * After which successful steps the impl's abstract state is compared with the
 * recording, and after which the representation invariants are checked.
 * Results are compared after every step. Computing the abstract state is
 * most of the cost of a replay, more so on machines with large address
 * spaces (it lists every page of every task), and StrykerJS's
 * instrumentation makes the impl's code, the abstraction function included,
 * ten to twenty times slower. A mutant that corrupts the state mostly
 * leaves it corrupted for more than a few steps, so the state is compared
 * after every 4th step (every 16th where the address spaces hold more than
 * 4,096 pages in all) and after the last, and the invariants after every
 * 4th of the first 200 steps, then every 16th, and after the last. The
 * regression traces and the docs' scenarios (short, each built to reach a
 * state at a given step, which a mutant may get wrong for a step or two
 * only) are checked after every step.
 */
const statePeriod = (c: Config) => (c.tasks * c.vpages > 4096 ? 16 : 4);
const reprDue = (i: number, n: number) => (i < 200 ? i % 4 === 0 : i % 16 === 0) || i === n - 1;

/**
 * Runs a recording on the impl and checks what the lockstep checks of the
 * impl: the same result, an abstract state with the recorded fingerprint,
 * nothing changed by an error (every typed array compared), and the
 * representation invariants.
 */
function replay(r: Recorded, everyStep: boolean): void {
  const m = new Machine(r.config);
  const snapshot = new Snapshot();
  const period = everyStep ? 1 : statePeriod(r.config);
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
    if ((i % period === 0 || i === r.steps.length - 1) && !same(after)) throw new Error(`${where}: abstract states differ`);
    if (everyStep || reprDue(i, r.steps.length)) {
      const broken = checkRepresentation(m);
      if (broken.length) throw new Error(`${where}: ${broken[0]!.invariant}: ${broken[0]!.message}`);
    }
  });
}

const recorded = await recordings();

describe("mutation corpus", () => {
  for (const [name, r] of recorded) it(name, () => replay(r, name.startsWith("regressions/") || name.startsWith("docs/scenarios/")));
});
