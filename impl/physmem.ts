/**
 * Physmem (spec/physmem.ts): the environment's relocation and reclaim of a frame. The
 * allocation policy (lowest free frame, then lowest soft-only frame) is
 * tables/frames.ts `next`.
 */
import { inRange } from "../spec/vocabulary.js";
import { E, FLAG_DIRTY, OK, SLOT_HARD, SLOT_SWAPPED } from "./constants.js";
import { hasObjects } from "./checks.js";
import type { Machine } from "./machine.js";
import { removeMappingSubtree, someMappingOfSlot } from "./mapdb.js";
import { dropSlot } from "./removal.js";
import { gatherLost, noteLost, notify } from "./pagers.js";

/**
 * Moves frame f. Finds the hard slots holding f by a scan of all container
 * slots (relocation is rare; no reverse index kept).
 */
export function physmemRelocate(m: Machine, f: number): number {
  const frames = m.frames;
  if (!inRange(f, m.config.frames)) return E.BadFrame;
  if (frames.refs[f] === 0) return E.FrameNotInUse;
  if (frames.wired[f]! > 0) return E.Wired;
  const g = frames.next();
  if (g < 0) return E.OutOfMemory;
  const cons = m.containers;
  const roots = m.pages.slotRoots;
  const lost = gatherLost(m, f);
  // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
  for (let si = 0; si < cons.frame.length; si++) {
    if (cons.kind[si] !== SLOT_HARD || cons.frame[si] !== f) continue;
    while (roots[si]! !== -1) removeMappingSubtree(m, roots[si]!);
    cons.frame[si] = g;
  }
  notify(m, lost);
  frames.refs[g] = frames.refs[f]!;
  frames.epoch[g]! += 1;
  frames.softLive[g] = 0;
  frames.content[g] = frames.content[f]!;
  frames.refs[f] = 0;
  frames.refresh(f);
  frames.refresh(g);
  m.value = g;
  return OK;
}

/**
 * Takes frame f back (spec: physmem.reclaim): every hard slot holding it is
 * swapped out to one swap page, with its mappings. The slots, the mappings
 * and the dirty bits are found by scans of all container slots and of the
 * mapping trees rooted there (reclaim is rare; no reverse index kept).
 */
export function physmemReclaim(m: Machine, f: number): number {
  const frames = m.frames;
  if (!inRange(f, m.config.frames)) return E.BadFrame;
  if (frames.refs[f] === 0) return E.FrameNotInUse;
  if (frames.wired[f]! > 0) return E.Wired;
  const cons = m.containers;
  const n = cons.frame.length;
  // One walk over the mappings of f finds a dirty bit and gathers the pages of tasks with a pager (their notices).
  const flags = m.pages.flags;
  let lost = 0;
  const dirtyElseNote = (e: number) => {
    if ((flags[e]! & FLAG_DIRTY) !== 0) return true;
    lost = noteLost(m, e, lost);
    return false;
  };
  // Stryker disable next-line EqualityOperator,ConditionalExpression: one past the end the arrays read undefined; a soft or empty slot naming the frame roots no mapping (page.map needs a hard slot), so the walk finds nothing there
  for (let si = 0; si < n; si++) if (cons.kind[si] === SLOT_HARD && cons.frame[si] === f && someMappingOfSlot(m, si, dirtyElseNote)) return E.Dirty;
  // Charge each holder's account its swapped slot, and take the charges back if one cannot pay.
  const charged = m.accounts.objCharged;
  // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
  for (let si = 0; si < n; si++) {
    if (cons.kind[si] !== SLOT_HARD || cons.frame[si] !== f) continue;
    const a = cons.account[cons.of(si)]!;
    if (!hasObjects(m, a, 1)) {
      for (let sj = 0; sj < si; sj++) if (cons.kind[sj] === SLOT_HARD && cons.frame[sj] === f) charged[cons.account[cons.of(sj)]!]! -= 1;
      return E.ObjectQuotaExceeded;
    }
    charged[a]! += 1;
  }
  const swap = m.swap;
  const shared = swap.holding(f, frames.epoch[f]!);
  const page = shared >= 0 ? shared : swap.free.lowest();
  if (page < 0) {
    // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
    for (let si = 0; si < n; si++) if (cons.kind[si] === SLOT_HARD && cons.frame[si] === f) charged[cons.account[cons.of(si)]!]! -= 1;
    return E.SwapFull;
  }
  if (shared < 0) swap.open(page, frames.content[f]!, f, frames.epoch[f]!);
  // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
  for (let si = 0; si < n; si++) {
    if (cons.kind[si] !== SLOT_HARD || cons.frame[si] !== f) continue;
    dropSlot(m, si, cons.account[cons.of(si)]!);
    cons.kind[si] = SLOT_SWAPPED;
    cons.aux[si] = page;
    swap.refs[page]! += 1;
  }
  notify(m, lost);
  m.value = page;
  return OK;
}
