/**
 * capmem as a library (`import { runTrace } from "capmem"`): lockstep runs
 * of spec and impl, the generators, exploration and trace files, plus the
 * spec and the impl (also at "capmem/spec" and "capmem/impl").
 */
export * from "../spec/index.js";
export * from "../impl/index.js";
export { Divergence, Lockstep, type LockstepOptions, runTrace } from "./harness/lockstep.js";
export { boundaryConfigArb, BULK_CONFIGS, bulkConfigArb, configArb, type Intent, intentArb, resolve, SMALL_CONFIG } from "./harness/generate.js";
export { explore, type ExploreOptions, type ExploreReport, TINY_CONFIG } from "./harness/explore.js";
export { formatTrace, parseTrace, readTrace, traceJsonSchema, writeTrace } from "./cli/traces.js";
