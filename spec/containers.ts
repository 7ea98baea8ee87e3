/**
 * Containers: a fixed number of slots, each empty, Hard(frame),
 * Soft(frame, epoch) or Swapped(content), paid for by an account. Seed 000
 * (000_0acf2069c9b56720.txt, Hurd-on-L4 physmem) makes the container "the
 * only basic object for all things concerning memory management": frames are
 * allocated into it and mapped from it, and it keeps track of who pays.
 *
 * Besides create/destroy and alloc/free, this file holds the ways a slot is
 * shared or set aside: logical copy with copy-on-write (seed 004,
 * 004_1a77f3008d0f6074.txt), demotion to a soft reference for caches and
 * promotion back (seed 000), and swap out/in through physmem (seeds 000, 004).
 */
import { budgetOf, containerDying, destroyChunk } from "./preemption.js";
import type { Cap, Container, Draft, Slot, State, Task } from "./state.js";
import { draft } from "./state.js";
import { releaseSwap, remove } from "./removal.js";
import type { ErrorCode, OpOf } from "./vocabulary.js";
import { inRange, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, done, fail, isError, lowestFree, subjectOf, unusedFrames, unusedObjects } from "./checks.js";
import { createObject } from "./accounts.js";
import { mappingsRootedAt } from "./mappings.js";
import { nextFrame, takeFrame } from "./physmem.js";

/**
 * container.create — make an empty container paid by the account named by
 * `account` and put a capability to it into the subject's slot `dest`: a
 * child of the account capability used, with its rights (see accounts.ts,
 * createObject). The new id is the lowest unused one.
 *
 * Why: containers are "the only basic object for all things concerning memory
 * management" and "allow to keep track of who pays for a resource" (seed 000,
 * 000_0acf2069c9b56720.txt). The container's account also pays for every
 * frame allocated into it.
 *
 * Result: the new container's id.
 * Errors, in order: as task.create.
 */
export function containerCreate(state: State, op: OpOf<"container.create">): Step {
  return createObject(state, op, "container");
}

/**
 * container.destroy — destroy the container named by `container`: every
 * capability naming it becomes invalid at once, every mapping of its frames
 * goes, and its frames are released (a frame no other slot holds becomes free,
 * unless it is wired for DMA: then it waits for its last handle to go, which
 * keeps paying for it). A DMA handle capability that hung from a capability
 * to the container is re-attached to its nearest surviving ancestor.
 *
 * Why: Coyotos-style rescind (seed 001, 001_468f3620a1a4dd19.txt): the client
 * "can revoke access to a container at any time to reclaim the resources"
 * (seed 000), whatever the server it was shared with does.
 *
 * Under a work budget (preemption.ts) the destroy empties the container
 * slot by slot, from the greatest index down (the mapping trees rooted at a
 * slot from the leaves up, then the slot), then takes the other
 * capabilities naming it one by one, and last the subject's capability
 * with the container: a bounded number of units per entry. An entry that
 * stops returns `preempted`, and the task invokes the same destroy again to
 * go on; meanwhile nothing may be done through a capability to the
 * container (`Removing`).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights (`alloc`);
 * Removing (another task's preempted destroy of the same container, or of
 * its account).
 */
export function containerDestroy(state: State, op: OpOf<"container.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.container, "container", R.alloc);
  if (isError(cap)) return fail(state, cap);
  const own = state.tasks[op.task]!.pending;
  if (!own && containerDying(state, cap.object)) return fail(state, "Removing");
  if (state.config.budget !== undefined) return destroyChunk(state, op, cap.object, budgetOf(state.config));
  // (a removal passes over nothing, split into entries or not: removal.ts closure, preemption.ts handUp)
  return done(remove(state, { containers: [cap.object] }, null, false));
}

/**
 * The container named by a cap in the subject's space, checked.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights (`need`);
 * Removing (a preempted container.destroy is emptying it, or an
 * account.destroy of its account: preemption.ts).
 */
export function containerVia(state: State, subject: Task, slot: unknown, need: number): { cap: Cap; container: Container } | ErrorCode {
  const cap = capIn(state, subject, slot, "container", need);
  if (isError(cap)) return cap;
  if (containerDying(state, cap.object)) return "Removing";
  return { cap, container: state.containers[cap.object]! };
}

