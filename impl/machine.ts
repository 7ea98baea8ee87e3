/**
 * The implementation: the same kernel as spec/, done in place on typed arrays.
 *
 * A `Machine` is a composition of tables, each in its own file under
 * tables/ and each struct-of-arrays (an object, node or page is an index):
 * - `frames` (tables/frames.ts): content, reference and wire counts, epoch,
 *   referenced/dirty flags, and bitmaps for the lowest free frame;
 * - `accounts` (tables/accounts.ts): quotas, charges and the account tree;
 * - `tasks`, `containers`, `handles`, `swap` (tables/objects.ts): who pays,
 *   container slots, DMA handles, swap pages;
 * - `caps` (tables/caps.ts): capability spaces, each capability in its slot, the
 *   derivation tree and the per-object lists used by rescind;
 * - `pages` (tables/pagetables.ts): the page tables, whose leaf entries are
 *   the mapping database's nodes (linked by mapdb.ts).
 *
 * The operations are functions over a Machine in files that mirror the
 * spec's families (accounts.ts, tasks.ts, containers.ts, capabilities.ts,
 * mappings.ts, memory.ts, pagers.ts, dma.ts, physmem.ts), with the shared checks in
 * checks.ts and every removal in removal.ts, so that spec/X.ts and impl/X.ts
 * read side by side. Each checks its preconditions in exactly the order the
 * spec documents, and all of them before it changes anything: an error
 * leaves every array as it was.
 *
 * Every traversal of a tree uses an explicit stack (a reusable Int32Array),
 * never recursion. `exec` allocates no JS objects: it returns a status (0 for
 * ok, else 1 + the index of the error code in ERROR_CODES) and leaves the
 * result value in `value`. `apply` wraps it into a `Result` for tests.
 *
 * To check an implementation of your own, subclass Machine and override
 * `exec` (or replace the tables' methods): every operation goes through it.
 */
import type { Config, Op, Result } from "../spec/vocabulary.js";
import { ALL_RIGHTS, Config as ConfigSchema, ERROR_CODES, inRange, rightsMask } from "../spec/vocabulary.js";
import { swapCapacity } from "../spec/state.js";
import { E, KIND_ACCOUNT, KIND_TASK, OK, SEND_GRANT, SEND_MAP, SEND_SHARE, Stack } from "./constants.js";
import { AccountTable } from "./tables/accounts.js";
import { CapTable } from "./tables/caps.js";
import { FrameTable } from "./tables/frames.js";
import { ContainerTable, HandleTable, SwapTable, TaskTable } from "./tables/objects.js";
import { PageTables } from "./tables/pagetables.js";
import { newCap } from "./checks.js";
import { frameAt } from "./mapdb.js";
import { accountAnswer, accountCreate, accountDestroy, accountRequest, accountTransfer, accountYield, accountYieldRequest } from "./accounts.js";
import { newTask, taskCreate, taskDestroy, taskWindow } from "./tasks.js";
import { containerAlloc, containerCopy, containerCreate, containerDemote, containerDestroy, containerFree, containerPromote, containerSwapIn, containerSwapOut } from "./containers.js";
import { capCopy, capDelete, capDerive, capRevoke } from "./capabilities.js";
import { l4Send, pageBits, pageMap, pageUnmap } from "./mappings.js";
import { memRead, memWrite } from "./memory.js";
import { dmaUnwire, dmaWire, dmaWrite } from "./dma.js";
import { physmemReclaim, physmemRelocate } from "./physmem.js";
import { faultNotice, faultRefuse, faultResolve, sigma0Serve, taskPager } from "./pagers.js";
import { continuesPending, settlePending, taskDying } from "./preemption.js";

export { E, OK, KIND_ACCOUNT, KIND_CONTAINER, KIND_DMA, KIND_TASK, PT_BITS, PT_SIZE, SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED } from "./constants.js";

export class Machine {
  readonly config: Config;
  readonly frames: FrameTable;
  readonly accounts: AccountTable;
  readonly tasks: TaskTable;
  readonly containers: ContainerTable;
  readonly handles: HandleTable;
  readonly swap: SwapTable;
  readonly caps: CapTable;
  readonly pages: PageTables;
  /** scratch stacks: one for capability and account walks, one for mapping walks (which run inside the former) */
  readonly stack = new Stack();
  readonly mapStack = new Stack();
  /** objects whose last capability went during a removal (objFirst indices), for `reap`; empty between operations */
  readonly pending = new Stack();
  pendingTop = 0;

