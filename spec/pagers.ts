/**
 * Pagers and faults: how a task gets memory it does not have yet.
 *
 * A task may have a *pager*, another task (set through task capabilities,
 * `task.pager`). An access to a page the task has not mapped, or a write
 * through a mapping without the write right, is then not an error but a
 * *fault*: it waits in the pager's fault queue (at most
 * `config.faultQueue` faults at a time), and the task is blocked: it does
 * nothing and receives nothing until its pager answers, as an L4 thread
 * waits in its page-fault IPC. The pager answers the oldest fault first,
 * either by mapping one of its own pages at the faulting page
 * (`fault.resolve`, an L4 map into the window the fault opened), after
 * which the access completes, or by refusing it (`fault.refuse`). A task
 * without a pager gets NotMapped or ProtectionFault, as before.
 *
 * Pagers stack: a pager may have a pager of its own, and so address spaces
 * are built recursively from each other's mappings (seed 002,
 * 002_977c03b37cc28449.txt, on pagers under sigma0; seed 001 on the map
 * chain). The chain of pagers never loops (`PagerLoop`), and it ends at a
 * task without a pager, which never waits: so every fault has a pager that
 * can answer it. The root task is sigma0, the pager at the top: it has no
 * pager, and it answers by a fixed protocol (`sigma0.serve`), not by
 * hand. A task never waits for a pager that is gone: when a pager dies,
 * the faults waiting at it fail (their tasks resume), and the tasks it
 * paged have no pager any more (removal.ts).
 *
 * When physmem takes mappings away without asking (physmem.reclaim,
 * physmem.relocate), the pager of each task that lost a page gets a
 * *notice* naming the task and the page, and reads it with `fault.notice`.
 * A pager learns of a loss at once, not only when the task faults on it
 * next; it can then rebuild the mapping before it is needed, or update its
 * books.
 */
import type { Draft, Fault, Mapping, State } from "./state.js";
import { draft, faultQueueOf, finish, leafSpan, needsLeaf, ROOT_TASK } from "./state.js";
import type { ErrorCode, Op, OpOf, Result } from "./vocabulary.js";
import { BIT_DIRTY, faulted, ok, R, rightsMask } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { capIn, done, fail, isError, subjectOf, unusedObjects } from "./checks.js";
import { addMapping, mappingAt } from "./mappings.js";
import { memRead, memWrite } from "./memory.js";
import { nextFrame } from "./physmem.js";
import { removing, taskDying } from "./preemption.js";

/**
 * The fault path of mem.read and mem.write: the access of `task` at `vpage`
 * failed with `code` (NotMapped or ProtectionFault). Without a pager that is
 * the access's error. With one, the fault joins the pager's queue and the
 * task waits; the result is `ok` with `fault: true`. Error: `code` (no
 * pager); PagerBusy (the pager's queue is full).
 */
export function pageFault(state: State, task: number, fault: Fault, code: ErrorCode): Step {
  const pager = state.tasks[task]!.pager;
  if (pager === null) return fail(state, code);
  if (state.tasks[pager]!.queue.length >= faultQueueOf(state.config)) return fail(state, "PagerBusy");
  const d = draft(state);
  d.tasks[task]!.fault = { ...fault };
  d.tasks[pager]!.queue.push(task);
  return { state: finish(d), result: faulted() };
}

/**
 * task.pager — make the task named by `pager` the pager of the task named by
 * `target` (both task capabilities with `write`), or, with `pager` null,
 * leave the target without one. The target's later faults go to the new
 * pager; a fault waiting already stays where it waits, so the target must not
 * be waiting. Notices about the target that wait at its old pager are
 * dropped: a notice is only ever read by the task's own pager.
 *
 * Why: in L4 every thread has a pager that its page faults are sent to, and
 * pagers build address spaces from each other's mappings (seed 002,
 * 002_977c03b37cc28449.txt: pagers under sigma0 that may themselves be
 * paged). Naming a task as pager needs `write` to it, because its queue is
 * where the faults land. The chain of pagers must end at a task without a
 * pager, which never waits, so a loop is refused; sigma0 (the root task)
 * stays at the top.
 *
 * Errors, in order: NoSuchTask; Blocked; BadCapSlot, NoCap, WrongType,
 * NoRights (`target`: a task cap with `write`); IsRoot (the target is the
 * root task); Removing (the target is being taken apart by a preempted
 * task.destroy, or account.destroy of its account); Blocked (the target
 * waits for its pager); BadCapSlot, NoCap,
 * WrongType, NoRights (`pager`, unless null: a task cap with `write`);
 * Removing (the pager is being destroyed); PagerLoop (the pager is the target, or the target is above it in its chain
 * of pagers).
 */
