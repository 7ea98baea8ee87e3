/** The capmem implementation: typed-array machine, abstraction function, representation checks. */
export { Machine, E, OK } from "./machine.js";
export { toSpec } from "./abstraction.js";
export { checkRepresentation, REPR_INVARIANTS } from "./check.js";
