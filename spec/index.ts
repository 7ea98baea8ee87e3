/** The capmem specification: vocabulary, state, operations, invariants. */
export * from "./vocabulary.js";
export * from "./state.js";
export * from "./operations.js";
export * from "./invariants.js";
export { closure, applyRemoval, remove, capChildren, mapChildren } from "./removal.js";
