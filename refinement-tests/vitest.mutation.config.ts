// The test set StrykerJS runs against each mutant of impl/: the fixed corpus
// of recorded traces (one test per trace, so per-test coverage picks the
// traces that reach a mutant and a killed mutant costs one trace, with no
// shrinking; it includes the scenario and regression trace files), the
// impl's own unit tests and the totality tests (values no schema lets
// through). The CLI
// tests spawn processes, which do not see the mutant, and the 100k-chain
// tests are slow; neither adds kills worth their time.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({
  test: {
    ...base.test,
    include: ["impl/**/*.test.ts", "refinement-tests/harness/corpus.mutation.ts", "refinement-tests/harness/totality.test.ts"],
    setupFiles: ["refinement-tests/harness/mutation.setup.ts"],
    isolate: false,
  },
});
