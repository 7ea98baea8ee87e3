/**
 * The spec is pure: an operation reads its input state and returns a new one,
 * and never edits the input. `draft` (spec/state.ts) makes the copy an
 * operation edits; it copies table by table, so these tests check that it
 * misses nothing (a record it shared would let an operation edit its input),
 * and that no operation writes into its input (every input is deep-frozen:
 * in an ES module a write to a frozen object throws).
 */
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { step } from "../../spec/operations.js";
import { boot, draft, type State } from "../../spec/state.js";
import { equal } from "./compare.js";
import { configArb, intentArb, resolve } from "./generate.js";

function deepFreeze<T>(x: T): T {
  const stack: unknown[] = [x];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  return x;
}

/** Paths (below the shared configuration) at which a and b are the same object. */
function sharedObjects(a: unknown, b: unknown, path = "$", out: string[] = []): string[] {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return out;
  if (a === b) out.push(path);
  for (const k of Object.keys(a)) if (path !== "$" || k !== "config") sharedObjects((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  return out;
}

const traceArb = fc.tuple(configArb, fc.array(intentArb, { minLength: 1, maxLength: 60 }));

test.prop([traceArb], { numRuns: 100 })("draft copies every record of the state and shares none", ([config, intents]) => {
  let s: State = boot(config);
  for (const intent of intents) {
    const d = draft(s);
    expect(equal(d, s)).toBe(true);
    expect(sharedObjects(d, s)).toEqual([]);
    s = step(s, resolve(s, intent)).state;
  }
});

test.prop([traceArb], { numRuns: 100 })("no operation edits its input state", ([config, intents]) => {
  let s: State = deepFreeze(boot(config));
  for (const intent of intents) {
    const op = resolve(s, intent);
    s = deepFreeze(step(s, op).state); // throws TypeError if the operation writes into s
  }
});
