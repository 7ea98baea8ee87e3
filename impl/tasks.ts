/**
 * Tasks (spec/tasks.ts): create through an account (accounts.ts,
 * `createObject`) and destroy ("kill -9", removal.ts `destroyTask`). A task
 * is its paying account (tables/objects.ts), a row of the capability table
 * and a page table.
 */
import { isAmount, R } from "../spec/vocabulary.js";
import { createObject } from "./accounts.js";
import { capIn, subjectOk } from "./checks.js";
import { E, KIND_TASK, OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { destroyTask, reap } from "./removal.js";
import { taskDestroyChunk, taskDying } from "./preemption.js";

/** Makes task `id`, paid by `account`, with an empty page table (its capability row is already empty). */
export function newTask(m: Machine, id: number, account: number): void {
  m.tasks.free.delete(id);
  m.tasks.account[id] = account;
  m.tasks.paid.add(account, id);
  m.pages.create(id);
}

export function taskCreate(m: Machine, task: number, slot: number, dest: number): number {
  return createObject(m, task, slot, dest, KIND_TASK);
}

export function taskDestroy(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_TASK, R.alloc);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  const t = m.caps.objOf(cap);
  if (t === 0) return E.IsRoot;
  if (m.tasks.pendMode[task] === -1 && taskDying(m, t)) return E.Removing;
  if (m.budget !== Infinity) return taskDestroyChunk(m, task, slot, t, m.budget);
  destroyTask(m, t);
  reap(m);
  return OK;
}

export function taskWindow(m: Machine, task: number, slot: number, slots: number, page: number, pages: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const { capSlots, vpages } = m.config;
  if (!within(slot, slots, capSlots) || !within(page, pages, vpages)) return E.BadValue;
  m.tasks.setWindow(task, slot, slots, page, pages);
  return OK;
}

/** A window range: whole, within the limit, and a closed one written as (0, 0). */
function within(base: unknown, count: unknown, limit: number): boolean {
  return isAmount(base) && isAmount(count) && base + count <= limit && (count > 0 || base === 0);
}
