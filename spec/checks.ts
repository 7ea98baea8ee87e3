/**
 * What every operation shares: the shape of a step, the lookups that check a
 * subject and its capabilities, and the quota arithmetic that decides whether
 * somebody can pay. Each lookup returns the thing it looked up or the first
 * error code, always checking in the order documented here, so that every
 * operation's "Errors, in order" list is the concatenation of the lookups it
 * calls (see operations.ts for the conventions).
 *
 * Who pays (002_977c03b37cc28449.txt on "taxing" tasks for kernel objects):
 * every kernel object costs one unit of some account's object quota. A task,
 * a container or a sub-account is paid by the account named in the
 * operation; a capability and a mapping are paid by the account of the task
 * that holds them (the receiver pays). Frames are paid from the frame quota
 * of the account that pays for their container.
 */
import type { Account, Cap, CapRef, Draft, State, Task } from "./state.js";
import { finish } from "./state.js";
import type { ErrorCode, ObjectKind, Result } from "./vocabulary.js";
import { err, inRange, ok } from "./vocabulary.js";

export interface Step {
  readonly state: State;
  readonly result: Result;
}

export const fail = (state: State, code: ErrorCode): Step => ({ state, result: err(code) });

export const done = (state: State | Draft, value: number | null = null): Step => ({ state: finish(state), result: ok(value) });

export const isError = (x: unknown): x is ErrorCode => typeof x === "string";

/**
 * The subject task, which must not be waiting for its pager (a task with a
 * fault is blocked until the pager answers, as an L4 thread waits in its
 * page-fault IPC). Errors: NoSuchTask, Blocked.
 */
export function subjectOf(state: State, task: unknown): Task | ErrorCode {
  if (!inRange(task, state.config.tasks) || !state.tasks[task]) return "NoSuchTask";
  return state.tasks[task].fault ? "Blocked" : state.tasks[task];
}

/**
 * The capability in `slot` of `task`, which must name an object of `kind`
 * (any kind if omitted) and carry every right in `need`.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights.
 */
export function capIn(state: State, task: Task, slot: unknown, kind?: ObjectKind, need = 0): Cap | ErrorCode {
  if (!inRange(slot, state.config.capSlots)) return "BadCapSlot";
  const cap = task.caps[slot];
  if (!cap) return "NoCap";
  if (kind !== undefined && cap.kind !== kind) return "WrongType";
  if ((cap.rights & need) !== need) return "NoRights";
  return cap;
}

/** A slot that a new capability may land in. Errors: BadCapSlot, CapSlotOccupied. */
export function freeCapSlot(state: State, task: Task, slot: unknown): ErrorCode | null {
  if (!inRange(slot, state.config.capSlots)) return "BadCapSlot";
  return task.caps[slot] ? "CapSlotOccupied" : null;
}

/** Does task `t`'s receive window cover capability slot `slot`? */
export const slotInWindow = (t: Task, slot: number): boolean => slot >= t.window.slot && slot < t.window.slot + t.window.slots;

/** Does task `t`'s receive window cover page `vpage`? */
export const pageInWindow = (t: Task, vpage: number): boolean => vpage >= t.window.page && vpage < t.window.page + t.window.pages;

/** The lowest unused id in a table, or null. */
export function lowestFree(table: readonly unknown[]): number | null {
  const i = table.indexOf(null);
  return i < 0 ? null : i;
}

export const unusedObjects = (a: Account) => a.objectQuota - a.objectsCharged;

export const unusedFrames = (a: Account) => a.frameQuota - a.framesCharged;

/**
 * Can `payer` find `objects` units of unused object quota, and the subject's
 * account one more for the capability that will name the new object? (They
 * may be the same account, which then needs `objects + 1`.)
 * Error: ObjectQuotaExceeded.
 */
export function canPayObjectAndCap(state: State, payer: number, objects: number, subjectAccount: number): ErrorCode | null {
  const needPayer = objects + (payer === subjectAccount ? 1 : 0);
  if (unusedObjects(state.accounts[payer]!) < needPayer) return "ObjectQuotaExceeded";
  if (payer !== subjectAccount && unusedObjects(state.accounts[subjectAccount]!) < 1) return "ObjectQuotaExceeded";
  return null;
}

/** Puts a fresh capability into `slot` of `task` and charges its holder. */
export function install(d: Draft, ref: CapRef, cap: Cap): void {
  const task = d.tasks[ref.task]!;
  task.caps[ref.slot] = cap;
  d.accounts[task.account]!.objectsCharged += 1;
}
