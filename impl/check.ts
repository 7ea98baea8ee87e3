/**
 * Representation invariants of the impl: the concrete structures agree with
 * one another. The spec states a task's pages and the mapping database as
 * one thing; here mappings are leaf entries reached through directory pages,
 * and linked into trees and lists that must stay consistent with the pages,
 * so "pageTablesMatchDatabase" and "mappingListsExact" are checked here, on
 * the concrete state, after every step of the refinement tests, together
 * with the other links the abstraction function and the removals rely on.
 */
import { SLOT_HARD, SLOT_SOFT, type Machine } from "./machine.js";

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
      const { tasks } = m.config;
      const L = m.leafSize;
      // every directory entry of a live task points at a leaf page that says so and is not empty
      for (let t = 0; t < tasks; t++) {
        if (m.freeTasks.has(t)) continue;
        const dir = m.taskDir[t]!;
        for (let d = 0; d < m.dirEntries; d++) {
          const leaf = m.dirPool[dir * m.dirEntries + d]!;
          if (leaf < 0) continue;
          if (m.leafTask[leaf] !== t || m.leafDirIndex[leaf] !== d) return `directory of task ${t} entry ${d} points at leaf ${leaf}, which belongs to task ${m.leafTask[leaf]} entry ${m.leafDirIndex[leaf]}`;
          let count = 0;
          for (let i = 0; i < L; i++) if (m.mapUp[leaf * L + i] !== -1) count++;
          if (count === 0) return `task ${t} keeps an empty leaf page ${leaf}`;
          if (count !== m.leafCount[leaf]) return `leaf page ${leaf} counts ${m.leafCount[leaf]} entries, holds ${count}`;
        }
      }
      // every leaf page in use is reachable from its owner's directory; free ones are empty
      for (let p = 0; p < m.leafTop; p++) {
        const t = m.leafTask[p]!;
        if (t === -1) {
          for (let i = 0; i < L; i++) if (m.mapUp[p * L + i] !== -1) return `free leaf page ${p} holds a mapping`;
          continue;
        }
        if (m.freeTasks.has(t)) return `leaf page ${p} belongs to dead task ${t}`;
        if (m.dirPool[m.taskDir[t]! * m.dirEntries + m.leafDirIndex[p]!] !== p) return `leaf page ${p} is not in the directory of task ${t}`;
      }
      // every mapping is well formed; every empty entry is clean (a new mapping relies on it)
      for (let e = 0; e < m.leafTop * L; e++) {
        const up = m.mapUp[e]!;
        if (up === -1) {
          if (m.mapWhat[e] !== -1 || m.mapRights[e] !== 0 || m.mapFirstChild[e] !== -1 || m.mapNext[e] !== -1 || m.mapPrev[e] !== -1 || m.mapNextCap[e] !== -1 || m.mapPrevCap[e] !== -1)
            return `empty entry ${e} keeps old fields`;
          continue;
        }
        if (up >= 0) {
          if (m.mapUp[up] === -1) return `mapping ${e} derives from empty entry ${up}`;
          if (m.mapWhat[e] !== m.frameAt(up)) return `mapping ${e} maps frame ${m.mapWhat[e]}, its parent ${up} maps ${m.frameAt(up)}`;
        } else {
          const cap = m.capOfRoot(e);
          const si = m.mapWhat[e]!;
          if (m.capTask[cap] === -1) return `root mapping ${e} is authorized by free cap node ${cap}`;
          if (m.capObj[cap] !== Math.floor(si / m.config.containerSlots)) return `root mapping ${e} maps slot ${si}, outside the container of its cap`;
          if (m.slotKind[si] !== SLOT_HARD) return `root mapping ${e} maps slot ${si}, which is not hard`;
        }
      }
      return null;
    },
  },
  {
    name: "mappingListsExact",
    check(m) {
      const limit = m.leafTop * m.leafSize;
      let derived = 0;
      let roots = 0;
      let children = 0;
      for (let e = 0; e < limit; e++) {
        const up = m.mapUp[e]!;
        if (up === -1) continue;
        if (up >= 0) derived++;
        else roots++;
        const err = walkList(m.mapFirstChild[e]!, m.mapNext, m.mapPrev, limit, (c) => {
          children++;
          return m.mapUp[c] === e ? null : `mapping ${c} is in the child list of ${e} but derives from ${m.mapUp[c]}`;
        });
        if (err) return err;
      }
      if (children !== derived) return `${derived} derived mappings but ${children} on child lists`;
      let listed = 0;
      for (let si = 0; si < m.slotFirstMap.length; si++) {
        const err = walkList(m.slotFirstMap[si]!, m.mapNext, m.mapPrev, limit, (e) => {
          listed++;
          return m.isRootMapping(e) && m.mapWhat[e] === si ? null : `mapping ${e} is listed under slot ${si} but is not its root`;
        });
        if (err) return err;
      }
      if (listed !== roots) return `${roots} root mappings but ${listed} listed under slots`;
      let byCap = 0;
      for (let n = 0; n < m.capTop; n++) {
        const err = walkList(m.capFirstMap[n]!, m.mapNextCap, m.mapPrevCap, limit, (e) => {
          byCap++;
          return m.isRootMapping(e) && m.capOfRoot(e) === n ? null : `mapping ${e} is in the list of cap node ${n} but was not authorized by it`;
        });
        if (err) return err;
      }
      return byCap === roots ? null : `${roots} root mappings but ${byCap} listed under caps`;
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
      let freeLeaves = 0;
      for (let p = m.leafFree; p !== -1; p = m.leafNextFree[p]!) {
        if (m.leafTask[p] !== -1) return `leaf page ${p} is in use and on the free list`;
        if (++freeLeaves > m.leafTop) return "leaf free list does not end";
      }
      let liveLeaves = 0;
      for (let p = 0; p < m.leafTop; p++) if (m.leafTask[p] !== -1) liveLeaves++;
      if (freeLeaves + liveLeaves !== m.leafTop) return `leaf pages leak: ${liveLeaves} in use + ${freeLeaves} free != ${m.leafTop}`;
      let freeDirs = 0;
      for (let d = m.dirFree; d !== -1; d = m.dirPool[d * m.dirEntries]!) {
        if (++freeDirs > m.dirTop) return "directory free list does not end";
      }
      let liveTasks = 0;
      for (let t = 0; t < m.config.tasks; t++) if (!m.freeTasks.has(t)) liveTasks++;
      return freeDirs + liveTasks === m.dirTop ? null : `directory pages leak: ${liveTasks} tasks + ${freeDirs} free != ${m.dirTop}`;
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
