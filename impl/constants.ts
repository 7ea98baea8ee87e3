/**
 * The impl's numeric vocabulary: status codes, object kinds, slot kinds and
 * flag bits, each a small integer so that the typed arrays can hold them.
 */
import type { ErrorCode } from "../spec/vocabulary.js";
import { ERROR_CODES } from "../spec/vocabulary.js";

/** Status codes: 0 is ok, an error is 1 + its index in ERROR_CODES. */
export const E = Object.fromEntries(ERROR_CODES.map((c, i) => [c, i + 1])) as { readonly [K in ErrorCode]: number };
export const OK = 0;

/** What a capability names. */
export const KIND_ACCOUNT = 0;
export const KIND_TASK = 1;
export const KIND_CONTAINER = 2;
export const KIND_DMA = 3;

/** log2 of the largest leaf page; smaller address spaces get leaves just big enough */
export const PT_BITS = 9;
export const PT_SIZE = 1 << PT_BITS;

/** A frame's access bits (the same values as the spec's BIT_REFERENCED and BIT_DIRTY). */
export const FLAG_REFERENCED = 1;
export const FLAG_DIRTY = 2;

/** What a container slot holds. */
export const SLOT_EMPTY = 0;
export const SLOT_HARD = 1;
export const SLOT_SOFT = 2;
export const SLOT_SWAPPED = 3;

/** The three ways to pass a mapping on (l4.map, l4.grant, l4.share). */
export const SEND_MAP = 0;
export const SEND_GRANT = 1;
export const SEND_SHARE = 2;

/** A copy of `a` with room for `length` elements; the new ones are `fill`. */
export function grown<T extends Int32Array | Uint8Array>(a: T, length: number, fill: number): T {
  const b = new (a.constructor as { new (n: number): T })(length);
  b.set(a);
  // Stryker disable next-line ConditionalExpression: filling a new typed array with 0 changes nothing
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

/** A reusable stack of int32 for the walks over trees (never recursion). */
export class Stack {
  a = new Int32Array(64);

  /** Pushes v at depth sp (growing the stack if need be); returns the new depth. */
  push(sp: number, v: number): number {
    if (sp === this.a.length) this.a = grown(this.a, sp * 2, 0);
    this.a[sp] = v;
    return sp + 1;
  }
}
