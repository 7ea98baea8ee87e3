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
 * What is preemptible so far: page.unmap. Its walk takes the pages of the
 * range in order; in each, it goes down from the task's own mapping to the
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
 *   but never repeats a removal (those mappings are gone) and never
 *   repeats a refund.
 * Shapiro suspects that unmap latency can be rearranged "into
 * constant-sized chunks" (seed 001, 001_468f3620a1a4dd19.txt); seL4 bounds
 * the work per entry of a revoke and restarts the call with its progress
 * kept in the state.
 *
 * Not yet preemptible: cap.revoke, task.destroy, container.destroy and
 * account.destroy run to the end in one step whatever the budget.
 */
import type { Draft, Mapping, MapRef, PendingUnmap, State } from "./state.js";
import { draft, finish, mapKey, settleLeaves } from "./state.js";
import type { Config, Op, OpOf } from "./vocabulary.js";
import { ok, preempted, R, UNMAP_MODES } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { mapChildren } from "./removal.js";

/** The work one kernel entry may spend on a removal: the configuration's budget, or no limit. */
export const budgetOf = (config: Config): number => config.budget ?? Infinity;

/** The first page after the range of a page.unmap. */
export const rangeEnd = (op: { readonly vpage: number; readonly order: number }): number => op.vpage + 2 ** op.order;

/** Key order of mappings: by task, then page (the walk takes children from the greatest key down). */
export const keyBefore = (a: MapRef, b: MapRef): boolean => a.task < b.task || (a.task === b.task && a.vpage < b.vpage);

