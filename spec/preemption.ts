/**
 * Preemption: removals that do a bounded amount of work per kernel entry.
 *
 * A configuration may set a work `budget` W: the units of work one kernel
 * entry may spend on a removal. A removal that needs more stops at a
 * preemption point with the result `ok` and `preempted: true`; the state
 * it leaves is an ordinary state of the model, partly taken apart, with a
 * record of where the work stands (`Task.pending`). The task then invokes
 * the same operation again, and again, until it finishes; until then it may
 * do nothing else (any other operation is `Blocked`), as a thread in seL4
 * restarts its preempted system call before it runs on. Without a budget
 * every removal runs to the end in one step, as it always did.
 *
 * What is preemptible: page.unmap, cap.revoke, container.destroy,
 * task.destroy and account.destroy. The unmap's walk takes the pages of
 * the range in order; in each, it goes down from the task's own mapping to the
 * child with the greatest key (task, then page), and finishes a mapping
 * once all its children are finished: removing it, or, in mode `readonly`,
 * taking its write right (a write-only mapping goes, with its subtree, as
 * in one step). So a tree is taken apart from the leaves up, as
 * L4Ka::Pistachio unmaps, and a preempted walk never leaves a mapping
 * whose parent is gone, nor a child with a right its parent lacks. Each
 * step of the walk is one unit: starting a page (or skipping an unmapped
 * one), going down one level, finishing one mapping. Where the walk stands
 * is part of the state (the cursor), so a restart goes on where it
 * stopped, not from the top: a chain deeper than W still finishes.
 *
 * Between two entries other tasks run, and may touch what is half taken
 * apart. Two rules keep the removal finite:
 * - nothing new grows in the range's trees: deriving a mapping from one of
 *   them (l4.map, l4.share, l4.grant, a pager's answer) and delivering a
 *   mapping into the range are refused with `Removing` (sigma0 refuses);
 * - what others remove is simply gone: if they take the mapping the walk
 *   stands at (an unmap, a revoke, a dying task, physmem), the walk starts
 *   the page again from its own mapping, which costs the way down again
 *   (in mode readonly, a walk through the page's finished mappings, which
 *   have no write right left to take) but never repeats a removal (those
 *   mappings are gone) and never repeats a refund. removalNeverStalls
 *   checks that other operations add work only so, and only by making
 *   what is left smaller.
 * Shapiro suspects that unmap latency can be rearranged "into
 * constant-sized chunks" (seed 001, 001_468f3620a1a4dd19.txt); seL4 bounds
 * the work per entry of a revoke and restarts the call with its progress
 * kept in the state.
 *
 * The revoke's walk is the same idea on the tree that hangs from the
 * revoked capability: from a capability down to the root mappings it
 * authorized, then to the capabilities derived from it, from a mapping down
 * to those derived from it (each list from the greatest key down), and a
 * node goes once nothing hangs from it (see revokeUnit). Between entries
 * nothing may be made with a capability still to go, mapped through one or
 * derived from a mapping one of them authorized (`Removing`). A capability
 * that is the last one naming a container or a task with anything in it
 * (or an account: zombieWorthy) does not take the object along in one
 * unit: the object becomes a zombie, emptied first while the capability
 * still names it, as the destroys below empty theirs, and goes with the
 * capability once empty (see zombieUnit); meanwhile a zombie task does
 * nothing and nothing may be done through or derived from a zombie.
 *
 * container.destroy empties the container while it is still named: its
 * slots from the greatest index down (each slot's mapping trees from the
 * leaves up, then the slot), then the other capabilities naming it, then
 * the subject's capability with the container (see destroyUnit). Between
 * entries nothing may be done through a capability to it (`Removing`).
 *
 * task.destroy likewise empties the task while it is still named: its
 * pages from the greatest down (each page's tree from the leaves up), its
 * capabilities from the greatest slot down (each as if deleted; the last
 * one naming a container or a task with anything in it, or an account
 * zombieWorthy allows, makes that object a zombie inside the task,
 * emptied first: startsZombie), the other
 * capabilities naming it, then the subject's capability with the task
 * (see taskUnit). A zombie task's walk makes zombies in turn: a chain,
 * emptied from the innermost out (zombieChainUnit). Between entries the
 * task does nothing (`Blocked`) and nothing may be done through a
 * capability to it, nor derived from one of its mappings (`Removing`).
 *
 * account.destroy takes apart what the account and its sub-accounts pay
 * for, one object after the other, each while it is still named (DMA
 * handles, containers, tasks, the subject's own task last), then the
 * sub-accounts from the leaves up, then the capabilities naming the
 * account, then the subject's capability with the account (see
 * accountUnit). Between entries the tasks it pays for do nothing, and
 * nothing may be made through a capability to what it destroys.
 *
 * An account whose last capability a walk reaches becomes a zombie too,
 * unless it pays, directly or through sub-accounts, for a task a walk
 * around it is taking apart (or the subject, which the subject rule
 * sees): its walk is then an account destroy's (handles, containers,
 * tasks, sub-accounts), and its walk through a task makes zombies as any
 * task walk does: the account is then a link of the chain. A revoke's
 * own account zombie may pay for the holder of its capability, which it
 * takes apart last, as an account destroy takes its subject.
 *
 * A capability a walk deletes rather than revokes first hands up what
 * derives from it, one capability per unit (handUp), and in a task's
 * walk the root mappings it authorized, one per unit, or their trees from
 * the leaves up (handUpRoot); meanwhile what another task's deletion
 * re-attaches passes over it (passedOver).
 *
 * Not bounded by the budget yet: the destruction of an account that pays
 * for a task a walk around it takes apart (but a revoke's own account
 * zombie and the holder of its capability), and of an object
 * whose removal the subject rule finishes at once or that a walk may not
 * make a zombie (a task the walk is inside) (see docs/preemption.md, "Not
 * done yet").
 */
import type { CapRef, Draft, Mapping, MapRef, Pending, PendingAccountDestroy, PendingDestroy, PendingRevoke, PendingTaskDestroy, PendingUnmap, RevokeNode, State, Zombie } from "./state.js";
import { capKey, draft, finish, isAccountDestroy, isDestroy, isRevoke, isTaskDestroy, isUnmap, mapKey, ROOT_ACCOUNT, ROOT_TASK, settleLeaves, unwatched } from "./state.js";
import type { Config, Op, OpOf } from "./vocabulary.js";
import { ok, preempted, R, UNMAP_MODES } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capChildren, closure, mapChildren, releaseSwap, remove } from "./removal.js";
import { rootOf } from "./walk.js";

/** The work one kernel entry may spend on a removal: the configuration's budget, or no limit. */
export const budgetOf = (config: Config): number => config.budget ?? Infinity;

/** The first page after the range of a page.unmap. */
export const rangeEnd = (op: { readonly vpage: number; readonly order: number }): number => op.vpage + 2 ** op.order;

/** Key order of mappings: by task, then page (the walk takes children from the greatest key down). */
export const keyBefore = (a: MapRef, b: MapRef): boolean => a.task < b.task || (a.task === b.task && a.vpage < b.vpage);

/** Is `op` the operation `p` waits for (the same page.unmap or cap.revoke, field for field)? */
export function continues(p: Pending, op: Op): boolean {
  if (isRevoke(p)) return op.op === "cap.revoke" && op.task === p.op.task && op.slot === p.op.slot;
  if (isDestroy(p)) return op.op === "container.destroy" && op.task === p.op.task && op.container === p.op.container;
  if (isTaskDestroy(p)) return op.op === "task.destroy" && op.task === p.op.task && op.target === p.op.target;
  if (isAccountDestroy(p)) return op.op === "account.destroy" && op.task === p.op.task && op.account === p.op.account;
  return op.op === "page.unmap" && op.task === p.op.task && op.vpage === p.op.vpage && op.order === p.op.order && op.mode === p.op.mode;
}

/** Where a walk stands (a mutable copy of a PendingUnmap's progress). */
interface Walk {
  page: number;
  cursor: MapRef | null;
  last: MapRef | null;
  zone: MapRef | null;
  bits: number;
}

/** Where the walk of `op` stands: where `p` left it, or at the start of the range. */
const walkFrom = (op: OpOf<"page.unmap">, p: PendingUnmap | null): Walk =>
  p ? { page: p.page, cursor: p.cursor, last: p.last, zone: p.zone, bits: p.bits } : { page: op.vpage, cursor: null, last: null, zone: null, bits: 0 };

/**
 * One unit of the walk of `op` (which must not be finished: walk.page is in
 * the range), on draft `d`. `children` lists the children of every mapping
 * at the start of the entry (within an entry mappings only go); `touched`
 * collects the tasks that lost a mapping (for their leaf pages).
 */
function unit(state: State, d: Draft, op: OpOf<"page.unmap">, w: Walk, children: Map<string, MapRef[]>, touched: Set<number>): void {
  const at = (r: MapRef) => d.tasks[r.task]?.pages[r.vpage] ?? null;
  const remove = (r: MapRef) => {
    d.tasks[r.task]!.pages[r.vpage] = null;
    d.accounts[state.tasks[r.task]!.account]!.objectsCharged -= 1;
    touched.add(r.task);
  };
  // Start a page: its own mapping's bits count; an unmapped page is skipped.
  if (w.cursor === null) {
    const own = at({ task: op.task, vpage: w.page });
    if (own) {
      w.bits |= own.bits;
      w.cursor = { task: op.task, vpage: w.page };
    } else w.page += 1;
    w.last = null;
    w.zone = null;
    return;
  }
  const c = w.cursor;
  // In a subtree that goes whole (modes derived and all, or under a write-only
  // mapping in mode readonly) every child is next; else only those below `last`.
  const removing = op.mode !== "readonly" || w.zone !== null;
  let next: MapRef | null = null;
  for (const k of children.get(mapKey(c)) ?? []) {
    if (!at(k) || (!removing && w.last !== null && !keyBefore(k, w.last))) continue;
    if (next === null || keyBefore(next, k)) next = k;
  }
  if (next !== null) {
    // Down one level.
    w.cursor = next;
    w.last = null;
    if (!removing && at(next)!.rights === R.write) w.zone = next;
    return;
  }
  // Every child of c is finished: finish c.
  const m = at(c)!;
  if (c.task === op.task && c.vpage === w.page) {
    // the task's own mapping: it goes in mode all, else it stays with its bits cleared
    if (op.mode === "all") remove(c);
    else m.bits = 0;
    w.page += 1;
    w.cursor = null;
    w.last = null;
    w.zone = null;
    return;
  }
  w.bits |= m.bits;
  if (removing) remove(c);
  else {
    m.rights &= ~R.write;
    m.bits = 0;
  }
  if (w.zone !== null && mapKey(w.zone) === mapKey(c)) w.zone = null;
  // (a derived mapping's parent is a mapping: the walk goes back up to it)
  w.cursor = m.source.kind === "map" ? m.source.parent : null;
  w.last = c;
}

/**
 * page.unmap under a budget: runs the walk from where the subject's pending
 * unmap stands (or from the start of the range) for at most `budget` units.
 * Finished: the result page.unmap gives in one step (the bits of the
 * range's mappings and of everything derived from them), and no pending
 * record. Not finished: `preempted`, and the record says where to go on.
 */
export function unmapChunk(state: State, op: OpOf<"page.unmap">, budget: number): Step {
  const w = walkFrom(op, state.tasks[op.task]!.pending as PendingUnmap | null);
  const d = draft(state);
  const children = mapChildren(state);
  const touched = new Set<number>();
  const end = rangeEnd(op);
  for (let spent = 0; w.page < end && spent < budget; spent++) unit(state, d, op, w, children, touched);
  settleLeaves(state, d, touched);
  if (w.page >= end) {
    d.tasks[op.task]!.pending = null;
    return { state: finish(d), result: ok(w.bits) };
  }
  d.tasks[op.task]!.pending = { op: { op: "page.unmap", task: op.task, vpage: op.vpage, order: op.order, mode: op.mode }, ...w };
  return { state: finish(d), result: preempted() };
}

// ---------------------------------------------------------------------------
// cap.revoke

const capNode = (r: CapRef): RevokeNode => ({ kind: "cap", task: r.task, slot: r.slot });
const mapNode = (r: MapRef): RevokeNode => ({ kind: "map", task: r.task, vpage: r.vpage });
const capKeyBefore = (a: CapRef, b: CapRef): boolean => a.task < b.task || (a.task === b.task && a.slot < b.slot);
const isRootObject = (kind: string, id: number): boolean => (kind === "account" && id === ROOT_ACCOUNT) || (kind === "task" && id === ROOT_TASK);

/**
 * What a revoke's walk needs to find the next node: per capability the root
 * mappings it authorized and the capabilities derived from it, per mapping
 * those derived from it, each list greatest key first, with how much of
 * each list's front is gone (within an entry nodes only go); and how many
 * capabilities name each object.
 */
class RevokeIndex {
  readonly roots = new Map<string, MapRef[]>();
  readonly caps: Map<string, CapRef[]>;
  readonly maps: Map<string, MapRef[]>;
  readonly names = new Map<string, number>();
  readonly front = new Map<string, number>();
  /** the root mappings of each container slot, for a zombie container's walk */
  readonly slotRoots: SlotRoots;

  constructor(state: State) {
    state.tasks.forEach((task, t) => {
      task?.caps.forEach((cap) => cap && this.names.set(`${cap.kind}:${cap.object}`, (this.names.get(`${cap.kind}:${cap.object}`) ?? 0) + 1));
      task?.pages.forEach((m, vpage) => {
        if (m?.source.kind !== "slot") return;
        const list = this.roots.get(capKey(m.source.cap));
        if (list) list.push({ task: t, vpage });
        else this.roots.set(capKey(m.source.cap), [{ task: t, vpage }]);
      });
    });
    this.caps = capChildren(state);
    this.maps = mapChildren(state);
    this.slotRoots = new SlotRoots(state);
    for (const list of this.caps.values()) list.sort((a, b) => (capKeyBefore(a, b) ? 1 : -1));
    for (const list of this.roots.values()) list.sort((a, b) => (keyBefore(a, b) ? 1 : -1));
    for (const list of this.maps.values()) list.sort((a, b) => (keyBefore(a, b) ? 1 : -1));
  }

  /** The first node of list `key` of `lists` that is still there (`tag` tells the three kinds of list apart). */
  first<T>(tag: string, key: string, lists: Map<string, T[]>, there: (x: T) => boolean): T | null {
    const list = lists.get(key);
    if (!list) return null;
    let i = this.front.get(tag + key) ?? 0;
    while (i < list.length && !there(list[i]!)) i++;
    this.front.set(tag + key, i);
    return i < list.length ? list[i]! : null;
  }
}

