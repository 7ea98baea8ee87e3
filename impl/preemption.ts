/**
 * Preemption (spec/preemption.ts): page.unmap, cap.revoke,
 * container.destroy, task.destroy and account.destroy under a work budget, walking their
 * trees from the leaves up, a bounded number of steps per entry, with
 * where they stand kept in the task table (pendMode, pendVpage, pendOrder,
 * pendPage, curT/curV, lastT/lastV, zoneT/zoneV, pendBits). A mapping's
 * children, a capability's children and a capability's root mappings are
 * kept in order of key, greatest first (mapdb.ts linkMapping,
 * tables/caps.ts linkChild), so the next child is the head of a list, or
 * the one after the child finished last: each step costs O(1), but for
 * the objects a revoke or a destroy's walk destroys with their last
 * capability (see revokeStep, taskStep), the scans of a task destroy for
 * the next mapped page and the next capability (each goes down from where
 * the last stopped), and an account destroy's or an account zombie's
 * search for the next object it pays for (accountStep,
 * accountZombieStep) and for whether an account may be a zombie
 * (accountZombieWorthy): a visit of the account's subtree, each account's
 * lists of what it pays for sorted on demand (tables/lists.ts). The
 * capabilities naming a dying object are a list sorted on demand too, so
 * that removing them one per step, the greatest first, does not scan it
 * each time.
 *
 * A preempted revoke keeps pendMode REVOKE, the revoked capability's slot
 * in pendVpage, and its cursor in curT/curV: a mapping (task, page), or a
 * capability (task, -2 - slot); curT -1 is the revoked capability itself.
 * While it empties a zombie (revokeStep), zoneT holds its kind (0 a
 * container, 1 a task, 2 an account) and zoneV its id, pendPage and
 * pendBits where its walk stands (as an account destroy's; an account
 * zombie's: pendBits the container it takes apart, -1 between objects,
 * pendPage that container's slot), and curT/curV that walk's
 * mapping; the revoke's own cursor is then the zombie's only capability,
 * the head of its object list.
 *
 * A walk through a task's capabilities (a task destroy's, an account
 * destroy's at a task, a revoke's zombie task's) may make a zombie of an
 * object whose last capability it reaches, and a zombie task's walk in
 * turn (startsZombie): the chain of zombies inside the task walked keeps
 * only its outermost (zOutT/zOutV) and its innermost (zInT/zInV), whose
 * walk pendPage, pendBits and curT/curV then are; each zombie's only
 * capability is held by the task around it, so the walk of that task
 * stands at the slot below it (as the spec records it: abstraction.ts).
 * An account zombie's place, when it is the innermost: pendBits the
 * container it takes apart (-1 otherwise), pendPage that container's
 * slot; or, with lastT 1, lastV the task it takes apart, pendPage and
 * pendBits that task's page and capability slot. Its walk through a task
 * may make a zombie inside it: the account is then a link between, and
 * the capability naming it cannot tell which task its walk stands in, so
 * the task table marks it (markAcct, markOwner, markAt: the account, the
 * chain and that task; linkAt finds it from the holder of the next zombie
 * in's capability).
 */
import type { Op } from "../spec/vocabulary.js";
import { R } from "../spec/vocabulary.js";
import { KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK, OK, SLOT_EMPTY } from "./constants.js";
import type { Machine } from "./machine.js";
import type { IndexLists } from "./tables/lists.js";
import { insertByKey, keyAfter, removeMappingSubtree } from "./mapdb.js";
import { destroyAccount, destroyContainer, destroyHandle, destroyTask, dropSlot, freeCapNode, reap, removeCapSubtree, vanishCap } from "./removal.js";

/** page.unmap modes as the impl numbers them (mappings.ts). */
const ALL = 1;
const READONLY = 2;
/** pendMode of a preempted cap.revoke */
export const REVOKE = 3;
/** pendMode of a preempted container.destroy (pendVpage: the subject's capability slot, pendOrder: the container, pendPage: the slot being emptied, -1 once all are) */
export const DESTROY = 4;
/** pendMode of a preempted task.destroy (pendVpage: the subject's capability slot, pendOrder: the target task, pendPage: the target's page being emptied, -1 once all are; pendBits: its capability slot being emptied) */
export const TDESTROY = 5;
/**
 * pendMode of a preempted account.destroy (pendVpage: the subject's capability slot, pendOrder: the account; zoneT: what it
 * takes apart, -1 nothing, 0 a container, 1 a task, and zoneV its id; pendPage: the container's slot or the task's page
 * being emptied, pendBits: the task's capability slot being emptied, both -1 when not in use)
 */
export const ADESTROY = 6;
const MODES: readonly string[] = ["derived", "all", "readonly"];

/** Is `op` the preempted page.unmap task t waits to continue? */
export function continuesPending(m: Machine, t: number, op: Op): boolean {
  const tt = m.tasks;
  if (tt.pendMode[t] === REVOKE) return op.op === "cap.revoke" && op.slot === tt.pendVpage[t];
  if (tt.pendMode[t] === DESTROY) return op.op === "container.destroy" && op.container === tt.pendVpage[t];
  if (tt.pendMode[t] === TDESTROY) return op.op === "task.destroy" && op.target === tt.pendVpage[t];
  if (tt.pendMode[t] === ADESTROY) return op.op === "account.destroy" && op.account === tt.pendVpage[t];
  return op.op === "page.unmap" && op.vpage === tt.pendVpage[t] && op.order === tt.pendOrder[t] && op.mode === MODES[tt.pendMode[t]!];
}

/** Is page v of task t in the part of its range that its preempted unmap has still to do? */
export function pageBeingUnmapped(m: Machine, t: number, v: number): boolean {
  const tt = m.tasks;
  return tt.pendMode[t] !== -1 && tt.pendMode[t]! < REVOKE && v >= tt.pendPage[t]! && v < tt.pendVpage[t]! + 2 ** tt.pendOrder[t]!;
}

/**
 * Is mapping e, or one it derives from, in a tree a preempted removal has
 * still to take apart: in an unmap's range, in the page table of a task
 * being destroyed, authorized by a capability a revoke has still to
 * remove, or rooted in a container being destroyed? (a walk up its
 * parents, only while some removal is preempted)
 */
