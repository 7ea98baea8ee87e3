/**
 * The capmem specification: vocabulary, state, operations (one family per
 * file), invariants. The package exports it as "capmem/spec".
 */
export * from "./vocabulary.js";
export * from "./state.js";
export { OPERATIONS, step, type Step } from "./operations.js";
export * from "./accounts.js";
export * from "./tasks.js";
export * from "./containers.js";
export * from "./capabilities.js";
export * from "./mappings.js";
export * from "./memory.js";
export * from "./dma.js";
export * from "./physmem.js";
export * from "./invariants.js";
export * from "./transitions.js";
export { closure, applyRemoval, remove, capChildren, mapChildren } from "./removal.js";
