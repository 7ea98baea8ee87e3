/**
 * The checks every operation shares, in the spec's order (spec/checks.ts):
 * the subject, a capability in one of its slots, a free slot for a new
 * capability, and whether an account can pay. Each returns the thing or
 * -(status), or a status, without changing anything. Installing a new
 * capability, the one write they share, is here too.
 *
 * Container rescind is lazy (removal.ts, `destroyContainer`): a capability
 * to a destroyed container stays in its slot, *stale*, until the slot is
 * reused or its task dies. The checks treat a stale capability as absent,
 * and the quota checks count what stale capabilities still hold.
 */
import { inRange } from "../spec/vocabulary.js";
import { E, KIND_CONTAINER } from "./constants.js";
import type { Machine } from "./machine.js";
import { vanishCap } from "./removal.js";

/** Does the subject task exist? */
export function subjectOk(m: Machine, task: unknown): task is number {
  return inRange(task, m.config.tasks) && !m.tasks.free.has(task);
}

/** Cap node in the subject's slot, or -(status). Checks BadCapSlot, NoCap, WrongType, NoRights (kind -1: any kind). */
export function capIn(m: Machine, task: number, slot: unknown, kind: number, need: number): number {
  const caps = m.caps;
  if (!inRange(slot, caps.C)) return -E.BadCapSlot;
  const n = caps.cspace[task * caps.C + slot]!;
  if (n === -1) return -E.NoCap;
  const k = caps.kind[n]!;
  if (k === KIND_CONTAINER && caps.version[n] !== m.containers.version[caps.obj[n]!]) return -E.NoCap; // stale
  if (kind !== -1 && k !== kind) return -E.WrongType;
  if ((caps.rights[n]! & need) !== need) return -E.NoRights;
  return n;
}

/** 0 if (task, slot) can take a new cap, else a status (BadCapSlot, CapSlotOccupied). */
export function freeCapSlot(m: Machine, task: number, slot: unknown): number {
  const caps = m.caps;
  if (!inRange(slot, caps.C)) return E.BadCapSlot;
  const n = caps.cspace[task * caps.C + slot]!;
  return n !== -1 && !isStale(m, n) ? E.CapSlotOccupied : 0;
}

/**
 * Can account a take `need` more objects? Its charge may still include
 * capabilities made stale by a container rescind (they are charged until
 * their slot is reused or their task dies, but the spec has already
 * refunded them), so when the quick answer is no, count those (a scan of
 * the capability nodes, only on this rare path) before saying no.
 */
export function hasObjects(m: Machine, a: number, need: number): boolean {
  const unused = m.accounts.objQuota[a]! - m.accounts.objCharged[a]!;
  return unused >= need || unused + staleHeld(m)[a]! >= need;
}

/** For each account, the stale capability nodes held by the tasks it pays for (a scan). */
export function staleHeld(m: Machine): Int32Array {
  const counts = new Int32Array(m.config.accounts);
  const caps = m.caps;
  for (let c = 0; c < caps.top; c++) if (caps.task[c] !== -1 && isStale(m, c)) counts[m.tasks.account[caps.task[c]!]!]! += 1;
  return counts;
}

/** A container capability whose container was destroyed (or its id reused) since it was made. */
export function isStale(m: Machine, n: number): boolean {
  const caps = m.caps;
  return caps.kind[n] === KIND_CONTAINER && caps.version[n] !== m.containers.version[caps.obj[n]!];
}

/** As spec/checks.ts canPayObjectAndCap: 0, or ObjectQuotaExceeded. */
export function canPayObjectAndCap(m: Machine, payer: number, objects: number, subjectAccount: number): number {
  const needPayer = objects + (payer === subjectAccount ? 1 : 0);
  if (!hasObjects(m, payer, needPayer)) return E.ObjectQuotaExceeded;
  if (payer !== subjectAccount && !hasObjects(m, subjectAccount, 1)) return E.ObjectQuotaExceeded;
  return 0;
}

/** A new cap node in (task, slot), linked under `parent` (or a root), charged to nobody. */
export function newCap(m: Machine, task: number, slot: number, kind: number, obj: number, rights: number, parent: number): number {
  const caps = m.caps;
  const stale = caps.cspace[task * caps.C + slot]!;
  if (stale !== -1) vanishCap(m, stale); // only a stale cap can be left in a free slot
  const n = caps.alloc();
  caps.version[n] = kind === KIND_CONTAINER ? m.containers.version[obj]! : 0;
  caps.kind[n] = kind;
  caps.obj[n] = obj;
  caps.rights[n] = rights;
  caps.task[n] = task;
  caps.slot[n] = slot;
  caps.firstChild[n] = -1;
  caps.firstMap[n] = -1;
  caps.linkChild(n, parent);
  caps.linkObject(n);
  caps.cspace[task * caps.C + slot] = n;
  return n;
}

/** Installs a cap in (task, slot) and charges the task's account for it (spec: `install`). */
export function installCap(m: Machine, task: number, slot: number, kind: number, obj: number, rights: number, parent: number): void {
  newCap(m, task, slot, kind, obj, rights, parent);
  m.accounts.objCharged[m.tasks.account[task]!]! += 1;
}