export function removing(m: Machine, e: number): boolean {
  if (m.pendingCount === 0) return false;
  const pages = m.pages;
  let x = e;
  for (;;) {
    if (pageBeingUnmapped(m, pages.taskOf(x), pages.vpageOf(x)) || taskDying(m, pages.taskOf(x))) return true;
    const up = pages.up[x]!;
    if (up >= 0) x = up;
    else return (up <= -2 && (beingRevoked(m, -2 - up) || taskDying(m, m.caps.taskOf(-2 - up)))) || containerDying(m, Math.floor(pages.what[x]! / m.containers.S));
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

/** Is container c being emptied by a preempted container.destroy or as a zombie (a container is a chain's innermost only), or paid by an account being destroyed? (a look at each task with a preempted removal, only while there is one) */
export function containerDying(m: Machine, c: number): boolean {
  if (m.pendingCount === 0) return false;
  const tt = m.tasks;
  for (let i = 0; i < m.pendingCount; i++) {
    const t = m.pendingTasks[i]!;
    if ((tt.pendMode[t] === DESTROY && tt.pendOrder[t] === c) || (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 0 && tt.zoneV[t] === c) || (tt.zInT[t] === 0 && tt.zInV[t] === c)) return true;
  }
  return !m.containers.free.has(c) && accountDying(m, m.containers.account[c]!);
}

/** Is account a being destroyed by a preempted account.destroy, or emptied as a zombie (always a chain's innermost), it or an account above it? (a look at each task with a preempted removal and walks up the account tree, only while there is one) */
export function accountDying(m: Machine, a: number): boolean {
  if (m.pendingCount === 0) return false;
  const tt = m.tasks;
  for (let i = 0; i < m.pendingCount; i++) {
    const t = m.pendingTasks[i]!;
    if (tt.pendMode[t] === ADESTROY && accountUnder(m, a, tt.pendOrder[t]!)) return true;
    if ((tt.zInT[t] === 2 && accountUnder(m, a, tt.zInV[t]!)) || (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 2 && accountUnder(m, a, tt.zoneV[t]!))) return true;
  }
  // (the account links of chains, marked: a scan of the marks)
  for (let i = 0; i < tt.zMarks; i++) if (accountUnder(m, a, tt.markAcct[i]!)) return true;
  return false;
}

/** Is account a `top` or below it? */
export function accountUnder(m: Machine, a: number, top: number): boolean {
  // (x >= 0: an account's parent chain ends at the root account's -1)
  for (let x = a; x >= 0; x = m.accounts.parent[x]!) if (x === top) return true;
  return false;
}

/** Does cap n name an object a preempted removal is taking apart (a container, task or account dying, a DMA handle whose account is)? (spec: namesDying) */
function namesDying(m: Machine, n: number): boolean {
  const kind = m.caps.kindOf(n);
  const x = m.caps.objOf(n);
  return kind === KIND_CONTAINER ? containerDying(m, x) : kind === KIND_TASK ? taskDying(m, x) : kind === KIND_ACCOUNT ? accountDying(m, x) : accountDying(m, m.handles.account[x]!);
}

/** Would a capability derived from cap n add to what a preempted removal has still to take apart? (spec: growsRemoval) */
export function growsRemoval(m: Machine, n: number): boolean {
  return namesDying(m, n) || beingRevoked(m, n);
}

/** Is task x being taken apart by a preempted task.destroy or as a zombie, or paid by an account being destroyed? (a look at each task with a preempted removal and its chain of zombies, only while there is one) */
export function taskDying(m: Machine, x: number): boolean {
  if (m.pendingCount === 0) return false;
  const tt = m.tasks;
  for (let i = 0; i < m.pendingCount; i++) {
    const t = m.pendingTasks[i]!;
    if ((tt.pendMode[t] === TDESTROY && tt.pendOrder[t] === x) || (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 1 && tt.zoneV[t] === x) || inChain(m, t, x)) return true;
  }
  return !tt.free.has(x) && accountDying(m, tt.account[x]!);
}

/**
 * Will a preempted removal make capability n vanish: is its holder being
 * taken apart, or the object it names (spec: passedOver)? What another
 * task's deletion re-attaches from below it then passes over it.
 */
function passedOver(m: Machine, n: number): boolean {
  return taskDying(m, m.caps.taskOf(n)) || namesDying(m, n);
}

/**
 * Capability p (-1: none), or, if a preempted removal will make it vanish
 * (passedOver), its nearest ancestor none will: where what a deletion
 * re-attaches up from below p goes (spec: closure's survivor). Not in a
 * walk's steps (m.inWalk): they re-attach to p itself.
 */
export function keptAncestor(m: Machine, p: number): number {
  if (m.pendingCount === 0 || m.inWalk) return p;
  // (a chain of parents is as long as the capabilities are many, at most)
  for (let hops = 0; p !== -1 && hops <= m.caps.parent.length && passedOver(m, p); hops++) p = m.caps.parent[p]!;
  return p;
}

/**
 * Before task t's walk makes capability n vanish, one step re-attaches the
 * capability derived from it with the greatest key (the head of its child
 * list) to n's parent and returns true; false once nothing is derived from
 * n (spec: handUp). The children go greatest first, so each goes into the
 * parent's list (in key order) after the one handed up before it: the
 * search starts there (tt.handHint) while that one still hangs from the
 * same parent with a greater key (another task's deletion of that one
 * moves the hint to the one before it: unlinkCap), and a capability with n
 * children costs one merge of two lists in all, not n walks down the
 * parent's list.
 */
function handUp(m: Machine, t: number, n: number): boolean {
  const caps = m.caps;
  const c = caps.firstChild[n]!;
  if (c === -1) return false;
  const p = caps.parent[n]!;
  const h = m.tasks.handHint[t]!;
  caps.unlinkFromParent(c);
  caps.linkChildAfter(c, p, p !== -1 && h >= 0 && !caps.isEmpty(h) && caps.parent[h] === p && h > c ? h : -1);
  m.tasks.handHint[t] = c;
  return true;
}

/**
 * Unlinks capability n from its parent's child list, for good (deleted,
 * revoked): a walk whose hand-up hint it is (handUp) takes the one before
 * it in that list instead (the same parent, a greater key), or none if n
 * was the first. Without this, the hand-up after another task deleted the
 * one handed up before would search the parent's list from its head. A
 * look at each task with a preempted removal, only while there is one.
 */
export function unlinkCap(m: Machine, n: number): void {
  const hint = m.tasks.handHint;
  for (let i = 0; i < m.pendingCount; i++) if (hint[m.pendingTasks[i]!] === n) hint[m.pendingTasks[i]!] = m.caps.prevSib[n]!;
  m.caps.unlinkFromParent(n);
}

/** Root mapping e leaves its capability's list: as unlinkCap, for a walk whose hint it is (handUpRoot). */
export function dropRootHint(m: Machine, e: number): void {
  const hint = m.tasks.handHint;
  const before = m.pages.prevCap[e]!;
  for (let i = 0; i < m.pendingCount; i++) if (hint[m.pendingTasks[i]!] === -2 - e) hint[m.pendingTasks[i]!] = before === -1 ? -1 : -2 - before;
}

/** Can n's parent authorize the root mappings n authorized (a capability to the same container)? (spec: rootsReattach) */
function rootsReattach(m: Machine, n: number): boolean {
  const p = m.caps.parent[n]!;
  return p !== -1 && m.caps.kindOf(p) === KIND_CONTAINER && m.caps.objOf(p) === m.caps.objOf(n);
}

/**
 * After its children (handUp), capability n, which task t's walk through a
 * task makes vanish, hands up the root mapping it authorized with the
 * greatest key (the head of its list) in one step: to n's parent, in key
 * order, if that can authorize it; if not, the walk's cursor goes to it,
 * and the steps that follow take its tree apart from the leaves up
 * (mappingStep). Returns false once n authorizes none (spec: handUpRoot).
 */
function handUpRoot(m: Machine, t: number, n: number): boolean {
  const caps = m.caps;
  const pages = m.pages;
  const r = caps.firstMap[n]!;
  if (r === -1) return false;
  if (!rootsReattach(m, n)) {
    atMapping(m, t, r);
    return true;
  }
  const p = caps.parent[n]!;
  const next = pages.nextCap[r]!;
  caps.firstMap[n] = next;
  if (next !== -1) pages.prevCap[next] = -1;
  pages.up[r] = -2 - p;
  // (as handUp: the search starts after the root handed up before, while it is still p's with a greater key)
  const h = m.tasks.handHint[t]!;
  const after = h <= -2 && pages.up[-2 - h] === -2 - p && keyAfter(m, -2 - h, r) ? -2 - h : -1;
  insertByKey(m, r, after, after === -1 ? caps.firstMap[p]! : pages.nextCap[after]!, pages.nextCap, pages.prevCap, caps.firstMap, p);
  m.tasks.handHint[t] = -2 - r;
  return true;
}

/** The kinds of zombie as the task table numbers them (zoneT, zInT, zOutT): 0, 1 and 2. */
export const ZOMBIE_KINDS = ["container", "task", "account"] as const;

/** The zombie kind (ZOMBIE_KINDS) of an object of capability kind `kind`: a container, a task or an account. */
const zombieKindOf = (kind: number): number => (kind === KIND_CONTAINER ? 0 : kind === KIND_TASK ? 1 : 2);

/** The first capability naming container (kind 0), task (kind 1) or account (kind 2) `id`, -1 if none: a zombie's only one. */
export function nameOf(m: Machine, kind: number, id: number): number {
  return m.caps.objFirst[m.caps.objIndex(kind === 1 ? KIND_TASK : kind === 2 ? KIND_ACCOUNT : KIND_CONTAINER, id)]!;
}

/** Has container (kind 0), task (kind 1) or account (kind 2) `id` gone (its id free)? */
const gone = (m: Machine, kind: number, id: number): boolean => (kind === 1 ? m.tasks.free : kind === 2 ? m.accounts.free : m.containers.free).has(id);

/** Is task x one of the zombies inside the walk of task t's removal? (from the innermost out, through the capability naming each) */
function inChain(m: Machine, t: number, x: number): boolean {
  const tt = m.tasks;
  const caps = m.caps;
  let kind = tt.zInT[t]!;
  let id = tt.zInV[t]!;
  // (a chain is as long as the tasks are many, at most)
  for (let hops = 0; kind !== -1 && hops <= m.config.tasks; hops++) {
    if (kind === 1 && id === x) return true;
    if (kind === tt.zOutT[t] && id === tt.zOutV[t]) return false;
    const k = nameOf(m, kind, id);
    if (k === -1) return false;
    const h = caps.taskOf(k);
    const a = linkAt(m, t, h);
    kind = a === -1 ? 1 : 2;
    id = a === -1 ? h : a;
  }
  return false;
}

/** The account that is a link of task t's chain whose walk takes task h apart (marked), or -1 (a scan of the marks). */
export function linkAt(m: Machine, t: number, h: number): number {
  const tt = m.tasks;
  for (let i = 0; i < tt.zMarks; i++) if (tt.markOwner[i] === t && tt.markAt[i] === h) return tt.markAcct[i]!;
  return -1;
}

/**
 * task.destroy of task x by task t through its capability in `slot`, under
 * the budget (its checks passed): starts the walk if t has none pending,
 * runs at most `budget` steps, and finishes or leaves it preempted.
 */
export function taskDestroyChunk(m: Machine, t: number, slot: number, x: number, budget: number): number {
  const tt = m.tasks;
  if (startWalk(m, t, TDESTROY, slot, x)) {
    tt.pendPage[t] = m.config.vpages - 1;
    tt.pendBits[t] = m.caps.C - 1;
  }
  const own = m.caps.at(t, slot);
  let finished = false;
  m.inWalk = true;
  for (let spent = 0; !finished && spent < budget; spent++) finished = walkTask(m, t, x, own, false) || subjectWent(m, t, KIND_TASK, x);
  m.inWalk = false;
  // (the subject may have gone with a capability the target held: its removal with it)
  if (m.tasks.free.has(t)) return endEntry(m, t, true);
  return endEntry(m, t, finished);
}

/**
 * After a step of a destroy by task t: if t went with it (the object being
 * taken apart held the last capability naming it, or its account), the
 * object (kind, x) goes at once, as in one step (spec: subjectWent).
 */
function subjectWent(m: Machine, t: number, kind: number, x: number): boolean {
  if (!m.tasks.free.has(t)) return false;
  if (kind === KIND_TASK) destroyTask(m, x);
  else destroyAccount(m, x);
  reap(m);
  return true;
}

/**
 * One step of task t's destroy of task x (spec: taskUnit): its pages from
 * the greatest down (find the next mapped one, a scan of the page table;
 * in its tree down to the first child, or remove a mapping without
 * children and go up, from the page's own mapping to the next page), then
 * its capabilities from the greatest slot down (the next one, a scan of
 * its row, vanishes as if deleted; an object it was the last to name is
 * destroyed in this one step, unless it becomes a zombie: startsZombie),
 * then the capability naming x with the
 * greatest index other than t's own (namingStep), last
 * t's own with x; with `keep` (t's own task, in an account destroy) it
 * ends after x's capabilities. Returns true when it is finished, or when
 * x went (the subject going is the caller's to see: subjectWent).
 */
function taskStep(m: Machine, t: number, x: number, own: number, keep: boolean): boolean {
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
      tt.resetCursor(t);
      removeMappingSubtree(m, e);
      return false;
    }
    mappingStep(m, t, e, false);
    return false;
  }
  const i = tt.pendBits[t]!;
  if (i >= 0) {
    // (the tree of a root mapping the capability at slot i authorized, which its parent cannot take: handUpRoot)
    if (tt.curT[t] !== -1) {
      mappingStep(m, t, pages.lookup(tt.curT[t]!, tt.curV[t]!), false);
      return false;
    }
    let s = i;
    const base = caps.at(x, 0);
    while (s >= 0 && (caps.isEmpty(base + s) || base + s === own)) s--;
    if (s >= 0 && (handUp(m, t, base + s) || handUpRoot(m, t, base + s))) {
      tt.pendBits[t] = s;
      return false;
    }
    tt.pendBits[t] = s > 0 ? s - 1 : -1;
    if (s < 0) return false;
    if (startsZombie(m, t, x, base + s)) return false;
    vanishCap(m, base + s);
    reap(m);
    return m.tasks.free.has(x);
  }
  if (keep) return true;
  return namingStep(m, t, KIND_TASK, x, own, destroyTask, tt.free);
}