export function taskPager(state: State, op: OpOf<"task.pager">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const target = capIn(state, subject, op.target, "task", R.write);
  if (isError(target)) return fail(state, target);
  if (target.object === ROOT_TASK) return fail(state, "IsRoot");
  if (taskDying(state, target.object)) return fail(state, "Removing");
  if (state.tasks[target.object]!.fault) return fail(state, "Blocked");
  let pager: number | null = null;
  if (op.pager !== null) {
    const cap = capIn(state, subject, op.pager, "task", R.write);
    if (isError(cap)) return fail(state, cap);
    if (taskDying(state, cap.object)) return fail(state, "Removing");
    for (let p: number | null = cap.object; p !== null; p = state.tasks[p]!.pager) if (p === target.object) return fail(state, "PagerLoop");
    pager = cap.object;
  }
  const d = draft(state);
  d.tasks[target.object]!.pager = pager;
  const was = state.tasks[target.object]!.pager;
  if (was !== null && was !== pager) d.tasks[was]!.notices = d.tasks[was]!.notices.filter((n) => n.task !== target.object);
  return done(d);
}

/**
 * What a pager's answer needs, checked: the oldest fault waiting at `pager`
 * and the pager's mapping `from` at `vpage`, with `rights`. Errors, in
 * order: PageMapped (the faulting page is mapped: a write through a
 * read-only mapping); BadRights (the rights lack the one the access needs);
 * Wired (a write to a wired frame); ObjectQuotaExceeded (the faulting task's
 * account: the node, and a leaf page if its range has none); OutOfMemory (a
 * write that must break a logical copy, and no free frame).
 */
function answerChecks(state: State, pager: number, from: Mapping, rights: number): ErrorCode | null {
  const t = state.tasks[pager]!.queue[0]!;
  const faulting = state.tasks[t]!;
  const fault = faulting.fault!;
  if (taskDying(state, t)) return "Removing";
  if (faulting.pages[fault.vpage]) return "PageMapped";
  if ((rights & (fault.write ? R.write : R.read)) === 0) return "BadRights";
  const frame = state.frames[from.frame]!;
  if (fault.write && frame.wired > 0) return "Wired";
  const need = 1 + (needsLeaf(faulting, fault.vpage, leafSpan(state.config)) ? 1 : 0);
  if (unusedObjects(state.accounts[faulting.account]!) < need) return "ObjectQuotaExceeded";
  if (fault.write && frame.refs > 1 && nextFrame(state) === null) return "OutOfMemory";
  return null;
}

/**
 * The pager's answer, once checked: the oldest fault leaves the queue, the
 * task gets a mapping of the pager's page `vpage` (a child of it, as l4.map
 * makes) at the faulting page, paid by its own account, and resumes: the
 * access completes as mem.read or mem.write would now (bits, copy-on-write,
 * the write itself). Returns that access's step (a read's word).
 */
function answer(state: State, pager: number, vpage: number, rights: number): Step {
  const t = state.tasks[pager]!.queue[0]!;
  const fault = state.tasks[t]!.fault!;
  const from = state.tasks[pager]!.pages[vpage]!;
  const d = addMapping(state, t, fault.vpage, { frame: from.frame, rights, source: { kind: "map", parent: { task: pager, vpage } }, bits: 0 });
  d.tasks[t]!.fault = null;
  d.tasks[pager]!.queue.shift();
  const resumed = finish(d);
  return fault.write ? memWrite(resumed, { op: "mem.write", task: t, vpage: fault.vpage, value: fault.value }) : memRead(resumed, { op: "mem.read", task: t, vpage: fault.vpage });
}