/** A revoke's walk during an entry: the draft, the state its leaf pages are settled against, the cursor. */
interface RevokeWalk {
  /** a task no removal in this walk takes along by the final-capability rule (remainingWork), or null */
  spare: number | null;
  /** does the walk start zombies? (not when remainingWork counts without: an object it reaches then goes in one unit) */
  zombies: boolean;
  base: State;
  d: Draft;
  idx: RevokeIndex;
  cursor: RevokeNode | null;
  /** the zombie being emptied (the object the capability at the cursor is the last to name), or null */
  zombie: Zombie | null;
  touched: Set<number>;
}

const newRevokeWalk = (state: State, from: PendingRevoke | null, spare: number | null = null): RevokeWalk => ({
  spare,
  zombies: spare === null,
  base: state,
  d: draft(state),
  idx: new RevokeIndex(state),
  cursor: from ? from.cursor : null,
  zombie: from?.zombie ?? null,
  touched: new Set(),
});

/**
 * One unit of the walk of the revoke of capability `top`: go down one level
 * (from a capability to its greatest root mapping, else to its greatest
 * derived capability; from a mapping to its greatest derived mapping), or
 * remove the node the walk stands at, which nothing hangs from any more,
 * and go back up to its parent. A capability that was the last one naming
 * its object takes the object with it, and all that goes with the object
 * (the final-capability rule, removal.ts): that is one unit too. If
 * that takes the subject too (the object held the last capability naming
 * the subject, or paid for it), the revoke finishes in that unit: all that
 * is still below `top` goes at once, as in one step (the subject rule, as
 * subjectWent for the destroys). Returns true when nothing is left below
 * `top` (the last unit), or after such a unit.
 */
function revokeUnit(w: RevokeWalk, top: CapRef): boolean {
  if (w.zombie !== null) return zombieUnit(w, top);
  const capThere = (r: CapRef) => !!w.d.tasks[r.task]?.caps[r.slot];
  const mapThere = (r: MapRef) => !!w.d.tasks[r.task]?.pages[r.vpage];
  const c = w.cursor;
  if (c === null) {
    const k = w.idx.first("c", capKey(top), w.idx.caps, capThere);
    if (k === null) return true;
    w.cursor = capNode(k);
    return false;
  }
  if (c.kind === "map") {
    const k = w.idx.first("m", mapKey(c), w.idx.maps, mapThere);
    if (k !== null) {
      w.cursor = mapNode(k);
      return false;
    }
    const task = w.d.tasks[c.task]!;
    const m = task.pages[c.vpage]!;
    task.pages[c.vpage] = null;
    w.d.accounts[task.account]!.objectsCharged -= 1;
    w.touched.add(c.task);
    w.cursor = m.source.kind === "map" ? mapNode(m.source.parent) : capNode(m.source.cap);
    return false;
  }
  const ref = { task: c.task, slot: c.slot };
  const next = w.idx.first("r", capKey(ref), w.idx.roots, mapThere) ?? w.idx.first("c", capKey(ref), w.idx.caps, capThere);
  if (next !== null) {
    w.cursor = "slot" in next ? capNode(next) : mapNode(next);
    return false;
  }
  const task = w.d.tasks[c.task]!;
  const cap = task.caps[c.slot]!;
  const parent = cap.parent!;
  const name = `${cap.kind}:${cap.object}`;
  const names = w.idx.names.get(name)!;
  if (names > 1 || isRootObject(cap.kind, cap.object)) {
    task.caps[c.slot] = null;
    w.d.accounts[task.account]!.objectsCharged -= 1;
    w.idx.names.set(name, names - 1);
  } else {
    // the last capability naming its object: the object goes too
    settleLeaves(w.base, w.d, w.touched);
    w.touched.clear();
    const now = finish(w.d);
    // (the subject rule: if that takes the subject, whose capability is
    // revoked, everything still below that capability goes in this unit,
    // as in one step; the subject's record goes with the subject)
    const subjectGoes = closure(now, { caps: [ref] }, w.spare).tasks.has(top.task);
    if (w.zombies && !subjectGoes && zombieWorthy(now, cap.kind, cap.object, ref, [], true)) {
      // a zombie: the object is emptied first, while this capability still names it
      w.base = now;
      w.d = draft(now);
      w.zombie = { kind: cap.kind as Zombie["kind"], id: cap.object, ...walkStart(now, cap.kind as Zombie["kind"]) };
      return false;
    }
    w.base = finish(remove(now, subjectGoes ? { revoke: [top] } : { caps: [ref] }, w.spare, false));
    w.d = draft(w.base);
    w.idx = new RevokeIndex(w.base);
    if (subjectGoes) return true;
  }
  w.cursor = capKey(parent) !== capKey(top) && capThere(parent) ? capNode(parent) : null;
  return false;
}

/**
 * Would the last capability naming `kind` `id`, at `own`, take nothing
 * with it but the object? A container whose slots are all empty; a task
 * with no mapping and no capability but `own`; an account that pays,
 * directly or through sub-accounts, for no DMA handle, container or task,
 * and has no sub-account. A DMA handle always counts as empty here (it is
 * not emptied first: one unit takes it with its frame's wiring).
 */
function emptyObject(s: State | Draft, kind: string, id: number, own: CapRef): boolean {
  if (kind === "container") return s.containers[id]!.slots.every((x) => x.kind === "empty");
  if (kind === "account") return !s.accounts.some((a) => a?.parent === id) && ![...s.handles, ...s.containers, ...s.tasks].some((x) => x && accountUnder(s, x.account, id));
  if (kind !== "task") return true;
  const t = s.tasks[id]!;
  return !t.pages.some(Boolean) && t.caps.every((cap, slot) => !cap || (id === own.task && slot === own.slot));
}

/**
 * Does a walk that reaches `own`, the last capability naming `kind` `id`,
 * make the object a zombie (when the subject rule and the walk's own
 * limits allow)? A container or a task (not the root task) that is not
 * empty; an account (not the root account) that is not empty and pays,
 * directly or through sub-accounts, neither for the task holding `own`
 * (unless `holderMayPay`: a revoke's walk, which stands in no task) nor
 * for a task of `busy` (the tasks the walks around it stand in, and the
 * holder of the capability naming the chain's outermost zombie): its
 * walk, an account destroy's, then never reaches a task a walk around it
 * is taking apart. The holder it may pay for it takes apart last, but for
 * `own`, and that task goes in its last unit, as an account destroy's
 * subject does (accountUnit). (It would not reach the subject either: an
 * account that pays for the subject takes it along, which the subject rule
 * checks before.)
 */
function zombieWorthy(s: State | Draft, kind: string, id: number, own: CapRef, busy: readonly (number | null)[], holderMayPay = false): boolean {
  if (kind === "account") return id !== ROOT_ACCOUNT && ![...(holderMayPay ? [] : [own.task]), ...busy].some((t) => t !== null && !!s.tasks[t] && accountUnder(s, s.tasks[t].account, id)) && !emptyObject(s, kind, id, own);
  return (kind === "container" || (kind === "task" && id !== ROOT_TASK)) && !emptyObject(s, kind, id, own);
}

/**
 * One unit of the revoke of `top` while its walk empties a zombie: the
 * zombie's walk (zombieWalkUnit), with the capability at the cursor
 * as the one to keep until the last unit, which takes it with the object;
 * the walk then goes back up to that capability's parent, as when a
 * capability is removed. If the unit took the subject (a capability the
 * task held was the last naming the subject or its account), the revoke
 * finishes in it instead, as in one step (the subject rule). Returns true
 * then.
 */
function zombieUnit(w: RevokeWalk, top: CapRef): boolean {
  const z = w.zombie!;
  const at = w.cursor as { kind: "cap"; task: number; slot: number };
  const own = { task: at.task, slot: at.slot };
  const parent = w.d.tasks[at.task]!.caps[at.slot]!.parent!;
  settleLeaves(w.base, w.d, w.touched);
  w.touched.clear();
  const before = finish(w.d);
  // (a zombie inside the zombie's walk may not be an account that pays for its holder, at.task)
  const ow: AccountWalk = { subject: top.task, spare: w.spare, zombies: w.zombies, base: before, d: draft(before), children: w.idx.maps, roots: w.idx.slotRoots, page: z.page, slot: z.slot, cursor: z.cursor, zombie: z.inner ?? null, inside: null, around: [at.task], touched: new Set(), at: atOf(z) };
  const done = zombieWalkUnit(ow, z, own);
  settleLeaves(ow.base, ow.d, ow.touched);
  const after = finish(ow.d);
  w.zombie = null;
  if (!after.tasks[top.task]) {
    w.base = finish(remove(before, { revoke: [top] }, null, false));
    w.d = draft(w.base);
    return true;
  }
  w.base = after;
  w.d = draft(after);
  if (ow.base !== before) w.idx = new RevokeIndex(after);
  if (!done) w.zombie = { ...zombieAt(z, ow), ...(ow.zombie && { inner: ow.zombie }) };
  else w.cursor = capKey(parent) !== capKey(top) && after.tasks[parent.task]?.caps[parent.slot] ? capNode(parent) : null;
  return false;
}

/**
 * cap.revoke under a budget: runs the walk from where the subject's
 * pending revoke stands (or from the revoked capability) for at most
 * `budget` units. Finished: what cap.revoke gives in one step. Not
 * finished: `preempted`, and the record says where to go on.
 */
export function revokeChunk(state: State, op: OpOf<"cap.revoke">, budget: number): Step {
  const p = state.tasks[op.task]!.pending as PendingRevoke | null;
  const w = newRevokeWalk(state, p);
  const top = { task: op.task, slot: op.slot };
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = revokeUnit(w, top);
  settleLeaves(w.base, w.d, w.touched);
  const subject = w.d.tasks[op.task];
  if (subject) subject.pending = finished ? null : { op: { op: "cap.revoke", task: op.task, slot: op.slot }, cursor: w.cursor, ...(w.zombie && { zombie: w.zombie }) };
  return { state: finish(w.d), result: finished ? ok() : preempted() };
}

/** The units the revoke `op` takes from where `from` stands (or from its start) to the end, nobody else acting. */
function revokeLength(state: State, op: { readonly task: number; readonly slot: number }, from: PendingRevoke | null, spare: number | null = null): number {
  const w = newRevokeWalk(state, from, spare);
  let n = 1;
  while (!revokeUnit(w, { task: op.task, slot: op.slot })) n++;
  return n;
}

/** Is capability `ref` derived (at any depth) from one a preempted cap.revoke is revoking? Then it is still to go. */
export function beingRevoked(state: State, ref: CapRef): boolean {
  let r = state.tasks[ref.task]?.caps[ref.slot]?.parent ?? null;
  // (a chain of parents is as long as the capabilities are many, at most)
  for (let hops = 0; r !== null && hops <= state.tasks.length * state.config.capSlots; hops++) {
    const p = state.tasks[r.task]?.pending;
    if (p && isRevoke(p) && p.op.slot === r.slot) return true;
    r = state.tasks[r.task]?.caps[r.slot]?.parent ?? null;
  }
  return false;
}

/** Is `node` still in the part of the revoke of `top` to do: a capability derived from it, or a mapping in a tree one of those authorized? */
function inRevoke(state: State, node: RevokeNode, top: CapRef): boolean {
  let cap: CapRef;
  if (node.kind === "map") {
    const at = state.tasks[node.task]?.pages[node.vpage];
    const m = at && rootOf(state, at);
    if (!m || m.source.kind !== "slot") return false;
    cap = m.source.cap;
  } else {
    if (!state.tasks[node.task]?.caps[node.slot]) return false;
    cap = node;
  }
  let r: CapRef | null = state.tasks[cap.task]?.caps[cap.slot]?.parent ?? null;
  for (let hops = 0; r !== null && hops <= state.tasks.length * state.config.capSlots; hops++) {
    if (capKey(r) === capKey(top)) return true;
    r = state.tasks[r.task]?.caps[r.slot]?.parent ?? null;
  }
  return false;
}

// ---------------------------------------------------------------------------
// container.destroy

/** Is container `c` being destroyed by a preempted container.destroy, or paid by an account being destroyed? Then nothing may be done through it. */
export function containerDying(state: State, c: number): boolean {
  return state.tasks.some((t) => t?.pending && isDestroy(t.pending) && t.pending.object === c) || (!!state.containers[c] && accountDying(state, state.containers[c].account)) || isZombie(state, "container", c);
}

/** Is `kind` `id` a zombie of a preempted removal (emptied before its last capability goes)? */
function isZombie(state: State, kind: Zombie["kind"], id: number): boolean {
  return state.tasks.some((t) => t?.pending && zombiesOf(t.pending).some((z) => z.kind === kind && z.id === id));
}

/** The zombies a pending removal empties, from the outermost in (none for an unmap or a container destroy). */
export const zombiesOf = (p: Pending): Zombie[] => chainOf("zombie" in p ? p.zombie : undefined);

/** Does `cap` name an object a preempted removal is taking apart (a container, task or account dying, a DMA handle whose account is)? */
export function namesDying(state: State, cap: { readonly kind: string; readonly object: number }): boolean {
  return (
    (cap.kind === "container" && containerDying(state, cap.object)) ||
    (cap.kind === "task" && taskDying(state, cap.object)) ||
    (cap.kind === "account" && accountDying(state, cap.object)) ||
    (cap.kind === "dma" && !!state.handles[cap.object] && accountDying(state, state.handles[cap.object]!.account))
  );
}

/** Would a capability derived from the one at `ref` add to what a preempted removal has still to take apart (beingRevoked, or it names an object being destroyed)? */
export function growsRemoval(state: State, ref: CapRef): boolean {
  const cap = state.tasks[ref.task]?.caps[ref.slot];
  if (!cap) return false;
  return namesDying(state, cap) || beingRevoked(state, ref);
}

/**
 * Is the capability at `ref` one that a preempted removal will make vanish
 * (held by a task it takes apart, or naming an object it takes apart)?
 * What another task's deletion re-attaches from below such a capability
 * passes over it (removal.ts): re-attached to it, it would be more for
 * that removal to hand up (handUp), and another task could keep a removal
 * from finishing by deriving capabilities below one it will hand up and
 * deleting them, one after the other.
 */
export function passedOver(state: State, ref: CapRef): boolean {
  const cap = state.tasks[ref.task]?.caps[ref.slot];
  return !!cap && (taskDying(state, ref.task) || namesDying(state, cap));
}

