// Mutation testing of impl/ with StrykerJS (run: npm run mutation; not part of CI).
// Each mutant of the impl is run against a fixed corpus of traces recorded on
// the spec (harness/corpus.mutation.ts; generated, scenario and regression
// traces), the impl's unit tests and the totality tests
// (vitest.mutation.config.ts); a mutant that no test
// notices "survives" (docs/mutation.md). Per-test coverage runs only the
// traces that reach the mutated code, and a run stops at the first trace that
// fails. Incremental mode keeps the results in
// reports/mutation/stryker-incremental.json and re-tests only mutants whose
// code or covering tests changed.
// The totality property: 100 runs instead of 300 (each surviving mutant pays for all of them).
process.env.CAPMEM_TOTALITY_RUNS ??= "100";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "refinement-tests/vitest.mutation.config.ts", related: false },
  mutate: ["impl/**/*.ts", "!impl/**/*.test.ts"],
  // TypeScript 7 has no JS compiler API, which Stryker's tsconfig rewriting
  // and type-check disabling use; esbuild (through vitest) ignores types anyway.
  tsconfigFile: "refinement-tests/stryker-has-no-tsconfig.json",
  disableTypeChecks: false,
  coverageAnalysis: "perTest",
  concurrency: 2,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // a mutant that loops for ever is cut off at 1.25 x the tests' time + 2 s
  timeoutMS: 2_000,
  timeoutFactor: 1.25,
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  ignoreStatic: true,
};
