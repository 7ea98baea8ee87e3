/**
 * Taking things away, in place (the spec's counterpart is spec/removal.ts,
 * which computes the whole set first). Each function here removes one kind
 * of object with everything that cannot outlive it, walking trees with
 * explicit stacks, and refunds every payer as it goes:
 * - a capability node takes its descendants and the root mappings each of
 *   them authorized (with their derived mappings);
 * - a mapping takes the mappings derived from it (mapdb.ts);
 * - a task takes its capabilities, the capabilities naming it, and every
 *   mapping in its page table;
 * - a container is rescinded in O(1) by a version bump, and its slots let go
 *   of their frames and their root mappings;
 * - a DMA handle takes the capabilities naming it and unwires its frame;
 * - an account takes its sub-accounts and every task, container and handle
 *   any of them pays for, and returns all their quota to its parent.
 */
import { KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK, SLOT_EMPTY, SLOT_HARD, SLOT_SOFT } from "./constants.js";
import { isStale } from "./checks.js";
import type { Machine } from "./machine.js";
import { removeMappingSubtree } from "./mapdb.js";

/** Frees cap node n itself (not its children, which must be gone or moved), after its mappings. */
export function freeCapNode(m: Machine, n: number): void {
  const caps = m.caps;
  while (caps.firstMap[n]! !== -1) removeMappingSubtree(m, caps.firstMap[n]!);
  const task = caps.task[n]!;
  caps.cspace[task * caps.C + caps.slot[n]!] = -1;
  m.accounts.objCharged[m.tasks.account[task]!]! -= 1;
  caps.unlinkObject(n, isStale(m, n)); // a stale node's object list is detached
  caps.release(n);
}

/** Removes cap node `top` and all its descendants, with their mappings. */
export function removeCapSubtree(m: Machine, top: number): void {
  const caps = m.caps;
  const stack = m.stack;
  caps.unlinkFromParent(top);
  let sp = stack.push(0, top);
  while (sp > 0) {
    const n = stack.a[--sp]!;
    for (let c = caps.firstChild[n]!; c !== -1; c = caps.nextSib[c]!) sp = stack.push(sp, c);
    freeCapNode(m, n);
  }
}

/** Removes every cap naming object (kind, id), with descendants and mappings. */
export function rescind(m: Machine, kind: number, id: number): void {
  const caps = m.caps;
  const oi = caps.objIndex(kind, id);
  while (caps.objFirst[oi]! !== -1) removeCapSubtree(m, caps.objFirst[oi]!);
}

export function destroyTask(m: Machine, t: number): void {
  const caps = m.caps;
  const pages = m.pages;
  const base = t * caps.C;
  for (let s = 0; s < caps.C; s++) {
    const n = caps.cspace[base + s]!;
    if (n !== -1) removeCapSubtree(m, n);
  }
  rescind(m, KIND_TASK, t);
  const dir = pages.dirOf[t]!;
  for (let d = 0; d < pages.dirEntries; d++) {
    for (let i = 0; i < pages.leafSize; i++) {
      const leaf = pages.dirPool[dir * pages.dirEntries + d]!;
      if (leaf < 0) break; // freed with its last entry
      const e = leaf * pages.leafSize + i;
      if (pages.up[e] !== -1) removeMappingSubtree(m, e);
    }
  }
  pages.destroy(t);
  m.accounts.objCharged[m.tasks.account[t]!]! -= 1;
  m.tasks.account[t] = -1;
  m.tasks.free.add(t);
}

export function destroyHandle(m: Machine, h: number): void {
  rescind(m, KIND_DMA, h);
  const handles = m.handles;
  const f = handles.frame[h]!;
  m.frames.wired[f]! -= 1;
  m.frames.refresh(f);
  m.accounts.objCharged[handles.account[h]!]! -= 1;
  handles.account[h] = -1;
  handles.frame[h] = -1;
  handles.free.add(h);
}

/**
 * Destroys container c. Its capabilities are rescinded in O(1): bumping the
 * version makes every one of them stale (dead when used, invisible to the
 * abstraction function) and detaches their object list; the nodes are freed
 * lazily, when their slot is reused or their task dies. Its mappings are
 * all rooted at its slots and go with them.
 */
export function destroyContainer(m: Machine, c: number): void {
  const cons = m.containers;
  cons.version[c]! += 1;
  m.caps.objFirst[m.caps.objIndex(KIND_CONTAINER, c)] = -1;
  const account = cons.account[c]!;
  for (let i = 0; i < cons.S; i++) dropSlot(m, c * cons.S + i, account);
  m.accounts.objCharged[account]! -= 1;
  cons.account[c] = -1;
  cons.free.add(c);
}

/**
 * Lets go of what container slot `si` holds (its account is `account`) and
 * leaves it empty: a hard reference takes its mappings along and refunds the
 * frame charge; a valid soft reference stops counting for its frame.
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
  } else if (kind === SLOT_SOFT && cons.aux[si] === frames.epoch[f]) {
    frames.softLive[f]! -= 1;
    frames.refresh(f);
  }
  cons.kind[si] = SLOT_EMPTY;
  cons.frame[si] = -1;
  cons.aux[si] = 0;
}

/** Destroys account a, its sub-accounts and all they pay for; their quota returns to a's parent. */
export function destroyAccount(m: Machine, a: number): void {
  const acc = m.accounts;
  const stack = m.stack;
  // Mark the subtree (explicit stack over child lists) and add up its quota.
  let frameQuota = 0;
  let objQuota = 0;
  let sp = stack.push(0, a);
  while (sp > 0) {
    const x = stack.a[--sp]!;
    acc.mark[x] = 1;
    frameQuota += acc.frameQuota[x]!;
    objQuota += acc.objQuota[x]!;
    for (let c = acc.firstChild[x]!; c !== -1; c = acc.nextSib[c]!) sp = stack.push(sp, c);
  }
  const { tasks, containers, accounts, handles } = m.config;
  for (let t = 0; t < tasks; t++) if (!m.tasks.free.has(t) && acc.mark[m.tasks.account[t]!]) destroyTask(m, t);
  for (let c = 0; c < containers; c++) if (!m.containers.free.has(c) && acc.mark[m.containers.account[c]!]) destroyContainer(m, c);
  for (let h = 0; h < handles; h++) if (!m.handles.free.has(h) && acc.mark[m.handles.account[h]!]) destroyHandle(m, h);
  for (let x = 0; x < accounts; x++) if (acc.mark[x]) rescind(m, KIND_ACCOUNT, x);
  // Return the quota to the parent, refund the node, unlink a.
  const p = acc.parent[a]!;
  acc.frameQuota[p]! += frameQuota;
  acc.objQuota[p]! += objQuota;
  acc.objCharged[p]! -= 1;
  acc.unlink(a);
  for (let x = 0; x < accounts; x++) if (acc.mark[x]) acc.release(x);
}