/**
 * One step of task t's walk through task x: a step of the innermost zombie
 * inside it if there is one (chainStep), else of x's own walk (taskStep).
 * Returns true when that walk is finished or x went.
 */
function walkTask(m: Machine, t: number, x: number, own: number, keep: boolean): boolean {
  if (m.tasks.zInT[t] === -1) return taskStep(m, t, x, own, keep);
  chainStep(m, t);
  return m.tasks.free.has(x);
}

/**
 * Does task t's walk through task x's capabilities make a zombie of what
 * capability n names, instead of deleting it (spec: startsZombie)? When n
 * is the only capability naming a container or a task (not x, nor the task
 * whose walk the chain is in, nor the root task) that is not empty, or an
 * account that accountZombieWorthy allows, and
 * removing n would not take t along (doomsSubject: a dry run as large as
 * what would go). The zombie is the chain's new innermost (and, if the
 * chain was empty, its outermost), its walk at its start; an account
 * zombie whose walk in x made it is marked as a link (its place in the
 * task table goes to the new innermost). (Only a walk through a task gets
 * here: the task whose walk the chain is in is then insideTask's.)
 */
function startsZombie(m: Machine, t: number, x: number, n: number): boolean {
  const caps = m.caps;
  const tt = m.tasks;
  const kind = caps.kindOf(n);
  const y = caps.objOf(n);
  // (a zombie of the chain is named only by the task around it, never by x, the innermost: no need to look for one)
  if ((kind !== KIND_CONTAINER && kind !== KIND_TASK && kind !== KIND_ACCOUNT) || (kind === KIND_TASK && (y === 0 || y === x || y === insideTask(m, t))) || !onlyName(m, n)) return false;
  if (kind === KIND_CONTAINER ? emptyContainer(m, y) : kind === KIND_TASK ? emptied(m, y, n) : !accountZombieWorthy(m, y, t, x)) return false;
  if (n !== doom.spared && doomsSubject(m, n, t)) return false;
  const z = zombieKindOf(kind);
  // (inside an account zombie's walk, which stands in task x: the account becomes a link, marked, and its place gives way to the new innermost's)
  const walking = tt.zInT[t] === 2 ? tt.zInV[t]! : tt.zInT[t] === -1 ? revokeAccount(m, t) : -1;
  if (walking !== -1) {
    tt.markAccount(walking, t, x);
    tt.lastT[t] = -1;
    tt.lastV[t] = -1;
  }
  if (tt.zInT[t] === -1) {
    tt.zOutT[t] = z;
    tt.zOutV[t] = y;
  }
  tt.zInT[t] = z;
  tt.zInV[t] = y;
  startObjectWalk(m, t, z);
  return true;
}

/**
 * The task the chain of task t's walk is in (spec: the walk's `inside`):
 * a task destroy's target, an account destroy's task, a revoke's zombie
 * task, or the task a revoke's account zombie's walk stands in while a
 * zombie is inside it; -1 otherwise.
 */
