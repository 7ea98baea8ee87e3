// Mutation testing of impl/ with StrykerJS (run: npm run mutation; not part of CI).
// Each mutant of the impl is run against the lockstep tests; a mutant that no
// test notices "survives". The refinement traces are cut to 60 per property
// (CAPMEM_RUNS) to keep a run within tens of minutes on two cores.
process.env.CAPMEM_RUNS ??= "60";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "refinement-tests/vitest.mutation.config.ts", related: false },
  mutate: ["impl/**/*.ts"],
  // TypeScript 7 has no JS compiler API, which Stryker's tsconfig rewriting
  // and type-check disabling use; esbuild (through vitest) ignores types anyway.
  tsconfigFile: "refinement-tests/stryker-has-no-tsconfig.json",
  disableTypeChecks: false,
  coverageAnalysis: "perTest",
  concurrency: 2,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  timeoutMS: 60_000,
  ignoreStatic: true,
};
