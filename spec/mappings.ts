/**
 * Mappings: a task's page table maps virtual pages to frames with read/write
 * rights, and every mapping is a node of the mapping database. A root mapping
 * comes from a container slot through a capability (page.map); a derived one
 * is passed on L4-style from another task's mapping (l4.map makes a child,
 * l4.grant moves the mapping, l4.share makes a co-equal sibling, as Shapiro
 * asks in seed 001, 001_468f3620a1a4dd19.txt). Unmap takes back a flexpage
 * (seed 002, 002_977c03b37cc28449.txt) with everything derived from it, and
 * returns the referenced/dirty bits a pager needs (seeds 002, 004).
 */
import type { CapRef, Draft, Mapping, MappingSource, MapRef, State, Task } from "./state.js";
import { draft, leafSpan, mapKey, needsLeaf, settleLeaves } from "./state.js";
import { applyRemoval, closure, mapChildren, remove } from "./removal.js";
import { beingRevoked, pageBeingUnmapped, removing, taskDying, unmapChunk } from "./preemption.js";
import type { ErrorCode, OpOf } from "./vocabulary.js";
import { inRange, R, rightsMask, UNMAP_MODES } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, pageInWindow, done, fail, isError, subjectOf, unusedObjects } from "./checks.js";
import { containerVia } from "./containers.js";

/** The places of the root mappings whose source satisfies `pred`. */
export function rootMappings(state: State, pred: (source: Extract<MappingSource, { kind: "slot" }>) => boolean): MapRef[] {
  const out: MapRef[] = [];
  state.tasks.forEach((task, t) =>
    task?.pages.forEach((m, vpage) => {
      if (m?.source.kind === "slot" && pred(m.source)) out.push({ task: t, vpage });
    }),
  );
  return out;
}

/** The root mappings of container slot (container, index). */
export const mappingsRootedAt = (state: State, container: number, index: number): MapRef[] =>
  rootMappings(state, (s) => s.container === container && s.index === index);

/** The root mappings a capability authorized. */
export const mappingsAuthorizedBy = (state: State, ref: CapRef): MapRef[] =>
  rootMappings(state, (s) => s.cap.task === ref.task && s.cap.slot === ref.slot);

/** The mapping at `vpage` of the subject. Errors: BadPage, NotMapped. */
export function mappingAt(state: State, subject: Task, vpage: unknown) {
  if (!inRange(vpage, state.config.vpages)) return "BadPage" as const;
  return subject.pages[vpage] ?? ("NotMapped" as const);
}

/**
 * page.map — map slot `index` of the container named by `container` at the
 * subject's virtual page `vpage` with `rights` (a non-empty subset of read and
 * write). This is a root mapping: it records the slot and the capability that
 * authorized it. The subject's account pays one object for the mapping node,
 * and one more for a page-table leaf page if none of the page's leaf range
 * was mapped yet (state.ts, `leafSpan`).
 *
 * Why: "allocate some frames into a container, and then to map them into your
 * address space" (seed 000). Every mapping-database node and page-table page
 * is paid for, so map allocates at most one node and one leaf page and fails
 * cleanly on exhaustion (seed 001; seed 002: the task pays for its page
 * tables).
 *
 * Errors, in order: NoSuchTask; Blocked; BadRights (malformed, empty, or other than
 * read/write); BadCapSlot, NoCap, WrongType, NoRights (the cap must carry the
 * rights installed); Removing (the container is being destroyed, or the
 * cap is being revoked: a preempted container.destroy or cap.revoke has
 * still to remove it, preemption.ts); BadIndex; FrameSlotEmpty; SlotNotHard; BadPage; PageMapped;
 * ObjectQuotaExceeded (one object, two with a new leaf page).
 */
