/**
 * DMA (spec/dma.ts): wire a slot's frame and get a handle, unwire, and the
 * device's write. Handles live in tables/objects.ts; unwiring is
 * removal.ts `destroyHandle`.
 */
import { ALL_RIGHTS, isWord, R } from "../spec/vocabulary.js";
import { canPayObjectAndCap, capIn, freeCapSlot, installCap, subjectOk } from "./checks.js";
import { E, KIND_DMA, OK } from "./constants.js";
import { needHard, slotVia } from "./containers.js";
import type { Machine } from "./machine.js";
import { destroyHandle } from "./removal.js";

export function dmaWire(m: Machine, task: number, slot: number, index: number, dest: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  const si = slotVia(m, task, slot, index, R.priv);
  if (si < 0) return -si;
  const he = needHard(m, si);
  if (he) return he;
  const se = freeCapSlot(m, task, dest);
  if (se) return se;
  const handles = m.handles;
  const h = handles.free.lowest();
  if (h < 0) return E.OutOfIds;
  const account = m.tasks.account[task]!;
  const qe = canPayObjectAndCap(m, account, 1, account);
  if (qe) return qe;
  const f = m.containers.frame[si]!;
  handles.free.delete(h);
  handles.account[h] = account;
  handles.frame[h] = f;
  m.frames.wired[f]! += 1;
  m.frames.refresh(f);
  m.accounts.objCharged[account]! += 1;
  installCap(m, task, dest, KIND_DMA, h, ALL_RIGHTS, -1);
  m.value = h;
  return OK;
}

export function dmaUnwire(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  const cap = capIn(m, task, slot, KIND_DMA, R.alloc);
  if (cap < 0) return -cap;
  destroyHandle(m, m.caps.obj[cap]!);
  return OK;
}

export function dmaWrite(m: Machine, task: number, slot: number, value: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (!isWord(value)) return E.BadValue;
  const cap = capIn(m, task, slot, KIND_DMA, R.write);
  if (cap < 0) return -cap;
  m.frames.written(m.handles.frame[m.caps.obj[cap]!]!, value);
  return OK;
}
