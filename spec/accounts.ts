/**
 * Accounts: quota banks arranged in a tree. An account holds a frame quota
 * and an object quota and is charged for the frames and kernel objects it
 * pays for; quota is never created, only handed down the tree (seed 004,
 * 004_1a77f3008d0f6074.txt: a policy server that must "never overcommit"),
 * moved along a parent/child edge (Genode's quota transfer, seed 003,
 * 003_a2470de884760ae8.txt), and returned to the parent when the account is
 * destroyed. An account capability with `alloc` is also the factory through
 * which tasks, containers and sub-accounts are made (the account named pays).
 *
 * Quota leaves an account only by its own action (an operation of a task
 * it pays for) or with its destruction: a donation, a transfer and a yield
 * are made by the giving account's own tasks, whoever else holds a
 * capability to it. Ballooning (seed 003) is a protocol between parent and
 * child: the child asks (request), the parent's policy answers from its
 * unused quota or denies (answer); the parent asks for quota back (yield
 * request), and the child gives back what it does not use (yield). Only
 * destroying the child takes quota back by force.
 */
import type { Account, State, Task } from "./state.js";
import { draft, newTask } from "./state.js";
import { remove } from "./removal.js";
import type { ErrorCode, OpOf } from "./vocabulary.js";
import { isAmount, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { accountDestroyChunk, accountDying, beingRevoked, budgetOf } from "./preemption.js";
import { canPayObjectAndCap, capIn, done, fail, freeCapSlot, install, isError, lowestFree, subjectOf, unusedFrames, unusedObjects } from "./checks.js";

/**
 * task.create and container.create: the account named by the subject's
 * `account` capability (which needs `alloc`) pays one object for the new task
 * or container, and the subject's account pays one for the first capability
 * to it, which lands in `dest`. That capability is a child of the account
 * capability that made it, with the same rights: revoking the account
 * capability takes it (and, by the final-capability rule, the object), and
 * the right to wire (`priv`) is in it only if the maker had it. The new id is
 * the lowest unused one. The two operations' doc comments (tasks.ts,
 * containers.ts) list the errors.
 */
export function createObject(state: State, op: OpOf<"task.create" | "container.create">, kind: "task" | "container"): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (beingRevoked(state, { task: op.task, slot: op.account }) || accountDying(state, cap.object)) return fail(state, "Removing");
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  const id = lowestFree(kind === "task" ? state.tasks : state.containers);
  if (id === null) return fail(state, "OutOfIds");
  const quotaErr = canPayObjectAndCap(state, cap.object, 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);

  const d = draft(state);
  d.accounts[cap.object]!.objectsCharged += 1;
  if (kind === "task") {
    const { capSlots, vpages } = state.config;
    d.tasks[id] = newTask(cap.object, new Array(capSlots).fill(null), vpages) as (typeof d.tasks)[number];
  } else {
    d.containers[id] = { account: cap.object, slots: Array.from({ length: state.config.containerSlots }, () => ({ kind: "empty" as const })) };
  }
  install(d, { task: op.task, slot: op.dest }, { kind, object: id, rights: cap.rights, parent: { task: op.task, slot: op.account } });
  return done(d, id);
}

/**
 * account.create — make a sub-account of the account named by `account`,
 * donating `frames` frame quota and `objects` object quota to it, and put a
 * capability to it into the subject's slot `dest`: a child of the
 * capability used, with its rights (see createObject). The donor must be
 * the subject's own account: quota leaves an account only by its own action.
 *
 * Why: quota is handed down a tree of accounts, never created (seed 004,
 * 004_1a77f3008d0f6074.txt: the policy server "must never overcommit"; Genode
 * donates RAM and capability quota along the parent/child edge, seed 003).
 * The new account is itself a kernel object, charged to its parent (one
 * object, besides the donation); the capability is charged to the subject's
 * account. The new id is the lowest unused one.
 *
 * Result: the new account's id.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights (the
 * account cap needs `alloc`); NotYours (not the subject's own account);
 * Removing (the account cap is being revoked: the new account's capability
 * would be derived from it, preemption.ts); BadCapSlot, CapSlotOccupied (`dest`); BadValue (amounts); OutOfIds; FrameQuotaExceeded (parent's unused frame quota <
 * frames); ObjectQuotaExceeded (parent's unused object quota < objects + 1,
 * plus 1 for the cap if the subject's account is the parent; else the
 * subject's account has no unused object).
 */
