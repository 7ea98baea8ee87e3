/**
 * Physmem: the frame allocator and the environment's actions on frames. Which
 * frame a new user gets is fixed here (the lowest-numbered free frame, then
 * the lowest-numbered frame held only by soft references), so that spec and
 * impl agree exactly. Physmem may also move a frame at any time (seed 000,
 * 000_0acf2069c9b56720.txt: "physmem must be allowed to unmap the frames
 * whenever it wants"); that is an environment action, invoked by no task.
 */
import type { Draft, MapRef, State } from "./state.js";
import { remove } from "./removal.js";
import { notify } from "./pagers.js";
import type { OpOf } from "./vocabulary.js";
import { BIT_DIRTY, inRange } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { done, fail, lowestFree, unusedObjects } from "./checks.js";

/** Is some soft reference to frame `f` still valid? */
export function softHeld(state: State, f: number): boolean {
  const epoch = state.frames[f]!.epoch;
  return state.containers.some((c) => c?.slots.some((x) => x.kind === "soft" && x.frame === f && x.epoch === epoch));
}

/**
 * The frame physmem hands out next: the lowest-numbered free frame (no hard
 * reference, not wired, no valid soft reference); failing that, under pressure, the
 * lowest-numbered frame held only by soft references, which are thereby made
 * stale (seed 000: dropped cache pages are "turned into a soft reference" and
 * may be reclaimed). Null when every frame is in hard use.
 */
export function nextFrame(state: State): number | null {
  const unused = (f: number) => state.frames[f]!.refs === 0 && state.frames[f]!.wired === 0;
  for (let f = 0; f < state.frames.length; f++) if (unused(f) && !softHeld(state, f)) return f;
  for (let f = 0; f < state.frames.length; f++) if (unused(f)) return f;
  return null;
}

/** Gives frame `f` to a new user: zeroed, one reference, a new epoch, bits clear. */
export function takeFrame(d: Draft, f: number, content = 0): void {
  const frame = d.frames[f]!;
  d.frames[f] = { content, refs: frame.refs + 1, epoch: frame.epoch + 1, wired: frame.wired };
}

/**
 * physmem.relocate — an environment action: physmem moves the content of
 * frame `frame` to the frame `nextFrame` picks, every hard slot holding the
 * old frame now holds the new one, and every mapping of the old frame is
 * unmapped (with everything derived; the tasks fault it back in, and their
 * pagers get notices: pagers.ts, notify). The old
 * frame is free afterwards, content intact, so soft references to it stay
 * valid until it is reused. The bits move with the content.
 *
 * Why: "physmem must be allowed to unmap the frames whenever it wants, to move
 * their physical location (to make space for DMA operations or super pages)"
 * (seed 000). Wired frames cannot move.
 *
 * Result: the new frame.
 * Errors, in order: BadFrame; FrameNotInUse (no hard reference); Wired;
 * OutOfMemory.
 */
export function physmemRelocate(state: State, op: OpOf<"physmem.relocate">): Step {
  if (!inRange(op.frame, state.config.frames)) return fail(state, "BadFrame");
  const old = state.frames[op.frame]!;
  if (old.refs === 0) return fail(state, "FrameNotInUse");
  if (old.wired > 0) return fail(state, "Wired");
  const fresh = nextFrame(state);
  if (fresh === null) return fail(state, "OutOfMemory");

  const mapped: MapRef[] = [];
  state.tasks.forEach((t, task) => t?.pages.forEach((m, vpage) => m?.frame === op.frame && mapped.push({ task, vpage })));
  const d = remove(state, { mappings: mapped });
  notify(state, d);
  const f = d.frames[fresh]!;
  d.frames[fresh] = { content: old.content, refs: f.refs + old.refs, epoch: f.epoch + 1, wired: 0 };
  d.frames[op.frame]!.refs = 0;
  for (const c of d.containers) {
    c?.slots.forEach((x, i) => {
      if (x.kind === "hard" && x.frame === op.frame) c.slots[i] = { kind: "hard", frame: fresh };
    });
  }
  return done(d, fresh);
}

