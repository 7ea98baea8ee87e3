/**
 * Taking things away, in place (the spec's counterpart is spec/removal.ts,
 * which computes the whole set first). Each function here removes one kind
 * of object with everything that cannot outlive it, walking trees with
 * explicit stacks, and refunds every payer as it goes:
 * - a revoked capability node takes its descendants and the root mappings
 *   each of them authorized (with their derived mappings); any other
 *   vanishing node hands its children and root mappings up (`vanishCap`);
 * - an object whose last capability goes is destroyed (`reap`, the
 *   final-capability rule);
 * - a mapping takes the mappings derived from it (mapdb.ts);
 * - a task takes its capabilities, the capabilities naming it, and every
 *   mapping in its page table; its fault leaves its pager's queue and the
 *   faults waiting at it fail (pagers.ts, forgetTask);
 * - a container takes the capabilities naming it, and its slots let go of
 *   their frames and their root mappings;
 * - a DMA handle takes the capabilities naming it and unwires its frame;
 * - an account takes its sub-accounts and every task, container and handle
 *   any of them pays for, and returns all their quota to its parent.
 */
import { KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK, SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED } from "./constants.js";
import type { Machine } from "./machine.js";
import { insertByKey, keyAfter, removeMappingSubtree } from "./mapdb.js";
import { forgetTask } from "./pagers.js";
import { keptAncestor, unlinkCap } from "./preemption.js";

/**
 * Empties capability slot n, after its mappings (which go with it) and with
 * its children already gone or moved. If n was the last capability naming
 * its object (and the object is not sigma0's), the object is queued for
 * destruction (the final-capability rule; `reap` destroys it).
 */
