/**
 * The representation checks have teeth: each corruption below breaks one
 * thing a check looks at, in a machine whose state has some of everything
 * (derived capabilities and mappings, a soft slot, a sub-account, a freed
 * leaf page), and the check that should notice must name it. A check that
 * stayed silent on its own corruption would let the lockstep pass an impl
 * broken in that way. Runs under vitest (npm test) and under mocha (npm run
 * mutation): see refinement-tests/harness/testapi.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "../refinement-tests/harness/testapi.js";
import type { Op } from "../spec/vocabulary.js";
import { checkRepresentation } from "./check.js";
import { Machine } from "./machine.js";

const CONFIG = { frames: 8, objects: 60, accounts: 3, tasks: 3, containers: 2, capSlots: 8, vpages: 8, containerSlots: 4, handles: 1 };

/** Task 0: a container (slot 2) with frames in slots 0-2 (slot 2 demoted to soft), mapped at 0 and 1; task 1 (slot 3) with a derived mapping, a copied cap and a root mapping; a derived cap (slot 4); a sub-account (slot 5); task 2 made and destroyed, so a leaf page and a directory page are free. */
function machine(): Machine {
  const m = new Machine(CONFIG);
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "container.alloc", task: 0, container: 2, index: 1 },
    { op: "container.alloc", task: 0, container: 2, index: 2 },
    { op: "container.demote", task: 0, container: 2, index: 2 },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] },
    { op: "page.map", task: 0, container: 2, index: 1, vpage: 1, rights: ["read"] },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.window", task: 1, slot: 0, slots: 8, page: 0, pages: 8 },
    { op: "l4.map", task: 0, vpage: 0, target: 3, dest: 5, rights: ["read"] },
    { op: "cap.copy", task: 0, src: 2, target: 3, dest: 2 },
    { op: "page.map", task: 1, container: 2, index: 1, vpage: 2, rights: ["read"] },
    { op: "cap.derive", task: 0, src: 2, dest: 4, rights: ["read"] },
    { op: "account.create", task: 0, account: 0, dest: 5, frames: 1, objects: 6 },
    { op: "task.create", task: 0, account: 0, dest: 6 },
    { op: "task.window", task: 2, slot: 0, slots: 8, page: 0, pages: 8 },
    { op: "l4.map", task: 0, vpage: 1, target: 6, dest: 0, rights: ["read"] },
    { op: "task.destroy", task: 0, target: 6 },
  ];
  for (const op of ops) {
    const r = m.apply(op);
    assert.ok(r.ok, `${JSON.stringify(op)}: ${JSON.stringify(r)}`);
  }
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

/** The leaf page of (task, vpage); its entry; an empty entry in the same leaf page; an empty capability slot. */
const leafOf = (m: Machine, t: number, v: number) => m.pages.dirPool[m.pages.dirOf[t]! * m.pages.dirEntries + (v >>> m.pages.leafBits)]!;
const entry = (m: Machine, t: number, v: number) => m.lookup(t, v);
const emptyNextTo = (m: Machine, e: number) => {
  const L = m.pages.leafSize;
  const base = e - (e % L);
  for (let i = base; i < base + L; i++) if (m.pages.up[i] === -1) return i;
  throw new Error("no empty entry");
};
const emptyCapSlot = (m: Machine) => m.caps.at(0, 7);

