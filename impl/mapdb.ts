/**
 * The mapping database: how page-table entries (tables/pagetables.ts) are
 * linked into trees. A derived mapping hangs from the mapping it came from
 * (its parent's child list); a root mapping hangs from its container slot
 * (the slot's list of roots) and from the capability node that authorized
 * it (that node's list), so that freeing a slot, deleting a capability or
 * unmapping a page finds exactly the mappings to take along. Like Fiasco's
 * mapdb, this is kept apart from the page tables that hold the nodes.
 */
import type { Machine } from "./machine.js";
import { dropRootHint } from "./preemption.js";

/** The frame mapping e maps (a root maps whatever its slot holds). */
export function frameAt(m: Machine, e: number): number {
  const pages = m.pages;
  const w = pages.what[e]!;
  return pages.up[e]! >= 0 ? w : m.containers.frame[w]!;
}

/**
 * A new mapping at (task, vpage), charged to the task's account: derived
 * from mapping `parent` (whose frame it maps), or (parent -1) a root
 * authorized by cap node `cap` for container slot `si`.
 */
export function newMapping(m: Machine, task: number, vpage: number, rights: number, parent: number, cap: number, si: number): number {
  const pages = m.pages;
  const leaf = pages.needsLeaf(task, vpage) ? 1 : 0;
  const e = pages.claim(task, vpage);
  pages.up[e] = parent !== -1 ? parent : -2 - cap;
  pages.what[e] = parent !== -1 ? frameAt(m, parent) : si;
  pages.rights[e] = rights;
  linkMapping(m, e);
  m.accounts.objCharged[m.tasks.account[task]!]! += 1 + leaf;
  return e;
}

/**
 * Hooks mapping e (up and what set) into its lists: a derived mapping into
 * its parent's children, which are kept in order of key, greatest first
 * (task, then page: a preempted unmap walks them in that order,
 * preemption.ts; a child with a key greater than its siblings', the usual
 * case, goes in front without a walk); a root at the head of its slot's and
 * its cap's lists of roots.
 */
export function linkMapping(m: Machine, e: number): void {
  const pages = m.pages;
  const up = pages.up[e]!;
  if (up >= 0) {
    insertByKey(m, e, -1, pages.firstChild[up]!, pages.next, pages.prev, pages.firstChild, up);
    return;
  }
  // a root into its slot's list of roots, in order of key too (a preempted container.destroy walks it)
  insertByKey(m, e, -1, pages.slotRoots[pages.what[e]!]!, pages.next, pages.prev, pages.slotRoots, pages.what[e]!);
  // Stryker disable next-line EqualityOperator: up === -2 would be a mapping authorized by capability 0, the root account capability, which authorizes none
  if (up <= -2) {
    // into the cap's list in order of key, greatest first (task, then page:
    // a preempted revoke walks it; a mapping with a greater key than the
    // others, the usual case, goes in front without a walk)
    const firstMap = m.caps.firstMap;
    insertByKey(m, e, -1, firstMap[-2 - up]!, pages.nextCap, pages.prevCap, firstMap, -2 - up);
  }
}

/**
 * Puts mapping e into a list kept in order of key, greatest first (links
 * `next`/`prev`, head `heads[hi]`), searching from between `before` (-1:
 * the head) and `x` (the node after it) on. Returns e, after which a
 * search for a smaller key may start (a merge of two ordered lists).
 */
export function insertByKey(m: Machine, e: number, before: number, x: number, next: Int32Array, prev: Int32Array, heads: Int32Array, hi: number): number {
  while (x !== -1 && keyAfter(m, x, e)) {
    before = x;
    x = next[x]!;
  }
  next[e] = x;
  prev[e] = before;
  // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
  if (x !== -1) prev[x] = e;
  if (before === -1) heads[hi] = e;
  else next[before] = e;
  return e;
}

/** Does mapping x come after mapping e in key order (task, then page)? */
export function keyAfter(m: Machine, x: number, e: number): boolean {
  const pages = m.pages;
  const tx = pages.taskOf(x);
  const te = pages.taskOf(e);
  return tx > te || (tx === te && pages.vpageOf(x) > pages.vpageOf(e));
}