export function accountCreate(state: State, op: OpOf<"account.create">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (cap.object !== subject.account) return fail(state, "NotYours");
  if (beingRevoked(state, { task: op.task, slot: op.account })) return fail(state, "Removing");
  const slotErr = freeCapSlot(state, subject, op.dest);
  if (slotErr) return fail(state, slotErr);
  if (!isAmount(op.frames) || !isAmount(op.objects)) return fail(state, "BadValue");
  const id = lowestFree(state.accounts);
  if (id === null) return fail(state, "OutOfIds");
  const parent = state.accounts[cap.object]!;
  if (unusedFrames(parent) < op.frames) return fail(state, "FrameQuotaExceeded");
  // The donation leaves the parent's quota, the node is charged to it: both
  // come out of its unused object quota.
  const quotaErr = canPayObjectAndCap(state, cap.object, op.objects + 1, subject.account);
  if (quotaErr) return fail(state, quotaErr);

  const d = draft(state);
  const p = d.accounts[cap.object]!;
  p.frameQuota -= op.frames;
  p.objectQuota -= op.objects;
  p.objectsCharged += 1;
  d.accounts[id] = { parent: cap.object, yieldRequest: 0, requested: 0, frameQuota: op.frames, framesCharged: 0, objectQuota: op.objects, objectsCharged: 0 };
  install(d, { task: op.task, slot: op.dest }, { kind: "account", object: id, rights: cap.rights, parent: { task: op.task, slot: op.account } });
  return done(d, id);
}

/**
 * account.transfer — move unused quota from the account named by `from` to the
 * account named by `to`, which must be its parent or its child. Only the
 * giving account's own tasks can do it: a parent cannot take quota out of a
 * child this way (it may ask, with a yield request, or destroy the child).
 *
 * Why: quota moves only along an edge of the account tree, as Genode's quota
 * transfer does (seed 003, 003_a2470de884760ae8.txt), so the tree always says
 * where every unit came from; and only *unused* quota moves, so no account is
 * ever charged beyond its quota (never overcommit, seed 004).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`from` needs `alloc`); NotYours (`from` is not the subject's own
 * account); BadCapSlot, NoCap, WrongType (`to`, any rights); BadValue
 * (amounts); NotRelated (not parent and child, including `from` =
 * `to`); FrameQuotaExceeded, ObjectQuotaExceeded (`from`'s unused quota).
 */
export function accountTransfer(state: State, op: OpOf<"account.transfer">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const from = capIn(state, subject, op.from, "account", R.alloc);
  if (isError(from)) return fail(state, from);
  if (from.object !== subject.account) return fail(state, "NotYours");
  const to = capIn(state, subject, op.to, "account");
  if (isError(to)) return fail(state, to);
  if (!isAmount(op.frames) || !isAmount(op.objects)) return fail(state, "BadValue");
  const a = state.accounts[from.object]!;
  const b = state.accounts[to.object]!;
  if (a.parent !== to.object && b.parent !== from.object) return fail(state, "NotRelated");
  if (unusedFrames(a) < op.frames) return fail(state, "FrameQuotaExceeded");
  if (unusedObjects(a) < op.objects) return fail(state, "ObjectQuotaExceeded");

  const d = draft(state);
  d.accounts[from.object]!.frameQuota -= op.frames;
  d.accounts[from.object]!.objectQuota -= op.objects;
  d.accounts[to.object]!.frameQuota += op.frames;
  d.accounts[to.object]!.objectQuota += op.objects;
  return done(d);
}

/**
 * account.destroy — destroy the account named by `account`, its sub-accounts,
 * and every task and container any of them pays for (with all that those take
 * along: see removal.ts). All of their quota returns to the parent.
 *
 * Why: this is the only way to take memory back by force (MODEL.md; seed 003:
 * a yield request is a request, destroying the child is the command). The
 * subject may destroy the account that pays for itself; it then vanishes too.
 *
 * Under a work budget (preemption.ts) the destroy takes apart what the
 * account and its sub-accounts pay for while they are still named, one
 * object after the other: DMA handles, then containers, then tasks (each
 * from the greatest id down, a container or a task as its own destroy
 * takes it apart; the subject's own task last, and of it only its pages
 * and capabilities), then the sub-accounts from the leaves up (the
 * capabilities naming each one by one; the last takes the account), then
 * the other capabilities naming the account, and last the subject's
 * capability with the account and what is left. An entry that stops
 * returns `preempted`; meanwhile the tasks it pays for do nothing
 * (`Blocked`), and nothing may be made through a capability to what it
 * destroys, nor done through one to a container or a task it pays for
 * (`Removing`).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot (the root account has no parent to return quota to);
 * Removing (another task's preempted destroy of this account or of one
 * above it).
 */
export function accountDestroy(state: State, op: OpOf<"account.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (state.accounts[cap.object]!.parent === null) return fail(state, "IsRoot");
  if (!subject.pending && accountDying(state, cap.object)) return fail(state, "Removing");
  if (state.config.budget !== undefined) return accountDestroyChunk(state, op, cap.object, budgetOf(state.config));
  // (a removal passes over nothing, split into entries or not: removal.ts closure, preemption.ts handUp)
  return done(remove(state, { accounts: [cap.object] }, null, false));
}

