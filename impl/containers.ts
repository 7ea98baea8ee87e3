/**
 * Containers (spec/containers.ts): create (accounts.ts, `createObject`),
 * destroy, alloc and free; and the ways a slot is shared or set aside:
 * logical copy, demote/promote (soft references) and swap out/in. Slots and
 * their kinds live in tables/objects.ts, frames in tables/frames.ts.
 */
import { containerDying, destroyChunk } from "./preemption.js";
import { inRange, R } from "../spec/vocabulary.js";
import { createObject } from "./accounts.js";
import { capIn, hasObjects, subjectOk } from "./checks.js";
import { E, KIND_CONTAINER, OK, SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED } from "./constants.js";
import type { Machine } from "./machine.js";
import { destroyContainer, dropSlot, reap } from "./removal.js";

export function containerCreate(m: Machine, task: number, slot: number, dest: number): number {
  return createObject(m, task, slot, dest, KIND_CONTAINER);
}

export function containerDestroy(m: Machine, task: number, slot: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const cap = capIn(m, task, slot, KIND_CONTAINER, R.alloc);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  const c = m.caps.objOf(cap);
  if (m.tasks.pendMode[task] === -1 && containerDying(m, c)) return E.Removing;
  if (m.budget !== Infinity) return destroyChunk(m, task, slot, c, m.budget);
  destroyContainer(m, c);
  reap(m);
  return OK;
}

export function containerAlloc(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const cons = m.containers;
  if (cons.kind[si] !== SLOT_EMPTY) return E.FrameSlotOccupied;
  const a = cons.account[cons.of(si)]!;
  if (m.accounts.unusedFrames(a) < 1) return E.FrameQuotaExceeded;
  const f = m.frames.next();
  // Stryker disable next-line ConditionalExpression: unreachable: an account with frame quota left means a free or soft-only frame exists (quotaConserved, noOvercommit, exactFrameCharges)
  if (f < 0) return E.OutOfMemory;

  m.frames.take(f, 0);
  cons.kind[si] = SLOT_HARD;
  cons.frame[si] = f;
  m.accounts.framesCharged[a]! += 1;
  m.value = f;
  return OK;
}

export function containerFree(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const cons = m.containers;
  if (cons.kind[si] === SLOT_EMPTY) return E.FrameSlotEmpty;
  dropSlot(m, si, cons.account[cons.of(si)]!);
  return OK;
}

// ---------------------------------------------------------------------------
// Sharing: logical copy, soft references, swap

/** The container slot named by a container cap and a slot number, or -(status). */
export function slotVia(m: Machine, task: number, slot: number, index: number, need: number): number {
  const cap = capIn(m, task, slot, KIND_CONTAINER, need);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return cap;
  if (containerDying(m, m.caps.objOf(cap))) return -E.Removing;
  return slotAt(m, cap, index);
}

/** Slot `index` of the container cap node `cap` names, or -BadIndex (the second half of slotVia, for callers that need the cap node too). */
export function slotAt(m: Machine, cap: number, index: number): number {
  const S = m.containers.S;
  if (!inRange(index, S)) return -E.BadIndex;
  return m.caps.objOf(cap) * S + index;
}

/** 0 if slot si is hard, else FrameSlotEmpty or SlotNotHard. */
export function needHard(m: Machine, si: number): number {
  const kind = m.containers.kind[si]!;
  return kind === SLOT_EMPTY ? E.FrameSlotEmpty : kind !== SLOT_HARD ? E.SlotNotHard : 0;
}