  /** The value of the last successful operation (id, frame, word), or null. */
  value: number | null = null;
  /** Set by the last operation if it was an access that faulted to the task's pager (its result has `fault: true`). */
  // Stryker disable next-line BooleanLiteral: exec clears it before every operation
  faulted = false;
  /** Set by the last operation if it was a removal that stopped at a preemption point (its result has `preempted: true`). */
  preempted = false;
  /** The work budget per entry (config.budget; Infinity without one), and how many tasks have a preempted removal (preemption.ts). */
  readonly budget: number;
  pendingCount = 0;
  /** The tasks with a preempted removal, the first pendingCount entries, in order of id: the per-operation checks and settlePending visit these, not the task table. */
  readonly pendingTasks: Int32Array;
  /** True while a removal's walk runs its steps (preemption.ts): what a step re-attaches does not pass over capabilities other removals will make vanish (removal.ts vanishCap). */
  inWalk = false;
  /** Set by fault.notice when it read a notice: its task and page (noticeTask -1: none; the result's `notice`). */
  // Stryker disable next-line UnaryOperator: exec clears it before every operation
  noticeTask = -1;
  noticePage = 0;
  /** scratch for physmem: the pages (task * vpages + page) it is about to take from tasks with a pager (pagers.ts gatherLost) */
  lost = new Float64Array(64);
  /** sigma0's ledger: per page of the root task, the task it was first handed to, or -1 (pagers.ts). */
  readonly sigma0: Int32Array;

  constructor(config: Config) {
    this.config = ConfigSchema.parse(config);
    this.budget = this.config.budget ?? Infinity;
    const { frames, accounts, tasks, containers, capSlots, vpages, containerSlots, handles } = this.config;
    this.pendingTasks = new Int32Array(tasks);
    this.pages = new PageTables(tasks, vpages, containers * containerSlots);
    this.frames = new FrameTable(frames);
    this.accounts = new AccountTable(accounts);
    this.tasks = new TaskTable(tasks, accounts);
    this.containers = new ContainerTable(containers, containerSlots, accounts);
    this.handles = new HandleTable(handles, accounts);
    this.swap = new SwapTable(swapCapacity(this.config), frames);
    this.caps = new CapTable(tasks, capSlots, accounts, containers, handles);
    this.sigma0 = new Int32Array(vpages).fill(-1);

    // Boot (sigma0): root account 0 with everything, root task 0 paid by it,
    // holding all-rights caps to the account (slot 0) and to itself (slot 1).
    this.accounts.free.delete(0);
    this.accounts.frameQuota[0] = frames;
    this.accounts.objQuota[0] = this.config.objects;
    newTask(this, 0, 0);
    newCap(this, 0, 0, KIND_ACCOUNT, 0, ALL_RIGHTS, -1);
    newCap(this, 0, 1, KIND_TASK, 0, ALL_RIGHTS, -1);
    this.accounts.objCharged[0] = 3;
  }

  /** The mapping node (page-table entry) at (task, vpage), or -1. */
  lookup(task: number, vpage: number): number {
    return this.pages.lookup(task, vpage);
  }

  /** The frame mapping e maps (a root maps whatever its slot holds). */
  frameAt(e: number): number {
    return frameAt(this, e);
  }

  /** Applies one operation; returns a `Result` (allocates: for tests and tools). */
  apply(op: Op): Result {
    const status = this.exec(op);
    if (status !== OK) return { ok: false, error: ERROR_CODES[status - 1]! };
    if (this.faulted) return { ok: true, value: null, fault: true };
    if (this.preempted) return { ok: true, value: null, preempted: true };
    if (this.noticeTask !== -1) return { ok: true, value: this.value, notice: { task: this.noticeTask, vpage: this.noticePage } };
    return { ok: true, value: this.value };
  }

  /** Applies one operation; returns 0 or an error status. Allocates nothing. */
  exec(op: Op): number {
    this.value = null;
    this.faulted = false;
    this.preempted = false;
    this.noticeTask = -1;
    if (op === null || typeof op !== "object") return E.BadValue;
    if (this.pendingCount === 0) return this.run(op);
    // A task with a preempted removal may only invoke it again; another operation may take the mapping a walk stands at.
    const t: unknown = (op as { task?: unknown }).task;
    const own = typeof t === "number" && inRange(t, this.config.tasks) && this.tasks.pendMode[t] !== -1 ? t : -1;
    if (own !== -1 && !continuesPending(this, own, op)) return E.Blocked;
    // a task being taken apart by another task's preempted task.destroy or account.destroy does nothing
    if (own === -1 && typeof t === "number" && inRange(t, this.config.tasks) && !this.tasks.free.has(t) && taskDying(this, t)) return E.Blocked;
    const status = this.run(op);
    // (a walk that just ran stands where it should: only the others are looked at)
    if (status === OK && this.pendingCount > 0) settlePending(this, own);
    return status;
  }