function insideTask(m: Machine, t: number): number {
  const tt = m.tasks;
  if (tt.pendMode[t] === TDESTROY) return tt.pendOrder[t]!;
  if (tt.zoneT[t] === 1) return tt.zoneV[t]!;
  const a = revokeAccount(m, t);
  return a === -1 ? -1 : tt.linkOf(a, t);
}

/** The account a preempted revoke of task t empties as its zombie (zoneT 2), or -1. */
function revokeAccount(m: Machine, t: number): number {
  return m.tasks.pendMode[t] === REVOKE && m.tasks.zoneT[t] === 2 ? m.tasks.zoneV[t]! : -1;
}

/** Task t's walk through an account zombie (the innermost) goes on in task y, lastT 1 and lastV y, or, if y went, between objects. */
function accountInTask(m: Machine, t: number, y: number): void {
  m.tasks.lastT[t] = 1;
  m.tasks.lastV[t] = y;
  if (m.tasks.free.has(y)) betweenZombieObjects(m, t);
}

/** Task t's walk stands at the start of a container's (kind 0: its greatest slot), a task's (1: its greatest page and slot) or an account zombie's (2: between objects). */
function startObjectWalk(m: Machine, t: number, kind: number): void {
  const tt = m.tasks;
  tt.resetCursor(t);
  tt.pendPage[t] = kind === 0 ? m.containers.S - 1 : kind === 1 ? m.config.vpages - 1 : -1;
  tt.pendBits[t] = kind === 1 ? m.caps.C - 1 : -1;
}

/**
 * May account a be a zombie, if task t's walk reaches its only capability,
 * held by task `holder` (spec: zombieWorthy)? Not the root account;
 * neither it nor an account below it pays for the holder (unless
 * `holderMayPay`: a revoke's walk, which stands in no task) or a task t's
 * walks stand in (walkedBy, for each task the subtree pays for: a visit
 * of the subtree and its lists of tasks); and it has a sub-account, or it
 * or one below pays for a task, a DMA handle or a container.
 */
function accountZombieWorthy(m: Machine, a: number, t: number, holder: number, holderMayPay = false): boolean {
  if (a === 0) return false;
  // (in the same visit of the subtree: does it pay for anything at all?)
  let pays = m.accounts.firstChild[a] !== -1;
  for (let x = a; x !== -1; x = nextUnder(m, x, a)) {
    if (m.handles.paid.first[x] !== -1 || m.containers.paid.first[x] !== -1) pays = true;
    for (let y = m.tasks.paid.first[x]!; y !== -1; y = m.tasks.paid.next[y]!) {
      if ((y === holder && !holderMayPay) || walkedBy(m, t, y)) return false;
      pays = true;
    }
  }
  return pays;
}

/**
 * Does a walk of task t's removal stand in task y: the task it takes apart
 * (a task destroy's target, an account destroy's task, a revoke's zombie
 * task), the holder of a revoke's zombie's capability, or a zombie task of
 * the chain inside (inChain)?
 */
function walkedBy(m: Machine, t: number, y: number): boolean {
  const tt = m.tasks;
  const mode = tt.pendMode[t]!;
  if (mode === TDESTROY && tt.pendOrder[t] === y) return true;
  if ((mode === ADESTROY || mode === REVOKE) && tt.zoneT[t] === 1 && tt.zoneV[t] === y) return true;
  if (mode === REVOKE && tt.zoneT[t] !== -1 && m.caps.taskOf(nameOf(m, tt.zoneT[t]!, tt.zoneV[t]!)) === y) return true;
  return inChain(m, t, y) || linkAt(m, t, y) !== -1;
}

/**
 * One step of task t's walk through account zombie a (spec: accountUnit,
 * with the holder of k for the subject; only a revoke's own account zombie
 * may pay for that holder), k its only capability: a step of the task it
 * takes apart (lastT 1, lastV
 * the task; taskStep, whose walk may make a zombie inside: startsZombie) or of the
 * container (pendBits; destroyStep, the capabilities naming it going one
 * per step, the last with it), or, between objects (lastT -1, pendBits
 * -1), the next thing, as accountStep picks it: a capability naming the
 * DMA handle with the greatest id that a or an account below it pays for
 * (reap takes the handle with the last), the container with the greatest
 * id they pay for, the task with the greatest id they pay for (k's
 * holder last, but for k), a capability naming the greatest sub-account
 * without sub-accounts (not the one paying for k's holder), one naming
 * k's holder or a sub-account paying for it while another names it too
 * (dropWaiting); last k, with a.
 */
function accountZombieStep(m: Machine, t: number, a: number, k: number): void {
  const tt = m.tasks;
  const acc = m.accounts;
  // (k's holder, if a or one below pays for it (a revoke's account zombie may): taken apart last but for k, with a in its last step)
  const holder = m.caps.taskOf(k);
  if (tt.lastT[t] !== -1) {
    if (taskStep(m, t, tt.lastV[t]!, k, tt.lastV[t] === holder)) betweenZombieObjects(m, t);
    return;
  }
  const c = tt.pendBits[t]!;
  if (c >= 0) {
    if (destroyStep(m, t, c, -1)) betweenZombieObjects(m, t);
    return;
  }
  const h = lastHandleUnder(m, a);
  if (h !== -1) return void namingStep(m, t, KIND_DMA, h, -1, destroyHandle, m.handles.free);
  const x = lastContainerUnder(m, a);
  if (x !== -1) {
    tt.pendBits[t] = x;
    tt.pendPage[t] = m.containers.S - 1;
    return;
  }
  const y = nextTaskUnder(m, a, holder, k);
  if (y !== -1) {
    startObjectWalk(m, t, 1);
    return accountInTask(m, t, y);
  }
  // (not the one paying for the holder, if a pays for it: it waits for the last step)
  const b = lastLeafBelow(m, a, tt.account[holder]!);
  if (b !== -1) namingStep(m, t, KIND_ACCOUNT, b, -1, destroyAccount, acc.free);
  else if (!dropWaiting(m, t, a, holder)) namingStep(m, t, KIND_ACCOUNT, a, k, destroyAccount, acc.free);
}

/**
 * The account after x in a walk of the subtree of account `top` (x in it),
 * parents before children, or -1 at its end: the account tree's parent and
 * sibling links need no stack.
 */
function nextUnder(m: Machine, x: number, top: number): number {
  const acc = m.accounts;
  if (acc.firstChild[x] !== -1) return acc.firstChild[x]!;
  for (; x !== top; x = acc.parent[x]!) if (acc.nextSib[x] !== -1) return acc.nextSib[x]!;
  return -1;
}

/**
 * The greatest id on the lists `paid` of account a and the accounts below
 * it, other than `skip`, or -1: a visit of the subtree, each list sorted on
 * demand (tables/lists.ts), so that a walk taking the objects one by one
 * does not scan the table for each.
 */
function lastPaidUnder(m: Machine, paid: IndexLists, a: number, skip: number): number {
  let best = -1;
  for (let x = a; x !== -1; x = nextUnder(m, x, a)) {
    let g = paid.greatest(x);
    if (g !== -1 && g === skip) g = paid.next[g]!;
    if (g > best) best = g;
  }
  return best;
}

/** The DMA handle with the greatest id that account a or an account below it pays for, or -1. */
const lastHandleUnder = (m: Machine, a: number): number => lastPaidUnder(m, m.handles.paid, a, -1);

/** The container with the greatest id that account a or an account below it pays for, or -1. */
const lastContainerUnder = (m: Machine, a: number): number => lastPaidUnder(m, m.containers.paid, a, -1);

/** The task with the greatest id, other than `skip`, that account a or an account below it pays for, or -1. */
const lastTaskUnder = (m: Machine, a: number, skip: number): number => lastPaidUnder(m, m.tasks.paid, a, skip);

