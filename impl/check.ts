/**
 * Representation invariants of the impl: the concrete structures agree with
 * one another. The spec states the page tables and the mapping database as
 * one thing; here they are two (radix pages and mapping nodes), so
 * "pageTablesMatchDatabase" is checked here, on the concrete state, after
 * every step of the refinement tests, together with the other links the
 * abstraction function relies on.
 */
import { PT_SIZE, SLOT_SOFT, type Machine } from "./machine.js";

export interface ReprInvariant {
  readonly name: string;
  readonly check: (m: Machine) => string | null;
}

function walkList(head: number, next: Int32Array, prev: Int32Array, limit: number, visit: (n: number) => string | null): string | null {
  let p = -1;
  let steps = 0;
  for (let n = head; n !== -1; n = next[n]!) {
    if (++steps > limit) return "list does not end";
    if (prev[n] !== p) return `node ${n} has a wrong back link`;
    const e = visit(n);
    if (e) return e;
    p = n;
  }
  return null;
}

export const REPR_INVARIANTS: readonly ReprInvariant[] = [
  {
    name: "pageTablesMatchDatabase",
    check(m) {
      const { tasks, vpages } = m.config;
      let live = 0;
      for (let n = 0; n < m.mapTop; n++) {
        if (m.mapTask[n]! === -1) continue;
        live++;
        if (m.freeTasks.has(m.mapTask[n]!)) return `mapping node ${n} belongs to a dead task`;
        if (m.lookup(m.mapTask[n]!, m.mapVpage[n]!) !== n) return `mapping node ${n} is not in its page table entry`;
      }
      let entries = 0;
      for (let t = 0; t < tasks; t++) {
        if (m.freeTasks.has(t)) continue;
        const dir = m.taskDir[t]!;
        for (let d = 0; d * PT_SIZE < vpages; d++) {
          const leaf = m.pool[dir * PT_SIZE + d]!;
          if (leaf < 0) continue;
          let count = 0;
          for (let i = 0; i < PT_SIZE; i++) {
            const n = m.pool[leaf * PT_SIZE + i]!;
            if (n === -1) continue;
            count++;
            if (m.mapTask[n] !== t || m.mapVpage[n] !== d * PT_SIZE + i) return `page table of task ${t} points at a node for another place`;
          }
          if (count === 0) return `task ${t} keeps an empty leaf page`;
          if (count !== m.poolCount[leaf]) return `leaf page ${leaf} counts ${m.poolCount[leaf]} entries, holds ${count}`;
          entries += count;
        }
      }
      return entries === live ? null : `${live} live mapping nodes but ${entries} page-table entries`;
    },
  },
  {
    name: "freeFrameBitmapExact",
    check(m) {
      const soft = new Int32Array(m.config.frames);
      for (let si = 0; si < m.slotKind.length; si++) {
        if (m.slotKind[si] === SLOT_SOFT && m.slotAux[si] === m.epoch[m.conSlots[si]!]) soft[m.conSlots[si]!]! += 1;
      }
      for (let f = 0; f < m.config.frames; f++) {
        if (m.softLive[f] !== soft[f]) return `frame ${f}: softLive ${m.softLive[f]} but ${soft[f]} valid soft slots`;
        const unused = m.refs[f] === 0 && m.wired[f] === 0;
        if (m.freeFrames.has(f) !== (unused && soft[f] === 0)) return `frame ${f}: free bit ${m.freeFrames.has(f)}, refs ${m.refs[f]}, soft ${soft[f]}`;
        if (m.softOnly.has(f) !== (unused && soft[f]! > 0)) return `frame ${f}: soft-only bit ${m.softOnly.has(f)}, refs ${m.refs[f]}, soft ${soft[f]}`;
      }
      let lowest = -1;
      for (let f = 0; f < m.config.frames && lowest < 0; f++) if (m.freeFrames.has(f)) lowest = f;
      return m.freeFrames.lowest() === lowest ? null : "bitmap summary disagrees with its words";
    },
  },
  {
    name: "cspaceMatchesNodes",
    check(m) {
      const C = m.config.capSlots;
      let live = 0;
      for (let n = 0; n < m.capTop; n++) {
        if (m.capTask[n]! === -1) continue;
        live++;
        if (m.cspace[m.capTask[n]! * C + m.capSlot[n]!] !== n) return `cap node ${n} is not in its slot`;
      }
      let slots = 0;
      for (let i = 0; i < m.cspace.length; i++) if (m.cspace[i] !== -1) slots++;
      return slots === live ? null : `${live} live cap nodes but ${slots} occupied slots`;
    },
  },
  {
    name: "capLinksConsistent",
    check(m) {
      for (let n = 0; n < m.capTop; n++) {
        if (m.capTask[n]! === -1) continue;
        const e = walkList(m.capFirstChild[n]!, m.capNextSib, m.capPrevSib, m.capTop, (c) =>
          m.capParent[c] === n ? null : `cap node ${c} is in the child list of ${n} but has parent ${m.capParent[c]}`,
        );
        if (e) return e;
        const p = m.capParent[n]!;
        if (p !== -1) {
          let found = false;
          for (let c = m.capFirstChild[p]!; c !== -1 && !found; c = m.capNextSib[c]!) found = c === n;
          if (!found) return `cap node ${n} is missing from its parent's child list`;
        }
        const e2 = walkList(m.capFirstMap[n]!, m.mapNextCap, m.mapPrevCap, m.mapTop, (x) =>
          m.mapCap[x] === n ? null : `mapping node ${x} is in the list of cap node ${n} but names ${m.mapCap[x]}`,
        );
        if (e2) return e2;
      }
      return null;
    },
  },
  {
    name: "objectCapListsExact",
    check(m) {
      let listed = 0;
      for (let oi = 0; oi < m.objFirstCap.length; oi++) {
        const e = walkList(m.objFirstCap[oi]!, m.capObjNext, m.capObjPrev, m.capTop, (n) => {
          listed++;
          if (m.isStale(n)) return `stale cap node ${n} is still listed under its object`;
          return m.objIndex(m.capKind[n]!, m.capObj[n]!) === oi ? null : `cap node ${n} is listed under the wrong object`;
        });
        if (e) return e;
      }
      let live = 0;
      for (let n = 0; n < m.capTop; n++) if (m.capTask[n]! !== -1 && !m.isStale(n)) live++;
      return listed === live ? null : `${live} live (not stale) cap nodes but ${listed} listed under objects`;
    },
  },
  {
    name: "slotMappingListsExact",
    check(m) {
      let listed = 0;
      for (let si = 0; si < m.slotFirstMap.length; si++) {
        const e = walkList(m.slotFirstMap[si]!, m.mapNextSlot, m.mapPrevSlot, m.mapTop, (n) => {
          listed++;
          if (m.mapSlot[n] !== si) return `mapping node ${n} is listed under the wrong slot`;
          return m.mapFrame[n] === m.conSlots[si] ? null : `mapping node ${n} maps another frame than its slot`;
        });
        if (e) return e;
      }
      let roots = 0;
      for (let n = 0; n < m.mapTop; n++) if (m.mapTask[n]! !== -1 && m.mapCap[n]! !== -1) roots++;
      return listed === roots ? null : `${roots} root mappings but ${listed} listed under slots`;
    },
  },
  {
    name: "freeListsExact",
    check(m) {
      let freeCaps = 0;
      for (let n = m.capFree; n !== -1; n = m.capNextSib[n]!) {
        if (m.capTask[n] !== -1) return `live cap node ${n} is on the free list`;
        if (++freeCaps > m.capTop) return "cap free list does not end";
      }
      let liveCaps = 0;
      for (let n = 0; n < m.capTop; n++) if (m.capTask[n] !== -1) liveCaps++;
      if (freeCaps + liveCaps !== m.capTop) return `cap nodes leak: ${liveCaps} live + ${freeCaps} free != ${m.capTop}`;
      let freeMaps = 0;
      for (let n = m.mapFree; n !== -1; n = m.mapNextSib[n]!) {
        if (m.mapTask[n] !== -1) return `live mapping node ${n} is on the free list`;
        if (++freeMaps > m.mapTop) return "mapping free list does not end";
      }
      let liveMaps = 0;
      for (let n = 0; n < m.mapTop; n++) if (m.mapTask[n] !== -1) liveMaps++;
      return freeMaps + liveMaps === m.mapTop ? null : `mapping nodes leak: ${liveMaps} live + ${freeMaps} free != ${m.mapTop}`;
    },
  },
];

/** Every broken representation invariant, by name. */
export function checkRepresentation(m: Machine): { invariant: string; message: string }[] {
  const out: { invariant: string; message: string }[] = [];
  for (const inv of REPR_INVARIANTS) {
    const message = inv.check(m);
    if (message !== null) out.push({ invariant: inv.name, message });
  }
  return out;
}