/**
 * Before a walk makes the capability at `ref` vanish (deleted: what hangs
 * from it is re-attached, removal.ts), one unit re-attaches the capability
 * derived from it with the greatest key to its parent (a root if it has
 * none) and returns true; false once nothing is derived from it. So a
 * capability with n derived ones goes in n + 1 units, not in one unit of
 * n: seL4 needs no such step (its derivation tree is a list in which a
 * deleted node's children simply follow their parent), but here each
 * capability keeps its children in order of key, for the revoke's walk.
 * Meanwhile nothing may be derived from a capability a walk will make
 * vanish (its holder is `Blocked`, or its object being taken apart makes
 * it `Removing`), and what another task's deletion re-attaches passes over
 * it (passedOver), so the units left for it only go down.
 */
function handUp(w: { d: Draft }, ref: CapRef): boolean {
  let child: CapRef | null = null;
  unwatched(w.d.tasks).forEach((t, task) =>
    t?.caps.forEach((c, slot) => {
      if (c?.parent && c.parent.task === ref.task && c.parent.slot === ref.slot && (child === null || capKeyBefore(child, { task, slot }))) child = { task, slot };
    }),
  );
  if (child === null) return false;
  const c: CapRef = child;
  const to = w.d.tasks[ref.task]!.caps[ref.slot]!.parent;
  const moved = w.d.tasks[c.task]!.caps[c.slot]!;
  w.d.tasks[c.task]!.caps[c.slot] = { ...moved, parent: to && { task: to.task, slot: to.slot } };
  return true;
}

/**
 * Can the parent of the capability at `ref` authorize the root mappings
 * it authorized (is it a capability to the same container)? Otherwise
 * those go, with their trees, when it vanishes (removal.ts).
 */
function rootsReattach(s: State | Draft, ref: CapRef): boolean {
  const parent = s.tasks[ref.task]?.caps[ref.slot]?.parent;
  const to = parent ? s.tasks[parent.task]?.caps[parent.slot] : null;
  return !!to && to.kind === "container" && to.object === s.tasks[ref.task]!.caps[ref.slot]!.object;
}

/**
 * After its children (handUp), a capability that a task's walk makes
 * vanish hands up the root mappings it authorized, one per unit, the
 * greatest key first: to its parent, if that is a capability to the same
 * container; if not, the root's tree goes, from the leaves up, a unit per
 * step (the walk's cursor goes down to the root, and treeUnit goes on from
 * there). Returns false once it authorizes none.
 */
function handUpRoot(w: ObjectWalk, ref: CapRef): boolean {
  let root: MapRef | null = null;
  unwatched(w.d.tasks).forEach((t, task) =>
    t?.pages.forEach((m, vpage) => {
      if (m?.source.kind === "slot" && m.source.cap.task === ref.task && m.source.cap.slot === ref.slot && (root === null || keyBefore(root, { task, vpage }))) root = { task, vpage };
    }),
  );
  if (root === null) return false;
  const r: MapRef = root;
  if (!rootsReattach(w.d, ref)) {
    w.cursor = r;
    return true;
  }
  const parent = w.d.tasks[ref.task]!.caps[ref.slot]!.parent!;
  const m = w.d.tasks[r.task]!.pages[r.vpage]! as Mapping & { source: { kind: "slot" } };
  w.d.tasks[r.task]!.pages[r.vpage] = { ...m, source: { ...m.source, cap: { task: parent.task, slot: parent.slot } } };
  return true;
}

/** Is mapping `r` in the tree of a root mapping authorized by task `x`'s capability in `slot`, which cannot be re-attached (handUpRoot: the walk takes that tree apart)? */
function underRootOf(s: State, r: MapRef, x: number, slot: number): boolean {
  const m = s.tasks[r.task]?.pages[r.vpage];
  const root = m ? rootOf(s, m) : null;
  return slot >= 0 && root?.source.kind === "slot" && root.source.cap.task === x && root.source.cap.slot === slot && !!s.tasks[x]?.caps[slot] && !rootsReattach(s, root.source.cap);
}

/**
 * A destroy's walk during an entry: the draft, the state its leaf pages are
 * settled against, the children of every mapping, and where the walk
 * stands (a container's: the slot; a task's: the page and the capability
 * slot; the mapping it is at).
 */
interface ObjectWalk {
  /** the task doing the removal */
  subject: number;
  /** a task no removal in this walk takes along by the final-capability rule (remainingWork), or null */
  spare: number | null;
  /** does the walk start zombies? (not when remainingWork counts without: an object it reaches then goes in one unit) */
  zombies: boolean;
  base: State;
  d: Draft;
  children: Map<string, MapRef[]>;
  /** the root mappings of each container slot at the walk's start */
  roots: SlotRoots;
  page: number;
  slot: number;
  cursor: MapRef | null;
  /** the zombies inside the task walked (a chain, from the outermost in), or null */
  zombie: Zombie | null;
  /** the task this walk is inside (a walk through a zombie is inside the task whose walk the chain is in), or null */
  inside: number | null;
  /** the tasks a walk around this one stands in, other than `inside` (the zombie tasks around the innermost, the tasks the account links around it take apart; a revoke's zombie's holder), which an account zombie may not pay for */
  around: readonly number[];
  touched: Set<number>;
}

const newObjectWalk = (state: State, p: { page?: number; slot: number; cursor: MapRef | null; zombie?: Zombie }, subject: number, spare: number | null = null): ObjectWalk => ({
  subject,
  spare,
  zombies: spare === null,
  base: state,
  d: draft(state),
  children: mapChildren(state),
  roots: new SlotRoots(state),
  page: p.page ?? -1,
  slot: p.slot,
  cursor: p.cursor,
  zombie: p.zombie ?? null,
  inside: null,
  around: [],
  touched: new Set(),
});

/**
 * The root mappings of each container slot (those whose source is the
 * slot), as they are in `state`, listed on first use. A walk asks this
 * instead of scanning every page table at each slot: within a walk
 * mappings only go, and a root mapping stays the root of its slot (a
 * removal re-attaches it to another capability, never to another slot), so
 * the list of a slot at the walk's start, less the mappings gone since, is
 * the list now.
 */
class SlotRoots {
  private bySlot: Map<string, MapRef[]> | null = null;

  constructor(private readonly state: State) {}

  /** The mappings rooted at slot `i` of container `c` in the walk's starting state (some may be gone since). */
  at(c: number, i: number): readonly MapRef[] {
    if (this.bySlot === null) {
      const by = new Map<string, MapRef[]>();
      this.state.tasks.forEach((t, task) =>
        t?.pages.forEach((m, vpage) => {
          if (m?.source.kind !== "slot") return;
          const k = `${m.source.container}:${m.source.index}`;
          const list = by.get(k);
          if (list) list.push({ task, vpage });
          else by.set(k, [{ task, vpage }]);
        }),
      );
      this.bySlot = by;
    }
    return this.bySlot.get(`${c}:${i}`) ?? [];
  }
}

/** Takes the seeds out of the walk's state at once (a capability deleted, an object destroyed): removal.ts. */
function removeInWalk(w: ObjectWalk, seeds: Parameters<typeof remove>[1]): void {
  settleLeaves(w.base, w.d, w.touched);
  w.touched.clear();
  w.base = finish(remove(finish(w.d), seeds, w.spare, false));
  w.d = draft(w.base);
  w.children = mapChildren(w.base);
}

/** The capability naming object `kind` `id` with the greatest key, other than `own`, or null. */
function greatestNaming(d: State | Draft, kind: string, id: number, own: CapRef | null): CapRef | null {
  let other: CapRef | null = null;
  d.tasks.forEach((t, task) =>
    t?.caps.forEach((cap, slot) => {
      if (cap?.kind === kind && cap.object === id && !(own !== null && task === own.task && slot === own.slot)) other = { task, slot };
    }),
  );
  return other;
}

/**
 * One unit of the destroy of container `c` through the subject's
 * capability `own`: in the slot being emptied, go down one level (to the
 * root mapping with the greatest key, from a mapping to its child with the
 * greatest key), remove a mapping from which nothing hangs any more (back
 * up to its parent, or to the slot), or, once no mapping is rooted at the
 * slot, empty it (its frame's reference or its swap page goes, and the
 * charge for it) and go to the slot below. Once every slot is empty: the
 * capability naming c with the greatest key other than `own` goes, one
 * per unit, after what derives from it is handed up (handUp, a unit per
 * capability); last, `own` and
 * the container go together. Without `own` (in an account destroy) every
 * capability naming c goes one per unit, and the last takes the container
 * (the final-capability rule). Returns true after that last unit.
 */
function destroyUnit(w: ObjectWalk, c: number, own: CapRef | null): boolean {
  const at = (r: MapRef) => w.d.tasks[r.task]?.pages[r.vpage] ?? null;
  if (w.slot >= 0) {
    if (w.cursor === null) {
      const root = greatestLive(at, w.roots.at(c, w.slot));
      if (root !== null) {
        w.cursor = root;
        return false;
      }
      // empty the slot
      const container = w.d.containers[c]!;
      const s = container.slots[w.slot]!;
      if (s.kind === "hard") {
        w.d.frames[s.frame]!.refs -= 1;
        w.d.accounts[container.account]!.framesCharged -= 1;
      } else if (s.kind === "swapped") {
        releaseSwap(w.d, s.page);
        w.d.accounts[container.account]!.objectsCharged -= 1;
      }
      container.slots[w.slot] = { kind: "empty" };
      w.slot -= 1;
      return false;
    }
    treeUnit(w, null);
    return false;
  }
  const other = greatestNaming(w.d, "container", c, own);
  if (other !== null && handUp(w, other)) return false;
  removeInWalk(w, other !== null ? { caps: [other] } : { containers: [c] });
  // (without `own`, in an account destroy, the last capability's removal takes the container with it)
  return other === null || !w.d.containers[c];
}

/**
 * container.destroy under a budget: runs the walk from where the subject's
 * pending destroy stands (or from the greatest slot) for at most `budget`
 * units. Finished: what container.destroy gives in one step. Not
 * finished: `preempted`, and the record says where to go on; meanwhile
 * nothing may be done through a capability to the container.
 */
export function destroyChunk(state: State, op: OpOf<"container.destroy">, c: number, budget: number): Step {
  const p = state.tasks[op.task]!.pending as PendingDestroy | null;
  const w = newObjectWalk(state, p ?? { slot: state.config.containerSlots - 1, cursor: null }, op.task);
  const own = { task: op.task, slot: op.container };
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = destroyUnit(w, c, own);
  settleLeaves(w.base, w.d, w.touched);
  w.d.tasks[op.task]!.pending = finished ? null : { op: { op: "container.destroy", task: op.task, container: op.container }, object: c, slot: w.slot, cursor: w.cursor };
  return { state: finish(w.d), result: finished ? ok() : preempted() };
}

// ---------------------------------------------------------------------------
// task.destroy

/** Is task `t` being destroyed by a preempted task.destroy, or paid by an account being destroyed? Then it does nothing (`Blocked`), and nothing may be done through a capability to it (`Removing`). */
export function taskDying(state: State, t: number): boolean {
  return state.tasks.some((x) => x?.pending && isTaskDestroy(x.pending) && x.pending.object === t) || (!!state.tasks[t] && accountDying(state, state.tasks[t].account)) || isZombie(state, "task", t);
}

/** Where a task destroy starts: the greatest page and the greatest slot. */
const taskWalkStart = (state: State | Draft) => ({ page: state.config.vpages - 1, slot: state.config.capSlots - 1, cursor: null });

/**
 * One unit of the destroy of task `t` through the subject's capability
 * `own`. Its pages first, from the greatest down: at a page, find the
 * greatest mapped page at or below it (or, with none left, go on to the
 * capabilities); in a page's tree, go down to the child with the greatest
 * key, or remove a mapping from which nothing hangs any more and go back
 * up (from the page's own mapping, to the page below). Then its
 * capabilities, from the greatest slot down: the greatest one at or below
 * the slot (the subject's own excepted) first hands up what derives from
 * it and the root mappings it authorized, a unit each (handUp, handUpRoot:
 * the walk stays at its slot, its cursor in the tree of a root that goes),
 * then vanishes as if deleted (removal.ts: an object it was the last to
 * name is destroyed, in this one unit), unless it is the last one naming an
 * object zombieWorthy allows: that object becomes a zombie inside t
 * (startsZombie), and the units that follow are its
 * (zombieChainUnit) until it is gone. Then the capability naming t with the
 * greatest key other than `own`, one per unit (each after its hand-ups); last, `own` and the task
 * go together (removal.ts: the task's faults, queue and notices); with
 * `keep` (the subject's own task, in an account destroy) the walk ends
 * after the task's capabilities: the capabilities naming it and the task
 * are left for the account's last unit. Returns true after that last unit,
 * or when a unit took the task (it held the last capability to its own
 * account).
 */
function taskUnit(w: ObjectWalk, t: number, own: CapRef, keep = false): boolean {
  if (w.zombie !== null) {
    zombieChainUnit(w, t);
    return !w.d.tasks[t];
  }
  if (w.page >= 0) {
    if (w.cursor === null) {
      const pages = w.d.tasks[t]!.pages;
      let v = w.page;
      while (v >= 0 && !pages[v]) v--;
      w.page = v;
      if (v >= 0) w.cursor = { task: t, vpage: v };
      return false;
    }
    // (the page's own mapping may derive from another task's: the walk does not go up there)
    treeUnit(w, { task: t, vpage: w.page });
    return false;
  }
  if (w.slot >= 0) {
    // (a tree of a root mapping the capability at the slot authorized, which cannot be re-attached: handUpRoot)
    if (w.cursor !== null) {
      treeUnit(w, null);
      return false;
    }
    const caps = w.d.tasks[t]!.caps;
    let s = w.slot;
    while (s >= 0 && (!caps[s] || (own.task === t && own.slot === s))) s--;
    if (s >= 0 && (handUp(w, { task: t, slot: s }) || handUpRoot(w, { task: t, slot: s }))) {
      w.slot = s;
      return false;
    }
    w.slot = Math.max(s - 1, -1);
    if (s < 0) return false;
    if (startsZombie(w, t, { task: t, slot: s })) return false;
    removeInWalk(w, { caps: [{ task: t, slot: s }] });
    return !w.d.tasks[t];
  }
  if (keep) return true;
  const other = greatestNaming(w.d, "task", t, own);
  if (other !== null && handUp(w, other)) return false;
  removeInWalk(w, other !== null ? { caps: [other] } : { tasks: [t] });
  // (in an account destroy the last capability's removal takes the task with it)
  return other === null || !w.d.tasks[t];
}