/**
 * The next task the walk through account a takes apart: the one with the
 * greatest id that a or an account below it pays for, other than task y
 * (an account destroy's subject, or the holder of an account zombie's
 * capability); then y itself, if they pay for it and it holds anything but
 * capability `own` (its pages and other capabilities: taken apart last,
 * but for `own`); -1 once none is left.
 */
function nextTaskUnder(m: Machine, a: number, y: number, own: number): number {
  const next = lastTaskUnder(m, a, y);
  return next !== -1 || !accountUnder(m, m.tasks.account[y]!, a) || emptied(m, y, own) ? next : y;
}

/** The account with the greatest id strictly below account a that has no sub-account, other than `skip`, or -1 (a visit of the subtree). */
function lastLeafBelow(m: Machine, a: number, skip: number): number {
  let best = -1;
  for (let b = nextUnder(m, a, a); b !== -1; b = nextUnder(m, b, a)) if (b !== skip && b > best && m.accounts.firstChild[b] === -1) best = b;
  return best;
}

/** Task t's walk through an account zombie stands between objects. */
function betweenZombieObjects(m: Machine, t: number): void {
  m.tasks.resetCursor(t);
  m.tasks.pendPage[t] = -1;
  m.tasks.pendBits[t] = -1;
  m.tasks.lastT[t] = -1;
  m.tasks.lastV[t] = -1;
}

/**
 * Task t's walk through an account zombie after another operation: if the
 * task or the container it takes apart went, it is between objects again;
 * if the mapping it stands at went, or left the tree of the page or the
 * slot it empties, it starts that page or slot again.
 */
function settleAccountZombie(m: Machine, t: number): void {
  const y = m.tasks.lastV[t]!;
  if (m.tasks.lastT[t] !== -1) {
    if (m.tasks.free.has(y)) betweenZombieObjects(m, t);
    else if (m.tasks.curT[t] !== -1 && !taskCursorValid(m, t, y)) m.tasks.resetCursor(t);
    return;
  }
  const c = m.tasks.pendBits[t]!;
  if (c < 0) return;
  if (m.containers.free.has(c)) betweenZombieObjects(m, t);
  else if (m.tasks.curT[t] !== -1 && !destroyCursorValid(m, t, c)) m.tasks.resetCursor(t);
}

/**
 * One step of the chain of zombies inside task t's walk (spec:
 * zombieChainUnit): a step of the innermost's walk (taskStep, destroyStep,
 * accountZombieStep) with k, its only capability, kept for its last step.
 * Once it is gone, the task around it goes on at the slot below k: the next
 * zombie out (k's holder, or the account marked with it, whose walk
 * stands in it: linkAt), or, for the outermost, the task the walk is
 * through (a revoke's account zombie's: its task, or between objects if
 * that went). If the step took k's holder too, the chain starts again
 * (restartChain).
 */
function chainStep(m: Machine, t: number): void {
  const tt = m.tasks;
  const caps = m.caps;
  const kind = tt.zInT[t]!;
  const y = tt.zInV[t]!;
  const k = nameOf(m, kind, y);
  const h = caps.taskOf(k);
  const s = caps.slotOf(k);
  const outermost = kind === tt.zOutT[t] && y === tt.zOutV[t];
  if (kind === 1) taskStep(m, t, y, k, false);
  else if (kind === 2) accountZombieStep(m, t, y, k);
  else destroyStep(m, t, y, k);
  if (!gone(m, kind, y)) return;
  if (!outermost && tt.free.has(h)) return restartChain(m, t);
  // (the walk around: the next zombie out, a task, or an account whose walk stands in h, or, for the outermost, the walk the chain is in)
  const a = outermost ? revokeAccount(m, t) : linkAt(m, t, h);
  if (outermost) tt.clearChain(t);
  else {
    if (a !== -1) tt.unmarkAccount(a, t);
    tt.zInT[t] = a === -1 ? 1 : 2;
    tt.zInV[t] = a === -1 ? h : a;
  }
  tt.resetCursor(t);
  tt.pendPage[t] = -1;
  tt.pendBits[t] = s > 0 ? s - 1 : -1;
  // (an account's walk in task h: the slot below k; a revoke's account zombie whose task went is between objects)
  if (a !== -1) accountInTask(m, t, h);
}

/**
 * The chain of zombies inside task t's walk lost more than its innermost
 * (spec: restartChain): it starts again from its outermost zombie, if that
 * is still there; else the walk through the task around it starts again.
 */
function restartChain(m: Machine, t: number): void {
  const tt = m.tasks;
  const kind = tt.zOutT[t]!;
  const y = tt.zOutV[t]!;
  // (a revoke's account zombie around the chain: the task its walk stands in)
  const ra = revokeAccount(m, t);
  const around = ra === -1 ? -1 : tt.linkOf(ra, t);
  tt.lastT[t] = -1;
  tt.lastV[t] = -1;
  if (!gone(m, kind, y)) {
    tt.clearMarks(t);
    if (around !== -1) tt.markAccount(ra, t, around);
    tt.zInT[t] = kind;
    tt.zInV[t] = y;
    return startObjectWalk(m, t, kind);
  }
  tt.clearChain(t);
  startObjectWalk(m, t, 1);
  if (around !== -1) accountInTask(m, t, around);
}

/**
 * After another operation: if the innermost zombie inside task t's walk
 * went, the chain starts again (restartChain); if the mapping its walk
 * stands at went, or left the tree of the slot or page it empties, its
 * walk starts that slot or page again (an account zombie's:
 * settleAccountZombie).
 */
function settleChain(m: Machine, t: number): void {
  const tt = m.tasks;
  const kind = tt.zInT[t]!;
  const y = tt.zInV[t]!;
  if (gone(m, kind, y)) restartChain(m, t);
  else if (kind === 2) settleAccountZombie(m, t);
  else if (tt.curT[t] !== -1 && !(kind === 1 ? taskCursorValid(m, t, y) : destroyCursorValid(m, t, y))) tt.resetCursor(t);
}

/**
 * The capability naming object (kind, id) with the greatest index other
 * than `own` vanishes (what hangs from it is re-attached), or, with none
 * left, the object goes (`destroy`). The object's list is sorted on demand
 * (CapTable.greatestName: once per object, as nothing may name it anew
 * meanwhile), so a destroy that removes n names one per step does not
 * scan the list n times.
 * Returns whether the object is gone (without `own`, as in an account
 * destroy, the last capability's removal takes it with it).
 */
function namingStep(m: Machine, t: number, kind: number, id: number, own: number, destroy: (m: Machine, id: number) => void, free: { has(id: number): boolean }): boolean {
  const caps = m.caps;
  // (the list sorted, greatest first: the greatest other than own is its first, or its second if own is first)
  let other = caps.greatestName(caps.objIndex(kind, id));
  if (other !== -1 && other === own) other = caps.objNext[other]!;
  if (other !== -1 && handUp(m, t, other)) return false;
  if (other !== -1) vanishCap(m, other);
  else destroy(m, id);
  reap(m);
  return free.has(id);
}

/**
 * container.destroy of container c by task t through its capability in
 * `slot`, under the budget (its checks passed): starts the walk if t has
 * none pending, runs at most `budget` steps, and finishes or leaves it
 * preempted (`m.preempted`).
 */
export function destroyChunk(m: Machine, t: number, slot: number, c: number, budget: number): number {
  if (startWalk(m, t, DESTROY, slot, c)) m.tasks.pendPage[t] = m.containers.S - 1;
  const own = m.caps.at(t, slot);
  let finished = false;
  m.inWalk = true;
  for (let spent = 0; !finished && spent < budget; spent++) finished = destroyStep(m, t, c, own);
  m.inWalk = false;
  return endEntry(m, t, finished);
}

