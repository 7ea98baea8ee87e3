/**
 * The capmem implementation: typed-array machine (subclass it for --impl),
 * abstraction function, representation checks. The package exports it as
 * "capmem/impl".
 */
export { Machine, E, OK } from "./machine.js";
export { toSpec } from "./abstraction.js";
export { checkRepresentation, REPR_INVARIANTS } from "./check.js";
