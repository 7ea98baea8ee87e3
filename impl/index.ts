/**
 * The impl as a library (`import { Machine } from "capmem/impl"`): the
 * machine to subclass for `--impl`, its abstraction function and its
 * representation invariants.
 */
export { Machine } from "./machine.js";
export { toSpec } from "./abstraction.js";
export { checkRepresentation, REPR_INVARIANTS } from "./check.js";