/**
 * One step of task t's destroy of container c (spec: destroyUnit): in the
 * slot being emptied, down to its first root mapping (the slot's list is in
 * key order, greatest first) or a mapping's first child, or remove a
 * mapping without children and go up, or empty the slot and go to the one
 * below; once all are empty, the capability naming c with the greatest
 * index other than t's own vanishes (namingStep), and
 * last t's own with the container.
 */
function destroyStep(m: Machine, t: number, c: number, own: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
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
  return namingStep(m, t, KIND_CONTAINER, c, own, destroyContainer, m.containers.free);
}

/**
 * account.destroy of account a by task t through its capability in `slot`,
 * under the budget (its checks passed): starts the walk if t has none
 * pending, runs at most `budget` steps, and finishes or leaves it
 * preempted.
 */
export function accountDestroyChunk(m: Machine, t: number, slot: number, a: number, budget: number): number {
  if (startWalk(m, t, ADESTROY, slot, a)) betweenObjects(m, t);
  const own = m.caps.at(t, slot);
  let finished = false;
  m.inWalk = true;
  for (let spent = 0; !finished && spent < budget; spent++) finished = accountStep(m, t, a, own) || subjectWent(m, t, KIND_ACCOUNT, a);
  m.inWalk = false;
  if (m.tasks.free.has(t)) return endEntry(m, t, true);
  return endEntry(m, t, finished);
}

/** Task t's account destroy stands between objects. */
function betweenObjects(m: Machine, t: number): void {
  const tt = m.tasks;
  tt.resetWalk(t);
  tt.pendPage[t] = -1;
  tt.pendBits[t] = -1;
}

/**
 * One step of task t's destroy of account a (spec: accountUnit): a step of
 * the container or task it takes apart (destroyStep, taskStep), or, between
 * objects, the next thing to do: the DMA handle, container or task with the
 * greatest id that a or an account below it pays for (lastPaidUnder: a
 * visit of the subtree and its sorted lists; the subject's task last and only while it still has pages or
 * capabilities but its own; a handle loses a capability naming it per
 * step, and reap takes it with the last), a capability naming the
 * greatest sub-account without sub-accounts (not the one paying for the
 * subject), one naming t's task or a sub-account paying for it while
 * another names it too (dropName), or one naming a other than t's own
 * (namingStep), and last a itself.
 */
function accountStep(m: Machine, t: number, a: number, own: number): boolean {
  const tt = m.tasks;
  const acc = m.accounts;
  if (acc.free.has(a)) return true;
  if (tt.zoneT[t] !== -1) {
    const x = tt.zoneV[t]!;
    const done = tt.zoneT[t] === 0 ? destroyStep(m, t, x, -1) : walkTask(m, t, x, own, x === t);
    // (a step that took the subject took its record: subjectWent finishes)
    if (done && !tt.free.has(t)) betweenObjects(m, t);
    return acc.free.has(a);
  }
  const h = lastHandleUnder(m, a);
  if (h !== -1) {
    // (one capability naming it per step; reap takes it with the last)
    namingStep(m, t, KIND_DMA, h, -1, destroyHandle, m.handles.free);
    return acc.free.has(a);
  }
  const c = lastContainerUnder(m, a);
  if (c !== -1) {
    tt.zoneT[t] = 0;
    tt.zoneV[t] = c;
    tt.pendPage[t] = m.containers.S - 1;
    return false;
  }
  const next = nextTaskUnder(m, a, t, own);
  if (next !== -1) {
    tt.zoneT[t] = 1;
    tt.zoneV[t] = next;
    tt.pendPage[t] = m.config.vpages - 1;
    tt.pendBits[t] = m.caps.C - 1;
    return false;
  }
  // (not the one paying for the subject: it waits for the last step)
  const b = lastLeafBelow(m, a, tt.account[t]!);
  if (b !== -1) {
    namingStep(m, t, KIND_ACCOUNT, b, -1, destroyAccount, acc.free);
    return acc.free.has(a);
  }
  if (dropWaiting(m, t, a, t)) return acc.free.has(a);
  return namingStep(m, t, KIND_ACCOUNT, a, own, destroyAccount, acc.free);
}

/**
 * Before the last step of task t's walk through account a: of what waits
 * for that step, task y (an account destroy's subject, or the holder of an
 * account zombie's capability) and the sub-accounts between y's account
 * and a, if a or one below it pays for y, the first named by more than one
 * capability (y, then the sub-accounts, the greatest id first: a walk up
 * the account tree, not a scan of the account table) loses its name with
 * the greatest key (dropName). Returns whether one did.
 */
function dropWaiting(m: Machine, t: number, a: number, y: number): boolean {
  const acc = m.accounts;
  const payer = m.tasks.account[y]!;
  if (!accountUnder(m, payer, a)) return false;
  if (dropName(m, t, KIND_TASK, y)) return true;
  let best = -1;
  for (let x = payer; x !== a; x = acc.parent[x]!) {
    const first = m.caps.objFirst[m.caps.objIndex(KIND_ACCOUNT, x)]!;
    if (x > best && first !== -1 && m.caps.objNext[first] !== -1) best = x;
  }
  return best !== -1 && dropName(m, t, KIND_ACCOUNT, best);
}

/** If more than one capability names object `kind` `id`, the one with the greatest key vanishes (reap re-attaches what hung from it); returns whether one did. */
function dropName(m: Machine, t: number, kind: number, id: number): boolean {
  const caps = m.caps;
  const greatest = caps.greatestName(caps.objIndex(kind, id));
  if (greatest === -1 || caps.objNext[greatest] === -1) return false;
  if (handUp(m, t, greatest)) return true;
  vanishCap(m, greatest);
  reap(m);
  return true;
}

/** Has task t, the subject of an account destroy, no page and no capability but its own (`own`) left? */
function emptied(m: Machine, t: number, own: number): boolean {
  if (m.pages.mappedAtOrBelow(t, m.config.vpages - 1) !== -1) return false;
  const base = m.caps.at(t, 0);
  for (let n = base; n < base + m.caps.C; n++) if (n !== own && !m.caps.isEmpty(n)) return false;
  return true;
}

/** Is capability n strictly below capability top in the derivation tree? */
export function capUnder(m: Machine, n: number, top: number): boolean {
  const caps = m.caps;
  for (let x = caps.parent[n]!; x !== -1; x = caps.parent[x]!) if (x === top) return true;
  return false;
}

/** Does the cursor of task t's preempted destroy of task x (a task.destroy's or an account.destroy's) stand at a live mapping in the tree of x's page it empties? */
export function taskCursorValid(m: Machine, t: number, x: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const ct = tt.curT[t]!;
  if (pages.dirOf[ct] === -1) return false;
  if (tt.pendPage[t]! < 0) return rootCursorValid(m, t, x);
  let e = pages.lookup(ct, tt.curV[t]!);
  const top = pages.lookup(x, tt.pendPage[t]!);
  if (e === -1 || top === -1) return false;
  // (a chain of parents is as long as the mappings are many, at most)
  for (let hops = 0; e >= 0 && hops <= pages.up.length; hops++) {
    if (e === top) return true;
    e = pages.up[e]!;
  }
  return false;
}

/**
 * Does the cursor of task t's walk through task x's capabilities stand at a
 * live mapping in the tree of a root mapping that x's capability at the
 * walk's slot authorized, and that capability's parent cannot take
 * (handUpRoot)?
 */
function rootCursorValid(m: Machine, t: number, x: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const i = tt.pendBits[t]!;
  let e = pages.lookup(tt.curT[t]!, tt.curV[t]!);
  if (e === -1 || i < 0) return false;
  // (a chain of parents is as long as the mappings are many, at most)
  for (let hops = 0; pages.up[e]! >= 0 && hops <= pages.up.length; hops++) e = pages.up[e]!;
  const n = m.caps.at(x, i);
  return pages.up[e] === -2 - n && !rootsReattach(m, n);
}

