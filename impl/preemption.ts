/**
 * Preemption (spec/preemption.ts): page.unmap, cap.revoke,
 * container.destroy and task.destroy under a work budget, walking their
 * trees from the leaves up, a bounded number of steps per entry, with
 * where they stand kept in the task table (pendMode, pendVpage, pendOrder,
 * pendPage, curT/curV, lastT/lastV, zoneT/zoneV, pendBits). A mapping's
 * children, a capability's children and a capability's root mappings are
 * kept in order of key, greatest first (mapdb.ts linkMapping,
 * tables/caps.ts linkChild), so the next child is the head of a list, or
 * the one after the child finished last: each step costs O(1), but for
 * the objects a revoke or a task destroy destroys with their last
 * capability (see revokeStep, taskStep), the scans of a task destroy for
 * the next mapped page and the next capability, and the scans of the
 * capabilities naming a dying object.
 *
 * A preempted revoke keeps pendMode REVOKE, the revoked capability's slot
 * in pendVpage, and its cursor in curT/curV: a mapping (task, page), or a
 * capability (task, -2 - slot); curT -1 is the revoked capability itself.
 */
import type { Op } from "../spec/vocabulary.js";
import { R } from "../spec/vocabulary.js";
import { KIND_CONTAINER, KIND_TASK, OK } from "./constants.js";
import type { Machine } from "./machine.js";
import { removeMappingSubtree } from "./mapdb.js";
import { destroyContainer, destroyTask, dropSlot, freeCapNode, reap, vanishCap } from "./removal.js";

/** page.unmap modes as the impl numbers them (mappings.ts). */
const ALL = 1;
const READONLY = 2;
/** pendMode of a preempted cap.revoke */
export const REVOKE = 3;
/** pendMode of a preempted container.destroy (pendVpage: the subject's capability slot, pendOrder: the container, pendPage: the slot being emptied, -1 once all are) */
export const DESTROY = 4;
/** pendMode of a preempted task.destroy (pendVpage: the subject's capability slot, pendOrder: the target task, pendPage: the target's page being emptied, -1 once all are; pendBits: its capability slot being emptied) */
export const TDESTROY = 5;
const MODES: readonly string[] = ["derived", "all", "readonly"];

/** Is `op` the preempted page.unmap task t waits to continue? */
export function continuesPending(m: Machine, t: number, op: Op): boolean {
  const tt = m.tasks;
  if (tt.pendMode[t] === REVOKE) return op.op === "cap.revoke" && op.slot === tt.pendVpage[t];
  if (tt.pendMode[t] === DESTROY) return op.op === "container.destroy" && op.container === tt.pendVpage[t];
  if (tt.pendMode[t] === TDESTROY) return op.op === "task.destroy" && op.target === tt.pendVpage[t];
  return op.op === "page.unmap" && op.vpage === tt.pendVpage[t] && op.order === tt.pendOrder[t] && op.mode === MODES[tt.pendMode[t]!];
}

/** Is page v of task t in the part of its range that its preempted unmap has still to do? */
export function pageBeingUnmapped(m: Machine, t: number, v: number): boolean {
  const tt = m.tasks;
  return tt.pendMode[t] !== -1 && tt.pendMode[t]! < REVOKE && v >= tt.pendPage[t]! && v < tt.pendVpage[t]! + 2 ** tt.pendOrder[t]!;
}

/**
 * Is mapping e, or one it derives from, in a tree a preempted removal has
 * still to take apart: in an unmap's range, or authorized by a capability
 * a revoke has still to remove? (a walk up its parents, only while some
 * removal is preempted)
 */
export function removing(m: Machine, e: number): boolean {
  if (m.pendingCount === 0) return false;
  const pages = m.pages;
  let x = e;
  for (;;) {
    if (pageBeingUnmapped(m, pages.taskOf(x), pages.vpageOf(x)) || taskDying(m, pages.taskOf(x))) return true;
    const up = pages.up[x]!;
    if (up >= 0) x = up;
    else return (up <= -2 && beingRevoked(m, -2 - up)) || containerDying(m, Math.floor(pages.what[x]! / m.containers.S));
  }
}