/**
 * After a unit of a destroy by task `subject`: if the subject went with it
 * (the object being taken apart held the last capability naming the
 * subject, or its account), what it destroys goes at once, as in one step.
 * Returns true then (the removal is finished).
 */
function subjectWent(w: ObjectWalk, subject: number, seeds: Parameters<typeof remove>[1]): boolean {
  if (w.d.tasks[subject]) return false;
  removeInWalk(w, seeds);
  return true;
}

/** One unit of a task destroy, and the subject rule (subjectWent). */
const taskDestroyUnit = (w: ObjectWalk, t: number, own: CapRef): boolean => taskUnit(w, t, own) || subjectWent(w, own.task, { tasks: [t] });

/**
 * Does the walk through task `t`'s capabilities, at `ref`, make a zombie of
 * the object that capability names, instead of deleting it? When it is the
 * last capability naming an object that zombieWorthy allows (a task not t
 * itself, nor the task the walk is inside), and
 * deleting it would not take the subject along (the subject rule then
 * ends the removal, as in one step); never
 * when the work is counted without zombies (remainingWork). The zombie's
 * walk starts at its greatest slot, or page; it is w.zombie (a task walk's
 * first) or goes inside the innermost one (zombieChainUnit).
 */
function startsZombie(w: ObjectWalk, t: number, ref: CapRef): boolean {
  const cap = w.d.tasks[ref.task]!.caps[ref.slot]!;
  const { kind, object: id } = cap;
  if (!w.zombies || (kind === "task" && (id === t || id === w.inside))) return false;
  if (greatestNaming(w.d, kind, id, ref) !== null || !zombieWorthy(w.d, kind, id, ref, [t, w.inside, ...w.around])) return false;
  settleLeaves(w.base, w.d, w.touched);
  w.touched.clear();
  w.base = finish(w.d);
  w.d = draft(w.base);
  if (closure(w.base, { caps: [ref] }, w.spare).tasks.has(w.subject)) return false;
  w.zombie = { kind: kind as Zombie["kind"], id, ...walkStart(w.base, kind as Zombie["kind"]) };
  return true;
}

/** Where the walk of a zombie starts: a container's at its greatest slot, a task's at its greatest page and slot, an account's between objects. */
const walkStart = (state: State | Draft, kind: Zombie["kind"]) => (kind === "container" ? { page: -1, slot: state.config.containerSlots - 1, cursor: null } : kind === "task" ? taskWalkStart(state) : { page: -1, slot: -1, cursor: null });

/**
 * One unit of zombie `z`'s own walk, where `w` stands, with `own`, its
 * only capability, kept for the last unit, which takes it with the
 * object: a container's as its destroy's (destroyUnit), a task's as its
 * destroy's (taskUnit), an account's as an account destroy's
 * (accountUnit; the account pays for neither the holder of `own` nor the
 * subject, so none of that walk's rules about the subject's task apply).
 * Returns true after that last unit.
 */
function zombieWalkUnit(w: AccountWalk, z: Zombie, own: CapRef): boolean {
  if (z.kind === "container") return destroyUnit(w, z.id, own);
  return z.kind === "task" ? taskUnit(w, z.id, own) : accountUnit(w, z.id, own);
}

/** The container or task an account zombie's walk takes apart, as an account walk's `at`. */
const atOf = (z: { readonly container?: number; readonly task?: number }): AccountWalk["at"] => (z.container !== undefined ? { kind: "container", id: z.container } : z.task !== undefined ? { kind: "task", id: z.task } : null);

/** The fields of an account zombie's record that say what its walk takes apart (`container` or `task`), from `at`; none between objects. */
const atFields = (at: AccountWalk["at"]): { container?: number; task?: number } => (at === null ? {} : at.kind === "container" ? { container: at.id } : { task: at.id });

/** Zombie `z` (without the zombies inside it) with its walk where `w` stands. */
const zombieAt = (z: Zombie, w: AccountWalk): Zombie => ({ kind: z.kind, id: z.id, page: w.page, slot: w.slot, cursor: w.cursor, ...atFields(w.at) });

/** The task a zombie with another inside it walks: the zombie itself (a task), or the task its walk takes apart (an account); none for a container. */
const walkedTask = (z: Zombie): number[] => (z.kind === "task" ? [z.id] : z.task !== undefined ? [z.task] : []);

/** A chain of zombies as a list, from the outermost in (each without its `inner`). */
export function chainOf(z: Zombie | null | undefined): Zombie[] {
  const out: Zombie[] = [];
  for (let x = z; x; x = x.inner) out.push({ kind: x.kind, id: x.id, page: x.page, slot: x.slot, cursor: x.cursor, ...atFields(atOf(x)) });
  return out;
}

/** The chain a list of zombies (from the outermost in) stands for, or null. */
function chainFrom(list: readonly Zombie[]): Zombie | null {
  let z: Zombie | null = null;
  for (let i = list.length - 1; i >= 0; i--) z = z === null ? list[i]! : { ...list[i]!, inner: z };
  return z;
}

/** Is container, task or account `o` (a zombie, an account destroy's object) there? */
const zombieThere = (s: State | Draft, o: { readonly kind: Zombie["kind"]; readonly id: number }): boolean => !!(o.kind === "container" ? s.containers[o.id] : o.kind === "task" ? s.tasks[o.id] : s.accounts[o.id]);

/** Where zombie `z`'s walk stands, with the zombies inside it, as a place (the shape settleObjectPlace, placeWellFormed and placeMoved take). */
const placeOf = (z: Zombie): ObjectPlace => ({ page: z.page, slot: z.slot, cursor: z.cursor, ...atFields(atOf(z)), ...(z.inner && { zombie: z.inner }) });

/**
 * One unit of the zombies inside a task's walk (w.zombie): the innermost
 * zombie's walk (zombieWalkUnit), with the only capability naming
 * it kept until its last unit, which takes it with the object; that walk
 * may start a zombie inside it in turn. Once the innermost is gone, the
 * task around it goes on below that capability (its slot says where; for
 * the outermost, the walk w itself, through task `t`). If the unit took
 * more than the innermost (the task around it went too: a capability the
 * innermost held was the last naming that task's account), the chain
 * starts again (restartChain). (No zombie starts of `t`, the task the
 * chain is in: its last capability, if a zombie holds it, goes in one
 * unit, with `t` and the chain. The zombies around the innermost need no
 * such care: the only capability naming each is held by the one around
 * it, never by the innermost.)
 */
function zombieChainUnit(w: ObjectWalk, t: number): void {
  const chain = chainOf(w.zombie);
  const z = chain[chain.length - 1]!;
  const around = [...w.around, ...chain.slice(0, -1).flatMap(walkedTask)];
  const sub: AccountWalk = { ...w, page: z.page, slot: z.slot, cursor: z.cursor, zombie: null, inside: t, around, at: atOf(z) };
  zombieWalkUnit(sub, z, greatestNaming(w.d, z.kind, z.id, null)!);
  Object.assign(w, { base: sub.base, d: sub.d, children: sub.children, roots: sub.roots });
  if (zombieThere(w.d, z)) {
    chain[chain.length - 1] = zombieAt(z, sub);
    if (sub.zombie) chain.push(sub.zombie);
  } else if (chain.length === 1 || !!w.d.tasks[walkedTask(chain[chain.length - 2]!)[0]!]) chain.pop();
  else return restartChain(w, chain, w.d);
  w.zombie = chainFrom(chain);
}

/**
 * A chain of zombies inside the walk `w` through a task that lost more
 * than its innermost zombie's last unit takes starts again: from its
 * outermost zombie, at the start of its walk, if that is still there; else
 * the walk through the task starts again, without zombies. Each walk has
 * passed only what is gone, so starting again costs scans, not removals;
 * and the impl need not keep the zombies between the outermost and the
 * innermost (it finds them through the capabilities naming them).
 */
function restartChain(w: { page: number; slot: number; cursor: MapRef | null; zombie: Zombie | null }, chain: readonly Zombie[], s: State | Draft): void {
  const first = chain[0]!;
  if (zombieThere(s, first)) w.zombie = { kind: first.kind, id: first.id, ...walkStart(s, first.kind) };
  else Object.assign(w, taskWalkStart(s), { zombie: null });
}

/**
 * One unit of a destroy's walk in a mapping tree: down to the child of the
 * mapping the walk stands at with the greatest key, or, when nothing hangs
 * from it any more, remove it (its payer gets its object back) and go up to
 * its parent; from a root mapping, or from `top`, back to null.
 */
function treeUnit(w: { d: Draft; children: Map<string, MapRef[]>; cursor: MapRef | null; touched: Set<number> }, top: MapRef | null): void {
  const at = (r: MapRef) => w.d.tasks[r.task]?.pages[r.vpage] ?? null;
  const c = w.cursor!;
  const child = greatestLive(at, w.children.get(mapKey(c)) ?? []);
  if (child !== null) {
    w.cursor = child;
    return;
  }
  const m = at(c)!;
  const task = w.d.tasks[c.task]!;
  task.pages[c.vpage] = null;
  w.d.accounts[task.account]!.objectsCharged -= 1;
  w.touched.add(c.task);
  w.cursor = top !== null && mapKey(c) === mapKey(top) ? null : m.source.kind === "map" ? m.source.parent : null;
}

/** Of the mappings in `list` still there, the one with the greatest key. */
function greatestLive(at: (r: MapRef) => Mapping | null, list: readonly MapRef[]): MapRef | null {
  return list.reduce<MapRef | null>((best, r) => (at(r) && (best === null || keyBefore(best, r)) ? r : best), null);
}

/**
 * task.destroy under a budget: runs the walk from where the subject's
 * pending destroy stands (or from the target's greatest page) for at most
 * `budget` units. Finished: what task.destroy gives in one step. Not
 * finished: `preempted`, and the record says where to go on; meanwhile the
 * target does nothing and nothing may be done through a capability to it.
 */
export function taskDestroyChunk(state: State, op: OpOf<"task.destroy">, t: number, budget: number): Step {
  const p = state.tasks[op.task]!.pending as PendingTaskDestroy | null;
  const w = newObjectWalk(state, p ?? taskWalkStart(state), op.task);
  const own = { task: op.task, slot: op.target };
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = taskDestroyUnit(w, t, own);
  settleLeaves(w.base, w.d, w.touched);
  const subject = w.d.tasks[op.task];
  if (subject) subject.pending = finished ? null : { op: { op: "task.destroy", task: op.task, target: op.target }, object: t, page: w.page, slot: w.slot, cursor: w.cursor, ...(w.zombie && { zombie: w.zombie }) };
  return { state: finish(w.d), result: finished ? ok() : preempted() };
}

/** The units the task destroy `op` takes from `from` (or from its start) to the end, nobody else acting. */
function taskDestroyLength(state: State, op: { readonly task: number; readonly target: number }, from: PendingTaskDestroy | null, spare: number | null = null): number {
  const t = from ? from.object : state.tasks[op.task]!.caps[op.target]!.object;
  const w = newObjectWalk(state, from ?? taskWalkStart(state), op.task, spare);
  let n = 1;
  while (!taskDestroyUnit(w, t, { task: op.task, slot: op.target })) n++;
  return n;
}

// ---------------------------------------------------------------------------
// account.destroy

/** Account `top` and the accounts below it. */
function subtreeOf(state: State, top: number): Set<number> {
  const out = new Set<number>();
  state.accounts.forEach((a, id) => a && accountUnder(state, id, top) && out.add(id));
  return out;
}

/** Is account `a` account `top` or below it? */
export function accountUnder(state: State, a: number, top: number): boolean {
  // (a chain of parents is as long as the accounts are many, at most)
  for (let x: number | null = a, hops = 0; x !== null && hops <= state.accounts.length; x = state.accounts[x]?.parent ?? null, hops++) if (x === top) return true;
  return false;
}

/** Is account `a` being destroyed by a preempted account.destroy, or emptied as a zombie (it or an account above it)? Then nothing may be made through a capability to it (`Removing`). */
export function accountDying(state: State, a: number): boolean {
  return state.tasks.some((t) => {
    const p = t?.pending;
    return !!p && ((isAccountDestroy(p) && accountUnder(state, a, p.object)) || zombiesOf(p).some((z) => z.kind === "account" && accountUnder(state, a, z.id)));
  });
}

/** Where an account destroy stands between objects. */
const betweenObjects = { at: null, page: -1, slot: -1, cursor: null } as const;

/** An account destroy's walk during an entry: an object walk, and the object it takes apart. */
interface AccountWalk extends ObjectWalk {
  at: { kind: "container" | "task"; id: number } | null;
}

/**
 * One unit of the destroy of account `a` through the subject's capability
 * `own`. Between objects, one unit picks the next thing to do, among what
 * the account and its sub-accounts (`D`) pay for, in this order: the DMA
 * handle with the greatest id loses the capability naming it with the
 * greatest key (the last one takes the handle, whose frame is unwired);
 * else the container with the greatest id, then the task with the greatest
 * id other than the subject, then the subject's own task if it is one of
 * them and not empty yet, is taken apart as its destroy takes it apart
 * (destroyUnit, taskUnit; of the subject's task only its pages and
 * capabilities); else a sub-account
 * without sub-accounts (the greatest id; not the one paying for the
 * subject) loses the capability naming it with the greatest key (the last
 * one takes the account, its quota going to its parent); else, of the
 * subject's task (if D pays for it) and then of the sub-accounts that pay
 * for it (from the greatest id down), the first named by more than one
 * capability loses the one with the greatest key; else the
 * capability naming `a` with the greatest key other than `own` goes; last,
 * `own`, the account and what is left go together (the subject, if the
 * account or one of its sub-accounts pays for it, with the one capability
 * naming it left and the sub-accounts between, each with its one). An
 * account zombie's walk is the same, with the holder of its capability
 * `own` for the subject (a revoke's account zombie may pay for it). Each
 * capability that goes before the last unit first hands up what derives
 * from it, a unit per capability (handUp).
 * Returns true after that last unit, or when the account went otherwise.
 */