/** Does the cursor of task t's preempted destroy of container c (a container.destroy's or an account.destroy's) stand at a live mapping in a tree rooted at the slot it empties? */
export function destroyCursorValid(m: Machine, t: number, c: number): boolean {
  const tt = m.tasks;
  const pages = m.pages;
  const ct = tt.curT[t]!;
  if (pages.dirOf[ct] === -1 || tt.pendPage[t]! < 0) return false;
  let x = pages.lookup(ct, tt.curV[t]!);
  if (x === -1) return false;
  while (pages.up[x]! >= 0) x = pages.up[x]!;
  return pages.what[x] === c * m.containers.S + tt.pendPage[t]!;
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
  if (startWalk(m, t, mode, vpage, order)) {
    tt.pendPage[t] = vpage;
    tt.pendBits[t] = 0;
  }
  const end = vpage + 2 ** order;
  for (let spent = 0; tt.pendPage[t]! < end && spent < budget; spent++) step(m, t, mode);
  if (tt.pendPage[t]! >= end) m.value = tt.pendBits[t]!;
  return endEntry(m, t, tt.pendPage[t]! >= end);
}

/**
 * The first entry of task t's removal: its record (pendMode `mode`,
 * pendVpage `slot`, pendOrder `object`) is started, and counted. Returns
 * false on a later entry, whose record is there.
 */
function startWalk(m: Machine, t: number, mode: number, slot: number, object: number): boolean {
  const tt = m.tasks;
  if (tt.pendMode[t] !== -1) return false;
  tt.pendMode[t] = mode;
  tt.pendVpage[t] = slot;
  tt.pendOrder[t] = object;
  tt.resetWalk(t);
  // (into the list of tasks with a preempted removal, in order of id: settlePending settles them in that order, as the spec does)
  const list = m.pendingTasks;
  let i = m.pendingCount;
  for (; i > 0 && list[i - 1]! > t; i--) list[i] = list[i - 1]!;
  list[i] = t;
  m.pendingCount += 1;
  return true;
}

/** Task t, the i-th in m.pendingTasks, has no preempted removal any more: its record cleared, and out of the list. */
function dropPending(m: Machine, i: number): void {
  m.tasks.clearPending(m.pendingTasks[i]!);
  m.pendingCount -= 1;
  m.pendingTasks.copyWithin(i, i + 1, m.pendingCount + 1);
}

/** Ends an entry of task t's removal: preempted, or finished (its record cleared). */
function endEntry(m: Machine, t: number, finished: boolean): number {
  if (!finished) m.preempted = true;
  else dropPending(m, m.pendingTasks.indexOf(t, 0));
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
  startWalk(m, t, REVOKE, slot, -1);
  const top = m.caps.at(t, slot);
  let finished = false;
  m.inWalk = true;
  for (let spent = 0; !finished && spent < budget; spent++) finished = revokeStep(m, t, top);
  m.inWalk = false;
  // (the subject may have gone with the object of the last capability the walk removed: its removal with it)
  if (m.tasks.free.has(t)) return endEntry(m, t, true);
  return endEntry(m, t, finished);
}

/** Is capability node n the only one naming its object? */
function onlyName(m: Machine, n: number): boolean {
  const caps = m.caps;
  return caps.objFirst[caps.objIndex(caps.kindOf(n), caps.objOf(n))] === n && caps.objNext[n] === -1;
}

/**
 * Scratch of doomsSubject, kept between calls: per capability node and per
 * object, the call that marked it; per object, its names left. `spared`:
 * the capability node zombieStep has just asked about (and found it would
 * not take the subject) for the step it is about to run, so that
 * startsZombie, in that step, need not ask again; -1 otherwise.
 */
const doom = { gen: 0, cap: new Int32Array(0), obj: new Int32Array(0), dead: new Int32Array(0), left: new Int32Array(0), sp: 0, spared: -1 };

/**
 * Would removing capability node n, the last one naming its object, take
 * task s with it (spec: the closure of removal.ts has s)? A dry run of
 * reap: the objects no capability names any more go, a task with the
 * capabilities it holds, an account with its sub-accounts (its child
 * list) and the tasks it pays for (its list of them; containers and handles take only the capabilities naming
 * them, which cannot take a task). Costs as much as what would go.
 */
function doomsSubject(m: Machine, n: number, s: number): boolean {
  const caps = m.caps;
  if (s === 0) return false; // (the root task never goes)
  if (doom.cap.length < caps.parent.length || doom.obj.length < caps.objFirst.length || doom.gen === 0x7fffffff) {
    doom.cap = new Int32Array(caps.parent.length);
    doom.obj = new Int32Array(caps.objFirst.length);
    doom.dead = new Int32Array(caps.objFirst.length);
    doom.left = new Int32Array(caps.objFirst.length);
    doom.gen = 0;
  }
  doom.gen += 1;
  doom.sp = 0;
  doomCap(m, n);
  while (doom.sp > 0) {
    const oi = m.stack.a[--doom.sp]!;
    const kind = caps.kindOfIndex(oi);
    const id = caps.idOfIndex(oi);
    if (kind === KIND_TASK) {
      if (id === s) return true;
      const base = caps.at(id, 0);
      for (let c = base; c < base + caps.C; c++) if (!caps.isEmpty(c)) doomCap(m, c);
    } else if (kind === KIND_ACCOUNT) {
      for (let a = m.accounts.firstChild[id]!; a !== -1; a = m.accounts.nextSib[a]!) doomObject(m, caps.objIndex(KIND_ACCOUNT, a));
      for (let t = m.tasks.paid.first[id]!; t !== -1; t = m.tasks.paid.next[t]!) doomObject(m, caps.objIndex(KIND_TASK, t));
    }
  }
  return false;
}

/** Capability node c goes in doomsSubject's dry run: its object has one name fewer, and goes with its last (not the root account or task). */
function doomCap(m: Machine, c: number): void {
  const caps = m.caps;
  if (doom.cap[c] === doom.gen) return;
  doom.cap[c] = doom.gen;
  const kind = caps.kindOf(c);
  const obj = caps.objOf(c);
  const oi = caps.objIndex(kind, obj);
  if (doom.obj[oi] !== doom.gen) {
    doom.obj[oi] = doom.gen;
    let names = 0;
    for (let x = caps.objFirst[oi]!; x !== -1; x = caps.objNext[x]!) names++;
    doom.left[oi] = names;
  }
  doom.left[oi]! -= 1;
  if (doom.left[oi] === 0 && !(obj === 0 && (kind === KIND_ACCOUNT || kind === KIND_TASK))) doomObject(m, oi);
}

/** Object oi goes in doomsSubject's dry run (once). */
function doomObject(m: Machine, oi: number): void {
  if (doom.dead[oi] === doom.gen) return;
  doom.dead[oi] = doom.gen;
  doom.sp = m.stack.push(doom.sp, oi);
}

/**
 * One step of task t's revoke of capability top (spec: revokeUnit): down
 * one level (a capability's first root mapping, else its first child; a
 * mapping's first child), or remove the node the walk stands at and go up.
 * Returns true when nothing is left below top. Removing a capability that
 * was the last one naming its object destroys the object (reap): that
 * step's work is as large as the object. If that would take t too
 * (doomsSubject), all that is still below top goes instead, and the
 * revoke is finished (spec: the subject rule).
 */
function revokeStep(m: Machine, t: number, top: number): boolean {
  const tt = m.tasks;
  const caps = m.caps;
  const pages = m.pages;
  if (tt.zoneT[t] !== -1) return zombieStep(m, t, top);
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
  if (onlyName(m, n)) {
    // the subject rule: all that is still below top goes in this step, as in one step; t's record goes with t
    if (doomsSubject(m, n, t)) return revokeRest(m, top);
    const kind = caps.kindOf(n);
    const x = caps.objOf(n);
    if (kind === KIND_CONTAINER ? !emptyContainer(m, x) : kind === KIND_TASK ? x !== 0 && !emptied(m, x, n) : kind === KIND_ACCOUNT && accountZombieWorthy(m, x, t, caps.taskOf(n), true)) {
      // a zombie: emptied first, while n still names it
      tt.zoneT[t] = zombieKindOf(kind);
      tt.zoneV[t] = x;
      startObjectWalk(m, t, tt.zoneT[t]!);
      return false;
    }
  }
  unlinkCap(m, n);
  freeCapNode(m, n);
  reap(m);
  if (p === top || caps.isEmpty(p)) tt.resetWalk(t);
  else atCap(m, t, p);
  return false;
}

