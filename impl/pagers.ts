/**
 * Pagers and faults (spec/pagers.ts): a task's pager, the fault queues (a
 * FIFO per pager, linked through the faulting tasks: tables/objects.ts),
 * the pager's answers and sigma0's protocol, with its ledger in
 * `Machine.sigma0` (per page of the root task: the task it went to first,
 * or -1).
 */
import { faultQueueOf } from "../spec/state.js";
import { inRange, R } from "../spec/vocabulary.js";
import { capIn, hasObjects, subjectOk } from "./checks.js";
import { E, KIND_TASK, OK, SLOT_HARD } from "./constants.js";
import type { Machine } from "./machine.js";
import { frameAt, newMapping, someMappingOfSlot } from "./mapdb.js";
import { memRead, memWrite } from "./memory.js";
import { removing, taskDying } from "./preemption.js";

/**
 * The fault path of an access of `task` at `vpage` that failed with status
 * `code` (NotMapped or ProtectionFault): without a pager, that status; with
 * one, the fault joins the pager's queue (PagerBusy if it is full) and the
 * access returns OK with `m.faulted` set.
 */
export function pageFault(m: Machine, task: number, vpage: number, write: boolean, value: number, code: number): number {
  const tasks = m.tasks;
  const p = tasks.pager[task]!;
  if (p === -1) return code;
  if (tasks.qLen[p]! >= faultQueueOf(m.config)) return E.PagerBusy;
  tasks.enqueue(p, task, vpage, write, value);
  m.faulted = true;
  return OK;
}

export function taskPager(m: Machine, task: number, targetSlot: number, pagerSlot: number | null): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  const target = capIn(m, task, targetSlot, KIND_TASK, R.write);
  // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
  if (target < 0) return -target;
  const t = m.caps.objOf(target);
  if (t === 0) return E.IsRoot;
  if (taskDying(m, t)) return E.Removing;
  if (m.tasks.faultPage[t] !== -1) return E.Blocked;
  let p = -1;
  if (pagerSlot !== null) {
    const cap = capIn(m, task, pagerSlot, KIND_TASK, R.write);
    // Stryker disable next-line EqualityOperator: capability index 0 is task 0's slot 0, the root account capability, and this operation asks for another kind
    if (cap < 0) return -cap;
    p = m.caps.objOf(cap);
    if (taskDying(m, p)) return E.Removing;
    // the chains of pagers form a forest (pagersFormAForest), so this walk ends
    for (let x = p; x !== -1; x = m.tasks.pager[x]!) if (x === t) return E.PagerLoop;
  }
  const was = m.tasks.pager[t]!;
  if (was !== -1 && was !== p) m.tasks.dropNotices(was, t);
  m.tasks.setPager(t, p);
  return OK;
}

/**
 * The checks of a pager's answer (spec: answerChecks): the oldest fault at
 * pager p, answered with p's mapping node e and `rights`. 0 or a status.
 */
function answerChecks(m: Machine, p: number, e: number, rights: number): number {
  const tasks = m.tasks;
  const t = tasks.qHead[p]!;
  const v = tasks.faultPage[t]!;
  const write = tasks.faultWrite[t] === 1;
  if (taskDying(m, t)) return E.Removing;
  if (m.pages.lookup(t, v) !== -1) return E.PageMapped;
  if ((rights & (write ? R.write : R.read)) === 0) return E.BadRights;
  const frames = m.frames;
  const f = frameAt(m, e);
  if (write && frames.wired[f]! > 0) return E.Wired;
  if (!hasObjects(m, tasks.account[t]!, 1 + (m.pages.needsLeaf(t, v) ? 1 : 0))) return E.ObjectQuotaExceeded;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: unreachable: a frame shared by two hard slots is charged twice, so a free or soft-only frame exists (quotaConserved, noOvercommit, exactFrameCharges)
  if (write && frames.refs[f]! > 1 && frames.next() < 0) return E.OutOfMemory;
  return 0;
}

/** The answer, once checked: the oldest fault leaves p's queue, its task gets a child of e at the faulting page and its access completes. */
function answer(m: Machine, p: number, e: number, rights: number): number {
  const tasks = m.tasks;
  const t = tasks.qHead[p]!;
  const v = tasks.faultPage[t]!;
  const write = tasks.faultWrite[t] === 1;
  const value = tasks.faultValue[t]!;
  tasks.dequeue(p);
  // Stryker disable next-line UnaryOperator: a derived mapping (a parent given) ignores the slot and capability arguments
  newMapping(m, t, v, rights, e, -1, -1);
  return write ? memWrite(m, t, v, value) : memRead(m, t, v);
}

export function faultResolve(m: Machine, task: number, vpage: number, rights: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (task === 0) return E.IsRoot;
  if (m.tasks.qLen[task] === 0) return E.NoFault;
  if (!inRange(vpage, m.config.vpages)) return E.BadPage;
  const e = m.pages.lookup(task, vpage);
  if (e === -1) return E.NotMapped;
  if (removing(m, e)) return E.Removing;
  if (rights <= 0 || (rights & ~m.pages.rights[e]!) !== 0) return E.BadRights;
  const ce = answerChecks(m, task, e, rights);
  if (ce) return ce;
  return answer(m, task, e, rights);
}

export function faultRefuse(m: Machine, task: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  if (m.tasks.faultPage[task] !== -1) return E.Blocked;
  if (task === 0) return E.IsRoot;
  if (m.tasks.qLen[task] === 0) return E.NoFault;
  m.tasks.dequeue(task);
  return OK;
}

