/**
 * Mappings (spec/mappings.ts): page.map, page.unmap, page.bits and the L4
 * operations (map, grant, share) on the page tables (tables/pagetables.ts),
 * with the mapping database's links in mapdb.ts.
 */
import { inRange, R } from "../spec/vocabulary.js";
import { capIn, hasObjects, subjectOk } from "./checks.js";
import { E, KIND_CONTAINER, KIND_TASK, OK, SEND_GRANT, SEND_MAP, SEND_SHARE } from "./constants.js";
import type { Machine } from "./machine.js";
import { needHard, slotAt } from "./containers.js";
import { moveMapping, newMapping, removeMappingSubtree } from "./mapdb.js";
import { beingRevoked, containerDying, pageBeingUnmapped, removing, taskDying, unmapChunk } from "./preemption.js";

export function pageMap(m: Machine, task: number, slot: number, index: number, vpage: number, rights: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (rights <= 0 || (rights & ~(R.read | R.write)) !== 0) return E.BadRights;
  const cap = capIn(m, task, slot, KIND_CONTAINER, rights);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (cap < 0) return -cap;
  if (containerDying(m, m.caps.objOf(cap)) || beingRevoked(m, cap)) return E.Removing;
  const si = slotAt(m, cap, index);
  if (si < 0) return -si;
  const he = needHard(m, si);
  if (he) return he;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  if (m.pages.lookup(task, vpage) !== -1) return E.PageMapped;
  if (!hasObjects(m, m.tasks.account[task]!, m.pages.needsLeaf(task, vpage) ? 2 : 1)) return E.ObjectQuotaExceeded;

  newMapping(m, task, vpage, rights, -1, cap, si);
  return OK;
}

/** The OR of the access bits of mapping `top` and every mapping derived from it, which are all cleared. */
function takeBits(m: Machine, top: number): number {
  const pages = m.pages;
  const stack = m.stack;
  let bits = 0;
  let sp = stack.push(0, top);
  while (sp > 0) {
    const e = stack.a[--sp]!;
    bits |= pages.flags[e]!;
    pages.flags[e] = 0;
    for (let c = pages.firstChild[e]!; c !== -1; c = pages.next[c]!) sp = stack.push(sp, c);
  }
  return bits;
}

/** mode: 0 derived, 1 all, 2 readonly, -1 not a mode. */
export function pageUnmap(m: Machine, task: number, vpage: number, order: number, mode: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!inRange(order, 31)) return E.BadPage;
  const size = 2 ** order;
  if (!inRange(vpage, m.config.vpages) || vpage % size !== 0 || vpage + size > m.config.vpages) return E.BadPage;
  if (mode < 0) return E.BadValue;
  if (m.budget !== Infinity) return unmapChunk(m, task, vpage, order, mode, m.budget);
  const pages = m.pages;
  let bits = 0;
  for (let v = vpage; v < vpage + size; v++) {
    const e = pages.lookup(task, v);
    if (e !== -1) bits |= takeBits(m, e);
  }
  for (let v = vpage; v < vpage + size; v++) {
    const e = pages.lookup(task, v);
    if (e === -1) continue;
    if (mode === 1) removeMappingSubtree(m, e);
    else if (mode === 0) while (pages.firstChild[e]! !== -1) removeMappingSubtree(m, pages.firstChild[e]!);
    else takeWriteBelow(m, e);
  }
  m.value = bits;
  return OK;
}

/** Takes write from every mapping below `top`; removes those left with no right. */
function takeWriteBelow(m: Machine, top: number): void {
  const pages = m.pages;
  const stack = m.stack;
  let sp = stack.push(0, top);
  while (sp > 0) {
    const n = stack.a[--sp]!;
    let c = pages.firstChild[n]!;
    while (c !== -1) {
      const next = pages.next[c]!;
      if (pages.rights[c] === R.write) {
        removeMappingSubtree(m, c);
      } else {
        pages.rights[c] = pages.rights[c]! & ~R.write;
        sp = stack.push(sp, c);
      }
      c = next;
    }
  }
}

export function pageBits(m: Machine, task: number, vpage: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  const e = m.pages.lookup(task, vpage);
  if (e === -1) return E.NotMapped;
  m.value = takeBits(m, e);
  return OK;
}

// ---------------------------------------------------------------------------
// L4: map, share, grant

/** l4.map, l4.grant, l4.share: the same checks as the spec's sendChecks, then the kind's effect. */
export function l4Send(m: Machine, task: number, vpage: number, targetSlot: number, dest: number, rights: number, kind: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  const pages = m.pages;
  const e = pages.lookup(task, vpage);
  if (e === -1) return E.NotMapped;
  if (removing(m, e)) return E.Removing;
  if (kind !== SEND_GRANT && (rights <= 0 || (rights & ~pages.rights[e]!) !== 0)) return E.BadRights;
  const target = capIn(m, task, targetSlot, KIND_TASK, R.write);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (target < 0) return -target;
  const to = m.caps.objOf(target);
  if (taskDying(m, to)) return E.Removing;
  if (m.tasks.faultPage[to] !== -1) return E.Blocked;
  if (!inRange(dest, m.config.vpages)) return E.BadPage;
  if (to !== task && !m.tasks.acceptsPage(to, dest)) return E.NotInWindow;
  if (pageBeingUnmapped(m, to, dest)) return E.Removing;
  if (pages.lookup(to, dest) !== -1) return E.PageMapped;
  const payer = m.tasks.account;
  const moving = kind === SEND_GRANT && payer[to] === payer[task];
  const need = (moving ? 0 : 1) + (pages.needsLeaf(to, dest) ? 1 : 0);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: need is 0 only for a grant between tasks paid by one account, and any account has room for 0 objects (noOvercommit)
  if (need > 0 && !hasObjects(m, payer[to]!, need)) return E.ObjectQuotaExceeded;

  if (kind === SEND_MAP) {
    // Stryker disable next-line UnaryOperator: a derived mapping (a parent given) ignores the slot and capability arguments
    newMapping(m, to, dest, rights, e, -1, -1);
  } else if (kind === SEND_SHARE) {
    const up = pages.up[e]!;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,UnaryOperator: for a derived sender the root branch makes the same mapping (-2 - (-2 - up) is up again, the slot argument is its frame), and a derived mapping ignores the -1 arguments
    if (up >= 0) newMapping(m, to, dest, rights, up, -1, -1);
    else newMapping(m, to, dest, rights, -1, -2 - up, pages.what[e]!);
  } else {
    // grant: the node itself moves; its links (parent, children, lists) stay; moveMapping moves the charges
    moveMapping(m, e, to, dest);
  }
  return OK;
}