/** Is capability n derived (at any depth) from one a preempted revoke is revoking? (a walk up its parents) */
export function beingRevoked(m: Machine, n: number): boolean {
  if (m.pendingCount === 0) return false;
  const caps = m.caps;
  const tt = m.tasks;
  for (let x = caps.parent[n]!; x !== -1; x = caps.parent[x]!) {
    const t = caps.taskOf(x);
    if (tt.pendMode[t] === REVOKE && tt.pendVpage[t] === caps.slotOf(x)) return true;
  }
  return false;
}

/** Is container c being emptied by a preempted container.destroy? (a scan of the task table, only while some removal is preempted) */
export function containerDying(m: Machine, c: number): boolean {
  if (m.pendingCount === 0) return false;
  const tt = m.tasks;
  for (let t = 0; t < m.config.tasks; t++) if (tt.pendMode[t] === DESTROY && tt.pendOrder[t] === c) return true;
  return false;
}

/** Would a capability derived from cap n add to what a preempted removal has still to take apart? (spec: growsRemoval) */
export function growsRemoval(m: Machine, n: number): boolean {
  const kind = m.caps.kindOf(n);
  return beingRevoked(m, n) || (kind === KIND_CONTAINER && containerDying(m, m.caps.objOf(n))) || (kind === KIND_TASK && taskDying(m, m.caps.objOf(n)));
}

/** Is task x being taken apart by a preempted task.destroy? (a scan of the task table, only while some removal is preempted) */
export function taskDying(m: Machine, x: number): boolean {
  if (m.pendingCount === 0) return false;
  const tt = m.tasks;
  for (let t = 0; t < m.config.tasks; t++) if (tt.pendMode[t] === TDESTROY && tt.pendOrder[t] === x) return true;
  return false;
}

/**
 * task.destroy of task x by task t through its capability in `slot`, under
 * the budget (its checks passed): starts the walk if t has none pending,
 * runs at most `budget` steps, and finishes or leaves it preempted.
 */
export function taskDestroyChunk(m: Machine, t: number, slot: number, x: number, budget: number): number {
  const tt = m.tasks;
  if (tt.pendMode[t] === -1) {
    tt.pendMode[t] = TDESTROY;
    tt.pendVpage[t] = slot;
    tt.pendOrder[t] = x;
    tt.pendPage[t] = m.config.vpages - 1;
    tt.pendBits[t] = m.caps.C - 1;
    tt.resetWalk(t);
    m.pendingCount += 1;
  }
  const own = m.caps.at(t, slot);
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = taskStep(m, t, x, own);
  // (the subject may have gone with a capability the target held: its record went with it)
  if (m.tasks.free.has(t)) return OK;
  return endEntry(m, t, finished);
}

/**
 * One step of task t's destroy of task x (spec: taskUnit): its pages from
 * the greatest down (find the next mapped one, a scan of the page table;
 * in its tree down to the first child, or remove a mapping without
 * children and go up, from the page's own mapping to the next page), then
 * its capabilities from the greatest slot down (the next one, a scan of
 * its row, vanishes as if deleted; an object it was the last to name is
 * destroyed in this one step), then the capability naming x with the
 * greatest index other than t's own (a scan of the object's list), last
 * t's own with x. Returns true when it is finished, or when x, or t, went.
 */
