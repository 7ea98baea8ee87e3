/**
 * Physmem (spec/physmem.ts): the environment's relocation of a frame. The
 * allocation policy (lowest free frame, then lowest soft-only frame) is
 * tables/frames.ts `next`.
 */
import { inRange } from "../spec/vocabulary.js";
import { E, OK, SLOT_HARD } from "./constants.js";
import type { Machine } from "./machine.js";
import { removeMappingSubtree } from "./mapdb.js";

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
  // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
  for (let si = 0; si < cons.frame.length; si++) {
    if (cons.kind[si] !== SLOT_HARD || cons.frame[si] !== f) continue;
    while (roots[si]! !== -1) removeMappingSubtree(m, roots[si]!);
    cons.frame[si] = g;
  }
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