/**
 * container.alloc — allocate a physical frame into the empty slot `index` of
 * the container named by `container`, zero it, and charge it to the
 * container's account. The frame is the lowest-numbered free one; its epoch
 * is bumped (it is a new use of the frame).
 *
 * Why: "the basic operation will be to allocate some frames into a container,
 * and then to map them" (seed 000); physmem only grants frames within the
 * payer's quota (seed 004). Zeroing keeps one owner's data from leaking to
 * the next.
 *
 * Result: the frame number.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; FrameSlotOccupied; FrameQuotaExceeded (the container's
 * account); OutOfMemory (no free frame).
 */
export function containerAlloc(state: State, op: OpOf<"container.alloc">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const found = containerVia(state, subject, op.container, R.alloc);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  if (container.slots[op.index]!.kind !== "empty") return fail(state, "FrameSlotOccupied");
  if (unusedFrames(state.accounts[container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const frame = nextFrame(state);
  if (frame === null) return fail(state, "OutOfMemory");

  const d = draft(state);
  d.containers[cap.object]!.slots[op.index] = { kind: "hard", frame };
  d.accounts[container.account]!.framesCharged += 1;
  takeFrame(d, frame);
  return done(d, frame);
}

/**
 * container.free — empty slot `index` of the container named by `container`.
 * For a hard reference, every mapping rooted at that slot is unmapped, the
 * container's account is refunded, and the frame becomes free if no other
 * slot holds it and it is not wired; its content is left as it is (it is
 * zeroed on its next allocation). A soft reference or swapped content is
 * simply dropped.
 *
 * Why: no mapping may outlive its backing (MODEL.md invariants).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; FrameSlotEmpty.
 */
export function containerFree(state: State, op: OpOf<"container.free">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const found = containerVia(state, subject, op.container, R.alloc);
  if (isError(found)) return fail(state, found);
  const { cap, container } = found;
  if (!inRange(op.index, state.config.containerSlots)) return fail(state, "BadIndex");
  const slot = container.slots[op.index]!;
  if (slot.kind === "empty") return fail(state, "FrameSlotEmpty");

  const d = dropSlot(state, cap.object, op.index);
  d.containers[cap.object]!.slots[op.index] = { kind: "empty" };
  return done(d);
}

/**
 * The state with what slot (container, index) holds let go: for a hard
 * reference, the mappings rooted at the slot go, the frame loses a reference
 * and the container's account a frame charge; swapped content lets go of its
 * swap page and refunds the object it cost; a soft reference costs nothing
 * to let go. The caller sets the slot's new value.
 */
export function dropSlot(state: State, container: number, index: number): Draft {
  const slot = state.containers[container]!.slots[index]!;
  if (slot.kind === "swapped") {
    const d = draft(state);
    releaseSwap(d, slot.page);
    d.accounts[state.containers[container]!.account]!.objectsCharged -= 1;
    return d;
  }
  if (slot.kind !== "hard") return draft(state);
  const d = remove(state, { mappings: mappingsRootedAt(state, container, index) });
  d.accounts[state.containers[container]!.account]!.framesCharged -= 1;
  d.frames[slot.frame]!.refs -= 1;
  return d;
}

// ---------------------------------------------------------------------------
// Sharing: logical copy, soft references, swap

/**
 * The container named by the cap in `slot` and its slot `index`.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights (`need`); Removing
 * (containerVia); BadIndex.
 */
export function slotVia(state: State, subject: Task, slot: unknown, index: unknown, need: number) {
  const found = containerVia(state, subject, slot, need);
  if (isError(found)) return found;
  if (!inRange(index, state.config.containerSlots)) return "BadIndex" as const;
  return { ...found, id: found.cap.object, index, slot: found.container.slots[index]! };
}

/** Error for a slot that must hold a hard reference: FrameSlotEmpty or SlotNotHard. */
export const needHard = (slot: Slot): ErrorCode | null => (slot.kind === "empty" ? "FrameSlotEmpty" : slot.kind !== "hard" ? "SlotNotHard" : null);

/**
 * container.copy — logical copy: put into the empty slot `dstIndex` of the
 * container named by `dst` a hard reference to the frame in slot `srcIndex`
 * of the container named by `src`. No data moves; the frame is shared until
 * someone writes to it through a mapping (copy-on-write, see mem.write).
 * The receiving container's account pays a frame of quota.
 *
 * Why: "Data can be copied into a container by just installing frame
 * references from other containers, so the copy is logical" (seed 000); a
 * filesystem serves reads this way from its cache (seed 004). The receiver
 * pays, as MODEL.md decides.
 *
 * A frame wired for DMA cannot be copied: a device writes it behind the
 * tasks' backs, so a copy would not be a copy (wiredNeverShared).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`src` needs `read`); Removing (the container is being destroyed);
 * BadIndex; FrameSlotEmpty, SlotNotHard (source slot);
 * Wired (the source frame); BadCapSlot, NoCap, WrongType, NoRights (`dst`
 * needs `alloc`); Removing; BadIndex;
 * FrameSlotOccupied; FrameQuotaExceeded (the receiving container's account).
 */
export function containerCopy(state: State, op: OpOf<"container.copy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const from = slotVia(state, subject, op.src, op.srcIndex, R.read);
  if (isError(from)) return fail(state, from);
  const hardErr = needHard(from.slot);
  if (hardErr) return fail(state, hardErr);
  if (state.frames[(from.slot as Extract<Slot, { kind: "hard" }>).frame]!.wired > 0) return fail(state, "Wired");
  const to = slotVia(state, subject, op.dst, op.dstIndex, R.alloc);
  if (isError(to)) return fail(state, to);
  if (to.slot.kind !== "empty") return fail(state, "FrameSlotOccupied");
  if (unusedFrames(state.accounts[to.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const frame = (from.slot as Extract<Slot, { kind: "hard" }>).frame;

  const d = draft(state);
  d.containers[to.id]!.slots[to.index] = { kind: "hard", frame };
  d.frames[frame]!.refs += 1;
  d.accounts[to.container.account]!.framesCharged += 1;
  return done(d);
}

/**
 * container.demote — turn the hard reference in slot `index` into a soft one:
 * the mappings rooted at the slot go, the frame loses a reference and the
 * container's account is refunded, but the frame keeps its content until
 * physmem reuses it or someone writes it.
 *
 * Why: a filesystem under memory pressure turns its cached pages into soft
 * references instead of dropping them (seed 000), giving the quota back while
 * keeping a chance to recover the data without reading the disk.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; FrameSlotEmpty, SlotNotHard; Wired.
 */
export function containerDemote(state: State, op: OpOf<"container.demote">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const frame = (at.slot as Extract<Slot, { kind: "hard" }>).frame;
  if (state.frames[frame]!.wired > 0) return fail(state, "Wired");

  const d = dropSlot(state, at.id, at.index);
  d.containers[at.id]!.slots[at.index] = { kind: "soft", frame, epoch: state.frames[frame]!.epoch };
  return done(d);
}

/**
 * container.promote — turn the soft reference in slot `index` back into a
 * hard one, if its frame still holds what it held (same epoch): the container's
 * account pays a frame again.
 *
 * Why: "the filesystem can later reclaim the data without reading it from
 * disk again by turning the soft reference back into a hard reference"
 * (seed 000) — unless the frame was reused or changed meanwhile. A frame
 * wired for DMA meanwhile (by another slot that still holds it) is not taken
 * back: that would make a wired frame a logical copy (wiredNeverShared).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; NotSoft; Stale; Wired; FrameQuotaExceeded.
 */
export function containerPromote(state: State, op: OpOf<"container.promote">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  if (at.slot.kind !== "soft") return fail(state, "NotSoft");
  if (state.frames[at.slot.frame]!.epoch !== at.slot.epoch) return fail(state, "Stale");
  if (state.frames[at.slot.frame]!.wired > 0) return fail(state, "Wired");
  if (unusedFrames(state.accounts[at.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");

  const d = draft(state);
  d.containers[at.id]!.slots[at.index] = { kind: "hard", frame: at.slot.frame };
  d.frames[at.slot.frame]!.refs += 1;
  d.accounts[at.container.account]!.framesCharged += 1;
  return done(d);
}

/**
 * container.swapOut — write the content of the hard slot `index` to a swap
 * page: the mappings rooted at the slot go, the frame loses a reference, and
 * the container's account gets its frame back and pays one object for the
 * swapped slot instead. If another slot swapped out the same frame with the
 * same content (a logical copy), the two share that swap page.
 *
 * Why: swapping goes through physmem, not the task's own swap, so that shared
 * frames stay shared (seed 000: private swap is what unshares a copy; seed
 * 004). Swap space is a machine resource (`swap` in the configuration) and
 * a swapped slot is a kernel object its account pays for, so swapping cannot
 * hold more memory than quota allows either.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; FrameSlotEmpty, SlotNotHard; Wired;
 * ObjectQuotaExceeded (the container's account); SwapFull (no swap page
 * free, when a new one is needed).
 */
export function containerSwapOut(state: State, op: OpOf<"container.swapOut">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const f = (at.slot as Extract<Slot, { kind: "hard" }>).frame;
  const frame = state.frames[f]!;
  if (frame.wired > 0) return fail(state, "Wired");
  if (unusedObjects(state.accounts[at.container.account]!) < 1) return fail(state, "ObjectQuotaExceeded");
  const shared = state.swap.findIndex((p) => p !== null && p.frame === f && p.epoch === frame.epoch);
  const page = shared >= 0 ? shared : lowestFree(state.swap);
  if (page === null) return fail(state, "SwapFull");

  const d = dropSlot(state, at.id, at.index);
  if (shared >= 0) d.swap[page]!.refs += 1;
  else d.swap[page] = { content: frame.content, frame: f, epoch: frame.epoch, refs: 1 };
  d.containers[at.id]!.slots[at.index] = { kind: "swapped", page };
  d.accounts[at.container.account]!.objectsCharged += 1;
  return done(d);
}

/**
 * container.swapIn — bring the swapped-out content of slot `index` back: if
 * the frame it was swapped out from still holds it, unchanged, in another
 * slot, the slot takes that frame again (the logical copy is whole again);
 * otherwise into a new frame (chosen by `nextFrame`, with a new epoch), which
 * the swap page then remembers, so the other slots sharing the page rejoin
 * it when they swap in. The container's account pays a frame again and gets
 * the swapped slot's object back.
 *
 * Why: a self-paging task decides what to swap and brings it back through
 * physmem (seeds 000 and 004); sharing survives the round trip, and a write
 * meanwhile (which bumps the frame's epoch) leaves the others their own,
 * unchanged copy, as copy-on-write would.
 *
 * Result: the frame number.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the container is being destroyed);
 * BadIndex; NotSwapped; FrameQuotaExceeded; OutOfMemory (a new
 * frame needed and none free).
 */
export function containerSwapIn(state: State, op: OpOf<"container.swapIn">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.alloc);
  if (isError(at)) return fail(state, at);
  if (at.slot.kind !== "swapped") return fail(state, "NotSwapped");
  if (unusedFrames(state.accounts[at.container.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const page = state.swap[at.slot.page]!;
  const held = state.frames[page.frame]!;
  // (never a wired frame: that would make it a logical copy, wiredNeverShared)
  const rejoin = held.refs > 0 && held.wired === 0 && held.epoch === page.epoch;
  const frame = rejoin ? page.frame : nextFrame(state);
  if (frame === null) return fail(state, "OutOfMemory");

  const d = draft(state);
  if (rejoin) d.frames[frame]!.refs += 1;
  else {
    takeFrame(d, frame, page.content);
    const p = d.swap[at.slot.page]!;
    p.frame = frame;
    p.epoch = d.frames[frame]!.epoch;
  }
  releaseSwap(d, at.slot.page);
  d.containers[at.id]!.slots[at.index] = { kind: "hard", frame };
  d.accounts[at.container.account]!.framesCharged += 1;
  d.accounts[at.container.account]!.objectsCharged -= 1;
  return done(d, frame);
}
