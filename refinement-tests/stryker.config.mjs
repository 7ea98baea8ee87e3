// Mutation testing of impl/ with StrykerJS (run: npm run mutation; not part of CI).
// Each mutant of the impl is run against the mutation test set: a fixed
// corpus of traces recorded on the spec (harness/corpus.mutation.ts;
// generated, scenario and regression traces), the impl's unit tests and the
// totality tests; a mutant that no test notices "survives" (docs/mutation.md).
// The test set runs under mocha, whose StrykerJS runner loads the test files
// once per worker and re-runs only the tests per mutant (vitest's runner
// re-imports every module for every mutant: about a second each). Per-test
// coverage runs only the tests that reach the mutated code, and a run stops
// at the first test that fails. Incremental mode keeps the results in
// reports/mutation/stryker-incremental.json and re-tests only mutants whose
// code or covering tests changed.
// The totality property: 100 runs instead of 300 (each surviving mutant pays for all of them).
process.env.CAPMEM_TOTALITY_RUNS ??= "100";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "mocha",
  mochaOptions: {
    spec: [
      // first: a property test that fails stops at once instead of shrinking
      "refinement-tests/harness/mutation.setup.ts",
      "impl/bitmap.test.ts",
      "impl/check.test.ts",
      "impl/tables/pagetables.test.ts",
      "impl/tables/objects.test.ts",
      "impl/tables/lists.test.ts",
      "refinement-tests/harness/corpus.mutation.ts",
      "refinement-tests/harness/totality.test.ts",
    ],
  },
  // the test files and the instrumented impl are TypeScript, loaded through tsx
  testRunnerNodeArgs: ["--import", "tsx"],
  mutate: ["impl/**/*.ts", "!impl/**/*.test.ts"],
  // TypeScript 7 has no JS compiler API, which Stryker's tsconfig rewriting
  // and type-check disabling use; tsx (esbuild) ignores types anyway.
  tsconfigFile: "refinement-tests/stryker-has-no-tsconfig.json",
  disableTypeChecks: false,
  coverageAnalysis: "perTest",
  concurrency: 2,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // a mutant that loops for ever is cut off at 1.25 x its tests' own time
  // (measured in the first, unmutated run) + 1 s + the runner's overhead
  timeoutMS: 1_000,
  timeoutFactor: 1.25,
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  ignoreStatic: true,
};