export function pageMap(state: State, op: OpOf<"page.map">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const rights = rightsMask(op.rights);
  if (rights <= 0 || (rights & ~(R.read | R.write)) !== 0) return fail(state, "BadRights");
  const found = containerVia(state, subject, op.container, rights);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (beingRevoked(state, { task: op.task, slot: op.container })) return fail(state, "Removing");
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  const slot = container.slots[op.index]!;
  if (slot.kind === "empty") return fail(state, "FrameSlotEmpty");
  if (slot.kind !== "hard") return fail(state, "SlotNotHard");
  if (!inRange(op.vpage, state.config.vpages)) return fail(state, "BadPage");
  if (subject.pages[op.vpage]) return fail(state, "PageMapped");
  const leaf = needsLeaf(subject, op.vpage, leafSpan(state.config)) ? 1 : 0;
  if (unusedObjects(state.accounts[subject.account]!) < 1 + leaf) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  d.tasks[op.task]!.pages[op.vpage] = {
    frame: slot.frame,
    rights,
    source: { kind: "slot", container: cap.object, index: op.index, cap: { task: op.task, slot: op.container } },
    bits: 0,
  };
  d.accounts[subject.account]!.objectsCharged += 1 + leaf;
  return done(d);
}

/**
 * page.unmap — for every mapping of the subject in the flexpage-style range
 * [vpage, vpage + 2^order), which must be aligned to its size: with mode
 * `derived`, remove every mapping derived from it; with `all`, those and the
 * mapping itself; with `readonly`, take the write right away from every
 * mapping derived from it (a derived mapping left with no right is removed,
 * with everything derived from it). The payers of removed mappings are
 * refunded. Unmapped pages in the range are skipped.
 *
 * Why: the holder of a mapping can always take back what it passed on,
 * without the receivers' consent, and learn whether the pages were touched
 * (L4 unmap/flush, seed 001; seed 002 on access bits for pagers).
 *
 * Result: the OR of the referenced (1) and dirty (2) bits of the subject's
 * mappings in the range and of every mapping derived from them, as found
 * before the unmap (L4 flush reports the status of the whole subtree); the
 * bits of those that survive (the subject's own, in modes `derived` and
 * `readonly`, and the derived ones `readonly` keeps) are cleared.
 * With a work budget (config.budget), the unmap may stop at a preemption
 * point (`preempted: true`) and continues when the task invokes it again;
 * the bits are then those gathered over all its entries (preemption.ts).
 *
 * Errors, in order: NoSuchTask; Blocked (also: the task has another
 * preempted removal to finish); BadPage (misaligned, or not inside the
 * address space); BadValue (mode).
 */
export function pageUnmap(state: State, op: OpOf<"page.unmap">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!inRange(op.order, 31)) return fail(state, "BadPage");
  const size = 2 ** op.order;
  if (!inRange(op.vpage, state.config.vpages) || op.vpage % size !== 0 || op.vpage + size > state.config.vpages) return fail(state, "BadPage");
  if (!(UNMAP_MODES as readonly unknown[]).includes(op.mode)) return fail(state, "BadValue");
  if (state.config.budget !== undefined) return unmapChunk(state, op, state.config.budget);

  const own: MapRef[] = [];
  for (let v = op.vpage; v < op.vpage + size; v++) if (subject.pages[v]) own.push({ task: op.task, vpage: v });
  const derived = mappingDescendants(state, own);
  const bits = bitsOf(state, [...own, ...derived]);
  if (op.mode === "all") return done(remove(state, { mappings: own }), bits);
  if (op.mode === "derived") return done(clearBits(remove(state, { mappings: derived }), own), bits);

  // readonly: mappings with write only go; the others lose write.
  const writeOnly = derived.filter((r) => state.tasks[r.task]!.pages[r.vpage]!.rights === R.write);
  const removal = closure(state, { mappings: writeOnly });
  const d = applyRemoval(state, removal);
  for (const r of derived) {
    if (!removal.mappings.has(mapKey(r))) d.tasks[r.task]!.pages[r.vpage]!.rights &= ~R.write;
  }
  return done(clearBits(d, [...own, ...derived]), bits);
}

/** The OR of the access bits of the mappings at `refs`. */
function bitsOf(state: State, refs: readonly MapRef[]): number {
  let bits = 0;
  for (const r of refs) bits |= state.tasks[r.task]!.pages[r.vpage]!.bits;
  return bits;
}

/** Clears the access bits of those mappings at `refs` that are still in `d`. */
function clearBits(d: Draft, refs: readonly MapRef[]): Draft {
  for (const r of refs) {
    const m = d.tasks[r.task]?.pages[r.vpage];
    if (m) m.bits = 0;
  }
  return d;
}