function accountUnit(w: AccountWalk, a: number, own: CapRef): boolean {
  const d = w.d;
  if (!d.accounts[a]) return true;
  if (w.at !== null) {
    const done = w.at.kind === "container" ? destroyUnit(w, w.at.id, null) : taskUnit(w, w.at.id, own, w.at.id === own.task);
    if (done) Object.assign(w, betweenObjects, { zombie: null });
    return !w.d.accounts[a];
  }
  const D = subtreeOf(d, a);
  const last = <T>(list: readonly (T | null)[], pays: (x: T) => boolean): number => {
    for (let i = list.length - 1; i >= 0; i--) if (list[i] && pays(list[i]!)) return i;
    return -1;
  };
  const h = last(d.handles, (x) => D.has(x.account));
  if (h >= 0) {
    // (the last capability naming the handle takes it along: the final-capability rule)
    const other = greatestNaming(d, "dma", h, null);
    if (other !== null && handUp(w, other)) return !w.d.accounts[a];
    removeInWalk(w, other !== null ? { caps: [other] } : { handles: [h] });
    return !w.d.accounts[a];
  }
  const c = last(d.containers, (x) => D.has(x.account));
  if (c >= 0) {
    Object.assign(w, { at: { kind: "container", id: c }, page: -1, slot: d.config.containerSlots - 1, cursor: null });
    return false;
  }
  const subject = d.tasks[own.task]!;
  const emptied = emptyObject(d, "task", own.task, own);
  const t = last(d.tasks, (x) => D.has(x.account) && x !== subject);
  const next = t >= 0 ? t : D.has(subject.account) && !emptied ? own.task : -1;
  if (next >= 0) {
    Object.assign(w, { at: { kind: "task", id: next }, page: d.config.vpages - 1, slot: d.config.capSlots - 1, cursor: null });
    return false;
  }
  // (a sub-account that pays for the subject's task waits for the last unit)
  let b = -1;
  for (const x of D) if (x !== a && x > b && !d.accounts.some((y) => y !== null && y.parent === x) && subject.account !== x) b = x;
  if (b >= 0) {
    const other = greatestNaming(d, "account", b, null);
    if (other !== null && handUp(w, other)) return !w.d.accounts[a];
    removeInWalk(w, other !== null ? { caps: [other] } : { accounts: [b] });
    return !w.d.accounts[a];
  }
  // (what waits for the last unit, the subject's task and the sub-accounts paying for it, loses its names before it, but one each)
  const waiting: [string, number][] = D.has(subject.account) ? [["task", own.task]] : [];
  for (const x of [...D].sort((p, q) => q - p)) if (x !== a && accountUnder(d, subject.account, x)) waiting.push(["account", x]);
  for (const [kind, id] of waiting) {
    let names = 0;
    d.tasks.forEach((t) => t?.caps.forEach((k) => k?.kind === kind && k.object === id && names++));
    if (names > 1) {
      const greatest = greatestNaming(d, kind, id, null)!;
      if (handUp(w, greatest)) return !w.d.accounts[a];
      removeInWalk(w, { caps: [greatest] });
      return !w.d.accounts[a];
    }
  }
  const other = greatestNaming(d, "account", a, own);
  if (other !== null && handUp(w, other)) return !w.d.accounts[a];
  removeInWalk(w, other !== null ? { caps: [other] } : { accounts: [a] });
  return !w.d.accounts[a];
}

/** One unit of an account destroy, and the subject rule (subjectWent). */
const accountDestroyUnit = (w: AccountWalk, a: number, own: CapRef): boolean => accountUnit(w, a, own) || subjectWent(w, own.task, { accounts: [a] });

const newAccountWalk = (state: State, p: PendingAccountDestroy | null, subject: number, spare: number | null = null): AccountWalk => {
  const from = p ?? betweenObjects;
  return { ...newObjectWalk(state, from, subject, spare), at: from.at && { ...from.at } };
};

/**
 * account.destroy under a budget: runs the walk from where the subject's
 * pending destroy stands for at most `budget` units. Finished: what
 * account.destroy gives in one step. Not finished: `preempted`, and the
 * record says where to go on; meanwhile the tasks it pays for do nothing,
 * and nothing may be made through a capability to what it destroys.
 */
export function accountDestroyChunk(state: State, op: OpOf<"account.destroy">, a: number, budget: number): Step {
  const p = state.tasks[op.task]!.pending as PendingAccountDestroy | null;
  const w = newAccountWalk(state, p, op.task);
  const own = { task: op.task, slot: op.account };
  let finished = false;
  for (let spent = 0; !finished && spent < budget; spent++) finished = accountDestroyUnit(w, a, own);
  settleLeaves(w.base, w.d, w.touched);
  const subject = w.d.tasks[op.task];
  if (subject) subject.pending = finished ? null : { op: { op: "account.destroy", task: op.task, account: op.account }, object: a, at: w.at, page: w.page, slot: w.slot, cursor: w.cursor, ...(w.zombie && { zombie: w.zombie }) };
  return { state: finish(w.d), result: finished ? ok() : preempted() };
}

/** The units the account destroy `op` takes from `from` (or from its start) to the end, nobody else acting. */
function accountDestroyLength(state: State, op: { readonly task: number; readonly account: number }, from: PendingAccountDestroy | null, spare: number | null = null): number {
  const a = from ? from.object : state.tasks[op.task]!.caps[op.account]!.object;
  const w = newAccountWalk(state, from, op.task, spare);
  let n = 1;
  while (!accountDestroyUnit(w, a, { task: op.task, slot: op.account })) n++;
  return n;
}

/** Is the mapping at `r` in the tree of task `t`'s mapping at `page`? */
const underPage = (state: State, r: MapRef, t: number, page: number): boolean => page >= 0 && !!state.tasks[r.task]?.pages[r.vpage] && under(state, r, { task: t, vpage: page });

/** Is the mapping at `r` in a tree rooted at slot `i` of container `c`? */
function underSlot(state: State, r: MapRef, c: number, i: number): boolean {
  const at = state.tasks[r.task]?.pages[r.vpage];
  const root = at && rootOf(state, at);
  return !!root && root.source.kind === "slot" && root.source.container === c && root.source.index === i;
}

/** The units the destroy `op` takes from `from` (or from its start) to the end, nobody else acting. */
function destroyLength(state: State, op: { readonly task: number; readonly container: number }, from: PendingDestroy | null): number {
  const c = from ? from.object : state.tasks[op.task]!.caps[op.container]!.object;
  const w = newObjectWalk(state, from ?? { slot: state.config.containerSlots - 1, cursor: null }, op.task);
  let n = 1;
  while (!destroyUnit(w, c, { task: op.task, slot: op.container })) n++;
  return n;
}

/**
 * The units a pending removal of task `t` still needs when nobody else
 * acts (its walk run to the end on a scratch copy), or 0 when none is
 * pending. Without `rule`, the walk's removals never take the subject
 * along (nor the accounts that pay for it) by the final-capability rule,
 * so the subject rule (subjectWent, revokeUnit) never ends it early: the
 * walk goes on as if the subject were kept alive, which counts at least as
 * many units, and the same units until the rule would end it; and a
 * revoke starts no zombie it has not started yet (an object whose last
 * capability it reaches goes in one unit, as if it were empty), so that
 * what such an object gains before the walk reaches it is not counted:
 * it is not the walk's yet (removalNeverStalls).
 */
export function remainingWork(state: State, t: number, rule = true): number {
  const p = state.tasks[t]?.pending;
  if (!p) return 0;
  const spare = rule ? null : t;
  if (isRevoke(p)) return revokeLength(state, p.op, p, spare);
  if (isDestroy(p)) return destroyLength(state, p.op, p);
  if (isTaskDestroy(p)) return taskDestroyLength(state, p.op, p, spare);
  if (isAccountDestroy(p)) return accountDestroyLength(state, p.op, p, spare);
  return walkLength(state, p.op, p);
}

/** The units the walk of `op` takes from `from` (or from its start) to the end, nobody else acting. */
export function removalLength(state: State, op: OpOf<"page.unmap" | "cap.revoke" | "container.destroy" | "task.destroy" | "account.destroy">, from: Pending | null): number {
  if (op.op === "account.destroy") return accountDestroyLength(state, op, from && isAccountDestroy(from) ? from : null);
  if (op.op === "cap.revoke") return revokeLength(state, op, from && isRevoke(from) ? from : null);
  if (op.op === "container.destroy") return destroyLength(state, op, from && isDestroy(from) ? from : null);
  if (op.op === "task.destroy") return taskDestroyLength(state, op, from && isTaskDestroy(from) ? from : null);
  return walkLength(state, op, from as PendingUnmap | null);
}

/** The units the walk of `op` takes from `from` (or from the start of the range) to the end, nobody else acting. */
function walkLength(state: State, op: OpOf<"page.unmap">, from: PendingUnmap | null): number {
  const w = walkFrom(op, from);
  const d = draft(state);
  const children = mapChildren(state);
  let n = 0;
  for (const end = rangeEnd(op); w.page < end; n++) unit(state, d, op, w, children, new Set());
  return n;
}

/**
 * Is the mapping at `ref`, or one it derives from, in what a preempted
 * removal has still to take apart: a page of an unmap's range from the one
 * its walk is at, a mapping a capability being revoked authorized or
 * rooted in a container being destroyed, a mapping of a task being
 * destroyed? Then nothing may be derived from it.
 */
export function removing(state: State, ref: MapRef): boolean {
  return someAncestor(state, ref, (r) => {
    if (pageBeingUnmapped(state, r.task, r.vpage) || taskDying(state, r.task)) return true;
    const m = state.tasks[r.task]?.pages[r.vpage];
    // (a root a capability of a task being taken apart authorized: handed up, or its tree taken apart, handUpRoot)
    return m?.source.kind === "slot" && (beingRevoked(state, m.source.cap) || containerDying(state, m.source.container) || taskDying(state, m.source.cap.task));
  });
}

/** Does `pred` hold for `ref` or for a mapping it derives from (a walk up the parents)? */
function someAncestor(state: State, ref: MapRef, pred: (r: MapRef) => boolean): boolean {
  let r: MapRef | null = ref;
  // (a chain of parents is as long as the mappings are many, at most)
  for (let hops = 0; r !== null && hops <= state.tasks.length * state.config.vpages; hops++) {
    if (pred(r)) return true;
    const m: Mapping | null | undefined = state.tasks[r.task]?.pages[r.vpage];
    r = m && m.source.kind === "map" ? m.source.parent : null;
  }
  return false;
}

/** Is page `vpage` of task `task` in the part of its range that the task's pending unmap has still to do? */
export function pageBeingUnmapped(state: State, task: number, vpage: number): boolean {
  const p = state.tasks[task]?.pending;
  return p !== null && p !== undefined && isUnmap(p) && vpage >= p.page && vpage < rangeEnd(p.op);
}

/**
 * Has another operation taken what task `t`'s pending removal works on? A
 * revoke's capability, or a destroy's container or task, or the subject's
 * capability to it. (An unmap's ground cannot go: its pages are the
 * task's own, and nothing is delivered into its range.) Then the removal
 * ends, unfinished: what was left of it is ordinary again.
 */
export function removalOrphaned(state: State, t: number, p: Pending): boolean {
  const task = state.tasks[t]!;
  if (isRevoke(p)) return !task.caps[p.op.slot];
  if (isDestroy(p)) {
    const cap = task.caps[p.op.container];
    return !state.containers[p.object] || cap?.kind !== "container" || cap.object !== p.object;
  }
  if (isTaskDestroy(p)) {
    const cap = task.caps[p.op.target];
    return !state.tasks[p.object] || cap?.kind !== "task" || cap.object !== p.object;
  }
  if (isAccountDestroy(p)) {
    const cap = task.caps[p.op.account];
    return !state.accounts[p.object] || cap?.kind !== "account" || cap.object !== p.object;
  }
  return false;
}

/** Where a walk through a container, a task or an account (a zombie's) stands, with the zombies inside it (a task's). */
interface ObjectPlace {
  readonly page?: number;
  readonly slot: number;
  readonly cursor: MapRef | null;
  /** an account zombie's: the container its walk takes apart (absent between objects) */
  readonly container?: number;
  /** an account zombie's: the task its walk takes apart (absent between objects) */
  readonly task?: number;
  readonly zombie?: Zombie;
}

/**
 * The walk through container, task or account `kind` `id` (which is there)
 * after another operation: the same, if what it works on is still there;
 * if the innermost zombie inside it went, the chain starts again
 * (restartChain); if the mapping the walk (or the innermost zombie's)
 * stands at went, or left the tree of the slot or page it empties, the
 * walk starts that slot or page again; if the container an account
 * zombie's walk takes apart went, that walk is between objects again.
 */
function settleObjectPlace<P extends ObjectPlace>(state: State, kind: Zombie["kind"], id: number, p: P): P {
  const chain = chainOf(p.zombie);
  const z = chain[chain.length - 1];
  if (z) {
    if (!zombieThere(state, z)) {
      const w: { page: number; slot: number; cursor: MapRef | null; zombie: Zombie | null } = { page: p.page!, slot: p.slot, cursor: p.cursor, zombie: null };
      restartChain(w, chain, state);
      const { zombie: _, ...rest } = p;
      // (an account's walk in a task that went with the chain is between objects: settleOwn)
      return settleOwn(state, kind, id, { ...rest, page: w.page, slot: w.slot, cursor: w.cursor, ...(w.zombie && { zombie: w.zombie }) } as P);
    }
    const s = settleOwn(state, z.kind, z.id, z);
    if (s === z) return p;
    chain[chain.length - 1] = s;
    return { ...p, zombie: chainFrom(chain)! };
  }
  return settleOwn(state, kind, id, p);
}

/** The walk through `kind` `id` itself (settleObjectPlace), the zombies inside it aside. */
function settleOwn<P extends ObjectPlace>(state: State, kind: Zombie["kind"], id: number, p: P): P {
  const at = atOf(p);
  if (kind === "account" && at !== null && !zombieThere(state, at)) {
    const { container: _, task: __, ...rest } = p;
    return { ...rest, page: -1, slot: -1, cursor: null } as unknown as P;
  }
  return p.cursor === null || cursorInObject(state, kind, id, p) ? p : { ...p, cursor: null };
}

/** Is the cursor of a walk through container, task or account `kind` `id` in a tree of the slot or page it empties (an account's: of its container's slot, or of its task's page)? */
function cursorInObject(state: State, kind: Zombie["kind"], id: number, p: ObjectPlace): boolean {
  if (kind === "task" || (kind === "account" && p.task !== undefined)) {
    const x = kind === "task" ? id : p.task!;
    return p.page! >= 0 ? underPage(state, p.cursor!, x, p.page!) : underRootOf(state, p.cursor!, x, p.slot);
  }
  return underSlot(state, p.cursor!, kind === "container" ? id : p.container!, p.slot);
}

