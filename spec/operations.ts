/**
 * The operations of the modelled kernel, one pure function each.
 *
 * Every function takes a state and an operation and returns the next state and
 * a result. It first checks its preconditions *in the order its doc comment
 * lists them* and returns the first error found, with the input state
 * unchanged (the very same object). Only when every check passes does it edit
 * a fresh copy (see `draft` in state.ts). The impl follows the same order, so
 * the refinement tests can demand equal error codes, not just "both failed".
 *
 * Every operation but the environment's (physmem.*, sigma0.serve) is
 * invoked by a *subject* task (`op.task`) through slots of its own
 * capability space, seL4-style. The first check of every such operation is
 * therefore `NoSuchTask`: the subject must exist; the second is `Blocked`:
 * it must not be waiting for its pager (pagers.ts), nor have a preempted
 * removal to finish other than the one invoked, nor be taken apart by
 * another task's preempted task.destroy or account.destroy (preemption.ts;
 * these two are checked here, in `step`, for every operation).
 *
 * This file is the dispatch table. The operations live one family per file,
 * each opening with a paragraph on its kernel object and the seeds behind it:
 * accounts.ts (with ballooning), tasks.ts, containers.ts (with logical copy,
 * soft references and swap), capabilities.ts, mappings.ts (with the L4
 * operations), memory.ts, pagers.ts (faults and sigma0), dma.ts and
 * physmem.ts; the lookups they share are
 * in checks.ts and everything that removes objects is in removal.ts.
 */
import type { State } from "./state.js";
import type { Op, OpKind, OpOf } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { fail } from "./checks.js";
import { accountAnswer, accountCreate, accountDestroy, accountRequest, accountTransfer, accountYield, accountYieldRequest } from "./accounts.js";
import { taskCreate, taskDestroy, taskWindow } from "./tasks.js";
import { continues, settlePending, taskDying } from "./preemption.js";
import { faultNotice, faultRefuse, faultResolve, sigma0Serve, taskPager } from "./pagers.js";
import { containerAlloc, containerCopy, containerCreate, containerDemote, containerDestroy, containerFree, containerPromote, containerSwapIn, containerSwapOut } from "./containers.js";
import { capCopy, capDelete, capDerive, capRevoke } from "./capabilities.js";
import { l4Grant, l4Map, l4Share, pageBits, pageMap, pageUnmap } from "./mappings.js";
import { memRead, memWrite } from "./memory.js";
import { dmaUnwire, dmaWire, dmaWrite } from "./dma.js";
import { physmemReclaim, physmemRelocate } from "./physmem.js";

/** The spec's transition function: one operation, any state. Total. */
export const OPERATIONS: { readonly [K in OpKind]: (state: State, op: OpOf<K>) => Step } = {
  "account.create": accountCreate,
  "account.transfer": accountTransfer,
  "account.destroy": accountDestroy,
  "task.create": taskCreate,
  "task.destroy": taskDestroy,
  "task.window": taskWindow,
  "task.pager": taskPager,
  "container.create": containerCreate,
  "container.destroy": containerDestroy,
  "container.alloc": containerAlloc,
  "container.free": containerFree,
  "container.copy": containerCopy,
  "container.demote": containerDemote,
  "container.promote": containerPromote,
  "container.swapOut": containerSwapOut,
  "container.swapIn": containerSwapIn,
  "cap.derive": capDerive,
  "cap.copy": capCopy,
  "cap.delete": capDelete,
  "cap.revoke": capRevoke,
  "page.map": pageMap,
  "page.unmap": pageUnmap,
  "page.bits": pageBits,
  "l4.map": l4Map,
  "l4.grant": l4Grant,
  "l4.share": l4Share,
  "mem.read": memRead,
  "mem.write": memWrite,
  "account.request": accountRequest,
  "account.answer": accountAnswer,
  "account.yieldRequest": accountYieldRequest,
  "account.yield": accountYield,
  "dma.wire": dmaWire,
  "dma.unwire": dmaUnwire,
  "dma.write": dmaWrite,
  "fault.resolve": faultResolve,
  "fault.refuse": faultRefuse,
  "fault.notice": faultNotice,
  "sigma0.serve": sigma0Serve,
  "physmem.relocate": physmemRelocate,
  "physmem.reclaim": physmemReclaim,
};

/** Applies one operation. An unknown operation kind is an error, never a throw. */
export function step(state: State, op: Op): Step {
  const kind: unknown = op !== null && typeof op === "object" ? op.op : undefined;
  if (typeof kind !== "string" || !Object.hasOwn(OPERATIONS, kind)) return fail(state, "BadValue");
  // A task with a preempted removal may only invoke that removal again (preemption.ts).
  const task: unknown = (op as { task?: unknown }).task;
  const pending = typeof task === "number" ? state.tasks[task]?.pending : null;
  if (pending && !continues(pending, op)) return fail(state, "Blocked");
  // A task being taken apart by another task's preempted task.destroy or account.destroy, or emptied as a zombie, does nothing.
  if (!pending && typeof task === "number" && state.tasks[task] && taskDying(state, task)) return fail(state, "Blocked");
  const fn = OPERATIONS[kind as OpKind] as (s: State, o: Op) => Step;
  const next = fn(state, op);
  // Another operation may have taken the mapping a preempted walk stands at.
  return next.result.ok && next.state !== state ? { state: settlePending(next.state), result: next.result } : next;
}

export type { Step };