export function containerCopy(m: Machine, task: number, src: number, srcIndex: number, dst: number, dstIndex: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const from = slotVia(m, task, src, srcIndex, R.read);
  if (from < 0) return -from;
  const he = needHard(m, from);
  if (he) return he;
  if (m.frames.wired[m.containers.frame[from]!]! > 0) return E.Wired;
  const to = slotVia(m, task, dst, dstIndex, R.alloc);
  if (to < 0) return -to;
  const cons = m.containers;
  if (cons.kind[to] !== SLOT_EMPTY) return E.FrameSlotOccupied;
  const account = cons.account[cons.of(to)]!;
  if (m.accounts.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
  const f = cons.frame[from]!;
  cons.kind[to] = SLOT_HARD;
  cons.frame[to] = f;
  m.frames.refs[f]! += 1;
  m.frames.refresh(f);
  m.accounts.framesCharged[account]! += 1;
  return OK;
}

export function containerDemote(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const he = needHard(m, si);
  if (he) return he;
  const cons = m.containers;
  const frames = m.frames;
  const f = cons.frame[si]!;
  if (frames.wired[f]! > 0) return E.Wired;
  dropSlot(m, si, cons.account[cons.of(si)]!);
  cons.kind[si] = SLOT_SOFT;
  cons.frame[si] = f;
  cons.aux[si] = frames.epoch[f]!;
  frames.softLive[f]! += 1;
  frames.refresh(f);
  return OK;
}

export function containerPromote(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const cons = m.containers;
  const frames = m.frames;
  if (cons.kind[si] !== SLOT_SOFT) return E.NotSoft;
  const f = cons.frame[si]!;
  if (cons.aux[si] !== frames.epoch[f]) return E.Stale;
  if (frames.wired[f]! > 0) return E.Wired;
  const account = cons.account[cons.of(si)]!;
  if (m.accounts.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
  cons.kind[si] = SLOT_HARD;
  cons.aux[si] = 0;
  frames.softLive[f]! -= 1;
  frames.refs[f]! += 1;
  frames.refresh(f);
  m.accounts.framesCharged[account]! += 1;
  return OK;
}

export function containerSwapOut(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const he = needHard(m, si);
  if (he) return he;
  const cons = m.containers;
  const frames = m.frames;
  const swap = m.swap;
  const f = cons.frame[si]!;
  if (frames.wired[f]! > 0) return E.Wired;
  const account = cons.account[cons.of(si)]!;
  if (!hasObjects(m, account, 1)) return E.ObjectQuotaExceeded;
  // a page that already holds this frame's content (a logical copy's other slot swapped out before)
  const shared = swap.holding(f, frames.epoch[f]!);
  const page = shared >= 0 ? shared : swap.free.lowest();
  if (page < 0) return E.SwapFull;
  if (shared < 0) swap.open(page, frames.content[f]!, f, frames.epoch[f]!);
  swap.refs[page]! += 1;
  dropSlot(m, si, account);
  cons.kind[si] = SLOT_SWAPPED;
  cons.aux[si] = page;
  m.accounts.objCharged[account]! += 1;
  return OK;
}

export function containerSwapIn(m: Machine, task: number, slot: number, index: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const si = slotVia(m, task, slot, index, R.alloc);
  if (si < 0) return -si;
  const cons = m.containers;
  if (cons.kind[si] !== SLOT_SWAPPED) return E.NotSwapped;
  const account = cons.account[cons.of(si)]!;
  if (m.accounts.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
  const frames = m.frames;
  const swap = m.swap;
  const page = cons.aux[si]!;
  const held = swap.frame[page]!;
  // take the frame back if another slot still holds it unchanged (never a wired one)
  const rejoin = frames.refs[held]! > 0 && frames.wired[held] === 0 && frames.epoch[held] === swap.epoch[page];
  const f = rejoin ? held : frames.next();
  // Stryker disable next-line ConditionalExpression: unreachable: an account with frame quota left means a free or soft-only frame exists (quotaConserved, noOvercommit, exactFrameCharges)
  if (f < 0) return E.OutOfMemory;
  if (rejoin) {
    frames.refs[f]! += 1;
    frames.refresh(f);
  } else {
    frames.take(f, swap.content[page]!);
    swap.frame[page] = f;
    swap.epoch[page] = frames.epoch[f]!;
    swap.ofFrame[f] = page;
  }
  swap.release(page);
  cons.kind[si] = SLOT_HARD;
  cons.frame[si] = f;
  cons.aux[si] = 0;
  m.accounts.framesCharged[account]! += 1;
  m.accounts.objCharged[account]! -= 1;
  m.value = f;
  return OK;
}