function taskStep(m: Machine, t: number, x: number, own: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const caps = m.caps;
  const v = tt.pendPage[t]!;
  if (v >= 0) {
    if (tt.curT[t] === -1) {
      const w = pages.mappedAtOrBelow(x, v);
      tt.pendPage[t] = w;
      if (w >= 0) {
        tt.curT[t] = x;
        tt.curV[t] = w;
      }
      return false;
    }
    const e = pages.lookup(tt.curT[t]!, tt.curV[t]!);
    if (pages.firstChild[e] === -1 && tt.curT[t] === x && tt.curV[t] === v) {
      // the page's own mapping (it may derive from another task's: the walk does not go up there)
      tt.resetWalk(t);
      removeMappingSubtree(m, e);
      return false;
    }
    mappingStep(m, t, e, false);
    return false;
  }
  const i = tt.pendBits[t]!;
  if (i >= 0) {
    let s = i;
    const base = caps.at(x, 0);
    while (s >= 0 && (caps.isEmpty(base + s) || base + s === own)) s--;
    tt.pendBits[t] = s > 0 ? s - 1 : -1;
    if (s < 0) return false;
    vanishCap(m, base + s);
    reap(m);
    if (m.tasks.free.has(x)) return true;
    if (!m.tasks.free.has(t)) return false;
    destroyTask(m, x);
    reap(m);
    return true;
  }
  let other = -1;
  for (let n = caps.objFirst[caps.objIndex(KIND_TASK, x)]!; n !== -1; n = caps.objNext[n]!) if (n !== own && n > other) other = n;
  if (other !== -1) {
    vanishCap(m, other);
    reap(m);
    return false;
  }
  destroyTask(m, x);
  reap(m);
  return true;
}

/**
 * container.destroy of container c by task t through its capability in
 * `slot`, under the budget (its checks passed): starts the walk if t has
 * none pending, runs at most `budget` steps, and finishes or leaves it
 * preempted (`m.preempted`).
 */
export function destroyChunk(m: Machine, t: number, slot: number, c: number, budget: number): number {
  const tt = m.tasks;
  if (tt.pendMode[t] === -1) {
    tt.pendMode[t] = DESTROY;
    tt.pendVpage[t] = slot;
    tt.pendOrder[t] = c;
    tt.pendPage[t] = m.containers.S - 1;
    tt.resetWalk(t);
    m.pendingCount += 1;
  }
  const own = m.caps.at(t, slot);
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = destroyStep(m, t, c, own);
  return endEntry(m, t, finished);
}

/**
 * One step of task t's destroy of container c (spec: destroyUnit): in the
 * slot being emptied, down to its first root mapping (the slot's list is in
 * key order, greatest first) or a mapping's first child, or remove a
 * mapping without children and go up, or empty the slot and go to the one
 * below; once all are empty, the capability naming c with the greatest
 * index other than t's own vanishes (a scan of the object's list), and
 * last t's own with the container.
 */
function destroyStep(m: Machine, t: number, c: number, own: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const caps = m.caps;
  const i = tt.pendPage[t]!;
  if (i >= 0) {
    const si = c * m.containers.S + i;
    if (tt.curT[t] === -1) {
      const r = pages.slotRoots[si]!;
      if (r !== -1) {
        atMapping(m, t, r);
        return false;
      }
      dropSlot(m, si, m.containers.account[c]!);
      tt.pendPage[t] = i - 1;
      return false;
    }
    mappingStep(m, t, pages.lookup(tt.curT[t]!, tt.curV[t]!), false);
    return false;
  }
  let other = -1;
  for (let n = caps.objFirst[caps.objIndex(KIND_CONTAINER, c)]!; n !== -1; n = caps.objNext[n]!) if (n !== own && n > other) other = n;
  if (other !== -1) {
    vanishCap(m, other);
    reap(m);
    return false;
  }
  destroyContainer(m, c);
  reap(m);
  return true;
}

/** Is capability n strictly below capability top in the derivation tree? */
function capUnder(m: Machine, n: number, top: number): boolean {
  const caps = m.caps;
  for (let x = caps.parent[n]!; x !== -1; x = caps.parent[x]!) if (x === top) return true;
  return false;
}

