/**
 * Preemption (spec/preemption.ts): page.unmap under a work budget, walking
 * the mapping trees of its range from the leaves up, a bounded number of
 * steps per entry, with where it stands kept in the task table (pendMode,
 * pendPage, curT/curV, lastT/lastV, zoneT/zoneV, pendBits). A mapping's
 * children are kept in order of key, greatest first (task, then page:
 * mapdb.ts linkMapping), so the next child is the head of the list, or the
 * one after the child finished last: each step costs O(1).
 */
import type { Op } from "../spec/vocabulary.js";
import { R } from "../spec/vocabulary.js";
import { OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { removeMappingSubtree } from "./mapdb.js";

/** page.unmap modes as the impl numbers them (mappings.ts). */
const ALL = 1;
const READONLY = 2;
const MODES: readonly string[] = ["derived", "all", "readonly"];

/** Is `op` the preempted page.unmap task t waits to continue? */
export function continuesPending(m: Machine, t: number, op: Op): boolean {
  const tt = m.tasks;
  return op.op === "page.unmap" && op.vpage === tt.pendVpage[t] && op.order === tt.pendOrder[t] && op.mode === MODES[tt.pendMode[t]!];
}

/** Is page v of task t in the part of its range that its preempted unmap has still to do? */
export function pageBeingUnmapped(m: Machine, t: number, v: number): boolean {
  const tt = m.tasks;
  return tt.pendMode[t] !== -1 && v >= tt.pendPage[t]! && v < tt.pendVpage[t]! + 2 ** tt.pendOrder[t]!;
}

/** Is mapping e, or one it derives from, in a tree a preempted unmap has still to take apart? (a walk up its parents, only while some unmap is preempted) */
export function removing(m: Machine, e: number): boolean {
  if (m.pendingCount === 0) return false;
  const pages = m.pages;
  for (let x = e; x !== -1; x = pages.up[x]! >= 0 ? pages.up[x]! : -1) {
    if (pageBeingUnmapped(m, pages.taskOf(x), pages.vpageOf(x))) return true;
  }
  return false;
}

/** Does mapping x come before (task lt, page lv) in key order? */
function below(m: Machine, x: number, lt: number, lv: number): boolean {
  const t = m.pages.taskOf(x);
  return t < lt || (t === lt && m.pages.vpageOf(x) < lv);
}

/**
 * page.unmap of task t under the budget (its checks passed): starts the
 * walk if t has none pending, runs at most `budget` steps, and finishes
 * (value: the bits) or leaves it preempted (`m.preempted`).
 */
export function unmapChunk(m: Machine, t: number, vpage: number, order: number, mode: number, budget: number): number {
  const tt = m.tasks;
  if (tt.pendMode[t] === -1) {
    tt.pendMode[t] = mode;
    tt.pendVpage[t] = vpage;
    tt.pendOrder[t] = order;
    tt.pendPage[t] = vpage;
    tt.pendBits[t] = 0;
    tt.resetWalk(t);
    m.pendingCount += 1;
  }
  const end = vpage + 2 ** order;
  for (let spent = 0; tt.pendPage[t]! < end && spent < budget; spent++) step(m, t, mode);
  if (tt.pendPage[t]! < end) {
    m.preempted = true;
    return OK;
  }
  m.value = tt.pendBits[t]!;
  tt.clearPending(t);
  m.pendingCount -= 1;
  return OK;
}

/** One step of task t's walk (spec: unit). */
function step(m: Machine, t: number, mode: number): void {
  const tt = m.tasks;
  const pages = m.pages;
  if (tt.curT[t] === -1) {
    // start the page at its own mapping, or skip it
    const own = pages.lookup(t, tt.pendPage[t]!);
    if (own !== -1) {
      tt.pendBits[t]! |= pages.flags[own]!;
      tt.curT[t] = t;
      tt.curV[t] = tt.pendPage[t]!;
    } else tt.pendPage[t]! += 1;
    tt.lastT[t] = -1;
    tt.lastV[t] = -1;
    tt.zoneT[t] = -1;
    tt.zoneV[t] = -1;
    return;
  }
  const ct = tt.curT[t]!;
  const cv = tt.curV[t]!;
  const c = pages.lookup(ct, cv);
  const whole = mode !== READONLY || tt.zoneT[t] !== -1;
  let next = pages.firstChild[c]!;
  if (!whole && tt.lastT[t] !== -1) {
    // the child below the one finished last: its successor in the sorted list, or (if it went) the first below its key
    const le = pages.lookup(tt.lastT[t]!, tt.lastV[t]!);
    if (le !== -1 && pages.up[le] === c) next = pages.next[le]!;
    else while (next !== -1 && !below(m, next, tt.lastT[t]!, tt.lastV[t]!)) next = pages.next[next]!;
  }
  if (next !== -1) {
    // down one level
    tt.curT[t] = pages.taskOf(next);
    tt.curV[t] = pages.vpageOf(next);
    tt.lastT[t] = -1;
    tt.lastV[t] = -1;
    if (!whole && pages.rights[next] === R.write) {
      tt.zoneT[t] = tt.curT[t]!;
      tt.zoneV[t] = tt.curV[t]!;
    }
    return;
  }
  // every child of c is finished: finish c
  if (ct === t && cv === tt.pendPage[t]) {
    if (mode === ALL) removeMappingSubtree(m, c);
    else pages.flags[c] = 0;
    tt.pendPage[t]! += 1;
    tt.resetWalk(t);
    return;
  }
  tt.pendBits[t]! |= pages.flags[c]!;
  const parent = pages.up[c]!;
  tt.curT[t] = pages.taskOf(parent);
  tt.curV[t] = pages.vpageOf(parent);
  if (whole) removeMappingSubtree(m, c);
  else {
    pages.rights[c] = pages.rights[c]! & ~R.write;
    pages.flags[c] = 0;
  }
  if (tt.zoneT[t] === ct && tt.zoneV[t] === cv) {
    tt.zoneT[t] = -1;
    tt.zoneV[t] = -1;
  }
  tt.lastT[t] = ct;
  tt.lastV[t] = cv;
}

/**
 * After a successful operation while some unmap is preempted: a walk whose
 * cursor mapping went starts its page again (spec: settlePending). A scan
 * of the task table, only while removals are pending.
 */
export function settlePending(m: Machine): void {
  const tt = m.tasks;
  for (let t = 0; t < m.config.tasks; t++) {
    if (tt.pendMode[t] === -1 || tt.curT[t] === -1) continue;
    // (a task that died has no directory page, so nothing of it is mapped)
    const ct = tt.curT[t]!;
    if (m.pages.dirOf[ct] === -1 || m.pages.lookup(ct, tt.curV[t]!) === -1) tt.resetWalk(t);
  }
}
