/**
 * Capabilities (spec/capabilities.ts): derive, copy, delete, revoke, on the
 * capability table (tables/caps.ts). Removal of subtrees is in removal.ts.
 */
import { inRange, R } from "../spec/vocabulary.js";
import { capIn, freeCapSlot, hasObjects, installCap, subjectOk } from "./checks.js";
import { E, KIND_TASK, OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { reap, removeCapSubtree, vanishCap } from "./removal.js";
import { growsRemoval, revokeChunk, taskDying } from "./preemption.js";

export function capDerive(m: Machine, task: number, srcSlot: number, dest: number, rights: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const src = capIn(m, task, srcSlot, -1, 0);
  if (src < 0) return -src;
  if (growsRemoval(m, src)) return E.Removing;
  const caps = m.caps;
  // (rights is -1 for a list rightsMask refuses, which has bits outside every mask)
  if ((rights & ~caps.rightsOf(src)) !== 0) return E.BadRights;
  const se = freeCapSlot(m, task, dest);
  if (se) return se;
  if (!hasObjects(m, m.tasks.account[task]!, 1)) return E.ObjectQuotaExceeded;
  installCap(m, task, dest, caps.kindOf(src), caps.objOf(src), rights, src);
  return OK;
}

export function capCopy(m: Machine, task: number, srcSlot: number, targetSlot: number, dest: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const src = capIn(m, task, srcSlot, -1, 0);
  if (src < 0) return -src;
  if (growsRemoval(m, src)) return E.Removing;
  const target = capIn(m, task, targetSlot, KIND_TASK, R.write);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (target < 0) return -target;
  const caps = m.caps;
  const receiver = caps.objOf(target);
  if (taskDying(m, receiver)) return E.Removing;
  if (m.tasks.faultPage[receiver] !== -1) return E.Blocked;
  if (!inRange(dest, caps.C)) return E.BadCapSlot;
  if (receiver !== task && !m.tasks.acceptsSlot(receiver, dest)) return E.NotInWindow;
  const se = freeCapSlot(m, receiver, dest);
  if (se) return se;
  if (!hasObjects(m, m.tasks.account[receiver]!, 1)) return E.ObjectQuotaExceeded;
  installCap(m, receiver, dest, caps.kindOf(src), caps.objOf(src), caps.rightsOf(src), src);
  return OK;
}

export function capDelete(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const n = capIn(m, task, slot, -1, 0);
  if (n < 0) return -n;
  if (m.caps.parent[n] === -1) return E.IsRoot;
  vanishCap(m, n);
  reap(m);
  return OK;
}

export function capRevoke(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const n = capIn(m, task, slot, -1, 0);
  if (n < 0) return -n;
  if (m.budget !== Infinity) return revokeChunk(m, task, slot, m.budget);
  const caps = m.caps;
  while (caps.firstChild[n]! !== -1) removeCapSubtree(m, caps.firstChild[n]!);
  reap(m);
  return OK;
}