/**
 * Takes mapping e out of the list it hangs on: its parent's children, or
 * for a root its slot's roots and its cap's mappings. Its own fields stay.
 */
export function unlinkMapping(m: Machine, e: number): void {
  const pages = m.pages;
  const up = pages.up[e]!;
  const prev = pages.prev[e]!;
  const next = pages.next[e]!;
  if (prev !== -1) pages.next[prev] = next;
  else if (up >= 0) pages.firstChild[up] = next;
  else pages.slotRoots[pages.what[e]!] = next;
  // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
  if (next !== -1) pages.prev[next] = prev;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,UnaryOperator: a derived mapping has no capability links (pageTablesMatchDatabase), so for one the branch writes only at negative indices; up === -2 would be capability 0, which authorizes no mapping
  if (up <= -2) {
    dropRootHint(m, e);
    const pc = pages.prevCap[e]!;
    const nc = pages.nextCap[e]!;
    if (pc !== -1) pages.nextCap[pc] = nc;
    else m.caps.firstMap[-2 - up] = nc;
    // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
    if (nc !== -1) pages.prevCap[nc] = pc;
  }
}

/**
 * Moves mapping e to (task, vpage) (l4.grant): same parent or source, same
 * children; the node changes place, so its links are redone and its
 * children are told (a loop over its children, not over the subtree).
 */
export function moveMapping(m: Machine, e: number, task: number, vpage: number): void {
  const pages = m.pages;
  const charged = m.accounts.objCharged;
  const payer = m.tasks.account;
  const from = pages.taskOf(e);
  charged[payer[from]!]! -= 1;
  charged[payer[task]!]! += pages.needsLeaf(task, vpage) ? 2 : 1;
  const q = pages.claim(task, vpage);
  unlinkMapping(m, e);
  pages.up[q] = pages.up[e]!;
  pages.what[q] = pages.what[e]!;
  pages.rights[q] = pages.rights[e]!;
  pages.flags[q] = pages.flags[e]!;
  linkMapping(m, q);
  const first = pages.firstChild[e]!;
  pages.firstChild[q] = first;
  for (let c = first; c !== -1; c = pages.next[c]!) pages.up[c] = q;
  if (pages.clear(e)) charged[payer[from]!]! -= 1; // its leaf page went with it
}

/**
 * Visits every mapping rooted at container slot si and every mapping derived
 * from one (a walk with an explicit stack, m.mapStack), until `visit`
 * returns true; returns whether it did.
 */
export function someMappingOfSlot(m: Machine, si: number, visit: (e: number) => boolean): boolean {
  const pages = m.pages;
  const stack = m.mapStack;
  let sp = 0;
  for (let r = pages.slotRoots[si]!; r !== -1; r = pages.next[r]!) sp = stack.push(sp, r);
  while (sp > 0) {
    const e = stack.a[--sp]!;
    if (visit(e)) return true;
    for (let c = pages.firstChild[e]!; c !== -1; c = pages.next[c]!) sp = stack.push(sp, c);
  }
  return false;
}

/** Removes mapping `top` and all mappings derived from it, refunding each holder's account. */
export function removeMappingSubtree(m: Machine, top: number): void {
  const pages = m.pages;
  const stack = m.mapStack;
  const charged = m.accounts.objCharged;
  const payer = m.tasks.account;
  unlinkMapping(m, top);
  // Stryker disable next-line ConditionalExpression,BlockStatement: the fast path for a mapping without children; the walk below does the same
  if (pages.firstChild[top] === -1) {
    // a leaf of the mapping tree (the common case): no walk needed
    const a = payer[pages.taskOf(top)]!;
    charged[a]! -= pages.clear(top) ? 2 : 1; // with its leaf page if that went too
    return;
  }
  let sp = stack.push(0, top);
  while (sp > 0) {
    const e = stack.a[--sp]!;
    for (let c = pages.firstChild[e]!; c !== -1; c = pages.next[c]!) sp = stack.push(sp, c);
    const a = payer[pages.taskOf(e)]!;
    charged[a]! -= pages.clear(e) ? 2 : 1;
  }
}
