// Loaded first in mutation runs (stryker.config.mjs): a property test that
// fails stops at once instead of shrinking, since StrykerJS only needs to
// know that a mutant was killed, and every property test draws the same
// cases on every run (a fixed seed), so that whether a mutant is killed
// does not depend on the run.
import fc from "fast-check";

fc.configureGlobal({ endOnFailure: true, seed: 1 });

// The test files are ES modules (testapi.ts awaits at top level); mocha
// loads a file without a top-level await through require(), which would
// configure a second, CommonJS copy of fast-check that the tests never see.
await Promise.resolve();