/** Does the cursor of task t's preempted task.destroy stand at a live mapping in the tree of the target's page it empties? */
export function taskCursorValid(m: Machine, t: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const ct = tt.curT[t]!;
  if (pages.dirOf[ct] === -1 || tt.pendPage[t]! < 0) return false;
  let e = pages.lookup(ct, tt.curV[t]!);
  const top = pages.lookup(tt.pendOrder[t]!, tt.pendPage[t]!);
  if (e === -1 || top === -1) return false;
  // (a chain of parents is as long as the mappings are many, at most)
  for (let hops = 0; e >= 0 && hops <= pages.up.length; hops++) {
    if (e === top) return true;
    e = pages.up[e]!;
  }
  return false;
}

/** Does the cursor of task t's preempted destroy stand at a live mapping in a tree rooted at the slot it empties? */
export function destroyCursorValid(m: Machine, t: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const ct = tt.curT[t]!;
  if (pages.dirOf[ct] === -1 || tt.pendPage[t]! < 0) return false;
  let x = pages.lookup(ct, tt.curV[t]!);
  if (x === -1) return false;
  while (pages.up[x]! >= 0) x = pages.up[x]!;
  return pages.what[x] === tt.pendOrder[t]! * m.containers.S + tt.pendPage[t]!;
}

/**
 * Does the cursor of task t's preempted revoke (of capability top) stand at
 * a node still to go: a live capability below top, or a live mapping in a
 * tree one of those authorized?
 */
export function revokeCursorValid(m: Machine, t: number, top: number): boolean {
  const tt = m.tasks;
  const ct = tt.curT[t]!;
  const cv = tt.curV[t]!;
  if (cv < 0) {
    const n = m.caps.at(ct, -2 - cv);
    return !m.caps.isEmpty(n) && capUnder(m, n, top);
  }
  const pages = m.pages;
  if (pages.dirOf[ct] === -1) return false;
  let x = pages.lookup(ct, cv);
  if (x === -1) return false;
  while (pages.up[x]! >= 0) x = pages.up[x]!;
  return pages.up[x]! <= -2 && capUnder(m, -2 - pages.up[x]!, top);
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
  if (tt.pendPage[t]! >= end) m.value = tt.pendBits[t]!;
  return endEntry(m, t, tt.pendPage[t]! >= end);
}

/** Ends an entry of task t's removal: preempted, or finished (its record cleared). */
function endEntry(m: Machine, t: number, finished: boolean): number {
  if (!finished) m.preempted = true;
  else {
    m.tasks.clearPending(t);
    m.pendingCount -= 1;
  }
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
 * cap.revoke of task t's capability in `slot` under the budget (its checks
 * passed): starts the walk if t has none pending, runs at most `budget`
 * steps, and finishes or leaves it preempted (`m.preempted`).
 */
export function revokeChunk(m: Machine, t: number, slot: number, budget: number): number {
  const tt = m.tasks;
  if (tt.pendMode[t] === -1) {
    tt.pendMode[t] = REVOKE;
    tt.pendVpage[t] = slot;
    tt.resetWalk(t);
    m.pendingCount += 1;
  }
  const top = m.caps.at(t, slot);
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = revokeStep(m, t, top);
  return endEntry(m, t, finished);
}

/**
 * One step of task t's revoke of capability top (spec: revokeUnit): down
 * one level (a capability's first root mapping, else its first child; a
 * mapping's first child), or remove the node the walk stands at and go up.
 * Returns true when nothing is left below top. Removing a capability that
 * was the last one naming its object destroys the object (reap): that
 * step's work is as large as the object.
 */
