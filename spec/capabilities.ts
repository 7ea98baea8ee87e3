/**
 * Capabilities: a capability names an object (account, task, container or
 * DMA handle) with a set of rights, sits in a slot of a task's capability
 * space, and remembers the capability it was derived from. The derivation
 * tree is what revoke walks (seL4's capability derivation tree; seed 001,
 * 001_468f3620a1a4dd19.txt, contrasts this with the L4 mapping database).
 * A derived capability with fewer rights is how memory is handed to an
 * untrusted task: seed 000's "proxy object" is a container capability
 * without `alloc`.
 */
import type { State } from "./state.js";
import { draft } from "./state.js";
import { remove } from "./removal.js";
import { budgetOf, growsRemoval, revokeChunk, taskDying } from "./preemption.js";
import type { OpOf } from "./vocabulary.js";
import { inRange, R, rightsMask } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, done, fail, freeCapSlot, install, isError, slotInWindow, subjectOf, unusedObjects } from "./checks.js";

/**
 * cap.derive — put into the subject's slot `dest` a child of the capability in
 * `src`, naming the same object with `rights`, which must be a subset of the
 * source's rights.
 *
 * Why: diminished capabilities are how memory is shared with an untrusted
 * task. A container capability without `alloc` is the "proxy object" of seed
 * 000 that "does not allow to allocate more frames than already are in the
 * container"; being a child, it dies when its ancestor is revoked.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap (`src`); Removing
 * (`src` is being revoked, or names a container or a task being
 * destroyed: a preempted cap.revoke, container.destroy or task.destroy has
 * still to remove it, preemption.ts); BadRights (not a list of distinct rights, or not a
 * subset); BadCapSlot, CapSlotOccupied (`dest`); ObjectQuotaExceeded (the
 * subject's account pays for the cap).
 */
export function capDerive(state: State, op: OpOf<"cap.derive">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
  if (growsRemoval(state, { task: op.task, slot: op.src })) return fail(state, "Removing");
  const rights = rightsMask(op.rights);
  if (rights < 0 || (rights & ~src.rights) !== 0) return fail(state, "BadRights");
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (unusedObjects(state.accounts[subject.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  install(d, { task: op.task, slot: op.dest }, { kind: src.kind, object: src.object, rights, parent: { task: op.task, slot: op.src } });
  return done(d);
}

/**
 * cap.copy — put into slot `dest` of the task named by `target` a child of the
 * capability in the subject's slot `src`, with the same rights. The receiving
 * task's account pays for it.
 *
 * Why: passing a capability to another task is how sharing starts (seed 000);
 * the copy is a child so the giver can revoke it; the receiver pays, as for
 * every object someone receives. It pays only for what it accepted: into
 * another task, `dest` must lie in the receiver's receive window (as the
 * receiver names its receive slot in seL4), so holding a `write` capability
 * to a task does not let anyone fill its space at its account's expense.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap (`src`); Removing
 * (`src` is being revoked or names a container or a task being destroyed);
 * BadCapSlot, NoCap, WrongType, NoRights (`target` is a task cap with
 * `write`); Removing (the target is being taken apart by a preempted
 * task.destroy, or account.destroy of its account); Blocked (the
 * target waits for its pager, and receives nothing else meanwhile); BadCapSlot
 * (`dest`); NotInWindow (another task's `dest` outside its receive window);
 * CapSlotOccupied (`dest`, in the target's space); ObjectQuotaExceeded (the
 * target's account).
 */
export function capCopy(state: State, op: OpOf<"cap.copy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
  if (growsRemoval(state, { task: op.task, slot: op.src })) return fail(state, "Removing");
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return fail(state, target);
  if (taskDying(state, target.object)) return fail(state, "Removing");
  const receiver = state.tasks[target.object]!;
  if (receiver.fault) return fail(state, "Blocked");
  if (!inRange(op.dest, state.config.capSlots)) return fail(state, "BadCapSlot");
  if (target.object !== op.task && !slotInWindow(receiver, op.dest)) return fail(state, "NotInWindow");
  const slotErr = freeCapSlot(state, receiver, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (unusedObjects(state.accounts[receiver.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  install(d, { task: target.object, slot: op.dest }, { ...src, parent: { task: op.task, slot: op.src } });
  return done(d);
}

/**
 * cap.delete — remove the capability in `slot`. What hangs from it is
 * re-attached, as in seL4's capability derivation tree: capabilities derived
 * from it to its parent, and root mappings it authorized to its parent if
 * that names the same container (else they go, with their derived
 * mappings). If it was the last capability naming its object, the object is
 * destroyed (the final-capability rule, removal.ts). A capability without a
 * parent (one of sigma0's two boot capabilities) cannot be deleted.
 *
 * Why: deleting your own copy must not take away what you handed on (that is
 * what revoke is for), and killing a task must do to others exactly what its
 * deleting its capabilities would (one rule, removal.ts); an object nobody
 * can name any more could never be reclaimed, so it goes with its last
 * capability.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap; IsRoot (a boot capability).
 */
export function capDelete(state: State, op: OpOf<"cap.delete">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);

  if (cap.parent === null) return fail(state, "IsRoot");
  return done(remove(state, { caps: [{ task: op.task, slot: op.slot }] }));
}

/**
 * cap.revoke — remove every capability derived from the one in `slot`
 * (children, grandchildren, ... in any task), every mapping they authorized,
 * and every mapping derived from those; every object that only they named
 * is destroyed with them (the final-capability rule), which reaches what was
 * made through them: a container created with a revoked account capability
 * goes. The capability itself stays, unless its holder goes too (an object
 * destroyed with them held the last capability naming the holder, or its
 * account). Under a work budget (preemption.ts)
 * the revoke takes them apart from the leaves up, a bounded number of units
 * per entry: an entry that stops returns `preempted`, and the task invokes
 * the same revoke again to go on; meanwhile nothing may be derived from
 * what it has still to remove (`Removing`).
 *
 * Why: the owner of a container can take back what it shared at any time
 * (seed 000); seL4 revokes along the derivation tree, and seed 001 contrasts
 * this with L4's hierarchical unmap. Objects made with a capability are
 * children of it, as seL4's retype makes the new capabilities children of
 * the untyped one, so revoke reaches them.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap.
 */
export function capRevoke(state: State, op: OpOf<"cap.revoke">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);
  if (state.config.budget !== undefined) return revokeChunk(state, op, budgetOf(state.config));
  // (a removal passes over nothing, split into entries or not: removal.ts closure, preemption.ts handUp)
  return done(remove(state, { revoke: [{ task: op.task, slot: op.slot }] }, null, false));
}
