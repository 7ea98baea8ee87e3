/**
 * The test set of mutation testing (npm run mutation): a fixed corpus of
 * lockstep traces, one test per trace, so that StrykerJS (per-test coverage)
 * runs on a mutant only the traces that reach the mutated code and stops at
 * the first that diverges. Unlike the property tests, a failing trace here is
 * not shrunk: a killed mutant costs one trace, not a minute of shrinking.
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
import fc from "fast-check";
import { describe, it } from "vitest";
import type { Config } from "../../spec/vocabulary.js";
import { showSurprise, unexpected } from "../cli/traces.js";
import { scenarioTraces } from "../docs/reference.js";
import { boundaryConfigArb, BULK_CONFIGS, configArb, intentArb, SMALL_CONFIG, type Intent } from "./generate.js";
import { Lockstep } from "./lockstep.js";

/** `count` traces of up to `length` intents (exactly `length` with `exact`) on configurations drawn from `configs`, from seed `seed`. */
function corpus(seed: number, count: number, configs: fc.Arbitrary<Config>, length: number, exact = false): [Config, Intent[]][] {
  const arb = fc.tuple(configs, fc.array(intentArb, { minLength: exact ? length : 1, maxLength: length, size: "max" }));
  return fc.sample(arb, { seed, numRuns: count });
}

/** A machine whose leaf-page and directory-page pools grow (each starts with four pages): address spaces of five leaf pages, six live tasks. */
const GROWTH_CONFIG: Config = { frames: 33, objects: 400, accounts: 3, tasks: 12, containers: 3, capSlots: 12, vpages: 2560, containerSlots: 8, handles: 2 };

/** How long each bulk configuration's trace must be to pass its goal (frames in use, copies of a frame, mappings in a leaf). */
const BULK_LENGTHS = [2000, 1200, 600];

function runIntents(config: Config, intents: readonly Intent[]): void {
  const ls = new Lockstep(config, { concrete: true });
  for (const intent of intents) ls.runIntent(intent);
}

describe("mutation corpus", () => {
  corpus(1, 12, fc.constant(SMALL_CONFIG), 120).forEach(([config, intents], i) => it(`small ${i}`, () => runIntents(config, intents)));
  corpus(2, 12, configArb, 120).forEach(([config, intents], i) => it(`random small ${i}`, () => runIntents(config, intents)));
  corpus(3, 2, boundaryConfigArb, 600).forEach(([config, intents], i) => it(`boundary ${i}`, () => runIntents(config, intents)));
  corpus(4, 1, fc.constant(SMALL_CONFIG), 1000).forEach(([config, intents], i) => it(`long small ${i}`, () => runIntents(config, intents)));
  // address spaces of five leaf pages and six live tasks: the leaf and directory pools grow
  corpus(9, 2, fc.constant(GROWTH_CONFIG), 600, true).forEach(([config, intents], i) => it(`pool growth ${i}`, () => runIntents(config, intents)));
  // (not the 1,060-frame machine: it takes longer than all the rest, and bitmap.test.ts covers the bitmap past 1,024)
  BULK_CONFIGS.forEach((config, i) => {
    if (i > 0) corpus(5 + i, 1, fc.constant(config), BULK_LENGTHS[i]!, true).forEach(([c, intents]) => it(`bulk ${i}`, () => runIntents(c, intents)));
  });

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
