/**
 * DMA: wiring a container slot's frame for a device. While wired the frame
 * cannot move, be reused or be written by a task; the wiring is held by a DMA
 * handle, itself named by a capability, and deleting the handle unwires it
 * (seed 000, 000_0acf2069c9b56720.txt: physmem must be told which frames a
 * device uses, and "kill -9 during DMA" must not hand the frame to someone
 * else while the device still writes).
 */
import { beingRevoked } from "./preemption.js";
import type { Slot, State } from "./state.js";
import { draft } from "./state.js";
import { remove } from "./removal.js";
import type { OpOf } from "./vocabulary.js";
import { isWord, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { canPayObjectAndCap, capIn, done, fail, freeCapSlot, install, isError, lowestFree, subjectOf, unusedFrames } from "./checks.js";
import { needHard, slotVia } from "./containers.js";

/**
 * dma.wire — wire the frame in the hard slot `index` of the container named
 * by `container` for DMA and put a capability to a new DMA handle into the
 * subject's slot `dest`. The handle capability is a child of the container
 * capability used, with its rights: a handle wired through a capability
 * without `write` cannot be written by the device, and revoking an ancestor
 * of the container capability takes the handle (and, by the final-capability
 * rule, unwires the frame). While any handle wires it, the frame is never
 * reused, relocated, demoted, swapped or logically copied, and tasks' writes
 * to it fault; if the slot or the container goes, the frame stays in use
 * until the last handle is unwired. A frame that is a logical copy (held by
 * more than one slot) cannot be wired: the device would write every copy.
 * The subject's account pays for the handle, its capability and one frame
 * (the pinned frame stays paid for even after its slot lets go of it).
 *
 * Why: "A privileged operation can wire the physical address of the
 * containers memory for the DMA operation ... denying access to the memory by
 * the original owner" (seed 000). Privileged means `priv` on the container
 * capability, which an object's first capability carries only if the
 * capability that made it did; a pinned frame is paid for so that wiring
 * and freeing in a loop cannot hold the machine's memory (seed 004, never
 * overcommit).
 *
 * Result: the handle's id (the lowest unused).
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`priv`); Removing (the container is being destroyed, preemption.ts);
 * BadIndex; Removing (the container capability is being revoked: the
 * handle's capability would be derived from it);
 * FrameSlotEmpty, SlotNotHard; Shared (the frame is a
 * logical copy); BadCapSlot, CapSlotOccupied (`dest`); OutOfIds;
 * FrameQuotaExceeded (the subject's account, one frame); ObjectQuotaExceeded
 * (two objects).
 */
export function dmaWire(state: State, op: OpOf<"dma.wire">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const at = slotVia(state, subject, op.container, op.index, R.priv);
  if (isError(at)) return fail(state, at);
  if (beingRevoked(state, { task: op.task, slot: op.container })) return fail(state, "Removing");
  const hardErr = needHard(at.slot);
  if (hardErr) return fail(state, hardErr);
  const frame = (at.slot as Extract<Slot, { kind: "hard" }>).frame;
  if (state.frames[frame]!.refs > 1) return fail(state, "Shared");
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  const id = lowestFree(state.handles);
  if (id === null) return fail(state, "OutOfIds");
  if (unusedFrames(state.accounts[subject.account]!) < 1) return fail(state, "FrameQuotaExceeded");
  const quotaErr = canPayObjectAndCap(state, subject.account, 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);

  const d = draft(state);
  d.handles[id] = { account: subject.account, frame };
  d.frames[frame]!.wired += 1;
  d.accounts[subject.account]!.objectsCharged += 1;
  d.accounts[subject.account]!.framesCharged += 1;
  install(d, { task: op.task, slot: op.dest }, { kind: "dma", object: id, rights: at.cap.rights, parent: { task: op.task, slot: op.container } });
  return done(d, id);
}

/**
 * dma.unwire — destroy the DMA handle named by `handle`: every capability to
 * it goes, its frame is unwired (and released if no slot holds it any more),
 * and its account is refunded the handle, the frame it paid for and (as for
 * every capability) the capabilities.
 *
 * Why: a frame under DMA must not be reused while the device may still write
 * it, even if the task that asked for the transfer is killed (seed 000); the
 * handle, not the client, decides when the frame is released.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights (`alloc`).
 */
export function dmaUnwire(state: State, op: OpOf<"dma.unwire">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.handle, "dma", R.alloc);
  if (isError(cap)) return fail(state, cap);
  return done(remove(state, { handles: [cap.object] }));
}

/**
 * dma.write — a device writes `value` into the wired frame of the handle
 * named by `handle`. The frame's epoch is bumped (its content changed); the
 * referenced/dirty bits, which record task accesses, are left alone.
 *
 * Why: a device writes physical memory behind the tasks' backs; modelling it
 * shows that a wired frame stays where it is and that soft references to it
 * go stale like after any write (seed 000).
 *
 * Errors, in order: NoSuchTask; Blocked; BadValue; BadCapSlot, NoCap, WrongType,
 * NoRights (`write`).
 */
export function dmaWrite(state: State, op: OpOf<"dma.write">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!isWord(op.value)) return fail(state, "BadValue");
  const cap = capIn(state, subject, op.handle, "dma", R.write);
  if (isError(cap)) return fail(state, cap);
  const d = draft(state);
  const f = d.frames[state.handles[cap.object]!.frame]!;
  f.content = op.value;
  f.epoch += 1;
  return done(d);
}
