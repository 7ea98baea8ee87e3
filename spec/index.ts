/**
 * The spec as a library (`import { boot, step } from "capmem/spec"`): the
 * operation vocabulary, the boot state, one step of the model, and the named
 * properties.
 */
export * from "./vocabulary.js";
export { boot, type State } from "./state.js";
export { OPERATIONS, step, type Step } from "./operations.js";
export { checkInvariants, INVARIANTS, type Invariant, type Violation } from "./invariants.js";
export { checkTransition, TRANSITION_INVARIANTS, type TransitionInvariant } from "./transitions.js";