/** The oldest fault leaves `pager`'s queue and fails: its task resumes without the access. */
function refuse(state: State, pager: number): State {
  const d = draft(state);
  const t = d.tasks[pager]!.queue.shift()!;
  d.tasks[t]!.fault = null;
  return finish(d);
}

/**
 * fault.resolve — answer the oldest fault waiting at the subject (its
 * pager) with the subject's page `vpage`: the faulting task gets a mapping of
 * that page at the page that faulted, with `rights` (a subset of the
 * subject's, including the right the access needs), as a child of the
 * subject's mapping (L4 map: the pager can unmap it again). The faulting
 * task's account pays for it; the task resumes and its access completes
 * (a write writes its word, breaking a logical copy first if need be).
 *
 * Why: this is the L4 pager's reply to a page-fault IPC, a map into the
 * window the fault opened (seed 002 on recursive pagers; seed 001 on the
 * mapping database the map joins). The fault is the faulting task's
 * consent to receive at that page, so no receive window is needed there. A
 * page still mapped read-only is not replaced: the pager unmaps it first if
 * it can (it derives from one of the pager's), or refuses.
 *
 * Result: the word a resumed read returns; null for a write.
 * Errors, in order: NoSuchTask; Blocked; IsRoot (sigma0 answers by its
 * protocol, sigma0.serve); NoFault; BadPage, NotMapped (`vpage`, the
 * subject's); Removing (a preempted removal is taking apart the tree of
 * the subject's mapping: preemption.ts, removing); BadRights (malformed, empty, not a subset of the
 * subject's mapping's rights); Removing (a preempted task.destroy, or
 * account.destroy of its account, is taking the faulting task apart);
 * PageMapped (the faulting page is mapped);
 * BadRights (without the right the access needs); Wired (a write to a
 * wired frame);
 * ObjectQuotaExceeded (the faulting task's account); OutOfMemory (a write
 * that must break a logical copy, and no free frame).
 */
export function faultResolve(state: State, op: OpOf<"fault.resolve">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (op.task === ROOT_TASK) return fail(state, "IsRoot");
  if (subject.queue.length === 0) return fail(state, "NoFault");
  const from = mappingAt(state, subject, op.vpage);
  if (isError(from)) return fail(state, from);
  if (removing(state, { task: op.task, vpage: op.vpage })) return fail(state, "Removing");
  const rights = rightsMask(op.rights);
  if (rights <= 0 || (rights & ~from.rights) !== 0) return fail(state, "BadRights");
  const e = answerChecks(state, op.task, from, rights);
  if (e) return fail(state, e);
  return answer(state, op.task, op.vpage, rights);
}

/**
 * fault.refuse — refuse the oldest fault waiting at the subject (its
 * pager): the fault leaves the queue and the faulting task resumes without
 * its access (it reads nothing and writes nothing).
 *
 * Why: a pager may have nothing to give (sigma0 refuses a page another task
 * owns: seed 002), and a faulting task must not wait for ever.
 *
 * Errors, in order: NoSuchTask; Blocked; IsRoot (sigma0 answers by its
 * protocol, sigma0.serve); NoFault.
 */
export function faultRefuse(state: State, op: OpOf<"fault.refuse">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (op.task === ROOT_TASK) return fail(state, "IsRoot");
  if (subject.queue.length === 0) return fail(state, "NoFault");
  return done(refuse(state, op.task));
}

/**
 * Physmem took mappings away (reclaim, relocate): `before` is the state
 * before, `d` the draft after the removal. Every page mapped in `before`
 * and unmapped in `d`, of a task with a pager, becomes a notice to that
 * pager, in order of task, then page. A notice already waiting is not
 * repeated; one that does not fit (the pager holds `faultQueue` already)
 * is counted in the pager's `missed`, which its next fault.notice reports.
 */
export function notify(before: State, d: Draft): void {
  const limit = faultQueueOf(before.config);
  before.tasks.forEach((t, task) => {
    const pager = t?.pager;
    if (pager === null || pager === undefined) return;
    const record = d.tasks[pager]!;
    t!.pages.forEach((m, vpage) => {
      if (!m || d.tasks[task]!.pages[vpage]) return;
      if (record.notices.some((n) => n.task === task && n.vpage === vpage)) return;
      if (record.notices.length < limit) record.notices.push({ task, vpage });
      else record.missed += 1;
    });
  });
}