/**
 * Task `t`'s pending removal `p` (not orphaned) after another operation: a
 * walk whose cursor node that operation removed (or, for a revoke or a
 * destroy, moved out of its reach) starts again: an unmap its page from the
 * task's own mapping (or skips the page if that went too), a revoke from
 * the revoked capability (or, inside its zombie, settleObjectPlace), a
 * container destroy its slot, a task destroy or an account destroy's walk
 * through an object as settleObjectPlace says; an account destroy whose
 * object went picks the next. Returns `p` itself when nothing changes.
 */
function settled(state: State, t: number, p: Pending): Pending {
  if (isRevoke(p)) {
    // (a zombie that went took the capability at the cursor along; one whose capability another walk handed up out of
    // the revoke's reach is no longer the revoke's: handUp, when the revoked capability is one that walk makes vanish)
    const z = p.zombie;
    if (z) {
      if (!zombieThere(state, z) || !zombieInReach(state, t, p)) return { op: p.op, cursor: null };
      const was = placeOf(z);
      const now = settleObjectPlace(state, z.kind, z.id, was);
      return now === was ? p : { ...p, zombie: { kind: z.kind, id: z.id, page: now.page!, slot: now.slot, cursor: now.cursor, ...atFields(atOf(now)), ...(now.zombie && { inner: now.zombie }) } };
    }
    return p.cursor === null || inRevoke(state, p.cursor, { task: t, slot: p.op.slot }) ? p : { op: p.op, cursor: null };
  }
  if (isAccountDestroy(p)) {
    if (p.at === null) return p;
    if (!zombieThere(state, p.at)) return { op: p.op, object: p.object, ...betweenObjects };
    return settleObjectPlace(state, p.at.kind, p.at.id, p);
  }
  if (isTaskDestroy(p)) return settleObjectPlace(state, "task", p.object, p);
  if (isDestroy(p)) return settleObjectPlace(state, "container", p.object, p);
  return p.cursor === null || state.tasks[p.cursor.task]?.pages[p.cursor.vpage] ? p : { ...p, cursor: null, last: null, zone: null };
}

/** Is the capability at revoke `p`'s cursor (its zombie's only one) still below the capability it revokes? */
function zombieInReach(state: State, t: number, p: PendingRevoke): boolean {
  return p.cursor === null || inRevoke(state, p.cursor, { task: t, slot: p.op.slot });
}

/**
 * After a successful step: a pending removal whose ground another
 * operation took ends (removalOrphaned); one whose walk lost the node it
 * stands at starts it again (settled). Returns `state` itself when nothing
 * needs it.
 */
export function settlePending(state: State): State {
  let d: Draft | null = null;
  state.tasks.forEach((t, id) => {
    const p = t?.pending;
    if (!p) return;
    const q = removalOrphaned(state, id, p) ? null : settled(state, id, p);
    if (q === p) return;
    d ??= draft(state);
    d.tasks[id]!.pending = q;
  });
  return d ? finish(d) : state;
}

// ---------------------------------------------------------------------------
// Named properties (checked with the others: invariants.ts, transitions.ts)

/** Does the chain of parents from `r` reach `top` (or is `r` top)? */
const under = (state: State, r: MapRef, top: MapRef): boolean => someAncestor(state, r, (x) => x.task === top.task && x.vpage === top.vpage);

/**
 * What a pending removal of task `t` has still to take apart: for an
 * unmap, the mappings in the trees of the pages from the one it is at (keys
 * `task:vpage`); for a revoke, the capabilities derived from the revoked
 * one (keys `cap task:slot`) and the mappings in the trees they authorized;
 * for a destroy, the container's slots not emptied yet (keys `slot c:i`),
 * the mappings rooted at them and derived from those, and the capabilities
 * naming the container; for a task destroy, the target's mappings with
 * their trees, its capabilities and the capabilities naming it; for an
 * account destroy, the account and its sub-accounts (keys `account a`),
 * what they pay for (`dma h`, `container c` with its filled slots, `task
 * t`), the capabilities naming any of these or held by those tasks, and
 * the mappings of those tasks or rooted in those containers, with their
 * trees; and, for each, what the zombies it empties have left (as for a
 * destroy of each).
 */
export function pendingRegion(state: State, t: number): Set<string> {
  const p = state.tasks[t]?.pending;
  const out = new Set<string>();
  if (!p) return out;
  const children = mapChildren(state);
  const stack: MapRef[] = [];
  if (isRevoke(p)) {
    const idx = new RevokeIndex(state);
    const caps: CapRef[] = [...(idx.caps.get(capKey({ task: t, slot: p.op.slot })) ?? [])];
    while (caps.length > 0) {
      const c = caps.pop()!;
      out.add(`cap ${capKey(c)}`);
      caps.push(...(idx.caps.get(capKey(c)) ?? []));
      stack.push(...(idx.roots.get(capKey(c)) ?? []));
    }
  } else if (isDestroy(p)) containerRegion(state, p.object, p.slot, out, stack);
  else if (isAccountDestroy(p)) accountRegion(state, p.object, out, stack);
  else if (isTaskDestroy(p)) taskRegion(state, p.object, out, stack);
  else for (let v = p.page; v < rangeEnd(p.op); v++) if (state.tasks[t]!.pages[v]) stack.push({ task: t, vpage: v });
  for (const z of zombiesOf(p)) {
    if (z.kind === "container") containerRegion(state, z.id, z.slot, out, stack);
    else if (z.kind === "task") taskRegion(state, z.id, out, stack);
    else accountRegion(state, z.id, out, stack);
  }
  while (stack.length > 0) {
    const r = stack.pop()!;
    out.add(mapKey(r));
    stack.push(...(children.get(mapKey(r)) ?? []));
  }
  return out;
}

/** What an account walk has still to take apart (pendingRegion): account `a` and its sub-accounts, what they pay for, the capabilities naming any of these or held by those tasks, and (onto `stack`) the mappings of those tasks or rooted in those containers. */
function accountRegion(state: State, a: number, out: Set<string>, stack: MapRef[]): void {
  const D = subtreeOf(state, a);
  const pays = (x: { account: number } | null | undefined) => !!x && D.has(x.account);
  const named = (kind: string, id: number) => (kind === "account" && D.has(id)) || (kind === "task" && pays(state.tasks[id])) || (kind === "container" && pays(state.containers[id])) || (kind === "dma" && pays(state.handles[id]));
  for (const x of D) out.add(`account ${x}`);
  state.handles.forEach((h, id) => pays(h) && out.add(`dma ${id}`));
  state.containers.forEach((c, id) => {
    if (!pays(c)) return;
    out.add(`container ${id}`);
    c!.slots.forEach((x, i) => x.kind !== "empty" && out.add(`slot ${id}:${i}`));
  });
  state.tasks.forEach((task, tt) => {
    if (pays(task)) out.add(`task ${tt}`);
    task?.caps.forEach((cap, slot) => cap && (pays(task) || named(cap.kind, cap.object)) && out.add(`cap ${capKey({ task: tt, slot })}`));
    task?.pages.forEach((m, vpage) => m && (pays(task) || (m.source.kind === "slot" && (pays(state.containers[m.source.container]) || pays(state.tasks[m.source.cap.task])))) && stack.push({ task: tt, vpage }));
  });
}

/** What a container walk has still to take apart (pendingRegion): container `c`'s filled slots up to `slot`, the capabilities naming it, and (onto `stack`) the mappings rooted at those slots. */
function containerRegion(state: State, c: number, slot: number, out: Set<string>, stack: MapRef[]): void {
  state.containers[c]?.slots.forEach((x, i) => i <= slot && x.kind !== "empty" && out.add(`slot ${c}:${i}`));
  state.tasks.forEach((task, tt) => {
    task?.caps.forEach((cap, s) => cap?.kind === "container" && cap.object === c && out.add(`cap ${capKey({ task: tt, slot: s })}`));
    task?.pages.forEach((m, vpage) => m?.source.kind === "slot" && m.source.container === c && m.source.index <= slot && stack.push({ task: tt, vpage }));
  });
}

/** What a task walk has still to take apart (pendingRegion): task `x`'s capabilities, those naming it, and (onto `stack`) its mappings and the root mappings its capabilities authorized (handUpRoot). */
function taskRegion(state: State, x: number, out: Set<string>, stack: MapRef[]): void {
  state.tasks.forEach((task, tt) => {
    task?.caps.forEach((cap, slot) => cap && (tt === x || (cap.kind === "task" && cap.object === x)) && out.add(`cap ${capKey({ task: tt, slot })}`));
    task?.pages.forEach((m, vpage) => m && (tt === x || (m.source.kind === "slot" && m.source.cap.task === x)) && stack.push({ task: tt, vpage }));
  });
}

/** The well-formedness of a pending destroy of task `t` (pendingWalkWellFormed), or null. */
function destroyWellFormed(s: State, t: number, p: PendingDestroy): string | null {
  return destroyRecordWellFormed(s, t, p, "container", p.op.container, () => false) ?? containerWalkWellFormed(s, `task ${t}'s pending container.destroy`, p.object, p);
}

/**
 * What the three destroy records of task `t` share (pendingWalkWellFormed),
 * or null: the record is the task's own, names a slot holding a capability
 * with alloc to the object (`kind`), not a root object (`root`, asked once
 * the object is known to be there), and no other task destroys the same
 * object.
 */
function destroyRecordWellFormed(s: State, t: number, p: PendingDestroy | PendingTaskDestroy | PendingAccountDestroy, kind: string, slot: number, root: () => boolean): string | null {
  const what = `task ${t}'s pending ${p.op.op}`;
  if (p.op.task !== t) return `task ${t} has a pending ${p.op.op} that is not its own`;
  if (!Number.isInteger(slot) || removalOrphaned(s, t, p)) return `${what} names slot ${slot}, which holds no capability to ${kind} ${p.object}`;
  if ((s.tasks[t]!.caps[slot]!.rights & R.alloc) === 0) return `${what} goes through a capability without alloc`;
  if (root()) return `${what} destroys the root ${kind}`;
  for (let u = 0; u < s.tasks.length; u++) {
    const q = s.tasks[u]?.pending;
    if (u !== t && q && q.op.op === p.op.op && (q as typeof p).object === p.object) return `tasks ${u} and ${t} both destroy ${kind} ${p.object}`;
  }
  return null;
}

/** The well-formedness of a pending account destroy of task `t` (pendingWalkWellFormed), or null. */
function accountDestroyWellFormed(s: State, t: number, p: PendingAccountDestroy): string | null {
  const op = p.op;
  const what = `task ${t}'s pending account.destroy`;
  const shared = destroyRecordWellFormed(s, t, p, "account", op.account, () => s.accounts[p.object]!.parent === null);
  if (shared) return shared;
  if (p.at === null) return p.page === -1 && p.slot === -1 && p.cursor === null && !p.zombie ? null : `${what} is between objects but keeps where a walk stood`;
  const D = subtreeOf(s, p.object);
  const { id, kind } = p.at;
  const object = kind === "container" ? s.containers[id] : s.tasks[id];
  if (!object || !D.has(object.account)) return `${what} takes apart ${kind} ${id}, which the account does not pay for`;
  const left = s.handles.findIndex((h) => h && D.has(h.account));
  if (left >= 0) return `${what} takes apart ${kind} ${id} while DMA handle ${left}, which it pays for, is left`;
  if (kind === "container") return p.page !== -1 ? `${what} stands at page ${p.page} of container ${id}` : placeWellFormed(s, what, kind, id, p, null, [t]);
  const c = s.containers.findIndex((x) => x && D.has(x.account));
  if (c >= 0) return `${what} takes apart task ${id} while container ${c}, which it pays for, is left`;
  const other = s.tasks.findIndex((x, i) => x && i !== t && D.has(x.account));
  if (id === t && other >= 0) return `${what} takes apart its own task while task ${other}, which it pays for, is left`;
  return placeWellFormed(s, what, kind, id, p, id === t ? op.account : null, [t]);
}

/**
 * The well-formedness of a walk through container `c`'s slots (a container
 * destroy's, or an account destroy's at a container), or null: it stands
 * at a slot of the container, has passed only empty slots, and its cursor
 * is in a tree rooted at the slot it empties.
 */
function containerWalkWellFormed(s: State, what: string, c: number, p: { readonly slot: number; readonly cursor: MapRef | null }): string | null {
  if (!Number.isInteger(p.slot) || p.slot < -1 || p.slot >= s.config.containerSlots) return `${what} stands at slot ${p.slot}, outside the container`;
  const slots = s.containers[c]!.slots;
  for (let i = p.slot + 1; i < slots.length; i++) if (slots[i]!.kind !== "empty") return `${what} has passed slot ${i} of container ${c}, which is not empty`;
  if (p.cursor !== null && (p.slot < 0 || !underSlot(s, p.cursor, c, p.slot))) return `${what} stands at task ${p.cursor.task}'s page ${p.cursor.vpage}, which is not in a tree rooted at the slot it empties`;
  return null;
}

/**
 * The well-formedness of a walk through task `x`'s pages and capabilities
 * (a task destroy's, an account destroy's at a task, a zombie's), or
 * null: it stands at a page and a capability slot of the task (the last
 * slot while pages remain), has passed only unmapped pages and empty
 * capability slots (but `ownSlot`, the subject's own capability when x is
 * the subject or the only capability naming a zombie x, and `innerSlot`,
 * the one naming the zombie inside it), and its cursor is in the tree of
 * the page it empties.
 */
function taskWalkWellFormed(s: State, what: string, x: number, p: { readonly page: number; readonly slot: number; readonly cursor: MapRef | null }, ownSlot: number | null, innerSlot: number | null = null): string | null {
  const { vpages, capSlots } = s.config;
  if (!Number.isInteger(p.page) || p.page < -1 || p.page >= vpages) return `${what} stands at page ${p.page}, outside the address space`;
  if (!Number.isInteger(p.slot) || p.slot < -1 || p.slot >= capSlots || (p.page >= 0 && p.slot !== capSlots - 1)) return `${what} stands at capability slot ${p.slot} (page ${p.page})`;
  const task = s.tasks[x]!;
  for (let v = p.page + 1; v < vpages; v++) if (task.pages[v]) return `${what} has passed page ${v} of task ${x}, which is mapped`;
  for (let i = p.slot + 1; i < capSlots; i++) if (task.caps[i] && i !== ownSlot && i !== innerSlot) return `${what} has passed capability slot ${i} of task ${x}, which is not empty`;
  if (p.cursor !== null && !(p.page >= 0 ? underPage(s, p.cursor, x, p.page) : underRootOf(s, p.cursor, x, p.slot))) return `${what} stands at task ${p.cursor.task}'s page ${p.cursor.vpage}, which is not in the tree of the page it empties, nor of a root mapping the capability it hands up authorized that cannot be re-attached`;
  return null;
}

