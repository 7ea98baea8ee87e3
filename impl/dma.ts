/**
 * DMA (spec/dma.ts): wire a slot's frame and get a handle, unwire, and the
 * device's write. Handles live in tables/objects.ts; unwiring is
 * removal.ts `destroyHandle`.
 */
import { isWord, R } from "../spec/vocabulary.js";
import { canPayObjectAndCap, capIn, freeCapSlot, installCap, subjectOk } from "./checks.js";
import { E, KIND_CONTAINER, KIND_DMA, OK } from "./constants.js";
import { needHard, slotAt } from "./containers.js";
import type { Machine } from "./machine.js";
import { destroyHandle, reap } from "./removal.js";
import { beingRevoked, containerDying } from "./preemption.js";

export function dmaWire(m: Machine, task: number, slot: number, index: number, dest: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_CONTAINER, R.priv);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  if (containerDying(m, m.caps.objOf(cap))) return E.Removing;
  const si = slotAt(m, cap, index);
  if (si < 0) return -si;
  if (beingRevoked(m, cap)) return E.Removing;
  const he = needHard(m, si);
  if (he) return he;
  const f = m.containers.frame[si]!;
  if (m.frames.refs[f]! > 1) return E.Shared;
  const se = freeCapSlot(m, task, dest);
  if (se) return se;
  const handles = m.handles;
  const h = handles.free.lowest();
  if (h < 0) return E.OutOfIds;
  const account = m.tasks.account[task]!;
  if (m.accounts.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
  const qe = canPayObjectAndCap(m, account, 1, account);
  if (qe) return qe;
  handles.free.delete(h);
  handles.account[h] = account;
  handles.paid.add(account, h);
  handles.frame[h] = f;
  m.frames.wired[f]! += 1;
  m.frames.refresh(f);
  m.accounts.objCharged[account]! += 1;
  m.accounts.framesCharged[account]! += 1;
  installCap(m, task, dest, KIND_DMA, h, m.caps.rightsOf(cap), cap);
  m.value = h;
  return OK;
}

export function dmaUnwire(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_DMA, R.alloc);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  destroyHandle(m, m.caps.objOf(cap));
  reap(m);
  return OK;
}

export function dmaWrite(m: Machine, task: number, slot: number, value: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!isWord(value)) return E.BadValue;
  const cap = capIn(m, task, slot, KIND_DMA, R.write);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  m.frames.written(m.handles.frame[m.caps.objOf(cap)]!, value);
  return OK;
}