  /** The operation itself (exec without the checks of preempted removals). */
  private run(op: Op): number {
    switch (op.op) {
      case "account.create":
        return accountCreate(this, op.task, op.account, op.dest, op.frames, op.objects);
      case "account.transfer":
        return accountTransfer(this, op.task, op.from, op.to, op.frames, op.objects);
      case "account.destroy":
        return accountDestroy(this, op.task, op.account);
      case "account.request":
        return accountRequest(this, op.task, op.account, op.frames);
      case "account.answer":
        return accountAnswer(this, op.task, op.account, op.frames);
      case "account.yieldRequest":
        return accountYieldRequest(this, op.task, op.account, op.frames);
      case "account.yield":
        return accountYield(this, op.task, op.account);
      case "task.create":
        return taskCreate(this, op.task, op.account, op.dest);
      case "task.destroy":
        return taskDestroy(this, op.task, op.target);
      case "task.window":
        return taskWindow(this, op.task, op.slot, op.slots, op.page, op.pages);
      case "container.create":
        return containerCreate(this, op.task, op.account, op.dest);
      case "container.destroy":
        return containerDestroy(this, op.task, op.container);
      case "container.alloc":
        return containerAlloc(this, op.task, op.container, op.index);
      case "container.free":
        return containerFree(this, op.task, op.container, op.index);
      case "container.copy":
        return containerCopy(this, op.task, op.src, op.srcIndex, op.dst, op.dstIndex);
      case "container.demote":
        return containerDemote(this, op.task, op.container, op.index);
      case "container.promote":
        return containerPromote(this, op.task, op.container, op.index);
      case "container.swapOut":
        return containerSwapOut(this, op.task, op.container, op.index);
      case "container.swapIn":
        return containerSwapIn(this, op.task, op.container, op.index);
      case "cap.derive":
        return capDerive(this, op.task, op.src, op.dest, rightsMask(op.rights));
      case "cap.copy":
        return capCopy(this, op.task, op.src, op.target, op.dest);
      case "cap.delete":
        return capDelete(this, op.task, op.slot);
      case "cap.revoke":
        return capRevoke(this, op.task, op.slot);
      case "page.map":
        return pageMap(this, op.task, op.container, op.index, op.vpage, rightsMask(op.rights));
      case "page.unmap":
        return pageUnmap(this, op.task, op.vpage, op.order, op.mode === "derived" ? 0 : op.mode === "all" ? 1 : op.mode === "readonly" ? 2 : -1);
      case "page.bits":
        return pageBits(this, op.task, op.vpage);
      case "l4.map":
        return l4Send(this, op.task, op.vpage, op.target, op.dest, rightsMask(op.rights), SEND_MAP);
      case "l4.grant":
        return l4Send(this, op.task, op.vpage, op.target, op.dest, 0, SEND_GRANT);
      case "l4.share":
        return l4Send(this, op.task, op.vpage, op.target, op.dest, rightsMask(op.rights), SEND_SHARE);
      case "mem.read":
        return memRead(this, op.task, op.vpage);
      case "mem.write":
        return memWrite(this, op.task, op.vpage, op.value);
      case "dma.wire":
        return dmaWire(this, op.task, op.container, op.index, op.dest);
      case "dma.unwire":
        return dmaUnwire(this, op.task, op.handle);
      case "dma.write":
        return dmaWrite(this, op.task, op.handle, op.value);
      case "task.pager":
        return taskPager(this, op.task, op.target, op.pager);
      case "fault.resolve":
        return faultResolve(this, op.task, op.vpage, rightsMask(op.rights));
      case "fault.refuse":
        return faultRefuse(this, op.task);
      case "fault.notice":
        return faultNotice(this, op.task);
      case "sigma0.serve":
        return sigma0Serve(this);
      case "physmem.relocate":
        return physmemRelocate(this, op.frame);
      case "physmem.reclaim":
        return physmemReclaim(this, op.frame);
      default:
        return E.BadValue;
    }
  }
}