/** The well-formedness of a pending task destroy of task `t` (pendingWalkWellFormed), or null. */
function taskDestroyWellFormed(s: State, t: number, p: PendingTaskDestroy): string | null {
  const op = p.op;
  return destroyRecordWellFormed(s, t, p, "task", op.target, () => p.object === ROOT_TASK) ?? placeWellFormed(s, `task ${t}'s pending task.destroy`, "task", p.object, p, p.object === t ? op.target : null, [t]);
}

/** The well-formedness of a pending unmap of task `t` (pendingWalkWellFormed), or null. */
function unmapWellFormed(s: State, t: number, p: PendingUnmap): string | null {
  const op = p.op;
  if (op.op !== "page.unmap" || op.task !== t) return `task ${t} has a pending removal that is not its own page.unmap`;
  if (!Number.isInteger(op.order) || op.order < 0 || op.order > 30 || !Number.isInteger(op.vpage) || op.vpage < 0 || op.vpage % 2 ** op.order !== 0 || rangeEnd(op) > s.config.vpages) return `task ${t}'s pending page.unmap has a range outside its address space`;
  if (!(UNMAP_MODES as readonly string[]).includes(op.mode)) return `task ${t}'s pending page.unmap has mode ${String(op.mode)}`;
  if (!Number.isInteger(p.page) || p.page < op.vpage || p.page >= rangeEnd(op)) return `task ${t}'s pending page.unmap stands at page ${p.page}, outside its range`;
  if (!Number.isInteger(p.bits) || p.bits < 0 || p.bits > 3) return `task ${t}'s pending page.unmap gathered bits ${p.bits}`;
  const root = { task: t, vpage: p.page };
  if (p.cursor === null) {
    if (p.last !== null || p.zone !== null) return `task ${t}'s pending page.unmap has not started page ${p.page} but remembers a child or a subtree`;
    return null;
  }
  if (!s.tasks[p.cursor.task]?.pages[p.cursor.vpage]) return `task ${t}'s pending page.unmap stands at task ${p.cursor.task}'s page ${p.cursor.vpage}, which is not mapped`;
  if (!under(s, p.cursor, root)) return `task ${t}'s pending page.unmap stands at task ${p.cursor.task}'s page ${p.cursor.vpage}, outside the tree of its page ${p.page}`;
  if (p.zone !== null) {
    if (op.mode !== "readonly") return `task ${t}'s pending page.unmap (mode ${op.mode}) remembers a write-only subtree`;
    const z = s.tasks[p.zone.task]?.pages[p.zone.vpage];
    if (!z || z.rights !== R.write || !under(s, p.cursor, p.zone) || mapKey(p.zone) === mapKey(root)) return `task ${t}'s pending page.unmap is removing a subtree at task ${p.zone.task}'s page ${p.zone.vpage} that is not a write-only mapping above its cursor`;
  }
  const removingHere = op.mode !== "readonly" || p.zone !== null;
  if (p.last !== null) {
    for (const c of mapChildren(s).get(mapKey(p.cursor)) ?? []) {
      if (keyBefore(c, p.last)) continue;
      const m = s.tasks[c.task]!.pages[c.vpage]!;
      if (removingHere) return `task ${t}'s pending page.unmap finished the children of task ${p.cursor.task}'s page ${p.cursor.vpage} up to task ${p.last.task}'s page ${p.last.vpage}, but task ${c.task}'s page ${c.vpage} is still there`;
      if ((m.rights & R.write) !== 0) return `task ${t}'s pending page.unmap finished the children of task ${p.cursor.task}'s page ${p.cursor.vpage} up to task ${p.last.task}'s page ${p.last.vpage}, but task ${c.task}'s page ${c.vpage} still has the write right`;
    }
  }
  return null;
}

/** The well-formedness of a pending revoke of task `t` (pendingWalkWellFormed), or null. */
function revokeWellFormed(s: State, t: number, p: PendingRevoke): string | null {
  const op = p.op;
  if (op.task !== t) return `task ${t} has a pending cap.revoke that is not its own`;
  if (!Number.isInteger(op.slot) || op.slot < 0 || op.slot >= s.config.capSlots || removalOrphaned(s, t, p)) return `task ${t}'s pending cap.revoke names slot ${op.slot}, which holds no capability`;
  const c = p.cursor;
  if (c !== null && !inRevoke(s, c, { task: t, slot: op.slot })) return `task ${t}'s pending cap.revoke stands at ${c.kind === "cap" ? `task ${c.task}'s capability slot ${c.slot}` : `task ${c.task}'s page ${c.vpage}`}, which is not (or no longer) derived from the capability it revokes`;
  return p.zombie === undefined ? null : zombieWellFormed(s, `task ${t}'s pending cap.revoke`, p.zombie, c, t);
}

/**
 * The well-formedness of the zombie of task `t`'s revoke
 * (pendingWalkWellFormed), or null: a container, a task or an account that
 * is there, the walk stands at the only capability naming it, from which
 * nothing hangs any more, and the zombie's walk is well-formed as a
 * container's or a task's destroy, or as an account zombie's
 * (accountZombieWellFormed).
 */
function zombieWellFormed(s: State, what: string, z: Zombie, c: RevokeNode | null, t: number): string | null {
  const { kind, id } = z;
  if ((kind !== "container" && kind !== "task" && kind !== "account") || !Number.isInteger(id) || !zombieThere(s, z)) return `${what} empties ${String(kind)} ${id}, which is not there`;
  if (c === null || c.kind !== "cap") return `${what} empties ${kind} ${id} but does not stand at the capability naming it`;
  const cap = s.tasks[c.task]!.caps[c.slot]!;
  if (cap.kind !== kind || cap.object !== id) return `${what} empties ${kind} ${id} but stands at a capability to ${cap.kind} ${cap.object}`;
  const other = greatestNaming(s, kind, id, c);
  if (other !== null) return `${what} empties ${kind} ${id}, which task ${other.task}'s capability slot ${other.slot} names too`;
  const hangs = s.tasks.some((x) => x?.caps.some((k) => k?.parent?.task === c.task && k.parent.slot === c.slot) || x?.pages.some((m) => m?.source.kind === "slot" && m.source.cap.task === c.task && m.source.cap.slot === c.slot));
  if (hangs) return `${what} empties ${kind} ${id} while something still hangs from the capability naming it`;
  if (kind === "container") return z.page !== -1 ? `${what} stands at page ${z.page} of container ${id}` : containerWalkWellFormed(s, what, id, z);
  return placeWellFormed(s, what, kind, id, placeOf(z), kind === "task" && c.task === id ? c.slot : null, [t], c);
}

/**
 * The well-formedness of an account zombie's walk (zombieWellFormed,
 * placeWellFormed), or null: the account is not the root account, and
 * neither it nor a sub-account pays for a task of `busy` (the subject, the
 * tasks the walks around it stand in, the holders of the capabilities
 * naming the zombies around it); `named`, a revoke's account zombie's
 * capability, whose holder it may pay for, and then takes apart last, with
 * no other task they pay for left, keeping that capability (accountUnit);
 * between objects the walk keeps no place;
 * at a container, it is one the account or a sub-account pays for, with no
 * DMA handle they pay for left, and the walk is well-formed as a container
 * destroy's; at a task, it is one they pay for, with no DMA handle and no
 * container they pay for left, and the walk is well-formed as a task
 * destroy's.
 */
function accountZombieWellFormed(s: State, what: string, z: Zombie, busy: readonly number[], innerSlot: number | null = null, named: CapRef | null = null): string | null {
  const D = subtreeOf(s, z.id);
  if (z.id === ROOT_ACCOUNT) return `${what} empties the root account`;
  const t = busy.find((x) => s.tasks[x] && D.has(s.tasks[x].account));
  if (t !== undefined) return `${what} empties account ${z.id}, which pays for task ${t}, the subject or a task a walk around it takes apart`;
  const h = s.handles.findIndex((x) => x && D.has(x.account));
  if (z.task !== undefined) {
    const x = s.tasks[z.task];
    if (z.container !== undefined) return `${what} takes apart container ${z.container} and task ${z.task} at once`;
    if (!Number.isInteger(z.task) || !x || !D.has(x.account)) return `${what} takes apart task ${z.task}, which account ${z.id} does not pay for`;
    if (h >= 0) return `${what} takes apart task ${z.task} while DMA handle ${h}, which account ${z.id} pays for, is left`;
    const c = s.containers.findIndex((x) => x && D.has(x.account));
    if (c >= 0) return `${what} takes apart task ${z.task} while container ${c}, which account ${z.id} pays for, is left`;
    // (the holder of the capability naming it, if it pays for that task: last, but for that capability)
    const own = named !== null && named.task === z.task;
    const other = own ? s.tasks.findIndex((y, id) => y && id !== z.task && D.has(y.account)) : -1;
    if (other >= 0) return `${what} takes apart task ${z.task}, which holds the capability naming it, while task ${other}, which account ${z.id} pays for, is left`;
    return taskWalkWellFormed(s, what, z.task, z, own ? named.slot : null, innerSlot);
  }
  if (z.page !== -1) return `${what} stands at page ${z.page} of account ${z.id}`;
  if (z.container === undefined) return z.slot === -1 && z.cursor === null ? null : `${what} is between objects of account ${z.id} but keeps where a walk stood`;
  const c = s.containers[z.container];
  if (!Number.isInteger(z.container) || !c || !D.has(c.account)) return `${what} takes apart container ${z.container}, which account ${z.id} does not pay for`;
  if (h >= 0) return `${what} takes apart container ${z.container} while DMA handle ${h}, which account ${z.id} pays for, is left`;
  return containerWalkWellFormed(s, what, z.container, z);
}

/**
 * The well-formedness of a walk through container or task `kind` `id` with
 * the zombies inside it (pendingWalkWellFormed), or null. The walk is
 * well-formed as a container's or a task's destroy (`ownSlot` as for
 * taskWalkWellFormed). With zombies (a task's walk only): it has passed
 * its pages and stands at no mapping, and the capability in the slot above
 * its own is the only one naming its first zombie, a container, a task
 * (not the root task) or an account that is there; so on inwards, each
 * zombie with one inside it a task whose walk is past its pages and at no
 * mapping; each
 * zombie's walk well-formed as a container's or a task's destroy, or as an
 * account zombie's (paying for none of `busy`, nor for the tasks the walks
 * around it stand in). A zombie with another inside it is a task past its
 * pages at no mapping, or an account whose walk is in such a task (`task`);
 * the capability in the slot above names the next zombie in.
 */
function placeWellFormed(s: State, what: string, kind: Zombie["kind"], id: number, p: ObjectPlace, ownSlot: number | null, busy: readonly number[], named: CapRef | null = null): string | null {
  const chain = chainOf(p.zombie);
  if (chain.length > 0 && kind === "container") return `${what} keeps a zombie inside container ${id}`;
  const place = { page: p.page ?? -1, slot: p.slot, cursor: p.cursor, ...atFields(atOf(p)) };
  const innerSlot = chain.length > 0 ? p.slot + 1 : null;
  const e = kind === "container" ? containerWalkWellFormed(s, what, id, p) : kind === "account" ? accountZombieWellFormed(s, what, { kind, id, ...place }, busy, innerSlot, named) : taskWalkWellFormed(s, what, id, place, ownSlot, innerSlot);
  if (e) return e;
  let holder: Zombie = { kind, id, ...place };
  // (the tasks the walks around each zombie stand in, which an account zombie may not pay for; and the holder of the
  // capability naming the outermost, which only the outermost may pay for)
  const outer = [...busy, ...(named ? [named.task] : [])];
  for (let i = 0; i < chain.length; i++) {
    const z = chain[i]!;
    const around = `${holder.kind} ${holder.id}`;
    const walked = walkedTask(holder)[0];
    if (walked === undefined || holder.page !== -1 || holder.cursor !== null || holder.slot + 1 >= s.config.capSlots) return `${what} keeps a zombie inside ${around}, whose walk is not past its pages at a capability slot`;
    outer.push(walked);
    if ((z.kind !== "container" && z.kind !== "task" && z.kind !== "account") || !Number.isInteger(z.id) || !zombieThere(s, z) || (z.kind === "task" && z.id === ROOT_TASK)) return `${what} empties ${String(z.kind)} ${z.id} inside ${around}, which is not there`;
    const ref = { task: walked, slot: holder.slot + 1 };
    const cap = s.tasks[ref.task]!.caps[ref.slot];
    if (!cap || cap.kind !== z.kind || cap.object !== z.id) return `${what} empties ${z.kind} ${z.id} inside ${around}, but capability slot ${ref.slot} of task ${ref.task} does not name it`;
    const other = greatestNaming(s, z.kind, z.id, ref);
    if (other !== null) return `${what} empties ${z.kind} ${z.id}, which task ${other.task}'s capability slot ${other.slot} names too`;
    const inner = i + 1 < chain.length ? z.slot + 1 : null;
    const err = z.kind === "container" ? (z.page !== -1 ? `${what} stands at page ${z.page} of container ${z.id}` : containerWalkWellFormed(s, what, z.id, z)) : z.kind === "account" ? accountZombieWellFormed(s, what, z, outer, inner) : taskWalkWellFormed(s, what, z.id, z, null, inner);
    if (err) return err;
    holder = z;
  }
  return null;
}

