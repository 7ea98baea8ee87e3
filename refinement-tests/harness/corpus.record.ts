/**
 * The traces of the mutation corpus (corpus.mutation.ts), recorded on the
 * spec: each operation, the spec's result and a fingerprint of the spec
 * state after it. Loaded only when the recording is not yet cached.
 *
 * The traces: generated ones from fixed seeds (the small configuration,
 * random small ones, pager configurations (a third of their steps go to
 * pagers and faults), preemption configurations (a work budget: unmaps, revokes and container destroys
 * stop at preemption points, other steps run in between), configurations at the impl's structural boundaries,
 * a machine whose leaf-page and directory-page pools grow, a long
 * small-configuration trace that drives ids, slots and counters round many
 * times, two of the bulk configurations: a frame copied past 256 times, a
 * leaf with more than 256 mappings), then every trace file of
 * docs/scenarios and of the regression traces, then random traces that
 * provoke errors none of the others meets (errorTraces), and random
 * preemption traces that show what the others never show a preempted
 * removal meet (preemptionTraces), and traces on the configurations where
 * the generator stages an account zombie, and what a task destroy hands up.
 */
import { join } from "node:path";
import fc from "fast-check";
import { step } from "../../spec/operations.js";
import { continues } from "../../spec/preemption.js";
import type { State } from "../../spec/state.js";
import { boot } from "../../spec/state.js";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { traceFiles } from "../cli/traces.js";
import { scenarioTraces } from "../docs/reference.js";
import { fingerprint } from "./fingerprint.js";
import { boundaryConfigArb, BULK_CONFIGS, configArb, intentArb, pagerConfigArb, preemptConfigArb, resolve, SMALL_CONFIG, type Intent } from "./generate.js";
import type { Recorded } from "./corpus.mutation.js";

/** `count` traces of up to `length` intents (exactly `length` with `exact`) on configurations drawn from `configs`, from seed `seed`. */
function sample(seed: number, count: number, configs: fc.Arbitrary<Config>, length: number, exact = false): [Config, Intent[]][] {
  const arb = fc.tuple(configs, fc.array(intentArb, { minLength: exact ? length : 1, maxLength: length, size: "max" }));
  return fc.sample(arb, { seed, numRuns: count });
}

/** A machine whose leaf-page and directory-page pools grow (each starts with four pages): address spaces of five leaf pages, six live tasks. */
const GROWTH_CONFIG: Config = { frames: 33, objects: 400, accounts: 3, tasks: 12, containers: 3, capSlots: 12, vpages: 2560, containerSlots: 8, handles: 2 };

/** How long each bulk configuration's trace must be to pass its goal (frames in use, copies of a frame, mappings in a leaf). */
const BULK_LENGTHS = [2000, 1200, 600];

/** Runs a trace on the spec, operations generated from intents or given; with `events`, adds to it what its steps do to preempted removals (preemptionEvents). */
function record(config: Config, todo: { intents: readonly Intent[] } | { ops: readonly Op[] }, events?: Set<string>): Recorded {
  const start = boot(config);
  let s = start;
  const steps: Recorded["steps"][number][] = [];
  const ops = "ops" in todo ? todo.ops : todo.intents;
  for (const x of ops) {
    const op = "ops" in todo ? (x as Op) : resolve(s, x as Intent);
    const next = step(s, op);
    if (events) for (const e of preemptionEvents(s, op, next.result, next.state)) events.add(e);
    s = next.state;
    steps.push({ op, result: next.result, after: fingerprint(s) });
  }
  return { config, boot: fingerprint(start), steps };
}

/** The (operation, result) pairs a recording shows: "page.map BadRights", "cap.copy ok". */
const outcomes = (r: Recorded): Set<string> => new Set(r.steps.map(({ op, result }) => `${op.op} ${result.ok ? "ok" : result.error}`));

/** How many random traces errorTraces draws from: on random small configurations, and on pager configurations. */
const ERROR_POOL = 400;
const PAGER_ERROR_POOL = 200;

/**
 * Traces that provoke the results, mostly errors, the rest of the corpus
 * never meets. A mutant that switches off one error check survives unless
 * some trace makes that operation fail with that error: random traces of
 * the corpus's size meet most (operation, result) pairs, but not all (a
 * transfer between unrelated accounts, an allocation into an occupied
 * slot, ...). From `pool` (random traces from a fixed seed), this keeps,
 * greedily, the trace that shows the most pairs no trace kept so far
 * shows, until none shows a new one.
 */
function errorTraces(corpus: readonly Recorded[], name: string, pool: readonly Recorded[]): [string, Recorded][] {
  const seen = new Set(corpus.flatMap((r) => [...outcomes(r)]));
  const fresh = pool.map((r) => [...outcomes(r)]);
  const out: [string, Recorded][] = [];
  for (;;) {
    let best = -1;
    let gain = 0;
    fresh.forEach((pairs, i) => {
      const g = pairs.filter((p) => !seen.has(p)).length;
      if (g > gain) [best, gain] = [i, g];
    });
    if (best < 0) return out;
    for (const p of fresh[best]!) seen.add(p);
    out.push([`${name} ${best}`, pool[best]!]);
  }
}

/** How many random preemption traces preemptionTraces draws from. */
const PREEMPTION_POOL = 400;

/**
 * What a step does to preempted removals, in words (kinds by the operation
 * each waits for): another task's operation refused because one is
 * preempted (`Blocked`, `Removing`), one ended because another operation
 * took what it works on, its walk sent back (or, for an account destroy,
 * on to the next object) because another operation took the node it stood
 * at, one finished or its subject gone with it.
 */