function revokeStep(m: Machine, t: number, top: number): boolean {
  const tt = m.tasks;
  const caps = m.caps;
  const pages = m.pages;
  const ct = tt.curT[t]!;
  if (ct === -1) {
    const k = caps.firstChild[top]!;
    if (k === -1) return true;
    atCap(m, t, k);
    return false;
  }
  const cv = tt.curV[t]!;
  if (cv >= 0) {
    mappingStep(m, t, pages.lookup(ct, cv), true);
    return false;
  }
  const n = caps.at(ct, -2 - cv);
  if (caps.firstMap[n] !== -1) {
    atMapping(m, t, caps.firstMap[n]!);
    return false;
  }
  if (caps.firstChild[n] !== -1) {
    atCap(m, t, caps.firstChild[n]!);
    return false;
  }
  const p = caps.parent[n]!;
  caps.unlinkFromParent(n);
  freeCapNode(m, n);
  reap(m);
  if (p === top || caps.isEmpty(p)) tt.resetWalk(t);
  else atCap(m, t, p);
  return false;
}

/**
 * A walk at mapping e: down to its first child (the greatest key), or, if
 * it has none, remove it and go up to its parent; from a root, up to the
 * capability that authorized it (a revoke) or back to the slot (a
 * container destroy).
 */
function mappingStep(m: Machine, t: number, e: number, upToCap: boolean): void {
  const pages = m.pages;
  const k = pages.firstChild[e]!;
  if (k !== -1) return atMapping(m, t, k);
  const up = pages.up[e]!;
  if (up >= 0) atMapping(m, t, up);
  else if (upToCap) atCap(m, t, -2 - up);
  else m.tasks.resetWalk(t);
  removeMappingSubtree(m, e);
}

function atCap(m: Machine, t: number, n: number): void {
  m.tasks.curT[t] = m.caps.taskOf(n);
  m.tasks.curV[t] = -2 - m.caps.slotOf(n);
}

function atMapping(m: Machine, t: number, e: number): void {
  m.tasks.curT[t] = m.pages.taskOf(e);
  m.tasks.curV[t] = m.pages.vpageOf(e);
}

/**
 * After a successful operation while some removal is preempted: a walk
 * whose cursor went (or, for a revoke, is no longer below the revoked
 * capability) starts again, and a revoke whose capability went ends
 * (spec: settlePending). A scan of the task table, only while removals
 * are pending; task `own`, whose walk the operation continued, is skipped
 * (its walk leaves its cursor on a live node of its tree: the
 * representation check preemptedWalksExact says so after every step).
 */
export function settlePending(m: Machine, own: number): void {
  const tt = m.tasks;
  for (let t = 0; t < m.config.tasks; t++) {
    if (t === own) continue;
    if (tt.pendMode[t] === DESTROY || tt.pendMode[t] === TDESTROY) {
      const ofTask = tt.pendMode[t] === TDESTROY;
      const x = tt.pendOrder[t]!;
      const k = m.caps.at(t, tt.pendVpage[t]!);
      if ((ofTask ? tt.free : m.containers.free).has(x) || m.caps.isEmpty(k) || m.caps.kindOf(k) !== (ofTask ? KIND_TASK : KIND_CONTAINER) || m.caps.objOf(k) !== x) {
        tt.clearPending(t);
        m.pendingCount -= 1;
      } else if (tt.curT[t] !== -1 && !(ofTask ? taskCursorValid(m, t) : destroyCursorValid(m, t))) tt.resetWalk(t);
      continue;
    }
    if (tt.pendMode[t] === REVOKE) {
      const top = m.caps.at(t, tt.pendVpage[t]!);
      if (m.caps.isEmpty(top)) {
        tt.clearPending(t);
        m.pendingCount -= 1;
      } else if (tt.curT[t] !== -1 && !revokeCursorValid(m, t, top)) tt.resetWalk(t);
      continue;
    }
    if (tt.pendMode[t] === -1 || tt.curT[t] === -1) continue;
    // (a task that died has no directory page, so nothing of it is mapped)
    const ct = tt.curT[t]!;
    if (m.pages.dirOf[ct] === -1 || m.pages.lookup(ct, tt.curV[t]!) === -1) tt.resetWalk(t);
  }
}
