/**
 * The spec is pure: an operation reads its input state and returns a new one,
 * and never edits the input. `draft` (spec/state.ts) makes the copy an
 * operation edits, lazily: a record is copied when first read through the
 * draft, and what is not touched is shared. These tests check that no
 * operation writes into its input (every input is deep-frozen: in an ES
 * module a write to a frozen object throws), and that a finished state is
 * plain data: no proxy of the draft left in it, equal to its own deep copy,
 * and equal to its input when nothing was edited.
 */
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { step } from "../../spec/operations.js";
import { types } from "node:util";
import { boot, draft, finish, type State } from "../../spec/state.js";
import { equal } from "./compare.js";
import { configArb, intentArb, pagerConfigArb, resolve } from "./generate.js";

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

/** Paths at which x holds a proxy (a table of a draft that was not finished). */
function proxies(x: unknown, path = "$", out: string[] = []): string[] {
  if (typeof x !== "object" || x === null) return out;
  if (types.isProxy(x)) out.push(path);
  for (const k of Object.keys(x)) proxies((x as Record<string, unknown>)[k], `${path}.${k}`, out);
  return out;
}

const traceArb = fc.tuple(fc.oneof(configArb, pagerConfigArb), fc.array(intentArb, { minLength: 1, maxLength: 60 }));

test.prop([traceArb], { numRuns: 100 })("a finished state is plain data; a draft finished unedited equals its input", ([config, intents]) => {
  let s: State = boot(config);
  for (const intent of intents) {
    const d = draft(s);
    // reading a draft is reading the state
    const read = { config: d.config, frames: d.frames, accounts: d.accounts, tasks: d.tasks, containers: d.containers, handles: d.handles, swap: d.swap, sigma0: d.sigma0 };
    expect(equal(read, s)).toBe(true);
    expect(equal(finish(d), s)).toBe(true);
    s = step(s, resolve(s, intent)).state;
    expect(proxies(s)).toEqual([]);
    expect(equal(structuredClone(s), s)).toBe(true);
  }
});

test.prop([traceArb], { numRuns: 100 })("no operation edits its input state", ([config, intents]) => {
  let s: State = deepFreeze(boot(config));
  for (const intent of intents) {
    const op = resolve(s, intent);
    s = deepFreeze(step(s, op).state); // throws TypeError if the operation writes into s
  }
});