const CORRUPTIONS: [string, string, (m: Machine) => void][] = [
  // pageTablesMatchDatabase
  ["pageTablesMatchDatabase", "a leaf page names another owner", (m) => void (m.pages.leafTask[leafOf(m, 0, 0)] = 1)],
  ["pageTablesMatchDatabase", "a leaf page names another place", (m) => void (m.pages.leafDirIndex[leafOf(m, 0, 0)] = 5)],
  ["pageTablesMatchDatabase", "a leaf page miscounts its entries", (m) => void (m.pages.leafCount[leafOf(m, 0, 0)]! += 1)],
  ["pageTablesMatchDatabase", "an empty leaf page stays in a directory", (m) => void (m.pages.leafCount[leafOf(m, 0, 0)] = 0)],
  ["pageTablesMatchDatabase", "an empty entry keeps a frame", (m) => void (m.pages.what[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps rights", (m) => void (m.pages.rights[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps a child", (m) => void (m.pages.firstChild[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps a next link", (m) => void (m.pages.next[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps a previous link", (m) => void (m.pages.prev[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps a next-by-cap link", (m) => void (m.pages.nextCap[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "an empty entry keeps a previous-by-cap link", (m) => void (m.pages.prevCap[emptyNextTo(m, entry(m, 0, 0))] = 1)],
  ["pageTablesMatchDatabase", "a derived mapping maps another frame than its parent", (m) => void (m.pages.what[entry(m, 1, 5)] = 7)],
  ["pageTablesMatchDatabase", "a derived mapping's parent is empty", (m) => void (m.pages.up[entry(m, 1, 5)] = emptyNextTo(m, entry(m, 0, 0)))],
  ["pageTablesMatchDatabase", "a root mapping maps a slot outside its cap's container", (m) => void (m.pages.what[entry(m, 0, 1)] = 5)],
  ["pageTablesMatchDatabase", "a root mapping maps a soft slot", (m) => void (m.pages.what[entry(m, 0, 1)] = 2)],
  ["pageTablesMatchDatabase", "a root mapping's cap slot is empty", (m) => void (m.pages.up[entry(m, 0, 1)] = -2 - emptyCapSlot(m))],
  ["pageTablesMatchDatabase", "a free leaf page holds a mapping", (m) => void (m.pages.up[m.pages.leafFree * m.pages.leafSize] = 0)],
  ["pageTablesMatchDatabase", "a live leaf page belongs to a dead task", (m) => void (m.pages.leafTask[leafOf(m, 1, 0)] = 2)],
  // mappingListsExact
  ["mappingListsExact", "a child list holds a mapping derived from another", (m) => void (m.pages.firstChild[entry(m, 0, 1)] = entry(m, 1, 5))],
  ["mappingListsExact", "a derived mapping is on no child list", (m) => void (m.pages.firstChild[entry(m, 0, 0)] = -1)],
  ["mappingListsExact", "a slot's list holds a mapping not rooted there", (m) => void (m.pages.slotRoots[3] = entry(m, 0, 0))],
  ["mappingListsExact", "a root mapping is on no slot's list", (m) => void (m.pages.slotRoots[0] = -1)],
  ["mappingListsExact", "a cap's list holds a mapping it did not authorize", (m) => void (m.caps.firstMap[m.caps.at(0, 4)] = entry(m, 0, 0))],
  ["mappingListsExact", "a root mapping is on no cap's list", (m) => void (m.caps.firstMap[m.caps.at(0, 2)] = -1)],
  ["mappingListsExact", "a list has a wrong back link", (m) => void (m.pages.prevCap[entry(m, 0, 1)] = 3)],
  // freeFrameBitmapExact
  ["freeFrameBitmapExact", "a frame miscounts its soft references", (m) => void (m.frames.softLive[2]! += 1)],
  ["freeFrameBitmapExact", "a frame in use is marked free", (m) => m.frames.free.add(0)],
  ["freeFrameBitmapExact", "a free frame is marked soft-only", (m) => m.frames.softOnly.add(5)],
  ["freeFrameBitmapExact", "the free bitmap's summary disagrees with its words", (m) => void (m.frames.free.summary[0] = 0)],
  // emptyCapSlotsClean
  ["emptyCapSlotsClean", "a dead task's slot holds a capability", (m) => m.caps.fill(m.caps.at(2, 0), 0, 0, 1)],
  ["emptyCapSlotsClean", "an empty slot keeps a parent", (m) => void (m.caps.parent[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a child", (m) => void (m.caps.firstChild[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a next sibling", (m) => void (m.caps.nextSib[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a previous sibling", (m) => void (m.caps.prevSib[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a next on its object's list", (m) => void (m.caps.objNext[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a previous on its object's list", (m) => void (m.caps.objPrev[emptyCapSlot(m)] = 0)],
  ["emptyCapSlotsClean", "an empty slot keeps a mapping", (m) => void (m.caps.firstMap[emptyCapSlot(m)] = 0)],
  // capLinksConsistent
  ["capLinksConsistent", "a cap on a child list names another parent", (m) => void (m.caps.parent[m.caps.at(0, 4)] = m.caps.at(0, 3))],
  ["capLinksConsistent", "a cap is missing from its parent's child list", (m) => void (m.caps.firstChild[m.caps.at(0, 2)] = -1)],
  ["capLinksConsistent", "a child list has a wrong back link", (m) => void (m.caps.prevSib[m.caps.firstChild[m.caps.at(0, 2)]!] = 3)],
  // accountLinksConsistent
  ["accountLinksConsistent", "an account on a child list names another parent", (m) => void (m.accounts.parent[1] = 2)],
  ["accountLinksConsistent", "an account is missing from its parent's child list", (m) => void (m.accounts.firstChild[0] = -1)],
  ["accountLinksConsistent", "a free account is on a child list", (m) => m.accounts.free.add(1)],
  // objectCapListsExact
  ["objectCapListsExact", "an empty slot is listed under an object", (m) => void (m.caps.objNext[m.caps.at(0, 0)] = emptyCapSlot(m))],
  ["objectCapListsExact", "a cap is listed under the wrong object", (m) => void (m.caps.objFirst[m.caps.objIndex(1, 2)] = m.caps.at(0, 2))],
  ["objectCapListsExact", "a cap is on no object's list", (m) => void (m.caps.objFirst[m.caps.objIndex(2, 0)] = -1)],
  // freeListsExact
  ["freeListsExact", "a leaf page in use is on the free list", (m) => void (m.pages.leafFree = leafOf(m, 0, 0))],
  ["freeListsExact", "a free leaf page is lost", (m) => void (m.pages.leafFree = -1)],
  ["freeListsExact", "a free directory page is lost", (m) => void (m.pages.dirFree = -1)],
];

describe("representation checks", () => {
  it("pass on the machine the corruptions start from", () => {
    machine();
  });
  for (const [check, what, corrupt] of CORRUPTIONS) {
    it(`${check} notices: ${what}`, () => {
      const m = machine();
      corrupt(m);
      const broken = checkRepresentation(m);
      const found = broken.find((b) => b.invariant === check);
      assert.ok(found, `${check} is silent (broken: ${broken.map((b) => b.invariant).join(", ") || "none"})`);
      assert.ok(found.message.length > 0, `${check} gives no message`);
    });
  }
});