/**
 * physmem.reclaim — an environment action: physmem takes frame `frame` back
 * without asking anyone. Every mapping of the frame goes (with everything
 * derived from it), and every hard slot holding it is swapped out to one
 * swap page, as container.swapOut would do it: the slot keeps its content
 * there, its container's account gets the frame back and pays one object
 * for the swapped slot instead. The frame is free afterwards, content
 * intact (soft references to it stay valid until it is reused). Only a
 * clean frame can be taken: if a mapping of it has its dirty bit set, the
 * frame's content has not been saved, and its pager must save it first
 * (page.bits reads and clears the bit).
 *
 * The pager of every task that lost a page gets a notice (pagers.ts,
 * notify; read with fault.notice). It need not act on it: a task whose page
 * went faults on its next access, its pager answers, and the pager's own
 * page, if physmem took it too, faults in through the pager above it. So
 * reclaim and relocation are transparent to tasks with pagers.
 *
 * Why: "the kernel [...] has the right to forcefully revoke access to pages
 * from user-level pagers" (seed 002, 002_977c03b37cc28449.txt), and "it just
 * steals pages that aren't dirty. Since the kernel can see the page tables,
 * it should know which pages are dirty" (same thread). Swapping through
 * physmem keeps a logical copy shared (seed 000).
 *
 * Result: the swap page that holds the content.
 * Errors, in order: BadFrame; FrameNotInUse (no hard reference); Wired;
 * Dirty; ObjectQuotaExceeded (an account paying for a slot that holds the
 * frame has no object left for the swapped slot); SwapFull (no swap page
 * free, when a new one is needed).
 */
export function physmemReclaim(state: State, op: OpOf<"physmem.reclaim">): Step {
  if (!inRange(op.frame, state.config.frames)) return fail(state, "BadFrame");
  const f = op.frame;
  const frame = state.frames[f]!;
  if (frame.refs === 0) return fail(state, "FrameNotInUse");
  if (frame.wired > 0) return fail(state, "Wired");
  const mapped: MapRef[] = [];
  let dirty = false;
  state.tasks.forEach((t, task) =>
    t?.pages.forEach((m, vpage) => {
      if (m?.frame !== f) return;
      mapped.push({ task, vpage });
      if ((m.bits & BIT_DIRTY) !== 0) dirty = true;
    }),
  );
  if (dirty) return fail(state, "Dirty");
  const holders: { container: number; index: number }[] = [];
  const owed = new Map<number, number>();
  state.containers.forEach((c, container) =>
    c?.slots.forEach((x, index) => {
      if (x.kind !== "hard" || x.frame !== f) return;
      holders.push({ container, index });
      owed.set(c.account, (owed.get(c.account) ?? 0) + 1);
    }),
  );
  for (const [account, n] of owed) if (unusedObjects(state.accounts[account]!) < n) return fail(state, "ObjectQuotaExceeded");
  const shared = state.swap.findIndex((p) => p !== null && p.frame === f && p.epoch === frame.epoch);
  const page = shared >= 0 ? shared : lowestFree(state.swap);
  if (page === null) return fail(state, "SwapFull");

  const d = remove(state, { mappings: mapped });
  notify(state, d);
  if (shared >= 0) d.swap[page]!.refs += holders.length;
  else d.swap[page] = { content: frame.content, frame: f, epoch: frame.epoch, refs: holders.length };
  for (const { container, index } of holders) {
    d.containers[container]!.slots[index] = { kind: "swapped", page };
    const account = d.accounts[state.containers[container]!.account]!;
    account.framesCharged -= 1;
    account.objectsCharged += 1;
  }
  d.frames[f]!.refs = 0;
  return done(d, page);
}
