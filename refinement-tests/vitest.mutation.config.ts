// The test set StrykerJS runs against each mutant of impl/: the lockstep
// tests only (the CLI tests spawn processes, which do not see the mutant, and
// the 100k-chain tests are slow; neither adds kills worth their time).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["refinement-tests/refinement.test.ts", "refinement-tests/scenarios.test.ts", "refinement-tests/totality.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
