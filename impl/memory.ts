/**
 * Memory access (spec/memory.ts): read and write a word through a mapping,
 * with copy-on-write when the frame is held by more than one slot; a missing
 * page or right is a fault for a task with a pager (pagers.ts).
 */
import { inRange, isWord, R } from "../spec/vocabulary.js";
import { subjectOk } from "./checks.js";
import { E, FLAG_DIRTY, FLAG_REFERENCED, OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { frameAt } from "./mapdb.js";
import { pageFault } from "./pagers.js";

export function memRead(m: Machine, task: number, vpage: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  const e = m.pages.lookup(task, vpage);
  if (e === -1) return pageFault(m, task, vpage, false, 0, E.NotMapped);
  if ((m.pages.rights[e]! & R.read) === 0) return pageFault(m, task, vpage, false, 0, E.ProtectionFault);
  m.pages.flags[e]! |= FLAG_REFERENCED;
  m.value = m.frames.content[frameAt(m, e)]!;
  return OK;
}

export function memWrite(m: Machine, task: number, vpage: number, value: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!isWord(value)) return E.BadValue;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  const pages = m.pages;
  const e = pages.lookup(task, vpage);
  if (e === -1) return pageFault(m, task, vpage, true, value, E.NotMapped);
  if ((pages.rights[e]! & R.write) === 0) return pageFault(m, task, vpage, true, value, E.ProtectionFault);
  const frames = m.frames;
  let f = frameAt(m, e);
  if (frames.wired[f]! > 0) return E.Wired;
  if (frames.refs[f]! > 1) {
    // copy-on-write: the root slot gets a fresh frame with the old content
    const g = frames.next();
    // Stryker disable next-line ConditionalExpression: unreachable: a frame shared by two hard slots is charged twice, so a free or soft-only frame exists (quotaConserved, noOvercommit, exactFrameCharges)
    if (g < 0) return E.OutOfMemory;
    let root = e;
    while (pages.up[root]! >= 0) root = pages.up[root]!;
    const si = pages.what[root]!;
    frames.take(g, frames.content[f]!);
    frames.refs[f]! -= 1;
    frames.refresh(f);
    m.containers.frame[si] = g;
    // roots read their frame from the slot; derived mappings hold it
    for (let r = pages.slotRoots[si]!; r !== -1; r = pages.next[r]!) redirect(m, r, g);
    f = g;
  }
  frames.written(f, value);
  pages.flags[e]! |= FLAG_REFERENCED | FLAG_DIRTY;
  return OK;
}

/** Points every mapping derived from root mapping `top` at frame g. */
function redirect(m: Machine, top: number, g: number): void {
  const pages = m.pages;
  const stack = m.mapStack;
  let sp = 0;
  for (let c = pages.firstChild[top]!; c !== -1; c = pages.next[c]!) sp = stack.push(sp, c);
  while (sp > 0) {
    const n = stack.a[--sp]!;
    pages.what[n] = g;
    for (let c = pages.firstChild[n]!; c !== -1; c = pages.next[c]!) sp = stack.push(sp, c);
  }
}
