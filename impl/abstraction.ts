/**
 * The abstraction function: the spec state an impl state stands for.
 *
 * Internal node indices never appear in the result. A capability is named by
 * the (task, slot) that holds it and a mapping by its (task, vpage), exactly
 * as in the spec, so two impls that placed their nodes differently map to the
 * same abstract state.
 */
import type { Account, Cap, CapRef, Container, DmaHandle, Frame, Mapping, Slot, State, Task } from "../spec/state.js";
import type { ObjectKind } from "../spec/vocabulary.js";
import { type Machine, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED } from "./machine.js";

const KINDS: readonly ObjectKind[] = ["account", "task", "container", "dma"];

export function toSpec(m: Machine): State {
  const { config } = m;
  const capRef = (n: number): CapRef => ({ task: m.capTask[n]!, slot: m.capSlot[n]! });

  const frames: Frame[] = [];
  for (let f = 0; f < config.frames; f++) {
    const flags = m.flags[f]!;
    frames.push({ content: m.content[f]!, refs: m.refs[f]!, epoch: m.epoch[f]!, referenced: (flags & 1) !== 0, dirty: (flags & 2) !== 0, wired: m.wired[f]! });
  }

  // Stale capabilities (of rescinded containers) are still charged in the
  // impl until they are swept; the spec refunded them at the rescind.
  const stale = m.staleHeld();

  const accounts: (Account | null)[] = [];
  for (let a = 0; a < config.accounts; a++) {
    if (m.freeAccounts.has(a)) {
      accounts.push(null);
      continue;
    }
    const p = m.accParent[a]!;
    accounts.push({
      parent: p === -1 ? null : p,
      yieldRequest: m.accYieldRequest[a]!,
      frameQuota: m.accFrameQuota[a]!,
      framesCharged: m.accFramesCharged[a]!,
      objectQuota: m.accObjQuota[a]!,
      objectsCharged: m.accObjCharged[a]! - stale[a]!,
    });
  }

  const tasks: (Task | null)[] = [];
  for (let t = 0; t < config.tasks; t++) {
    if (m.freeTasks.has(t)) {
      tasks.push(null);
      continue;
    }
    const caps: (Cap | null)[] = [];
    for (let s = 0; s < config.capSlots; s++) {
      const n = m.cspace[t * config.capSlots + s]!;
      if (n === -1 || m.isStale(n)) {
        caps.push(null);
        continue;
      }
      const p = m.capParent[n]!;
      caps.push({ kind: KINDS[m.capKind[n]!]!, object: m.capObj[n]!, rights: m.capRights[n]!, parent: p === -1 ? null : capRef(p) });
    }
    const pages: (Mapping | null)[] = [];
    for (let v = 0; v < config.vpages; v++) {
      const n = m.lookup(t, v);
      if (n === -1) {
        pages.push(null);
        continue;
      }
      const up = m.mapUp[n]!;
      const si = m.mapWhat[n]!;
      pages.push({
        frame: m.frameAt(n),
        rights: m.mapRights[n]!,
        source:
          up >= 0
            ? { kind: "map", parent: { task: m.taskOf(up), vpage: m.vpageOf(up) } }
            : {
                kind: "slot",
                container: Math.floor(si / config.containerSlots),
                index: si % config.containerSlots,
                cap: capRef(m.capOfRoot(n)),
              },
      });
    }
    tasks.push({ account: m.taskAccount[t]!, caps, pages });
  }

  const containers: (Container | null)[] = [];
  for (let c = 0; c < config.containers; c++) {
    if (m.freeContainers.has(c)) {
      containers.push(null);
      continue;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < config.containerSlots; i++) {
      const si = c * config.containerSlots + i;
      const f = m.conSlots[si]!;
      const kind = m.slotKind[si]!;
      slots.push(
        kind === SLOT_HARD
          ? { kind: "hard", frame: f }
          : kind === SLOT_SOFT
            ? { kind: "soft", frame: f, epoch: m.slotAux[si]! }
            : kind === SLOT_SWAPPED
              ? { kind: "swapped", content: m.slotAux[si]! }
              : { kind: "empty" },
      );
    }
    containers.push({ account: m.conAccount[c]!, slots });
  }

  const handles: (DmaHandle | null)[] = [];
  for (let h = 0; h < config.handles; h++) {
    handles.push(m.freeHandles.has(h) ? null : { account: m.handleAccount[h]!, frame: m.handleFrame[h]! });
  }

  return { config, frames, accounts, tasks, containers, handles };
}