/**
 * fault.notice — the subject, as a pager, reads its oldest notice: the
 * notice leaves its record and comes back in the result's `notice` (the
 * task and the page physmem took from it). The value is how many notices
 * did not fit in the record since the subject last read one (the count
 * starts again at 0); a pager that missed some may ask its tasks, or wait
 * for their faults.
 *
 * Why: in seed 002 (002_977c03b37cc28449.txt) the kernel forces pages away
 * from user-level pagers, which "will then be informed that they have lost
 * a page". Here the content is kept already (reclaim takes only clean
 * frames and swaps them out), so a pager that is told can rebuild the
 * mapping or update its books at once, instead of learning of each loss at
 * the next fault. The record is bounded like the fault queue, so physmem
 * never waits for a pager: a notice that does not fit is counted, not kept.
 *
 * Result: the number of notices missed; `notice` when one was waiting.
 * Errors, in order: NoSuchTask; Blocked; NoNotice (no notice waits and
 * none was missed).
 */
export function faultNotice(state: State, op: OpOf<"fault.notice">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (subject.notices.length === 0 && subject.missed === 0) return fail(state, "NoNotice");
  const d = draft(state);
  const record = d.tasks[op.task]!;
  const notice = record.notices.shift();
  const missed = record.missed;
  record.missed = 0;
  const result: Result = notice ? { ok: true, value: missed, notice } : ok(missed);
  return { state: finish(d), result };
}

/**
 * sigma0.serve — sigma0 (the root task) answers the oldest fault waiting at
 * it by its fixed protocol. The faulting page p asks for sigma0's own page
 * p (sigma0's address space stands for physical memory, as its idempotent
 * mapping does in L4). sigma0 maps it, with the rights of its own mapping,
 * if it has that page mapped, has not handed it to another task before (a
 * page goes to its first requester, and sigma0's ledger remembers who that
 * was; the same task asking again gets it again) and the access can then
 * complete (the rights it needs, not a write to a wired frame, the task's
 * account able to pay, a frame for copy-on-write) and sigma0 is not
 * unmapping that page (a preempted page.unmap). Otherwise sigma0 refuses.
 * sigma0 maps, never grants: it keeps its page and can take it
 * back with page.unmap. The ledger forgets a task when the task is
 * destroyed.
 *
 * Why: sigma0 owns all memory at boot and hands it to the pagers above it
 * (seed 002, 002_977c03b37cc28449.txt: sigma0 "still owns that page, the
 * user-level pagers have only been given the permission to use it"), as
 * L4Ka::Pistachio's sigma0 does: the first requester of a page gets it, a
 * repeated request is idempotent, and it maps rather than grants. It is
 * modelled as an environment action because its policy is fixed, not a
 * task's choice.
 *
 * Result: 1 when sigma0 mapped the page, 0 when it refused.
 * Errors, in order: NoFault (none waits at sigma0).
 */
export function sigma0Serve(state: State, _op: OpOf<"sigma0.serve">): Step {
  const sigma0 = state.tasks[ROOT_TASK]!;
  if (sigma0.queue.length === 0) return fail(state, "NoFault");
  const t = sigma0.queue[0]!;
  const p = state.tasks[t]!.fault!.vpage;
  const from = sigma0.pages[p];
  const owner = state.sigma0[p];
  if (!from || (owner !== null && owner !== t) || removing(state, { task: ROOT_TASK, vpage: p }) || answerChecks(state, ROOT_TASK, from, from.rights) !== null) {
    return { state: refuse(state, ROOT_TASK), result: ok(0) };
  }
  const d = draft(state);
  d.sigma0[p] = t;
  const served = answer(finish(d), ROOT_TASK, p, from.rights);
  return { state: served.state, result: ok(1) };
}

// ---------------------------------------------------------------------------
// Named properties of pagers and faults (checked with the others: invariants.ts, transitions.ts)

/** The right a fault's access needs. */
const needOf = (fault: Fault) => (fault.write ? R.write : R.read);

