/**
 * Tasks: a subject of operations, with a capability space (slot -> capability)
 * and an address space (virtual page -> mapping), paid for by an account
 * ("taxation" for thread creation, seed 002, 002_977c03b37cc28449.txt).
 * Creating one goes through an account capability (accounts.ts,
 * `createObject`); destroying one is "kill -9" (seed 000,
 * 000_0acf2069c9b56720.txt): its capabilities and mappings go, with what
 * they handed on, by the same rule as deleting a capability (removal.ts).
 */
import type { State } from "./state.js";
import { draft, ROOT_TASK } from "./state.js";
import { remove } from "./removal.js";
import type { OpOf } from "./vocabulary.js";
import { isAmount, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, done, fail, isError, subjectOf } from "./checks.js";
import { createObject } from "./accounts.js";
import { budgetOf, taskDestroyChunk, taskDying } from "./preemption.js";

/**
 * task.create — make a task paid by the account named by `account`, with an
 * empty capability space and address space, and put a capability to it into
 * the subject's slot `dest`: a child of the account capability used, with
 * its rights (see accounts.ts, createObject). The new id is the lowest
 * unused one.
 *
 * Why: creating a thread costs kernel memory, so the creator's account is
 * "taxed" for it (seed 002, 002_977c03b37cc28449.txt) rather than the kernel
 * allocating without a limit (seed 001).
 *
 * Result: the new task's id.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); Removing (the account cap is being revoked: the new capability
 * would be derived from it; or its account is being destroyed:
 * preemption.ts); BadCapSlot, CapSlotOccupied
 * (`dest`); OutOfIds;
 * ObjectQuotaExceeded (one object for the task, one for the cap).
 */
export function taskCreate(state: State, op: OpOf<"task.create">): Step {
  return createObject(state, op, "task");
}

/**
 * task.destroy — destroy the task named by `target` ("kill -9"): its
 * mappings (with everything derived from them) and every capability naming
 * it go, and its own capabilities vanish as if it had deleted them one by
 * one: what it handed on is re-attached to the nearest surviving ancestor,
 * and an object it held the last capability to is destroyed (removal.ts).
 * Its account is refunded. The root task cannot be destroyed: it holds the
 * boot capabilities every authority hangs from.
 *
 * Why: seed 000 (000_0acf2069c9b56720.txt): "The access right may be revoked at
 * any time (imagine root doing a kill -9 on the task with the container!)".
 * Killing a task and the task deleting its capabilities must have the same
 * effect on others (one rule for a vanishing capability); taking back what
 * it handed on is revoke's job, done by whoever holds an ancestor.
 *
 * Under a work budget (preemption.ts) the destroy takes the task apart
 * while it is still named: its page table from the greatest page down
 * (each page's mapping tree from the leaves up), then its capabilities
 * from the greatest slot down, each as if deleted, then the other
 * capabilities naming it one by one, and last the subject's capability
 * with the task. An entry that stops returns `preempted`, and the subject
 * invokes the same destroy again to go on; meanwhile the task does nothing
 * (`Blocked`) and nothing may be done through a capability to it
 * (`Removing`). A capability deletion that would destroy a container or a
 * task with something in it, or an account with something to take apart
 * (the task held its last capability), makes that object a zombie
 * instead, emptied first (preemption.ts, startsZombie); one that destroys
 * another object (a DMA handle, an account that pays for a task a walk
 * around it takes apart) is one unit, however large the object.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot (the root task); Removing (the task is being taken
 * apart by another task's preempted destroy, of it or of its account).
 */
export function taskDestroy(state: State, op: OpOf<"task.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.target, "task", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (cap.object === ROOT_TASK) return fail(state, "IsRoot");
  if (!subject.pending && taskDying(state, cap.object)) return fail(state, "Removing");
  if (state.config.budget !== undefined) return taskDestroyChunk(state, op, cap.object, budgetOf(state.config));
  // (a removal passes over nothing, split into entries or not: removal.ts closure, preemption.ts handUp)
  return done(remove(state, { tasks: [cap.object] }, null, false));
}

/**
 * task.window — set the subject's own receive window: the capability slots
 * [`slot`, `slot` + `slots`) and the pages [`page`, `page` + `pages`) in
 * which it accepts capabilities (cap.copy) and mappings (l4.map, l4.share,
 * l4.grant) from other tasks. Counts of 0 close that half. The window stays
 * until the task sets another; a new task's window is closed.
 *
 * Why: the receiver pays for what it receives (MODEL.md), so it must have
 * agreed to receive it. L4 delivers mappings only into a receive window
 * (a flexpage) the receiving thread names, and seL4 lets the receiver name
 * the slot a capability lands in; without this, anyone holding a `write`
 * capability to a task could fill its capability space and page table and
 * exhaust its account.
 *
 * Errors, in order: NoSuchTask; Blocked; BadValue (a range that is not within the
 * capability space or the address space).
 */
export function taskWindow(state: State, op: OpOf<"task.window">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const { capSlots, vpages } = state.config;
  const within = (base: unknown, count: unknown, limit: number) => isAmount(base) && isAmount(count) && base + count <= limit && (count > 0 || base === 0);
  if (!within(op.slot, op.slots, capSlots) || !within(op.page, op.pages, vpages)) return fail(state, "BadValue");
  const d = draft(state);
  d.tasks[op.task]!.window = { slot: op.slot, slots: op.slots, page: op.page, pages: op.pages };
  return done(d);
}