function preemptionEvents(before: State, op: Op, result: Result, after: State): string[] {
  const out: string[] = [];
  const kinds = new Set(before.tasks.flatMap((t) => (t?.pending ? [t.pending.op.op] : [])));
  if (!result.ok) {
    // (Removing is checked by each operation, Blocked once for all)
    if (result.error === "Removing") for (const k of kinds) out.push(`${op.op} Removing while a ${k} waits`);
    if (result.error === "Blocked") for (const k of kinds) out.push(`Blocked while a ${k} waits`);
    return out;
  }
  before.tasks.forEach((t, id) => {
    const p = t?.pending;
    if (!p) return;
    const q = after.tasks[id]?.pending ?? null;
    const k = p.op.op;
    if (continues(p, op)) {
      if (!after.tasks[id]) out.push(`${k}: its subject went with it`);
      else if (q === null) out.push(`${k} finished`);
      return;
    }
    if (!after.tasks[id]) out.push(`${k}: its subject destroyed by another`);
    else if (q === null) out.push(`${k} ended by another`);
    else if (JSON.stringify(q) !== JSON.stringify(p)) out.push(`${k} walk moved by another${"at" in q && q.at === null && (p as { at: unknown }).at !== null ? " (to the next object)" : ""}`);
  });
  return out;
}

/**
 * Traces that show what preempted removals meet that the rest of the
 * corpus never shows (preemptionEvents: a removal ended or its walk sent
 * back by each kind of operation, each refusal while each kind waits): the
 * fixed preemption traces are few and short, and the impl's code that
 * settles a preempted removal after someone else's step runs only when
 * such an event happens. Chosen greedily from `pool` as errorTraces does.
 */
function preemptionTraces(corpus: readonly [string, Recorded][], pool: readonly [Config, Intent[]][]): [string, Recorded][] {
  const seen = new Set<string>();
  for (const [, r] of corpus) if (r.config.budget !== undefined) record(r.config, { ops: r.steps.map((x) => x.op) }, seen);
  const candidates = pool.map(([config, intents]) => {
    const events = new Set<string>();
    return { recorded: record(config, { intents }, events), events: [...events] };
  });
  const out: [string, Recorded][] = [];
  for (;;) {
    let best = -1;
    let gain = 0;
    candidates.forEach((c, i) => {
      const g = c.events.filter((e) => !seen.has(e)).length;
      if (g > gain) [best, gain] = [i, g];
    });
    if (best < 0) return out;
    for (const e of candidates[best]!.events) seen.add(e);
    out.push([`preemption events ${best}`, candidates[best]!.recorded]);
  }
}

/** Every trace of the corpus, by test name. */
export function recordCorpus(): [string, Recorded][] {
  const out: [string, Recorded][] = [];
  const add = (name: string, traces: [Config, Intent[]][]) => traces.forEach(([c, intents], i) => out.push([`${name} ${i}`, record(c, { intents })]));
  add("small", sample(1, 12, fc.constant(SMALL_CONFIG), 120));
  add("random small", sample(2, 12, configArb, 120));
  add("pager", sample(11, 12, pagerConfigArb, 120));
  add("preemption", sample(12, 12, preemptConfigArb, 120));
  add("boundary", sample(3, 2, boundaryConfigArb, 600));
  add("long small", sample(4, 1, fc.constant(SMALL_CONFIG), 1000));
  add("pool growth", sample(9, 2, fc.constant(GROWTH_CONFIG), 600, true));
  // (not the 1,060-frame machine: it takes longer than all the rest, and bitmap.test.ts covers the bitmap past 1,024)
  for (const i of [1, 2]) add(`bulk ${i}`, sample(5 + i, 1, fc.constant(BULK_CONFIGS[i]!), BULK_LENGTHS[i]!, true));
  for (const [file, trace] of scenarioTraces()) out.push([`docs/scenarios/${file}`, record(trace.config, trace)]);
  for (const [file, trace] of traceFiles(join(import.meta.dirname, "regressions"), "regressions")) out.push([`regressions/${file}`, record(trace.config, trace)]);
  // (first against the corpus without the pager traces, from the pool of random small configurations, so that
  // the error traces chosen before pagers came in stay the same; then the pager pool against all of it)
  const withoutPagers = out.filter(([name]) => !name.startsWith("pager ")).map(([, r]) => r);
  out.push(...errorTraces(withoutPagers, "errors", sample(10, ERROR_POOL, configArb, 120).map(([c, intents]) => record(c, { intents }))));
  out.push(...errorTraces(out.map(([, r]) => r), "pager errors", sample(12, PAGER_ERROR_POOL, pagerConfigArb, 120).map(([c, intents]) => record(c, { intents }))));
  out.push(...preemptionTraces(out, sample(13, PREEMPTION_POOL, preemptConfigArb, 120)));
  // (account zombies: the generator stages them on preemption configurations whose object quota is 7 modulo 16, with a
  // DMA handle and a sub-account at 23 modulo 32 and 7 modulo 64 (richZombieStage); last, so that the traces chosen
  // above stay the same)
  const quota = (r: number) => preemptConfigArb.map((c) => ({ ...c, objects: c.objects - (c.objects % 32) + r, handles: 1, accounts: 3 }));
  add("account zombies", [...sample(14, 2, quota(7), 160, true), ...sample(15, 2, quota(23), 160, true)]);
  // (what a task destroy hands up, and what deletions pass over: staged on object quotas 4 modulo 8 (handOut))
  add("hand-outs", sample(16, 2, preemptConfigArb.map((c) => ({ ...c, objects: c.objects - (c.objects % 8) + 4 })), 160, true));
  return out;
}