export const PAGER_INVARIANTS: readonly { name: string; description: string; check: (s: State) => string | null }[] = [
  {
    name: "pagersFormAForest",
    description:
      "Every pager is a live task other than the task itself, the root task (sigma0) has none, and following pagers from any task never comes back to it: every chain of pagers ends at a task without a pager, which never waits, so every fault has a pager that can answer it.",
    check(s) {
      if (s.tasks[ROOT_TASK]?.pager !== null) return "the root task has a pager";
      for (let t = 0; t < s.tasks.length; t++) {
        const task = s.tasks[t];
        if (!task || task.pager === null) continue;
        if (!s.tasks[task.pager]) return `task ${t}'s pager ${task.pager} does not exist`;
        let hops = 0;
        for (let p: number | null = task.pager; p !== null; p = s.tasks[p]?.pager ?? null) {
          if (p === t) return `task ${t} is its own pager, through a chain of pagers`;
          if (++hops > s.tasks.length) return `the chain of pagers from task ${t} loops`;
        }
      }
      return null;
    },
  },
  {
    name: "faultQueuesExact",
    description:
      "A task waits on a fault exactly when it is in its pager's queue, once, and no queue is longer than faultQueue: a task never waits for a pager that does not exist, nor sits in a queue it is not waiting in.",
    check(s) {
      const limit = faultQueueOf(s.config);
      const seen = new Set<number>();
      for (let p = 0; p < s.tasks.length; p++) {
        const pager = s.tasks[p];
        if (!pager) continue;
        if (pager.queue.length > limit) return `the fault queue of task ${p} holds ${pager.queue.length} faults, more than ${limit}`;
        for (const t of pager.queue) {
          const task = s.tasks[t];
          if (!task) return `the fault queue of task ${p} names task ${t}, which does not exist`;
          if (seen.has(t)) return `task ${t} waits in a fault queue twice`;
          seen.add(t);
          if (!task.fault) return `task ${t} is in the fault queue of task ${p} without a fault`;
          if (task.pager !== p) return `task ${t} waits in the fault queue of task ${p}, which is not its pager`;
        }
      }
      for (let t = 0; t < s.tasks.length; t++) if (s.tasks[t]?.fault && !seen.has(t)) return `task ${t} waits on a fault that is in no queue`;
      return null;
    },
  },
  {
    name: "faultsNameMissingPages",
    description:
      "Every waiting fault names a page of its task's address space that is still unmapped, or, for a write, mapped without the write right: a waiting task receives nothing, so nothing can hand it the page behind its pager's back.",
    check(s) {
      for (let t = 0; t < s.tasks.length; t++) {
        const fault = s.tasks[t]?.fault;
        if (!fault) continue;
        if (!Number.isInteger(fault.vpage) || fault.vpage < 0 || fault.vpage >= s.config.vpages) return `task ${t} waits on a fault at page ${fault.vpage}, outside its address space`;
        const m = s.tasks[t]!.pages[fault.vpage];
        if (m && (m.rights & needOf(fault)) !== 0) return `task ${t} waits on a fault at page ${fault.vpage}, which is mapped with the right it needs`;
        if (!fault.write && fault.value !== 0) return `task ${t} waits on a read fault that carries a word`;
      }
      return null;
    },
  },
  {
    name: "sigma0LedgerLive",
    description: "Every page in sigma0's ledger was handed to a live task other than sigma0 itself: the ledger forgets a task when it dies, so its pages can go to the next task that asks.",
    check(s) {
      if (s.sigma0.length !== s.config.vpages) return `sigma0's ledger has ${s.sigma0.length} pages, not ${s.config.vpages}`;
      for (let p = 0; p < s.sigma0.length; p++) {
        const owner = s.sigma0[p];
        if (owner === null || owner === undefined) continue;
        if (owner === ROOT_TASK || !s.tasks[owner]) return `sigma0's page ${p} is in the ledger as handed to task ${owner}, which is not a live task other than sigma0`;
      }
      return null;
    },
  },
  {
    name: "noticesExact",
    description:
      "Every notice a pager holds names a live task that the pager pages and a page of its address space, none twice, at most faultQueue of them, and the count of missed notices is a natural number: a notice reaches only the task's own pager, and physmem never waits for room.",
    check(s) {
      const limit = faultQueueOf(s.config);
      for (let p = 0; p < s.tasks.length; p++) {
        const pager = s.tasks[p];
        if (!pager) continue;
        if (!Number.isSafeInteger(pager.missed) || pager.missed < 0) return `task ${p} missed ${pager.missed} notices`;
        if (pager.notices.length > limit) return `task ${p} holds ${pager.notices.length} notices, more than ${limit}`;
        const seen = new Set<string>();
        for (const n of pager.notices) {
          if (s.tasks[n.task]?.pager !== p) return `task ${p} holds a notice about task ${n.task}, which it does not page`;
          if (!Number.isInteger(n.vpage) || n.vpage < 0 || n.vpage >= s.config.vpages) return `task ${p} holds a notice about page ${n.vpage}, outside the address space`;
          const k = `${n.task}:${n.vpage}`;
          if (seen.has(k)) return `task ${p} holds the notice about task ${n.task}'s page ${n.vpage} twice`;
          seen.add(k);
        }
      }
      return null;
    },
  },
];

