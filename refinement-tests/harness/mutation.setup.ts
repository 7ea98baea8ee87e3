// Loaded first in mutation runs (stryker.config.mjs): a property test that
// fails stops at once instead of shrinking, since StrykerJS only needs to
// know that a mutant was killed.
import fc from "fast-check";

fc.configureGlobal({ endOnFailure: true });
