/**
 * The abstraction function: the spec state an impl state stands for.
 *
 * Internal indices never appear in the result. A capability is named by
 * the (task, slot) that holds it and a mapping by its (task, vpage), exactly
 * as in the spec, so two impls that placed their nodes differently map to the
 * same abstract state.
 */
import type { Account, Cap, CapRef, Container, DmaHandle, Frame, Mapping, MapRef, PendingRevoke, Slot, State, SwapPage, Task, Zombie } from "../spec/state.js";
import type { ObjectKind } from "../spec/vocabulary.js";
import { type Machine, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED } from "./machine.js";
import { ADESTROY, DESTROY, linkAt, nameOf, REVOKE, TDESTROY, ZOMBIE_KINDS } from "./preemption.js";

const KINDS: readonly ObjectKind[] = ["account", "task", "container", "dma"];
/** page.unmap modes by the impl's numbers (mappings.ts). */
const UNMAP_MODE_NAMES = ["derived", "all", "readonly"] as const;

export function toSpec(m: Machine): State {
  const { config } = m;
  const capRef = (n: number): CapRef => ({ task: m.caps.taskOf(n), slot: m.caps.slotOf(n) });

  const frames: Frame[] = [];
  for (let f = 0; f < config.frames; f++) {
    frames.push({ content: m.frames.content[f]!, refs: m.frames.refs[f]!, epoch: m.frames.epoch[f]!, wired: m.frames.wired[f]! });
  }

  const accounts: (Account | null)[] = [];
  for (let a = 0; a < config.accounts; a++) {
    if (m.accounts.free.has(a)) {
      accounts.push(null);
      continue;
    }
    const p = m.accounts.parent[a]!;
    accounts.push({
      parent: p === -1 ? null : p,
      yieldRequest: m.accounts.yieldRequest[a]!,
      requested: m.accounts.requested[a]!,
      frameQuota: m.accounts.frameQuota[a]!,
      framesCharged: m.accounts.framesCharged[a]!,
      objectQuota: m.accounts.objQuota[a]!,
      objectsCharged: m.accounts.objCharged[a]!,
    });
  }

  const tasks: (Task | null)[] = [];
  for (let t = 0; t < config.tasks; t++) {
    if (m.tasks.free.has(t)) {
      tasks.push(null);
      continue;
    }
    const caps: (Cap | null)[] = [];
    const ct = m.caps;
    for (let n = ct.at(t, 0); n < ct.at(t, config.capSlots); n++) {
      const p = ct.parent[n]!;
      caps.push(ct.isEmpty(n) ? null : { kind: KINDS[ct.kindOf(n)]!, object: ct.objOf(n), rights: ct.rightsOf(n), parent: p === -1 ? null : capRef(p) });
    }
    const pages: (Mapping | null)[] = [];
    for (let v = 0; v < config.vpages; v++) {
      const n = m.lookup(t, v);
      if (n === -1) {
        pages.push(null);
        continue;
      }
      const up = m.pages.up[n]!;
      const si = m.pages.what[n]!;
      pages.push({
        frame: m.frameAt(n),
        rights: m.pages.rights[n]!,
        source:
          up >= 0
            ? { kind: "map", parent: { task: m.pages.taskOf(up), vpage: m.pages.vpageOf(up) } }
            : {
                kind: "slot",
                container: Math.floor(si / config.containerSlots),
                index: si % config.containerSlots,
                cap: capRef(m.pages.capOfRoot(n)),
              },
        bits: m.pages.flags[n]!,
      });
    }
    const tt = m.tasks;
    const queue: number[] = [];
    for (let q = tt.qHead[t]!; q !== -1; q = tt.qNext[q]!) queue.push(q);
    const pager = tt.pager[t]!;
    const notices: { task: number; vpage: number }[] = [];
    for (let x = tt.noteHead[t]!; x !== -1; x = tt.noteNext[x]!) notices.push({ task: tt.noteTask[x]!, vpage: tt.notePage[x]! });
    tasks.push({
      account: tt.account[t]!,
      window: { slot: tt.winSlot[t]!, slots: tt.winSlots[t]!, page: tt.winPage[t]!, pages: tt.winPages[t]! },
      pager: pager === -1 ? null : pager,
      fault: tt.faultPage[t] === -1 ? null : { vpage: tt.faultPage[t]!, write: tt.faultWrite[t] === 1, value: tt.faultValue[t]! },
      queue,
      notices,
      missed: tt.missed[t]!,
      pending:
        tt.pendMode[t] === -1
          ? null
          : tt.pendMode[t] === ADESTROY
            ? {
                op: { op: "account.destroy", task: t, account: tt.pendVpage[t]! },
                object: tt.pendOrder[t]!,
                at: tt.zoneT[t] === -1 ? null : { kind: tt.zoneT[t] === 0 ? "container" : "task", id: tt.zoneV[t]! },
                ...walkPlace(m, t, tt.zoneT[t]!),
              }
          : tt.pendMode[t] === TDESTROY
            ? {
                op: { op: "task.destroy", task: t, target: tt.pendVpage[t]! },
                object: tt.pendOrder[t]!,
                ...walkPlace(m, t, 1),
              }
          : tt.pendMode[t] === DESTROY
            ? {
                op: { op: "container.destroy", task: t, container: tt.pendVpage[t]! },
                object: tt.pendOrder[t]!,
                slot: tt.pendPage[t]!,
                cursor: tt.curT[t] === -1 ? null : { task: tt.curT[t]!, vpage: tt.curV[t]! },
              }
          : tt.pendMode[t] === REVOKE
            ? revokeRecord(m, t)
            : {
              op: { op: "page.unmap", task: t, vpage: tt.pendVpage[t]!, order: tt.pendOrder[t]!, mode: UNMAP_MODE_NAMES[tt.pendMode[t]!]! },
              page: tt.pendPage[t]!,
              cursor: tt.curT[t] === -1 ? null : { task: tt.curT[t]!, vpage: tt.curV[t]! },
              last: tt.lastT[t] === -1 ? null : { task: tt.lastT[t]!, vpage: tt.lastV[t]! },
              zone: tt.zoneT[t] === -1 ? null : { task: tt.zoneT[t]!, vpage: tt.zoneV[t]! },
              bits: tt.pendBits[t]!,
            },
      caps,
      pages,
    });
  }

  const containers: (Container | null)[] = [];
  for (let c = 0; c < config.containers; c++) {
    if (m.containers.free.has(c)) {
      containers.push(null);
      continue;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < config.containerSlots; i++) {
      const si = c * config.containerSlots + i;
      const f = m.containers.frame[si]!;
      const kind = m.containers.kind[si]!;
      slots.push(
        kind === SLOT_HARD
          ? { kind: "hard", frame: f }
          : kind === SLOT_SOFT
            ? { kind: "soft", frame: f, epoch: m.containers.aux[si]! }
            : kind === SLOT_SWAPPED
              ? { kind: "swapped", page: m.containers.aux[si]! }
              : { kind: "empty" },
      );
    }
    containers.push({ account: m.containers.account[c]!, slots });
  }

  const handles: (DmaHandle | null)[] = [];
  for (let h = 0; h < config.handles; h++) {
    handles.push(m.handles.free.has(h) ? null : { account: m.handles.account[h]!, frame: m.handles.frame[h]! });
  }

  const swap: (SwapPage | null)[] = [];
  const sw = m.swap;
  for (let p = 0; p < sw.refs.length; p++) {
    swap.push(sw.free.has(p) ? null : { content: sw.content[p]!, frame: sw.frame[p]!, epoch: sw.epoch[p]!, refs: sw.refs[p]! });
  }

  const sigma0: (number | null)[] = [];
  for (let v = 0; v < config.vpages; v++) sigma0.push(m.sigma0[v] === -1 ? null : m.sigma0[v]!);

  return { config, frames, accounts, tasks, containers, handles, swap, sigma0 };
}