// ---------------------------------------------------------------------------
// Ballooning

/**
 * The non-root account named by a cap with `alloc` in the subject's space,
 * which must be the subject's own account (`own`) or a child of it.
 * Errors, in order: BadCapSlot, NoCap, WrongType, NoRights; IsRoot; NotYours.
 */
export function balloonAccountVia(state: State, subject: Task, slot: unknown, own: boolean): { id: number; account: Account; parent: Account } | ErrorCode {
  const cap = capIn(state, subject, slot, "account", R.alloc);
  if (isError(cap)) return cap;
  const account = state.accounts[cap.object]!;
  if (account.parent === null) return "IsRoot";
  if ((own ? cap.object : account.parent) !== subject.account) return "NotYours";
  return { id: cap.object, account, parent: state.accounts[account.parent]! };
}

/**
 * account.request — the subject's own account (named by `account`) asks its
 * parent for `frames` more frame quota. Nothing moves yet: the request
 * waits (replacing any earlier one) until a task of the parent answers it.
 *
 * Why: Genode's ballooning (seed 003, 003_a2470de884760ae8.txt): "a cache
 * would try it request additional memory up to a point where such requests
 * are denied". The parent answers by its own policy: a child must not be
 * able to drain its parent's unused quota by asking (never overcommit, seed
 * 004, and the parent's next allocation must not fail because a child
 * asked).
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; NotYours (not the subject's own account); BadValue.
 */
export function accountRequest(state: State, op: OpOf<"account.request">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = balloonAccountVia(state, subject, op.account, true);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  const d = draft(state);
  d.accounts[c.id]!.requested = op.frames;
  return done(d);
}

/**
 * account.answer — the subject's account answers the pending request of its
 * child named by `account`: it grants `frames` of it (0 denies), from its own
 * unused frame quota, and the request is settled either way.
 *
 * Why: in Genode the parent answers resource requests by its own policy
 * (seed 003); here that policy is whatever the parent's task decides, and
 * the model only requires that a grant comes from unused quota (never
 * overcommit, seed 004) and never exceeds what was asked.
 *
 * Result: the frames granted.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; NotYours (the account is not a child of the subject's
 * own); BadValue (more than requested); Denied (the parent's unused frame
 * quota cannot cover the grant).
 */
export function accountAnswer(state: State, op: OpOf<"account.answer">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = balloonAccountVia(state, subject, op.account, false);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames) || op.frames > c.account.requested) return fail(state, "BadValue");
  if (unusedFrames(c.parent) < op.frames) return fail(state, "Denied");
  const d = draft(state);
  d.accounts[c.account.parent!]!.frameQuota -= op.frames;
  d.accounts[c.id]!.frameQuota += op.frames;
  d.accounts[c.id]!.requested = 0;
  return done(d, op.frames);
}

/**
 * account.yieldRequest — the subject's account asks its child named by
 * `account` to give back `frames` frames of quota (replacing any earlier
 * request). It is a request, not a command: nothing moves until the child
 * yields.
 *
 * Why: Genode's yield requests (seed 003): "once the memory is needed for
 * other purposes, the cache cooperatively responds to so-called yield
 * requests"; only destroying the child takes memory by force.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; NotYours (not a child of the subject's own account);
 * BadValue.
 */
export function accountYieldRequest(state: State, op: OpOf<"account.yieldRequest">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = balloonAccountVia(state, subject, op.account, false);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  const d = draft(state);
  d.accounts[c.id]!.yieldRequest = op.frames;
  return done(d);
}

/**
 * account.yield — the subject's own account (named by `account`) answers
 * its parent's yield request: it hands back as much of its *unused* frame
 * quota as was asked for, and the request shrinks by that much. A child
 * that first frees frames (evicts its cache) can then yield more.
 *
 * Why: Genode's yield request lets a parent ask for quota back without
 * taking it by force; the child chooses when, and can give back only what it
 * does not use (seed 003).
 *
 * Result: the number of frames yielded.
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; NotYours (not the subject's own account).
 */
export function accountYield(state: State, op: OpOf<"account.yield">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = balloonAccountVia(state, subject, op.account, true);
  if (isError(c)) return fail(state, c);
  const n = Math.min(c.account.yieldRequest, unusedFrames(c.account));
  const d = draft(state);
  d.accounts[c.id]!.frameQuota -= n;
  d.accounts[c.id]!.yieldRequest -= n;
  d.accounts[c.account.parent!]!.frameQuota += n;
  return done(d, n);
}