/** The subject rule of a revoke of top: all that is still below top goes at once, as in one step. Returns true (finished). */
function revokeRest(m: Machine, top: number): boolean {
  const caps = m.caps;
  while (caps.firstChild[top]! !== -1) removeCapSubtree(m, caps.firstChild[top]!);
  reap(m);
  return true;
}

/** Are all of container c's slots empty? */
function emptyContainer(m: Machine, c: number): boolean {
  const S = m.containers.S;
  for (let i = c * S; i < (c + 1) * S; i++) if (m.containers.kind[i] !== SLOT_EMPTY) return false;
  return true;
}

/**
 * One step of task t's revoke of capability top while it empties a zombie
 * (spec: zombieUnit): a step of the zombie's walk (destroyStep, taskStep,
 * accountZombieStep)
 * with k, its only capability, as the one kept for the last step, which
 * takes it with the object; then the walk goes up to k's parent. Before a
 * task's capability vanishes, doomsSubject tells whether that would take
 * t: then the subject rule (revokeRest).
 */
function zombieStep(m: Machine, t: number, top: number): boolean {
  const tt = m.tasks;
  const caps = m.caps;
  const x = tt.zoneV[t]!;
  const ofTask = tt.zoneT[t] === 1;
  const k = nameOf(m, tt.zoneT[t]!, x);
  // (the walk whose step this is: the innermost zombie's inside x, if any; an account zombie's at a task walks that task)
  const wt = tt.zInT[t] === -1 ? tt.zoneT[t] : tt.zInT[t];
  const atTask = wt === 2 && tt.lastT[t] !== -1;
  if ((wt === 1 || atTask) && tt.pendPage[t]! < 0 && tt.pendBits[t]! >= 0) {
    // (the capability taskStep is about to delete: the greatest at or below pendBits, but the one naming that zombie)
    const y = atTask ? tt.lastV[t]! : tt.zInT[t] === -1 ? x : tt.zInV[t]!;
    const ky = atTask ? -1 : y === x ? k : nameOf(m, 1, y);
    const base = caps.at(y, 0);
    let j = base + tt.pendBits[t]!;
    while (j >= base && (caps.isEmpty(j) || j === ky)) j--;
    if (j >= base && onlyName(m, j)) {
      if (doomsSubject(m, j, t)) return revokeRest(m, top);
      doom.spared = j; // (the step below may make j's object a zombie: startsZombie need not ask again)
    }
  }
  const p = caps.parent[k]!;
  let done: boolean;
  try {
    if (tt.zoneT[t] === 2) {
      if (tt.zInT[t] === -1) accountZombieStep(m, t, x, k);
      else chainStep(m, t);
      done = m.accounts.free.has(x);
    } else done = ofTask ? walkTask(m, t, x, k, false) : destroyStep(m, t, x, k);
  } finally {
    doom.spared = -1;
  }
  if (!done) return false;
  endZombie(m, t);
  if (p !== top && !caps.isEmpty(p)) atCap(m, t, p);
  return false;
}

/** Task t's revoke no longer empties a zombie: its walk at the revoked capability. */
function endZombie(m: Machine, t: number): void {
  const tt = m.tasks;
  tt.resetWalk(t);
  tt.pendPage[t] = -1;
  tt.pendBits[t] = 0;
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
  else m.tasks.resetCursor(t);
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
 * Task t's walk through the container or task in zoneT/zoneV (an account
 * destroy's, a revoke's zombie's) after another operation: if the object
 * is still there, a cursor that operation took is reset (the walk starts
 * that slot or page again) and the result is true; false if the object
 * went.
 */
function settleObjectWalk(m: Machine, t: number): boolean {
  const tt = m.tasks;
  const x = tt.zoneV[t]!;
  const ofTask = tt.zoneT[t] === 1;
  if (gone(m, tt.zoneT[t]!, x)) return false;
  if (tt.zInT[t] !== -1) settleChain(m, t);
  else if (tt.zoneT[t] === 2) settleAccountZombie(m, t);
  else if (tt.curT[t] !== -1 && !(ofTask ? taskCursorValid(m, t, x) : destroyCursorValid(m, t, x))) tt.resetCursor(t);
  return true;
}

/**
 * After a successful operation while some removal is preempted: a walk
 * whose cursor went (or, for a revoke, is no longer below the revoked
 * capability) starts again, and a revoke whose capability went ends
 * (spec: settlePending). A look at each task with a preempted removal, in
 * order of id; task `own`, whose walk the operation continued, is skipped
 * (its walk leaves its cursor on a live node of its tree: the
 * representation check preemptedWalksExact says so after every step).
 */
export function settlePending(m: Machine, own: number): void {
  for (let i = 0; i < m.pendingCount; ) {
    // (a removal that ends leaves the list: the next task moves to i)
    if (settled(m, m.pendingTasks[i]!, own)) i++;
    else dropPending(m, i);
  }
}

/** settlePending for task t: false if its removal ends (its record to be cleared). */
function settled(m: Machine, t: number, own: number): boolean {
  const tt = m.tasks;
  // (a task that went during the operation, the one whose walk ran among them, took its removal along)
  if (tt.free.has(t)) return false;
  if (t === own) return true;
  if (tt.pendMode[t] === DESTROY || tt.pendMode[t] === TDESTROY) {
    const ofTask = tt.pendMode[t] === TDESTROY;
    const x = tt.pendOrder[t]!;
    const k = m.caps.at(t, tt.pendVpage[t]!);
    if ((ofTask ? tt.free : m.containers.free).has(x) || m.caps.isEmpty(k) || m.caps.kindOf(k) !== (ofTask ? KIND_TASK : KIND_CONTAINER) || m.caps.objOf(k) !== x) return false;
    if (tt.zInT[t] !== -1) settleChain(m, t);
    else if (tt.curT[t] !== -1 && !(ofTask ? taskCursorValid(m, t, x) : destroyCursorValid(m, t, x))) tt.resetWalk(t);
    return true;
  }
  if (tt.pendMode[t] === ADESTROY) {
    const a = tt.pendOrder[t]!;
    const k = m.caps.at(t, tt.pendVpage[t]!);
    if (m.accounts.free.has(a) || m.caps.isEmpty(k) || m.caps.kindOf(k) !== KIND_ACCOUNT || m.caps.objOf(k) !== a) return false;
    if (tt.zoneT[t] !== -1 && !settleObjectWalk(m, t)) betweenObjects(m, t);
    return true;
  }
  if (tt.pendMode[t] === REVOKE) {
    const top = m.caps.at(t, tt.pendVpage[t]!);
    if (m.caps.isEmpty(top)) return false;
    if (tt.zoneT[t] !== -1) {
      // (a zombie that went took its capability, the walk's node, along; one whose capability another walk handed up
      // out of the revoke's reach is no longer the revoke's)
      if (!settleObjectWalk(m, t) || !capUnder(m, nameOf(m, tt.zoneT[t]!, tt.zoneV[t]!), top)) endZombie(m, t);
    } else if (tt.curT[t] !== -1 && !revokeCursorValid(m, t, top)) tt.resetWalk(t);
    return true;
  }
  // (an unmap; a task that died has no directory page, so nothing of it is mapped)
  const ct = tt.curT[t]!;
  if (ct !== -1 && (m.pages.dirOf[ct] === -1 || m.pages.lookup(ct, tt.curV[t]!) === -1)) tt.resetWalk(t);
  return true;
}