/**
 * Task t's preempted revoke as the spec records it: while it empties a
 * zombie (zoneT 0, 1 or 2), the walk stands at the zombie's only capability,
 * the head of its object list, and curT/curV are the zombie's walk's.
 */
function revokeRecord(m: Machine, t: number): PendingRevoke {
  const tt = m.tasks;
  const op = { op: "cap.revoke", task: t, slot: tt.pendVpage[t]! } as const;
  const cur = tt.curT[t] === -1 ? null : { task: tt.curT[t]!, vpage: tt.curV[t]! };
  if (tt.zoneT[t] === -1) return { op, cursor: cur === null ? null : cur.vpage < 0 ? { kind: "cap", task: cur.task, slot: -2 - cur.vpage } : { kind: "map", ...cur } };
  const id = tt.zoneV[t]!;
  const k = nameOf(m, tt.zoneT[t]!, id);
  const { zombie: inner, ...place } = walkPlace(m, t, tt.zoneT[t]!);
  return {
    op,
    cursor: { kind: "cap", task: m.caps.taskOf(k), slot: m.caps.slotOf(k) },
    zombie: { kind: ZOMBIE_KINDS[tt.zoneT[t]!]!, id, ...place, ...(inner && { inner }) },
  };
}

/**
 * Where task t's walk through an object (kind 0 a container, 1 a task, 2 an
 * account zombie, -1 none: between objects) stands, as the spec records it,
 * with the zombies inside it. Without zombies: pendPage and pendBits (a
 * container's: its slot in pendPage; an account zombie's: the container it
 * takes apart in pendBits, -1 between objects, or, with lastT 1, the task
 * it takes apart in lastV, its page and slot as a task's), curT/curV. With them, those
 * are the innermost's walk; the others' are past their pages, at the slot
 * below the only capability naming the zombie inside, which each holds
 * (found from the innermost out, to the outermost, zOutT/zOutV).
 */