/** Is `op` the operation `p` waits for (the same page.unmap, field for field)? */
export function continues(p: PendingUnmap, op: Op): boolean {
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
  const w = walkFrom(op, state.tasks[op.task]!.pending);
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

/**
 * The units a pending unmap of task `t` still needs when nobody else acts
 * (its walk run to the end on a scratch copy), or 0 when none is pending.
 */
export function remainingWork(state: State, t: number): number {
  const p = state.tasks[t]?.pending;
  if (!p) return 0;
  return walkLength(state, p.op, p);
}

/** The units the walk of `op` takes from `from` (or from the start of the range) to the end, nobody else acting. */
export function walkLength(state: State, op: OpOf<"page.unmap">, from: PendingUnmap | null): number {
  const w = walkFrom(op, from);
  const d = draft(state);
  const children = mapChildren(state);
  let n = 0;
  for (const end = rangeEnd(op); w.page < end; n++) unit(state, d, op, w, children, new Set());
  return n;
}

/**
 * Is the mapping at `ref`, or one it derives from, in the part of a range
 * that a preempted page.unmap has still to take apart (a page of the range
 * from the one the walk is at)? Then nothing may be derived from it.
 */
export function removing(state: State, ref: MapRef): boolean {
  return someAncestor(state, ref, (r) => pageBeingUnmapped(state, r.task, r.vpage));
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
  return p !== null && p !== undefined && vpage >= p.page && vpage < rangeEnd(p.op);
}

/**
 * After a successful step: a pending walk whose cursor mapping another
 * operation removed starts its page again from the task's own mapping (or
 * skips the page if that went too). Returns `state` itself when nothing
 * needs it.
 */
export function settlePending(state: State): State {
  let d: Draft | null = null;
  state.tasks.forEach((t, id) => {
    const c = t?.pending?.cursor;
    if (!c || state.tasks[c.task]?.pages[c.vpage]) return;
    d ??= draft(state);
    d.tasks[id]!.pending = { ...t!.pending!, cursor: null, last: null, zone: null };
  });
  return d ? finish(d) : state;
}

// ---------------------------------------------------------------------------
// Named properties (checked with the others: invariants.ts, transitions.ts)

/** Does the chain of parents from `r` reach `top` (or is `r` top)? */
const under = (state: State, r: MapRef, top: MapRef): boolean => someAncestor(state, r, (x) => x.task === top.task && x.vpage === top.vpage);

/** The mappings a pending unmap has still to walk: the trees of the pages from the one it is at. */
export function pendingRegion(state: State, t: number): Set<string> {
  const p = state.tasks[t]?.pending;
  const out = new Set<string>();
  if (!p) return out;
  const children = mapChildren(state);
  const stack: MapRef[] = [];
  for (let v = p.page; v < rangeEnd(p.op); v++) if (state.tasks[t]!.pages[v]) stack.push({ task: t, vpage: v });
  while (stack.length > 0) {
    const r = stack.pop()!;
    out.add(mapKey(r));
    stack.push(...(children.get(mapKey(r)) ?? []));
  }
  return out;
}

export const PREEMPTION_INVARIANTS: readonly { name: string; description: string; check: (s: State) => string | null }[] = [
  {
    name: "pendingWalkWellFormed",
    description:
      "A preempted page.unmap is the task's own, well-formed, and its walk stands inside the range: at a mapping of the tree of the page it is at (or before that page's start), inside the write-only subtree it is removing, if any; children of the cursor from the greatest key down to the last one finished are gone, or (mode readonly, outside such a subtree) have no write right left. A task with a preempted removal does not wait on a fault.",
    check(s) {
      for (let t = 0; t < s.tasks.length; t++) {
        const task = s.tasks[t];
        const p = task?.pending;
        if (!p) continue;
        const op = p.op;
        if (op.op !== "page.unmap" || op.task !== t) return `task ${t} has a pending removal that is not its own page.unmap`;
        if (!Number.isInteger(op.order) || op.order < 0 || op.order > 30 || !Number.isInteger(op.vpage) || op.vpage < 0 || op.vpage % 2 ** op.order !== 0 || rangeEnd(op) > s.config.vpages) return `task ${t}'s pending page.unmap has a range outside its address space`;
        if (!(UNMAP_MODES as readonly string[]).includes(op.mode)) return `task ${t}'s pending page.unmap has mode ${String(op.mode)}`;
        if (s.config.budget === undefined) return `task ${t} has a pending removal, but the configuration sets no budget`;
        if (task.fault) return `task ${t} has a pending removal and waits on a fault`;
        if (!Number.isInteger(p.page) || p.page < op.vpage || p.page >= rangeEnd(op)) return `task ${t}'s pending page.unmap stands at page ${p.page}, outside its range`;
        if (!Number.isInteger(p.bits) || p.bits < 0 || p.bits > 3) return `task ${t}'s pending page.unmap gathered bits ${p.bits}`;
        const root = { task: t, vpage: p.page };
        if (p.cursor === null) {
          if (p.last !== null || p.zone !== null) return `task ${t}'s pending page.unmap has not started page ${p.page} but remembers a child or a subtree`;
          continue;
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
      }
      return null;
    },
  },
];

export const PREEMPTION_TRANSITIONS: readonly { name: string; description: string; check: (before: State, op: Op, after: State) => string | null }[] = [
  {
    name: "preemptedRemovalProgresses",
    description:
      "Each entry of a page.unmap under a budget W does exactly W units of its walk, or finishes: so a removal of n units, nobody else acting, finishes in ceil(n / W) entries, and a preemption point never leaves it where it was.",
    check(before, op, after) {
      if (op.op !== "page.unmap" || after === before || before.config.budget === undefined) return null;
      const p = before.tasks[op.task]?.pending ?? null;
      if (p !== null && !continues(p, op)) return null;
      const n = walkLength(before, op, p);
      const W = before.config.budget;
      const q = after.tasks[op.task]?.pending ?? null;
      if (q === null) return n <= W ? null : `page.unmap by task ${op.task} finished with ${n} units of work left and a budget of ${W}`;
      const left = remainingWork(after, op.task);
      return left === n - W ? null : `page.unmap by task ${op.task} had ${n} units of work left and a budget of ${W}, and stopped with ${left} left`;
    },
  },
  {
    name: "removalNeverRegrows",
    description:
      "While a page.unmap is preempted, no other operation adds a mapping to what it has still to take apart, nor moves its walk on, back or elsewhere: another operation may only take mappings away (and if it takes the one the walk stands at, the walk starts that page again).",
    check(before, op, after) {
      for (let t = 0; t < before.tasks.length; t++) {
        const p = before.tasks[t]?.pending;
        const q = after.tasks[t]?.pending;
        if (!p || !after.tasks[t] || continues(p, op)) continue;
        if (!q) return `${op.op} ended task ${t}'s preempted page.unmap without finishing it`;
        if (q.page !== p.page || q.bits !== p.bits || !continues(q, p.op)) return `${op.op} moved task ${t}'s preempted page.unmap`;
        const reset = q.cursor === null && q.last === null && q.zone === null;
        const same = JSON.stringify([q.cursor, q.last, q.zone]) === JSON.stringify([p.cursor, p.last, p.zone]);
        if (!same && !reset) return `${op.op} moved the walk of task ${t}'s preempted page.unmap`;
        const was = pendingRegion(before, t);
        for (const k of pendingRegion(after, t)) if (!was.has(k)) return `${op.op} added the mapping at ${k} to what task ${t}'s preempted page.unmap has still to take apart`;
      }
      return null;
    },
  },
];
