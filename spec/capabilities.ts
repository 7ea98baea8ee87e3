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
import type { CapRef, State } from "./state.js";
import { capKey, draft } from "./state.js";
import { capChildren, remove } from "./removal.js";
import type { OpOf } from "./vocabulary.js";
import { R, rightsMask } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, done, fail, freeCapSlot, install, isError, subjectOf, unusedObjects } from "./checks.js";
import { mappingsAuthorizedBy } from "./mappings.js";

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
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap (`src`); BadRights (not a
 * list of distinct rights, or not a subset); BadCapSlot, CapSlotOccupied
 * (`dest`); ObjectQuotaExceeded (the subject's account pays for the cap).
 */
export function capDerive(state: State, op: OpOf<"cap.derive">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
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
 * every object someone receives (MODEL.md decisions).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap (`src`); BadCapSlot, NoCap,
 * WrongType, NoRights (`target` is a task cap with `write`); BadCapSlot,
 * CapSlotOccupied (`dest`, in the target's space); ObjectQuotaExceeded (the
 * target's account).
 */
export function capCopy(state: State, op: OpOf<"cap.copy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const src = capIn(state, subject, op.src);
  if (isError(src)) return fail(state, src);
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return fail(state, target);
  const receiver = state.tasks[target.object]!;
  const slotErr = freeCapSlot(state, receiver, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (unusedObjects(state.accounts[receiver.account]!) < 1) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  install(d, { task: target.object, slot: op.dest }, { ...src, parent: { task: op.task, slot: op.src } });
  return done(d);
}

/**
 * cap.delete — remove the capability in `slot`. The mappings it authorized
 * (and all mappings derived from them) go with it; capabilities derived from
 * it stay, re-attached to its parent (or becoming roots), as in seL4's
 * capability derivation tree. The object itself lives on: it is paid for by
 * its account and goes when that account or an explicit destroy takes it.
 *
 * Why: deleting your own copy must not take away what you handed on (that is
 * what revoke is for); but mappings need a live authorizing capability.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap.
 */
export function capDelete(state: State, op: OpOf<"cap.delete">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);

  const self: CapRef = { task: op.task, slot: op.slot };
  const d = remove(state, { mappings: mappingsAuthorizedBy(state, self) });
  d.tasks[op.task]!.caps[op.slot] = null;
  d.accounts[subject.account]!.objectsCharged -= 1;
  for (const child of capChildren(state).get(capKey(self)) ?? []) d.tasks[child.task]!.caps[child.slot]!.parent = cap.parent;
  return done(d);
}

/**
 * cap.revoke — remove every capability derived from the one in `slot`
 * (children, grandchildren, ... in any task), every mapping they authorized,
 * and every mapping derived from those. The capability itself stays.
 *
 * Why: the owner of a container can take back what it shared at any time
 * (seed 000); seL4 revokes along the derivation tree, and seed 001 contrasts
 * this with L4's hierarchical unmap.
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap.
 */
export function capRevoke(state: State, op: OpOf<"cap.revoke">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.slot);
  if (isError(cap)) return fail(state, cap);
  const children = capChildren(state).get(capKey({ task: op.task, slot: op.slot })) ?? [];
  return done(remove(state, { caps: children }));
}
