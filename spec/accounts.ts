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
 * Ballooning (seed 003) lives here too: a child asks its parent for more
 * quota (request), a parent asks a child to give some back (yield request),
 * and the child gives back what it does not use (yield).
 */
import type { Account, State, Task } from "./state.js";
import { CLOSED, draft } from "./state.js";
import { remove } from "./removal.js";
import type { ErrorCode, OpOf } from "./vocabulary.js";
import { isAmount, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
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
    d.tasks[id] = { account: cap.object, window: CLOSED, caps: new Array(capSlots).fill(null), pages: new Array(vpages).fill(null) };
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
 * capability used, with its rights (see createObject).
 *
 * Why: quota is handed down a tree of accounts, never created (seed 004,
 * 004_1a77f3008d0f6074.txt: the policy server "must never overcommit"; Genode
 * donates RAM and capability quota along the parent/child edge, seed 003).
 * The new account is itself a kernel object, charged to its parent (one
 * object, besides the donation); the capability is charged to the subject's
 * account. The new id is the lowest unused one.
 *
 * Result: the new account's id.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights (the
 * account cap needs `alloc`); BadCapSlot, CapSlotOccupied (`dest`); BadValue
 * (amounts); OutOfIds; FrameQuotaExceeded (parent's unused frame quota <
 * frames); ObjectQuotaExceeded (parent's unused object quota < objects + 1,
 * plus 1 for the cap if the subject's account is the parent; else the
 * subject's account has no unused object).
 */
export function accountCreate(state: State, op: OpOf<"account.create">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
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
  d.accounts[id] = { parent: cap.object, yieldRequest: 0, frameQuota: op.frames, framesCharged: 0, objectQuota: op.objects, objectsCharged: 0 };
  install(d, { task: op.task, slot: op.dest }, { kind: "account", object: id, rights: cap.rights, parent: { task: op.task, slot: op.account } });
  return done(d, id);
}

/**
 * account.transfer — move unused quota from the account named by `from` to the
 * account named by `to`, which must be its parent or its child.
 *
 * Why: quota moves only along an edge of the account tree, as Genode's quota
 * transfer does (seed 003, 003_a2470de884760ae8.txt), so the tree always says
 * where every unit came from; and only *unused* quota moves, so no account is
 * ever charged beyond its quota (never overcommit, seed 004).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`from` needs `alloc`); BadCapSlot, NoCap, WrongType (`to`, any rights);
 * BadValue (amounts); NotRelated (not parent and child, including `from` =
 * `to`); FrameQuotaExceeded, ObjectQuotaExceeded (`from`'s unused quota).
 */
export function accountTransfer(state: State, op: OpOf<"account.transfer">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const from = capIn(state, subject, op.from, "account", R.alloc);
  if (isError(from)) return fail(state, from);
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
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot (the root account has no parent to return quota to).
 */
export function accountDestroy(state: State, op: OpOf<"account.destroy">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const cap = capIn(state, subject, op.account, "account", R.alloc);
  if (isError(cap)) return fail(state, cap);
  if (state.accounts[cap.object]!.parent === null) return fail(state, "IsRoot");
  return done(remove(state, { accounts: [cap.object] }));
}

// ---------------------------------------------------------------------------
// Ballooning

/**
 * The account named by a cap with `alloc` in the subject's space, which must
 * not be the root. Errors, in order: BadCapSlot, NoCap, WrongType, NoRights;
 * IsRoot.
 */
export function childAccountVia(state: State, subject: Task, slot: unknown): { id: number; account: Account; parent: Account } | ErrorCode {
  const cap = capIn(state, subject, slot, "account", R.alloc);
  if (isError(cap)) return cap;
  const account = state.accounts[cap.object]!;
  if (account.parent === null) return "IsRoot";
  return { id: cap.object, account, parent: state.accounts[account.parent]! };
}

/**
 * account.request — the account named by `account` asks its parent for
 * `frames` more frame quota. Granted whole from the parent's unused quota,
 * or denied; never partly, never by taking from anyone else.
 *
 * Why: Genode's ballooning (seed 003, 003_a2470de884760ae8.txt): "a cache
 * would try it request additional memory up to a point where such requests
 * are denied", so slack memory is used without ever overcommitting (seed 004).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; BadValue; Denied.
 */
export function accountRequest(state: State, op: OpOf<"account.request">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  if (unusedFrames(c.parent) < op.frames) return fail(state, "Denied");
  const d = draft(state);
  d.accounts[c.account.parent!]!.frameQuota -= op.frames;
  d.accounts[c.id]!.frameQuota += op.frames;
  return done(d);
}

/**
 * account.yieldRequest — the parent asks the account named by `account` to
 * give back `frames` frames of quota (replacing any earlier request). It is
 * a request, not a command: nothing moves until the child yields.
 *
 * Why: Genode's yield requests (seed 003): "once the memory is needed for
 * other purposes, the cache cooperatively responds to so-called yield
 * requests"; only destroying the child takes memory by force (MODEL.md).
 *
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot; BadValue.
 */
export function accountYieldRequest(state: State, op: OpOf<"account.yieldRequest">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  if (!isAmount(op.frames)) return fail(state, "BadValue");
  const d = draft(state);
  d.accounts[c.id]!.yieldRequest = op.frames;
  return done(d);
}

/**
 * account.yield — the account named by `account` answers its parent's yield
 * request: it hands back as much of its *unused* frame quota as was asked
 * for, and the request shrinks by that much. A child that first frees
 * frames (evicts its cache) can then yield more.
 *
 * Why: Genode's yield request lets a parent ask for quota back without
 * taking it by force; the child chooses when, and can give back only what it
 * does not use (seed 003).
 *
 * Result: the number of frames yielded.
 * Errors, in order: NoSuchTask; BadCapSlot, NoCap, WrongType, NoRights
 * (`alloc`); IsRoot.
 */
export function accountYield(state: State, op: OpOf<"account.yield">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const c = childAccountVia(state, subject, op.account);
  if (isError(c)) return fail(state, c);
  const n = Math.min(c.account.yieldRequest, unusedFrames(c.account));
  const d = draft(state);
  d.accounts[c.id]!.frameQuota -= n;
  d.accounts[c.id]!.yieldRequest -= n;
  d.accounts[c.account.parent!]!.frameQuota += n;
  return done(d, n);
}