/** Every mapping derived (at any depth) from one of `roots`, not counting `roots` themselves unless derived from another. */
export function mappingDescendants(state: State, roots: readonly MapRef[]): MapRef[] {
  const children = mapChildren(state);
  const seen = new Set<string>();
  const out: MapRef[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    for (const c of children.get(mapKey(stack.pop()!)) ?? []) {
      if (seen.has(mapKey(c))) continue;
      seen.add(mapKey(c));
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/**
 * page.bits — read and clear the referenced and dirty bits of the subject's
 * mapping at `vpage` and of every mapping derived from it.
 *
 * Why: a self-paging task chooses its victims by these bits (seed 004,
 * 004_1a77f3008d0f6074.txt: "the task must select a page to evict"); clearing
 * them starts the next sampling period. The bits are kept per mapping, as
 * page-table entries keep them in Pistachio and Fiasco, so a task learns and
 * resets only what happened through its own mapping and what it passed on:
 * another task holding a mapping of the same frame can neither clear the
 * owner's dirty bit nor show its own accesses in the owner's bits.
 *
 * Result: referenced (1) | dirty (2), the OR over those mappings, as they were.
 * Errors, in order: NoSuchTask; Blocked; BadPage; NotMapped.
 */
export function pageBits(state: State, op: OpOf<"page.bits">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const m = mappingAt(state, subject, op.vpage);
  if (isError(m)) return fail(state, m);
  const refs = [{ task: op.task, vpage: op.vpage }, ...mappingDescendants(state, [{ task: op.task, vpage: op.vpage }])];
  return done(clearBits(draft(state), refs), bitsOf(state, refs));
}

// ---------------------------------------------------------------------------
// L4: map, share, grant

/**
 * The checks shared by l4.map, l4.grant and l4.share: the subject's mapping
 * at `vpage`, the rights asked for (when given), the target task and a free
 * page there, and the target's account able to pay one more object.
 * Errors, in order: NoSuchTask; Blocked; BadPage, NotMapped (`vpage`); Removing
 * (a preempted removal is taking apart the tree the mapping is in:
 * preemption.ts, removing);
 * BadRights (malformed, empty, or not a subset of the mapping's rights);
 * BadCapSlot, NoCap, WrongType, NoRights (`target`: a task cap with
 * `write`); Removing (the target is being taken apart by a preempted
 * task.destroy, or account.destroy of its account); Blocked (the target
 * waits for its pager, and receives
 * nothing else meanwhile); BadPage (`dest`); NotInWindow (another task's `dest`
 * outside its receive window); Removing (`dest` is in the part of a range
 * the target's preempted page.unmap has still to do); PageMapped (`dest` in
 * the target); ObjectQuotaExceeded (the target's account: one object for
 * the node, unless for a grant it is the sender's own account, which
 * already pays for it, and one for a new leaf page at `dest`; a leaf page a
 * grant frees at the sender is not counted in advance).
 */
export function sendChecks(
  state: State,
  op: OpOf<"l4.map" | "l4.grant" | "l4.share">,
): { from: Mapping; rights: number; to: number } | ErrorCode {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return subject;
  const from = mappingAt(state, subject, op.vpage);
  if (isError(from)) return from;
  if (removing(state, { task: op.task, vpage: op.vpage })) return "Removing";
  let rights = from.rights;
  if (op.op !== "l4.grant") {
    rights = rightsMask(op.rights);
    if (rights <= 0 || (rights & ~from.rights) !== 0) return "BadRights";
  }
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return target;
  if (taskDying(state, target.object)) return "Removing";
  const receiver = state.tasks[target.object]!;
  if (receiver.fault) return "Blocked";
  if (!inRange(op.dest, state.config.vpages)) return "BadPage";
  if (target.object !== op.task && !pageInWindow(receiver, op.dest)) return "NotInWindow";
  if (pageBeingUnmapped(state, target.object, op.dest)) return "Removing";
  if (receiver.pages[op.dest]) return "PageMapped";
  const moving = op.op === "l4.grant" && receiver.account === subject.account;
  const need = (moving ? 0 : 1) + (needsLeaf(receiver, op.dest, leafSpan(state.config)) ? 1 : 0);
  if (need > 0 && unusedObjects(state.accounts[receiver.account]!) < need) return "ObjectQuotaExceeded";
  return { from, rights, to: target.object };
}

/**
 * l4.map — L4 map: give the task named by `target` a mapping at its page
 * `dest` of the frame the subject maps at `vpage`, with `rights` (a subset of
 * the subject's). The new mapping is a child of the subject's in the mapping
 * database: it goes when the subject's mapping is unmapped. The receiver's
 * account pays for the node.
 *
 * Why: hierarchical mapping is how L4 pagers build address spaces; every
 * mapping-database entry is charged, so map allocates "exactly one" entry
 * and fails cleanly on exhaustion (Shapiro, seed 001).
 *
 * Errors: see the shared checks above (sendChecks).
 */
export function l4Map(state: State, op: OpOf<"l4.map">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  return done(addMapping(state, c.to, op.dest, { frame: c.from.frame, rights: c.rights, source: { kind: "map", parent: { task: op.task, vpage: op.vpage } }, bits: 0 }));
}

/**
 * l4.share — "map co-equally" (Shapiro, seed 001): give the task named by
 * `target` a mapping at `dest` that is a *sibling* of the subject's mapping at
 * `vpage` (same parent, or for a root mapping the same container slot and
 * authorizing capability), with `rights` a subset of the subject's. It
 * survives the subject's unmap and the subject's death (a root mapping
 * whose authorizing capability vanishes is re-attached to the nearest
 * surviving ancestor capability to the same container, removal.ts); it goes
 * with their common parent, or when that ancestor revokes. The receiver's
 * account pays.
 *
 * Why: with plain L4 map, whoever receives a page depends on every mapper
 * between it and the root; a co-equal mapping depends only on the sender's
 * own source, so a server can hand a client a page that survives the
 * server's own unmap (Shapiro's proposal, seed 001).
 *
 * Errors: as l4.map.
 */
export function l4Share(state: State, op: OpOf<"l4.share">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  return done(addMapping(state, c.to, op.dest, { frame: c.from.frame, rights: c.rights, source: c.from.source, bits: 0 }));
}

/**
 * l4.grant — L4 grant: move the subject's mapping at `vpage` to page `dest` of
 * the task named by `target`, with its rights, its place in the mapping
 * database and everything derived from it. The charge moves to the
 * receiver's account.
 *
 * Why: grant hands a page on without the sender staying in the chain, so the
 * receiver does not lose it when the sender exits (seed 001's first objection
 * to map). For a root mapping the authorizing capability stays the sender's;
 * if the sender dies or deletes it, the mapping is re-attached to the
 * nearest surviving ancestor capability to the same container (removal.ts),
 * which can still revoke it.
 *
 * Errors: as l4.map, without BadRights (a grant keeps the rights).
 */
export function l4Grant(state: State, op: OpOf<"l4.grant">): Step {
  const c = sendChecks(state, op);
  if (isError(c)) return fail(state, c);
  const from: MapRef = { task: op.task, vpage: op.vpage };
  const to: MapRef = { task: c.to, vpage: op.dest };
  const d = draft(state);
  d.tasks[from.task]!.pages[from.vpage] = null;
  d.accounts[state.tasks[from.task]!.account]!.objectsCharged -= 1;
  d.tasks[to.task]!.pages[to.vpage] = structuredClone(c.from);
  d.accounts[state.tasks[to.task]!.account]!.objectsCharged += 1;
  settleLeaves(state, d, [from.task, to.task]);
  for (const child of mapChildren(state).get(mapKey(from)) ?? []) {
    const m = d.tasks[child.task]!.pages[child.vpage]!;
    m.source = { kind: "map", parent: to };
  }
  return done(d);
}

/** A copy of the state with `mapping` at (task, vpage), charged to the task's account (with a new leaf page if need be). */
export function addMapping(state: State, task: number, vpage: number, mapping: Mapping): Draft {
  const d = draft(state);
  d.tasks[task]!.pages[vpage] = structuredClone(mapping);
  d.accounts[state.tasks[task]!.account]!.objectsCharged += 1;
  settleLeaves(state, d, [task]);
  return d;
}

