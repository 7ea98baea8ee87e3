/**
 * The checks every operation shares, in the spec's order (spec/checks.ts):
 * the subject, a capability in one of its slots, a free slot for a new
 * capability, and whether an account can pay. Each returns the thing or
 * -(status), or a status, without changing anything. Installing a new
 * capability, the one write they share, is here too.
 */
import { inRange } from "../spec/vocabulary.js";
import { E } from "./constants.js";
import type { Machine } from "./machine.js";

/** Does the subject task exist? */
export function subjectOk(m: Machine, task: unknown): task is number {
  return inRange(task, m.config.tasks) && !m.tasks.free.has(task);
}

/** The capability in the subject's slot (its index), or -(status). Checks BadCapSlot, NoCap, WrongType, NoRights (kind -1: any kind). */
export function capIn(m: Machine, task: number, slot: unknown, kind: number, need: number): number {
  const caps = m.caps;
  if (!inRange(slot, caps.C)) return -E.BadCapSlot;
  const n = caps.at(task, slot);
  if (caps.isEmpty(n)) return -E.NoCap;
  if (kind !== -1 && caps.kindOf(n) !== kind) return -E.WrongType;
  if ((caps.rightsOf(n) & need) !== need) return -E.NoRights;
  return n;
}

/** 0 if (task, slot) can take a new cap, else a status (BadCapSlot, CapSlotOccupied). */
export function freeCapSlot(m: Machine, task: number, slot: unknown): number {
  const caps = m.caps;
  if (!inRange(slot, caps.C)) return E.BadCapSlot;
  return caps.isEmpty(caps.at(task, slot)) ? 0 : E.CapSlotOccupied;
}

/** Can account a take `need` more objects? */
export function hasObjects(m: Machine, a: number, need: number): boolean {
  return m.accounts.objQuota[a]! - m.accounts.objCharged[a]! >= need;
}

/** As spec/checks.ts canPayObjectAndCap: 0, or ObjectQuotaExceeded. */
export function canPayObjectAndCap(m: Machine, payer: number, objects: number, subjectAccount: number): number {
  const needPayer = objects + (payer === subjectAccount ? 1 : 0);
  if (!hasObjects(m, payer, needPayer)) return E.ObjectQuotaExceeded;
  // Stryker disable next-line ConditionalExpression: when the payer is the subject's account, the test before already asked it for more than one object
  if (payer !== subjectAccount && !hasObjects(m, subjectAccount, 1)) return E.ObjectQuotaExceeded;
  return 0;
}

/** A new capability in empty slot (task, slot), linked under `parent` (or a root), charged to nobody. */
export function newCap(m: Machine, task: number, slot: number, kind: number, obj: number, rights: number, parent: number): number {
  const caps = m.caps;
  const n = caps.at(task, slot);
  caps.fill(n, kind, obj, rights);
  caps.linkChild(n, parent);
  caps.linkObject(n);
  return n;
}

/** Installs a cap in (task, slot) and charges the task's account for it (spec: `install`). */
export function installCap(m: Machine, task: number, slot: number, kind: number, obj: number, rights: number, parent: number): void {
  newCap(m, task, slot, kind, obj, rights, parent);
  m.accounts.objCharged[m.tasks.account[task]!]! += 1;
}