export const PREEMPTION_INVARIANTS: readonly { name: string; description: string; check: (s: State) => string | null }[] = [
  {
    name: "pendingWalkWellFormed",
    description:
      "A preempted removal is the task's own and the configuration sets a budget; the task does not wait on a fault. A preempted page.unmap is well-formed and its walk stands inside the range: at a mapping of the tree of the page it is at (or before that page's start), inside the write-only subtree it is removing, if any; children of the cursor from the greatest key down to the last one finished are gone, or (mode readonly, outside such a subtree) have no write right left. A preempted cap.revoke names a slot that holds a capability, and its walk stands at that capability or at a node still to go: a capability derived from it, or a mapping in a tree one of those authorized; while it empties a zombie, the zombie is a container, a task or an account that is there, the walk stands at the only capability naming it, and nothing hangs from that capability. A preempted container.destroy names a slot holding a capability with alloc to the container, has passed only empty slots, and stands in a tree rooted at the slot it empties. A preempted task.destroy names a slot holding a capability with alloc to the task (not the root task), has passed only unmapped pages and empty capability slots (but the subject's own), stands in the tree of the page it empties, and no two tasks destroy the same task. A preempted account.destroy names a slot holding a capability with alloc to the account (not the root account); between objects it keeps no walk; the container or task it takes apart is one the account or a sub-account pays for, taken in order (no DMA handle they pay for left while it takes apart a container, no container while a task, no other task while the subject's own), and its walk is well-formed as a container's or a task's destroy. A walk through a task (a task destroy's, an account destroy's, a revoke's zombie's) with zombies inside it has passed the task's pages and stands at no mapping, the capability in the slot above its own is the only one naming its first zombie, a container, a task (not the root task) or an account that is there, and so on inwards, each zombie with another inside it a task past its pages at no mapping; every zombie's walk is well-formed as a container's or a task's destroy. An account zombie (a revoke's, or any link of a chain: one with another zombie inside it takes apart a task past its pages at no mapping, whose capability in the slot above names that zombie) is not the root account, and neither it nor a sub-account pays for the subject, for a task a walk around it takes apart, nor for the holder of a capability naming a zombie around it (a revoke's own account zombie may pay for the holder of its capability, and then takes that task apart last, with no other task they pay for left, keeping that capability); its walk is between objects, keeping no place, or takes apart a container they pay for, with no DMA handle they pay for left, well-formed as a container destroy's, or a task they pay for, with no DMA handle nor container they pay for left, well-formed as a task destroy's.",
    check(s) {
      for (let t = 0; t < s.tasks.length; t++) {
        const task = s.tasks[t];
        const p = task?.pending;
        if (!p) continue;
        if (s.config.budget === undefined) return `task ${t} has a pending removal, but the configuration sets no budget`;
        if (task.fault) return `task ${t} has a pending removal and waits on a fault`;
        const e = isRevoke(p) ? revokeWellFormed(s, t, p) : isDestroy(p) ? destroyWellFormed(s, t, p) : isTaskDestroy(p) ? taskDestroyWellFormed(s, t, p) : isAccountDestroy(p) ? accountDestroyWellFormed(s, t, p) : unmapWellFormed(s, t, p);
        if (e) return e;
      }
      return null;
    },
  },
];

/**
 * Did another operation move a walk through an object (from `p` to `r`)
 * other than as settling allows (settleObjectPlace)? It may leave it as it
 * was, or send the innermost zombie's walk (or, without zombies, the walk)
 * back to the start of its slot or page (an account zombie's, if its
 * container went, between objects); and if the innermost zombie went,
 * the chain may start again: from its outermost zombie at the start of its
 * walk, or, if that went too, the walk through the object from its start.
 */
function placeMoved(after: State, p: ObjectPlace, r: ObjectPlace): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const at = (x: ObjectPlace) => ({ page: x.page ?? -1, slot: x.slot, cursor: x.cursor, ...atFields(atOf(x)) });
  const was = chainOf(p.zombie);
  const now = chainOf(r.zombie);
  const inner = was[was.length - 1];
  if (inner && !zombieThere(after, inner)) {
    const first = was[0]!;
    if (now.length === 1) return !(same(at(r), at(p)) && same(now[0], { kind: first.kind, id: first.id, ...walkStart(after, first.kind) }));
    // (the walk around starts again in the same task: an account's, in the task it takes apart; or, if that task went
    // too, the account's walk is between objects)
    const gone = atOf(p) !== null && !zombieThere(after, atOf(p)!);
    return !(now.length === 0 && same(at(r), gone ? { page: -1, slot: -1, cursor: null } : { ...taskWalkStart(after), ...atFields(atOf(p)) }));
  }
  if (now.length !== was.length) return true;
  const places = (x: ObjectPlace, chain: Zombie[]) => [at(x), ...chain.map((z) => ({ kind: z.kind, id: z.id, ...at(z) }))];
  const before = places(p, was);
  const after_ = places(r, now);
  const last = before.length - 1;
  if (!same(after_.slice(0, last), before.slice(0, last))) return true;
  const b = atOf(before[last]!);
  const { container: _, task: __, ...between } = { ...before[last]!, page: -1, slot: -1, cursor: null };
  // (only an account zombie's place says what it takes apart)
  if (b !== null && !zombieThere(after, b)) return !same(after_[last], between);
  return !(same(after_[last], before[last]) || (same({ ...after_[last], cursor: null }, after_[last]) && same({ ...before[last], cursor: null }, after_[last])));
}

/** Does pendingWalkWellFormed hold (so that the walks can be run on a copy to count the work left)? */
const walksWellFormed = (s: State): boolean => !s.tasks.some((t) => t?.pending) || PREEMPTION_INVARIANTS[0]!.check(s) === null;

/** How many of the mappings among `region`'s keys (pendingRegion) are root mappings whose capability's parent could take them (handUpRoot hands them up in a unit; the others' trees go): a deletion that makes one of them a root that cannot be re-attached adds its tree to the work, and this count only goes down. */
function reattachable(state: State, region: ReadonlySet<string>): number {
  let n = 0;
  for (const k of region) {
    if (k.includes(" ")) continue;
    const [task, vpage] = k.split(":").map(Number) as [number, number];
    const m = state.tasks[task]?.pages[vpage];
    if (m?.source.kind === "slot" && !!state.tasks[m.source.cap.task]?.caps[m.source.cap.slot] && rootsReattach(state, m.source.cap)) n++;
  }
  return n;
}

/** The removals whose walks hand up what hangs from a capability they make vanish (handUp). */
export const HANDS_UP: ReadonlySet<string> = new Set(["cap.revoke", "container.destroy", "task.destroy", "account.destroy"]);

/** The depths in the derivation tree (ancestors above each) of all capabilities, summed: a hand-up lowers it. */
function capDepths(state: State): number {
  let sum = 0;
  state.tasks.forEach((t) =>
    t?.caps.forEach((cap) => {
      for (let p = cap?.parent ?? null, hops = 0; p !== null && hops <= state.tasks.length * state.config.capSlots; hops++) {
        sum++;
        p = state.tasks[p.task]?.caps[p.slot]?.parent ?? null;
      }
    }),
  );
  return sum;
}

export const PREEMPTION_TRANSITIONS: readonly { name: string; description: string; check: (before: State, op: Op, after: State) => string | null }[] = [
  {
    name: "preemptedRemovalProgresses",
    description:
      "Each entry of a page.unmap, cap.revoke, container.destroy, task.destroy or account.destroy under a budget W does exactly W units of its walk, or finishes: so a removal of n units, nobody else acting, finishes in ceil(n / W) entries, and a preemption point never leaves it where it was.",
    check(before, op, after) {
      if ((op.op !== "page.unmap" && op.op !== "cap.revoke" && op.op !== "container.destroy" && op.op !== "task.destroy" && op.op !== "account.destroy") || after === before || before.config.budget === undefined) return null;
      const p = before.tasks[op.task]?.pending ?? null;
      if (p !== null && !continues(p, op)) return null;
      // (the work left is counted by running the walk, which needs well-formed records: pendingWalkWellFormed reports the others)
      if (!walksWellFormed(before) || !walksWellFormed(after)) return null;
      const n = removalLength(before, op, p);
      const W = before.config.budget;
      const q = after.tasks[op.task]?.pending ?? null;
      if (q === null) return n <= W ? null : `${op.op} by task ${op.task} finished with ${n} units of work left and a budget of ${W}`;
      const left = remainingWork(after, op.task);
      return left === n - W ? null : `${op.op} by task ${op.task} had ${n} units of work left and a budget of ${W}, and stopped with ${left} left`;
    },
  },
  {
    name: "removalNeverRegrows",
    description:
      "While a removal is preempted, no other operation adds to what it has still to take apart (a mapping to an unmap's trees; a capability or a mapping to what a revoke has still to remove; a filled slot, a capability naming it or a mapping rooted in it to a container being destroyed; a mapping or a capability to a task being destroyed, or a capability naming it; an account, an object, a capability or a mapping to what an account destroy has still to take apart; anything to the zombies a removal empties), nor moves its walk on, back or elsewhere: another operation may only take things away, and if it takes the node the walk stands at, the walk starts again (an unmap its current page, a revoke from the revoked capability, a container destroy its current slot, a task destroy its current page, an account destroy the object it stands in, or, if that went, picks the next; the innermost zombie's walk its current slot or page, or, an account zombie's whose container went, is between objects; and if the innermost zombie went, the chain of zombies from its outermost, or, if that went too, the walk around it from its start). A preempted removal ends early only when another operation took what it works on: the capability a revoke revokes, or a destroy's object or the subject's capability to it.",
    check(before, op, after) {
      if (after === before) return null; // (an error changes nothing)
      for (let t = 0; t < before.tasks.length; t++) {
        const p = before.tasks[t]?.pending;
        const q = after.tasks[t]?.pending;
        if (!p || !after.tasks[t] || continues(p, op)) continue;
        const what = p.op.op;
        if (!q) {
          if (removalOrphaned(after, t, p)) continue;
          return `${op.op} ended task ${t}'s preempted ${what} without finishing it`;
        }
        if (!continues(q, p.op as Op) || q.op.op !== p.op.op) return `${op.op} moved task ${t}'s preempted ${what}`;
        if (isAccountDestroy(p)) {
          const r = q as PendingAccountDestroy;
          const gone = p.at !== null && !zombieThere(after, p.at);
          const dropped = gone && r.at === null && r.page === -1 && r.slot === -1 && r.cursor === null && !r.zombie;
          if (r.object !== p.object || !(dropped || (JSON.stringify(r.at) === JSON.stringify(p.at) && !placeMoved(after, p, r)))) return `${op.op} moved the walk of task ${t}'s preempted account.destroy`;
        } else if (isTaskDestroy(p)) {
          const r = q as PendingTaskDestroy;
          if (r.object !== p.object || placeMoved(after, p, r)) return `${op.op} moved the walk of task ${t}'s preempted task.destroy`;
        } else if (isDestroy(p)) {
          const r = q as PendingDestroy;
          if (r.object !== p.object || placeMoved(after, p, r)) return `${op.op} moved the walk of task ${t}'s preempted container.destroy`;
        } else if (isRevoke(p)) {
          const r = q as PendingRevoke;
          const c = r.cursor;
          if (c !== null && JSON.stringify(c) !== JSON.stringify(p.cursor)) return `${op.op} moved the walk of task ${t}'s preempted cap.revoke`;
          // (a zombie stays, its walk moved only as placeMoved allows; or it went, and the walk starts again)
          const z = r.zombie;
          const kept = z && p.zombie && z.kind === p.zombie.kind && z.id === p.zombie.id && !placeMoved(after, placeOf(p.zombie), placeOf(z));
          if (z ? !kept : p.zombie && (c !== null || (zombieThere(after, p.zombie) && zombieInReach(after, t, p)))) return `${op.op} moved the walk of task ${t}'s preempted cap.revoke through ${(z ?? p.zombie)!.kind} ${(z ?? p.zombie)!.id}`;
        } else {
          const u = q as PendingUnmap;
          if (u.page !== p.page || u.bits !== p.bits) return `${op.op} moved task ${t}'s preempted page.unmap`;
          const reset = u.cursor === null && u.last === null && u.zone === null;
          const same = JSON.stringify([u.cursor, u.last, u.zone]) === JSON.stringify([p.cursor, p.last, p.zone]);
          if (!same && !reset) return `${op.op} moved the walk of task ${t}'s preempted page.unmap`;
        }
        const was = pendingRegion(before, t);
        for (const k of pendingRegion(after, t)) if (!was.has(k)) return `${op.op} added ${k.startsWith("cap ") ? `the capability at ${k.slice(4)}` : k.startsWith("slot ") ? `the filled container slot ${k.slice(5)}` : /^(account|task|container|dma) /.test(k) ? k : `the mapping at ${k}`} to what task ${t}'s preempted ${what} has still to take apart`;
      }
      return null;
    },
  },
  {
    name: "removalNeverStalls",
    description:
      "An operation of another task adds work to a preempted removal (the units it still needs, nobody else acting) only by making what is left to take apart strictly smaller: when it took the node the walk stood at, so that the walk starts again, or when it reshaped what is left so that a removal takes fewer other nodes along by the final-capability rule (a capability re-attached higher up is then visited on its own); or, what is left as large as before, when fewer of its root mappings could be re-attached (a deletion left a capability the walk will hand up with a parent that cannot take its root mappings: their trees go instead, and no operation turns that back), or when another removal's entry moved capabilities up the derivation tree (the depths of all capabilities, summed, went down: its walk handed up what hangs from a capability it makes vanish, which may move the node this walk stands at, or give a capability this walk makes vanish one more to hand up; a walk does a finite number of such units). The work is counted without the subject rule: that rule only ends a removal early, when the subject goes with what it takes apart, and an operation that keeps the subject alive takes the shortcut away without making anything smaller. Zombies not started yet count as one unit each, as if empty: until the walk reaches an object, the object is not the walk's yet, and it may still grow within its account's quota. With preemptedRemovalProgresses (each entry does W units of it) this means no sequence of other operations keeps a removal from finishing: its work grows only when what is left shrinks, or keeps its size and moves up the derivation tree, neither of which can happen for ever.",
    check(before, op, after) {
      if (after === before) return null; // (an error changes nothing)
      if (!walksWellFormed(before) || !walksWellFormed(after)) return null; // (as in preemptedRemovalProgresses)
      for (let t = 0; t < before.tasks.length; t++) {
        const p = before.tasks[t]?.pending;
        const q = after.tasks[t]?.pending;
        if (!p || !q || continues(p, op)) continue;
        // (counted without the subject rule, which only ends a removal early: an operation that keeps the subject alive may take that shortcut away)
        const was = remainingWork(before, t, false);
        const now = remainingWork(after, t, false);
        if (now <= was) continue;
        const left = pendingRegion(before, t);
        const right = pendingRegion(after, t);
        if (right.size < left.size || (right.size === left.size && ((HANDS_UP.has(op.op) && capDepths(after) < capDepths(before)) || reattachable(after, right) < reattachable(before, left)))) continue;
        const what = p.op.op;
        const where = (x: Pending) => JSON.stringify(["at" in x ? x.at : null, x.cursor, "zombie" in x ? (x.zombie ?? null) : null]);
        if (where(q) === where(p)) return `${op.op} added work to task ${t}'s preempted ${what} (${was} units left before, ${now} after) without taking the node its walk stands at, and what is left to take apart did not shrink`;
        return `${op.op} restarted the walk of task ${t}'s preempted ${what} (${was} units left before, ${now} after), but what is left to take apart did not shrink`;
      }
      return null;
    },
  },
];