export function freeCapNode(m: Machine, n: number): void {
  const caps = m.caps;
  while (caps.firstMap[n]! !== -1) removeMappingSubtree(m, caps.firstMap[n]!);
  m.accounts.objCharged[m.tasks.account[caps.taskOf(n)]!]! -= 1;
  caps.unlinkObject(n);
  const kind = caps.kindOf(n);
  const obj = caps.objOf(n);
  const oi = caps.objIndex(kind, obj);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: an object is queued only when no capability names it; account 0 and task 0 never are (task 0's boot capabilities cannot be deleted), and reap skips an object named again
  if (caps.objFirst[oi] === -1 && !(obj === 0 && (kind === KIND_ACCOUNT || kind === KIND_TASK))) m.pending.push(m.pendingTop++, oi);
  caps.clear(n);
}

/** Removes cap node `top` and all its descendants, with their mappings (revoke). */
export function removeCapSubtree(m: Machine, top: number): void {
  const caps = m.caps;
  const stack = m.stack;
  unlinkCap(m, top);
  let sp = stack.push(0, top);
  while (sp > 0) {
    const n = stack.a[--sp]!;
    for (let c = caps.firstChild[n]!; c !== -1; c = caps.nextSib[c]!) sp = stack.push(sp, c);
    freeCapNode(m, n);
  }
}

/**
 * Cap node n vanishes (deleted, its holder dies, its object dies): its
 * children are re-attached to its parent, the root mappings it authorized to
 * its parent if that is a live capability to the same container (else they
 * go), and n is freed. See spec/removal.ts for the rule.
 */
export function vanishCap(m: Machine, n: number): void {
  const caps = m.caps;
  // (past the capabilities a preempted removal will make vanish: preemption.ts keptAncestor)
  const parent = keptAncestor(m, caps.parent[n]!);
  caps.adoptChildren(n, parent);
  // Stryker disable next-line ConditionalExpression,LogicalOperator,UnaryOperator: mappings move only from a capability that has some, to a container capability for the same container: index -1 reads as kind 0 and index 1 is task 0's task capability, and a container capability's parent is one for the same container or the account capability it was made with
  if (caps.firstMap[n] !== -1 && parent !== -1 && caps.kindOf(parent) === KIND_CONTAINER && caps.objOf(parent) === caps.objOf(n)) adoptRoots(m, n, parent);
  unlinkCap(m, n);
  freeCapNode(m, n);
}

/**
 * Moves the root mappings cap n authorized to cap `parent`: both lists are
 * in order of key, greatest first, so one merge walk keeps parent's list in
 * order.
 */
function adoptRoots(m: Machine, n: number, parent: number): void {
  const caps = m.caps;
  const pages = m.pages;
  let e = caps.firstMap[n]!;
  let tail = e;
  for (let x = e; x !== -1; x = pages.nextCap[x]!) {
    pages.up[x] = -2 - parent;
    tail = x;
  }
  caps.firstMap[n] = -1;
  let x = caps.firstMap[parent]!;
  if (x === -1 || keyAfter(m, tail, x)) {
    // every key in n's list is greater than all in parent's (the usual case): it goes in front whole
    pages.nextCap[tail] = x;
    if (x !== -1) pages.prevCap[x] = tail;
    caps.firstMap[parent] = e;
    return;
  }
  let before = -1;
  while (e !== -1) {
    const next = pages.nextCap[e]!;
    before = insertByKey(m, e, before, before === -1 ? caps.firstMap[parent]! : pages.nextCap[before]!, pages.nextCap, pages.prevCap, caps.firstMap, parent);
    e = next;
  }
}

/** Every cap naming object (kind, id) vanishes (their children of other objects are re-attached). */
export function rescind(m: Machine, kind: number, id: number): void {
  const caps = m.caps;
  const oi = caps.objIndex(kind, id);
  while (caps.objFirst[oi]! !== -1) vanishCap(m, caps.objFirst[oi]!);
}

/**
 * Destroys every object queued by `freeCapNode` that is still alive and
 * still named by no capability, with all that goes with it (which may queue
 * more). Every removal ends with it.
 */
export function reap(m: Machine): void {
  const caps = m.caps;
  while (m.pendingTop > 0) {
    const oi = m.pending.a[--m.pendingTop]!;
    // Stryker disable next-line ConditionalExpression: reap runs at the end of the operation that queued the object, and nothing names it again in between
    if (caps.objFirst[oi] !== -1) continue;
    const kind = caps.kindOfIndex(oi);
    const id = caps.idOfIndex(oi);
    if (kind === KIND_TASK) {
      if (!m.tasks.free.has(id)) destroyTask(m, id);
    } else if (kind === KIND_CONTAINER) {
      // Stryker disable next-line ConditionalExpression: destroying an id that is already free writes only at index -1 (its fields are clean: freedEntriesClean) and frees it again
      if (!m.containers.free.has(id)) destroyContainer(m, id);
    } else if (kind === KIND_DMA) {
      // Stryker disable next-line ConditionalExpression: destroying an id that is already free writes only at index -1 (its fields are clean: freedEntriesClean) and frees it again
      if (!m.handles.free.has(id)) destroyHandle(m, id);
    } else {
      // Stryker disable next-line ConditionalExpression: destroying an id that is already free writes only at index -1 (its fields are clean: freedEntriesClean) and frees it again
      if (!m.accounts.free.has(id)) destroyAccount(m, id);
    }
  }
}

export function destroyTask(m: Machine, t: number): void {
  const caps = m.caps;
  const pages = m.pages;
  forgetTask(m, t);
  const base = caps.at(t, 0);
  for (let n = base; n < base + caps.C; n++) if (!caps.isEmpty(n)) vanishCap(m, n);
  rescind(m, KIND_TASK, t);
  const dir = pages.dirOf[t]!;
  for (let d = 0; d < pages.dirEntries; d++) {
    // Stryker disable next-line EqualityOperator: the leaf page is freed with its last entry and the loop stops there (leaf < 0), before the bound
    for (let i = 0; i < pages.leafSize; i++) {
      const leaf = pages.dirPool[dir * pages.dirEntries + d]!;
      if (leaf < 0) break; // freed with its last entry
      const e = leaf * pages.leafSize + i;
      if (pages.up[e] !== -1) removeMappingSubtree(m, e);
    }
  }
  pages.destroy(t);
  m.accounts.objCharged[m.tasks.account[t]!]! -= 1;
  m.tasks.paid.remove(m.tasks.account[t]!, t);
  m.tasks.account[t] = -1;
  m.tasks.setWindow(t, 0, 0, 0, 0);
  m.tasks.free.add(t);
}

export function destroyHandle(m: Machine, h: number): void {
  rescind(m, KIND_DMA, h);
  const handles = m.handles;
  const f = handles.frame[h]!;
  m.frames.wired[f]! -= 1;
  m.frames.refresh(f);
  m.accounts.objCharged[handles.account[h]!]! -= 1;
  m.accounts.framesCharged[handles.account[h]!]! -= 1;
  handles.paid.remove(handles.account[h]!, h);
  handles.account[h] = -1;
  handles.frame[h] = -1;
  handles.free.add(h);
}

/**
 * Destroys container c: the capabilities naming it vanish (their children
 * naming other objects are re-attached), and its slots let go of their
 * frames; its mappings are all rooted at its slots and go with them.
 */
export function destroyContainer(m: Machine, c: number): void {
  const cons = m.containers;
  rescind(m, KIND_CONTAINER, c);
  const account = cons.account[c]!;
  for (let i = 0; i < cons.S; i++) dropSlot(m, c * cons.S + i, account);
  m.accounts.objCharged[account]! -= 1;
  cons.paid.remove(account, c);
  cons.account[c] = -1;
  cons.free.add(c);
}

/**
 * Lets go of what container slot `si` holds (its account is `account`) and
 * leaves it empty: a hard reference takes its mappings along and refunds the
 * frame charge; a valid soft reference stops counting for its frame; a
 * swapped slot lets go of its swap page and refunds the object it cost.
 */
export function dropSlot(m: Machine, si: number, account: number): void {
  const cons = m.containers;
  const frames = m.frames;
  const kind = cons.kind[si]!;
  const f = cons.frame[si]!;
  if (kind === SLOT_HARD) {
    const roots = m.pages.slotRoots;
    while (roots[si]! !== -1) removeMappingSubtree(m, roots[si]!);
    m.accounts.framesCharged[account]! -= 1;
    frames.refs[f]! -= 1;
    frames.refresh(f);
  } else if (kind === SLOT_SWAPPED) {
    m.swap.release(cons.aux[si]!);
    m.accounts.objCharged[account]! -= 1;
  } else {
    // Stryker disable next-line ConditionalExpression: the epoch test alone fails for a slot that is not soft: a hard slot's epoch field is 0 while a frame in use has epoch 1 or more, and an empty slot names frame -1
    if (kind === SLOT_SOFT && cons.aux[si] === frames.epoch[f]) {
      frames.softLive[f]! -= 1;
      frames.refresh(f);
    }
  }
  cons.kind[si] = SLOT_EMPTY;
  cons.frame[si] = -1;
  cons.aux[si] = 0;
}

/**
 * Destroys account a, its sub-accounts and all they pay for; their quota
 * returns to a's parent. What each pays for is on its lists (the tables'
 * `paid`, tables/lists.ts), so the cost is that of the subtree and what it
 * pays for, not of the tables.
 */
export function destroyAccount(m: Machine, a: number): void {
  const acc = m.accounts;
  const stack = m.stack;
  // The subtree, breadth first, in stack.a[0, n) (a queue: nothing called below uses m.stack), and its quota.
  let frameQuota = 0;
  let objQuota = 0;
  let n = stack.push(0, a);
  for (let i = 0; i < n; i++) {
    const x = stack.a[i]!;
    frameQuota += acc.frameQuota[x]!;
    objQuota += acc.objQuota[x]!;
    for (let c = acc.firstChild[x]!; c !== -1; c = acc.nextSib[c]!) n = stack.push(n, c);
  }
  const { tasks, containers, handles } = m;
  // (each destroy takes its object off its payer's list)
  for (let i = 0; i < n; i++) for (let x = stack.a[i]!, t = tasks.paid.first[x]!; t !== -1; t = tasks.paid.first[x]!) destroyTask(m, t);
  for (let i = 0; i < n; i++) for (let x = stack.a[i]!, c = containers.paid.first[x]!; c !== -1; c = containers.paid.first[x]!) destroyContainer(m, c);
  for (let i = 0; i < n; i++) for (let x = stack.a[i]!, h = handles.paid.first[x]!; h !== -1; h = handles.paid.first[x]!) destroyHandle(m, h);
  for (let i = 0; i < n; i++) rescind(m, KIND_ACCOUNT, stack.a[i]!);
  // Return the quota to the parent, refund the node, unlink a.
  const p = acc.parent[a]!;
  acc.frameQuota[p]! += frameQuota;
  acc.objQuota[p]! += objQuota;
  acc.objCharged[p]! -= 1;
  acc.unlink(a);
  for (let i = 0; i < n; i++) acc.release(stack.a[i]!);
}
