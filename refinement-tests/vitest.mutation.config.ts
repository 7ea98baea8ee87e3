// The test set StrykerJS runs against each mutant of impl/: the lockstep
// tests only (random traces, scenarios, totality, and the scenario traces of
// docs/scenarios in docs.test.ts). The CLI tests spawn processes, which do
// not see the mutant, and the 100k-chain tests are slow; neither adds kills
// worth their time.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({
  test: {
    ...base.test,
    include: ["refinement-tests/harness/refinement.test.ts", "refinement-tests/harness/scenarios.test.ts", "refinement-tests/harness/totality.test.ts", "refinement-tests/docs/docs.test.ts"],
  },
});
