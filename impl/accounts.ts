/**
 * Accounts and ballooning (spec/accounts.ts): create, transfer, destroy,
 * request, yield request, yield; and `createObject`, the account as the
 * factory for tasks and containers. Quota lives in tables/accounts.ts.
 */
import { isAmount, R } from "../spec/vocabulary.js";
import { canPayObjectAndCap, capIn, freeCapSlot, hasObjects, installCap, subjectOk } from "./checks.js";
import { E, KIND_ACCOUNT, KIND_TASK, OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { destroyAccount, reap } from "./removal.js";
import { accountDestroyChunk, accountDying, beingRevoked } from "./preemption.js";
import { newTask } from "./tasks.js";

/** task.create and container.create: the named account pays for the object, the subject's for the cap. */
export function createObject(m: Machine, task: number, slot: number, dest: number, kind: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_ACCOUNT, R.alloc);
  if (cap < 0) return -cap;
  if (beingRevoked(m, cap) || accountDying(m, m.caps.objOf(cap))) return E.Removing;
  const se = freeCapSlot(m, task, dest);
  if (se) return se;
  const id = kind === KIND_TASK ? m.tasks.free.lowest() : m.containers.free.lowest();
  if (id < 0) return E.OutOfIds;
  const payer = m.caps.objOf(cap);
  const qe = canPayObjectAndCap(m, payer, 1, m.tasks.account[task]!);
  if (qe) return qe;

  m.accounts.objCharged[payer]! += 1;
  if (kind === KIND_TASK) {
    newTask(m, id, payer);
  } else {
    m.containers.free.delete(id);
    m.containers.account[id] = payer;
    m.containers.paid.add(payer, id);
  }
  installCap(m, task, dest, kind, id, m.caps.rightsOf(cap), cap);
  m.value = id;
  return OK;
}

export function accountCreate(m: Machine, task: number, slot: number, dest: number, frames: number, objects: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_ACCOUNT, R.alloc);
  if (cap < 0) return -cap;
  if (m.caps.objOf(cap) !== m.tasks.account[task]) return E.NotYours;
  if (beingRevoked(m, cap)) return E.Removing;
  const se = freeCapSlot(m, task, dest);
  if (se) return se;
  if (!isAmount(frames) || !isAmount(objects)) return E.BadValue;
  const acc = m.accounts;
  const id = acc.free.lowest();
  // Stryker disable next-line EqualityOperator: account 0 is the root account and never free, so the lowest free account id is never 0
  if (id < 0) return E.OutOfIds;
  const p = m.caps.objOf(cap);
  if (acc.unusedFrames(p) < frames) return E.FrameQuotaExceeded;
  const qe = canPayObjectAndCap(m, p, objects + 1, m.tasks.account[task]!);
  if (qe) return qe;

  acc.frameQuota[p]! -= frames;
  acc.objQuota[p]! -= objects;
  acc.objCharged[p]! += 1;
  acc.create(id, p, frames, objects);
  installCap(m, task, dest, KIND_ACCOUNT, id, m.caps.rightsOf(cap), cap);
  m.value = id;
  return OK;
}

export function accountTransfer(m: Machine, task: number, fromSlot: number, toSlot: number, frames: number, objects: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const from = capIn(m, task, fromSlot, KIND_ACCOUNT, R.alloc);
  if (from < 0) return -from;
  if (m.caps.objOf(from) !== m.tasks.account[task]) return E.NotYours;
  const to = capIn(m, task, toSlot, KIND_ACCOUNT, 0);
  if (to < 0) return -to;
  if (!isAmount(frames) || !isAmount(objects)) return E.BadValue;
  const acc = m.accounts;
  const a = m.caps.objOf(from);
  const b = m.caps.objOf(to);
  if (acc.parent[a] !== b && acc.parent[b] !== a) return E.NotRelated;
  if (acc.unusedFrames(a) < frames) return E.FrameQuotaExceeded;
  if (!hasObjects(m, a, objects)) return E.ObjectQuotaExceeded;
  acc.frameQuota[a]! -= frames;
  acc.objQuota[a]! -= objects;
  acc.frameQuota[b]! += frames;
  acc.objQuota[b]! += objects;
  return OK;
}

export function accountDestroy(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_ACCOUNT, R.alloc);
  if (cap < 0) return -cap;
  const a = m.caps.objOf(cap);
  if (m.accounts.parent[a] === -1) return E.IsRoot;
  if (m.tasks.pendMode[task] === -1 && accountDying(m, a)) return E.Removing;
  if (m.budget !== Infinity) return accountDestroyChunk(m, task, slot, a, m.budget);
  destroyAccount(m, a);
  reap(m);
  return OK;
}

// ---------------------------------------------------------------------------
// Ballooning

/** The non-root account named by an `alloc` cap, the subject's own (`own`) or a child of it, or -(status). */
function balloonAccountVia(m: Machine, task: number, slot: number, own: boolean): number {
  const cap = capIn(m, task, slot, KIND_ACCOUNT, R.alloc);
  if (cap < 0) return cap;
  const a = m.caps.objOf(cap);
  const p = m.accounts.parent[a]!;
  if (p === -1) return -E.IsRoot;
  return (own ? a : p) === m.tasks.account[task] ? a : -E.NotYours;
}

export function accountRequest(m: Machine, task: number, slot: number, frames: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const a = balloonAccountVia(m, task, slot, true);
  // Stryker disable next-line EqualityOperator: balloonAccountVia never returns account 0: the root account has no parent (IsRoot)
  if (a < 0) return -a;
  if (!isAmount(frames)) return E.BadValue;
  m.accounts.requested[a] = frames;
  return OK;
}

export function accountAnswer(m: Machine, task: number, slot: number, frames: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const a = balloonAccountVia(m, task, slot, false);
  // Stryker disable next-line EqualityOperator: balloonAccountVia never returns account 0: the root account has no parent (IsRoot)
  if (a < 0) return -a;
  const acc = m.accounts;
  if (!isAmount(frames) || frames > acc.requested[a]!) return E.BadValue;
  const p = acc.parent[a]!;
  if (acc.unusedFrames(p) < frames) return E.Denied;
  acc.frameQuota[p]! -= frames;
  acc.frameQuota[a]! += frames;
  acc.requested[a] = 0;
  m.value = frames;
  return OK;
}

export function accountYieldRequest(m: Machine, task: number, slot: number, frames: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const a = balloonAccountVia(m, task, slot, false);
  // Stryker disable next-line EqualityOperator: balloonAccountVia never returns account 0: the root account has no parent (IsRoot)
  if (a < 0) return -a;
  if (!isAmount(frames)) return E.BadValue;
  m.accounts.yieldRequest[a] = frames;
  return OK;
}

export function accountYield(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const a = balloonAccountVia(m, task, slot, true);
  // Stryker disable next-line EqualityOperator: balloonAccountVia never returns account 0: the root account has no parent (IsRoot)
  if (a < 0) return -a;
  const acc = m.accounts;
  const n = Math.min(acc.yieldRequest[a]!, acc.unusedFrames(a));
  acc.frameQuota[a]! -= n;
  acc.yieldRequest[a]! -= n;
  acc.frameQuota[acc.parent[a]!]! += n;
  m.value = n;
  return OK;
}