/** The oldest fault waiting at the pager an answer (fault.resolve, fault.refuse, sigma0.serve) answers, in `before`. */
export function answered(before: State, op: Op): { task: number; fault: Fault; pager: number } | null {
  const pager = op.op === "fault.resolve" || op.op === "fault.refuse" ? op.task : op.op === "sigma0.serve" ? ROOT_TASK : null;
  if (pager === null || !before.tasks[pager]) return null;
  const t = before.tasks[pager]!.queue[0];
  const fault = t === undefined ? null : before.tasks[t]?.fault;
  return t === undefined || !fault ? null : { task: t, fault, pager };
}

export const PAGER_TRANSITIONS: readonly { name: string; description: string; check: (before: State, op: Op, after: State) => string | null }[] = [
  {
    name: "answersResolveOrRefuse",
    description:
      "A pager's answer that changes anything takes the oldest fault out of the queue, and leaves the faulting page either mapped with at least the right the access needed (resolved: the access completed) or as it was (refused); no other fault and no other task's page table is touched by the queue.",
    check(before, op, after) {
      const a = answered(before, op);
      if (!a || after === before) return null;
      const queueBefore = before.tasks[a.pager]!.queue;
      const queueAfter = after.tasks[a.pager]?.queue ?? [];
      if (queueAfter.length !== queueBefore.length - 1 || queueAfter.some((t, i) => t !== queueBefore[i + 1])) return `${op.op} did not take exactly the oldest fault out of task ${a.pager}'s queue`;
      if (after.tasks[a.task]?.fault) return `${op.op} left task ${a.task} waiting`;
      const was = before.tasks[a.task]!.pages[a.fault.vpage];
      const now = after.tasks[a.task]?.pages[a.fault.vpage];
      const resolved = !was && now;
      if (resolved && (now.rights & needOf(a.fault)) === 0) return `${op.op} resolved task ${a.task}'s fault at page ${a.fault.vpage} with a mapping without the right the access needs`;
      if (!resolved && (now?.frame !== was?.frame || now?.rights !== was?.rights)) return `${op.op} changed task ${a.task}'s page ${a.fault.vpage} without resolving its fault`;
      return null;
    },
  },
  {
    name: "sigma0FirstRequester",
    description:
      "sigma0 hands its page p only to the first task that asked for it (its ledger entry, which it then records) or to that task again, and it maps, never grants: its own mapping of p stays. A page once handed out goes to nobody else while its first requester lives.",
    check(before, op, after) {
      if (op.op !== "sigma0.serve") return null;
      const a = answered(before, op);
      if (!a) return null;
      const p = a.fault.vpage;
      const served = !before.tasks[a.task]!.pages[p] && after.tasks[a.task]?.pages[p];
      if (!served) return before.sigma0[p] !== after.sigma0[p] ? `sigma0 refused task ${a.task} and still changed its ledger for page ${p}` : null;
      const owner = before.sigma0[p];
      if (owner !== null && owner !== undefined && owner !== a.task) return `sigma0 handed page ${p} to task ${a.task}, but task ${owner} asked for it first`;
      if (after.sigma0[p] !== a.task) return `sigma0 handed page ${p} to task ${a.task} without recording it`;
      const mine = before.tasks[ROOT_TASK]!.pages[p];
      const still = after.tasks[ROOT_TASK]!.pages[p];
      // (a write may break a logical copy on the way: then both mappings follow the slot to its new frame)
      const m = after.tasks[a.task]!.pages[p]!;
      if (!mine || !still || still.frame !== m.frame) return `sigma0 handed page ${p} on without keeping its own mapping of it`;
      if (m.source.kind !== "map" || m.source.parent.task !== ROOT_TASK || m.source.parent.vpage !== p) return `sigma0's answer to task ${a.task} is not a mapping derived from sigma0's page ${p}`;
      return null;
    },
  },
  {
    name: "reclaimTakesOnlyClean",
    description:
      "Forced reclaim (physmem.reclaim) never takes a frame that a mapping has dirtied since its pager last saved it (read and cleared its dirty bit), and never a wired one; what it takes, it swaps out, so the content stays (nothingLost).",
    check(before, op, after) {
      if (op.op !== "physmem.reclaim" || after === before || !Number.isInteger(op.frame) || !before.frames[op.frame]) return null;
      if (before.frames[op.frame]!.wired > 0) return `physmem.reclaim took wired frame ${op.frame}`;
      for (const t of before.tasks) for (const m of t?.pages ?? []) if (m && m.frame === op.frame && (m.bits & BIT_DIRTY) !== 0) return `physmem.reclaim took frame ${op.frame}, which a mapping has dirtied and nobody saved`;
      return null;
    },
  },
  {
    name: "physmemNotifiesPagers",
    description:
      "When physmem takes a page of a task that has a pager (physmem.reclaim, physmem.relocate), the pager gets a notice about it, appended in order of task and page, or, if its record is full, counts it as missed; no other operation adds a notice or a missed one, and fault.notice takes exactly the oldest notice and resets the count.",
    check(before, op, after) {
      const physmem = op.op === "physmem.reclaim" || op.op === "physmem.relocate";
      for (let p = 0; p < before.tasks.length; p++) {
        const was = before.tasks[p];
        const now = after.tasks[p];
        if (!was || !now) continue;
        const key = (n: { task: number; vpage: number }) => `${n.task}:${n.vpage}`;
        const old = new Set(was.notices.map(key));
        const added = now.notices.filter((n) => !old.has(key(n)));
        const grew = now.missed - was.missed;
        if (op.op === "fault.notice" && op.task === p && after !== before) {
          if (now.missed !== 0 || now.notices.length !== Math.max(0, was.notices.length - 1) || now.notices.some((n, i) => key(n) !== key(was.notices[i + 1]!))) return `fault.notice by task ${p} did not take exactly its oldest notice and reset its count of missed ones`;
          continue;
        }
        if (!physmem || after === before) {
          if (added.length > 0 || grew > 0) return `${op.op} gave task ${p} a notice about task ${added[0]?.task ?? "?"}'s page ${added[0]?.vpage ?? "?"}${added.length === 0 ? " (counted as missed)" : ""}, but only physmem takes pages away`;
          continue;
        }
        const fresh: string[] = [];
        before.tasks.forEach((t, task) => {
          if (t?.pager !== p) return;
          t.pages.forEach((m, vpage) => {
            if (m && !after.tasks[task]?.pages[vpage] && !old.has(`${task}:${vpage}`)) fresh.push(`${task}:${vpage}`);
          });
        });
        const kept = now.notices.slice(was.notices.length).map(key);
        if (now.notices.slice(0, was.notices.length).some((n, i) => key(n) !== key(was.notices[i]!))) return `${op.op} changed the notices task ${p} held`;
        if (kept.some((k, i) => k !== fresh[i])) return `${op.op} gave task ${p} the notice ${kept.find((k, i) => k !== fresh[i])} out of order or about a page that was not taken (expected ${fresh.join(", ") || "none"})`;
        if (kept.length + grew !== fresh.length) return `physmem took ${fresh.length} pages of tasks paged by task ${p}, but it got ${kept.length} notices and missed ${grew}`;
        if (grew > 0 && now.notices.length < faultQueueOf(after.config)) return `task ${p} missed ${grew} notices with room in its record`;
      }
      return null;
    },
  },
];
