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
import type { OpOf } from "./vocabulary.js";
import { inRange } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { done, fail } from "./checks.js";

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
 * unmapped (with everything derived; the tasks fault it back in). The old
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