/** fault.notice: the subject (a pager) reads its oldest notice; the value is the count of missed ones, which starts again. */
export function faultNotice(m: Machine, task: number): number {
  if (!subjectOk(m, task)) return E.NoSuchTask;
  const tasks = m.tasks;
  if (tasks.faultPage[task] !== -1) return E.Blocked;
  if (tasks.noteLen[task] === 0 && tasks.missed[task] === 0) return E.NoNotice;
  const x = tasks.noteHead[task]!;
  if (x !== -1) {
    m.noticeTask = tasks.noteTask[x]!;
    m.noticePage = tasks.notePage[x]!;
    tasks.takeNotice(task);
  }
  m.value = tasks.missed[task]!;
  tasks.missed[task] = 0;
  return OK;
}

/**
 * Physmem is about to take mapping e: if its task has a pager, its page
 * joins the `n` already in `m.lost` (keys task * vpages + page; the array
 * grows if need be). Returns how many there are now. Call `notify` after
 * the removal.
 */
export function noteLost(m: Machine, e: number, n: number): number {
  const t = m.pages.taskOf(e);
  if (m.tasks.pager[t] === -1) return n;
  if (n === m.lost.length) {
    const bigger = new Float64Array(Math.max(64, n * 2));
    bigger.set(m.lost);
    m.lost = bigger;
  }
  m.lost[n] = t * m.config.vpages + m.pages.vpageOf(e);
  return n + 1;
}

/**
 * Physmem is about to take every mapping of frame f (relocate): gathers
 * the pages of tasks with a pager that it will take (noteLost), by walks of
 * the mapping trees rooted at the hard slots holding f. Returns how many.
 * (Reclaim gathers them in its walk for dirty bits.)
 */
export function gatherLost(m: Machine, f: number): number {
  const cons = m.containers;
  let n = 0;
  const note = (e: number) => {
    n = noteLost(m, e, n);
    return false;
  };
  // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined, so the extra turn finds nothing
  for (let si = 0; si < cons.frame.length; si++) if (cons.kind[si] === SLOT_HARD && cons.frame[si] === f) someMappingOfSlot(m, si, note);
  return n;
}

/**
 * The `n` pages gathered by gatherLost are gone: each becomes a notice to
 * its task's pager, in order of task, then page (spec: notify). A notice
 * already held is not repeated; one that does not fit is counted as missed.
 */
export function notify(m: Machine, n: number): void {
  const keys = m.lost.subarray(0, n).sort();
  const tasks = m.tasks;
  const limit = faultQueueOf(m.config);
  const vpages = m.config.vpages;
  for (let i = 0; i < n; i++) {
    const t = Math.floor(keys[i]! / vpages);
    const v = keys[i]! - t * vpages;
    const p = tasks.pager[t]!;
    if (tasks.hasNotice(p, t, v)) continue;
    if (tasks.noteLen[p]! < limit) tasks.addNotice(p, t, v);
    else tasks.missed[p]! += 1;
  }
}

export function sigma0Serve(m: Machine): number {
  const tasks = m.tasks;
  if (tasks.qLen[0] === 0) return E.NoFault;
  const t = tasks.qHead[0]!;
  const v = tasks.faultPage[t]!;
  const e = m.pages.lookup(0, v);
  const owner = m.sigma0[v]!;
  // (a preempted unmap by sigma0 itself may be taking the page apart: then nothing may be derived from it)
  const doomed = e !== -1 && removing(m, e);
  // Stryker disable next-line ConditionalExpression: an unmapped page's rights read undefined (index -1), so answerChecks refuses it all the same (BadRights)
  if (e === -1 || (owner !== -1 && owner !== t) || doomed || answerChecks(m, 0, e, m.pages.rights[e]!) !== 0) {
    tasks.dequeue(0);
    m.value = 0;
    return OK;
  }
  if (owner === -1) {
    m.sigma0[v] = t;
    tasks.ledger[t]! += 1;
  }
  answer(m, 0, e, m.pages.rights[e]!);
  m.value = 1;
  return OK;
}

/**
 * Task t is being destroyed (removal.ts destroyTask): its fault leaves its
 * pager's queue, and its pager's notices about it go; its own notices go;
 * the faults waiting at it fail (their tasks resume); the
 * tasks it paged (its list of paged tasks) have no pager any more; sigma0's
 * ledger forgets it (a scan of sigma0's pages up to t's last entry there).
 */
export function forgetTask(m: Machine, t: number): void {
  const tasks = m.tasks;
  if (tasks.faultPage[t] !== -1) tasks.unlinkFault(tasks.pager[t]!, t);
  if (tasks.pager[t] !== -1) tasks.dropNotices(tasks.pager[t]!, t);
  tasks.dropNotices(t, -1);
  tasks.missed[t] = 0;
  // (a preempted removal of t's ends with the operation: settlePending clears its record, which until then still says
  // what that removal will make vanish, as the spec's state before the operation does: preemption.ts passedOver)
  while (tasks.qLen[t]! > 0) tasks.dequeue(t);
  while (tasks.pagedHead[t]! !== -1) tasks.setPager(tasks.pagedHead[t]!, -1);
  tasks.setPager(t, -1);
  // (the scan of the ledger stops at t's last entry: none when t got no page from sigma0)
  const ledger = m.sigma0;
  for (let v = 0; tasks.ledger[t]! > 0; v++) {
    if (ledger[v] === t) {
      ledger[v] = -1;
      tasks.ledger[t]! -= 1;
    }
  }
}