function walkPlace(m: Machine, t: number, kind: number): { page: number; slot: number; cursor: MapRef | null; container?: number; task?: number; zombie?: Zombie } {
  const tt = m.tasks;
  const caps = m.caps;
  // (an account zombie's at a task, lastT 1: that task's page and slot, as a task's)
  const asTask = (k: number) => k === 1 || (k === 2 && tt.lastT[t] !== -1);
  const at = (k: number) => ({
    page: asTask(k) ? tt.pendPage[t]! : -1,
    slot: asTask(k) ? tt.pendBits[t]! : k === 0 || k === 2 ? tt.pendPage[t]! : -1,
    cursor: tt.curT[t] === -1 ? null : { task: tt.curT[t]!, vpage: tt.curV[t]! },
    ...(k === 2 && tt.lastT[t] === -1 && tt.pendBits[t]! >= 0 && { container: tt.pendBits[t]! }),
    ...(k === 2 && tt.lastT[t] !== -1 && { task: tt.lastV[t]! }),
  });
  if (tt.zInT[t] === -1) return at(kind);
  let z: Zombie = { kind: ZOMBIE_KINDS[tt.zInT[t]!]!, id: tt.zInV[t]!, ...at(tt.zInT[t]!) };
  // (a chain is as long as the tasks are many, at most)
  for (let hops = 0; hops <= m.config.tasks; hops++) {
    const zk = ZOMBIE_KINDS.indexOf(z.kind);
    const k = nameOf(m, zk, z.id);
    const h = k === -1 ? -1 : caps.taskOf(k);
    const below = { page: -1, slot: k === -1 ? -1 : caps.slotOf(k) - 1, cursor: null };
    // (around the outermost: the walk the chain is in; a revoke's account zombie's stands in h)
    if (zk === tt.zOutT[t] && z.id === tt.zOutV[t]) return { ...below, ...(kind === 2 && h !== -1 && { task: h }), zombie: z };
    if (k === -1) break;
    // (the next one out: an account, marked, whose walk stands in h, or h itself, a zombie task)
    const a = linkAt(m, t, h);
    z = a === -1 ? { kind: "task", id: h, ...below, inner: z } : { kind: "account", id: a, ...below, task: h, inner: z };
  }
  return { page: -1, slot: -1, cursor: null, zombie: z };
}
