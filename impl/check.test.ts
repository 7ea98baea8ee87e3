/**
 * The representation checks have teeth: each corruption below breaks one
 * thing a check looks at, in a machine whose state has some of everything
 * (derived capabilities and mappings, a soft slot, a sub-account, a freed
 * leaf page), and the check that should notice must name it, with the
 * message of the condition meant to catch it (so a condition that stopped
 * working is noticed even when a later one in the same check still fires).
 * A check that stayed silent on its own corruption would let the lockstep
 * pass an impl broken in that way. Runs under vitest (npm test) and under mocha (npm run
 * mutation): see refinement-tests/harness/testapi.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "../refinement-tests/harness/testapi.js";
import { faultedIn } from "../refinement-tests/harness/paging.js";
import type { Config, Op } from "../spec/vocabulary.js";
import { checkRepresentation } from "./check.js";
import { Machine, SLOT_HARD } from "./machine.js";

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

const CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  // pageTablesMatchDatabase
  ["pageTablesMatchDatabase", "a leaf page names another owner", (m) => void (m.pages.leafTask[leafOf(m, 0, 0)] = 1), /^directory of task \d+ entry \d+ points at leaf \d+, which belongs to task \d+ entry \d+$/],
  ["pageTablesMatchDatabase", "a leaf page names another place", (m) => void (m.pages.leafDirIndex[leafOf(m, 0, 0)] = 5), /^directory of task \d+ entry \d+ points at leaf \d+, which belongs to task \d+ entry \d+$/],
  ["pageTablesMatchDatabase", "a leaf page miscounts its entries", (m) => void (m.pages.leafCount[leafOf(m, 0, 0)]! += 1), /^leaf page \d+ counts \d+ entries, holds \d+$/],
  ["pageTablesMatchDatabase", "an empty leaf page stays in a directory", (m) => void (m.pages.leafCount[leafOf(m, 0, 0)] = 0), /^leaf page \d+ counts \d+ entries, holds \d+$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a frame", (m) => void (m.pages.what[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps rights", (m) => void (m.pages.rights[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a child", (m) => void (m.pages.firstChild[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a next link", (m) => void (m.pages.next[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a previous link", (m) => void (m.pages.prev[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a next-by-cap link", (m) => void (m.pages.nextCap[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "an empty entry keeps a previous-by-cap link", (m) => void (m.pages.prevCap[emptyNextTo(m, entry(m, 0, 0))] = 1), /^empty entry \d+ keeps old fields$/],
  ["pageTablesMatchDatabase", "a derived mapping maps another frame than its parent", (m) => void (m.pages.what[entry(m, 1, 5)] = 7), /^mapping \d+ maps frame \d+, its parent \d+ maps \d+$/],
  ["pageTablesMatchDatabase", "a derived mapping keeps a next-by-cap link", (m) => void (m.pages.nextCap[entry(m, 1, 5)] = 0), /^derived mapping \d+ is linked on a capability's list$/],
  ["pageTablesMatchDatabase", "a derived mapping keeps a previous-by-cap link", (m) => void (m.pages.prevCap[entry(m, 1, 5)] = 0), /^derived mapping \d+ is linked on a capability's list$/],
  ["mappingListsExact", "a derived mapping is listed as a slot's root", (m) => void (m.pages.slotRoots[0] = entry(m, 1, 5)), /^mapping \d+ is listed under slot \d+ but is not its root$/],
  ["pageTablesMatchDatabase", "a derived mapping's parent is empty", (m) => void (m.pages.up[entry(m, 1, 5)] = emptyNextTo(m, entry(m, 0, 0))), /^mapping \d+ derives from empty entry \d+$/],
  ["pageTablesMatchDatabase", "a root mapping maps a slot outside its cap's container", (m) => void (m.pages.what[entry(m, 0, 1)] = 5), /^root mapping \d+ maps slot \d+, outside the container of its cap$/],
  ["pageTablesMatchDatabase", "a root mapping maps a soft slot", (m) => void (m.pages.what[entry(m, 0, 1)] = 2), /^root mapping \d+ maps slot \d+, which is not hard$/],
  ["pageTablesMatchDatabase", "a root mapping's cap slot is empty", (m) => void (m.pages.up[entry(m, 0, 1)] = -2 - emptyCapSlot(m)), /^root mapping \d+ is authorized by empty cap slot \d+$/],
  ["pageTablesMatchDatabase", "a free leaf page holds a mapping", (m) => void (m.pages.up[m.pages.leafFree * m.pages.leafSize] = 0), /^free leaf page \d+ holds a mapping$/],
  ["pageTablesMatchDatabase", "a free leaf page claims a dead task", (m) => void (m.pages.leafTask[m.pages.leafFree] = 2), /^leaf page \d+ belongs to dead task \d+$/],
  ["pageTablesMatchDatabase", "a free leaf page claims a live task's place", (m) => {
    m.pages.leafTask[m.pages.leafFree] = 1;
    m.pages.leafDirIndex[m.pages.leafFree] = 0;
  }, /^leaf page \d+ is not in the directory of task \d+$/],
  ["pageTablesMatchDatabase", "a live leaf page belongs to a dead task", (m) => void (m.pages.leafTask[leafOf(m, 1, 0)] = 2), /^directory of task \d+ entry \d+ points at leaf \d+, which belongs to task \d+ entry \d+$/],
  // mappingListsExact
  ["mappingListsExact", "a child list holds a mapping derived from another", (m) => void (m.pages.firstChild[entry(m, 0, 1)] = entry(m, 1, 5)), /^mapping \d+ is in the child list of \d+ but derives from \d+$/],
  ["mappingListsExact", "a derived mapping is on no child list", (m) => void (m.pages.firstChild[entry(m, 0, 0)] = -1), /^\d+ derived mappings but \d+ on child lists$/],
  ["mappingListsExact", "a slot's list holds a mapping not rooted there", (m) => void (m.pages.slotRoots[3] = entry(m, 0, 0)), /^mapping \d+ is listed under slot \d+ but is not its root$/],
  ["mappingListsExact", "a root mapping is on no slot's list", (m) => void (m.pages.slotRoots[0] = -1), /^\d+ root mappings but \d+ listed under slots$/],
  ["mappingListsExact", "a cap's list holds a mapping it did not authorize", (m) => void (m.caps.firstMap[m.caps.at(0, 0)] = m.caps.firstMap[m.caps.at(0, 2)]!), /^mapping \d+ is in the list of cap slot \d+ but was not authorized by it$/],
  ["mappingListsExact", "a root mapping is on no cap's list", (m) => void (m.caps.firstMap[m.caps.at(0, 2)] = -1), /^\d+ root mappings but \d+ listed under caps$/],
  ["mappingListsExact", "a list has a wrong back link", (m) => void (m.pages.prevCap[entry(m, 0, 1)] = 3), /^node \d+ has a wrong back link$/],
  // freeFrameBitmapExact
  ["freeFrameBitmapExact", "a frame miscounts its soft references", (m) => void (m.frames.softLive[2]! += 1), /^frame \d+: softLive \d+ but \d+ valid soft slots$/],
  ["freeFrameBitmapExact", "a frame in use is marked free", (m) => m.frames.free.add(0), /^frame \d+: free bit true, refs \d+, soft \d+$/],
  ["freeFrameBitmapExact", "a free frame is marked soft-only", (m) => m.frames.softOnly.add(5), /^frame \d+: soft-only bit true, refs \d+, soft \d+$/],
  ["freeFrameBitmapExact", "the free bitmap's summary disagrees with its words", (m) => void (m.frames.free.summary[0] = 0), /^bitmap summary disagrees with its words$/],
  // emptyCapSlotsClean
  ["emptyCapSlotsClean", "a dead task's slot holds a capability", (m) => m.caps.fill(m.caps.at(2, 0), 0, 0, 1), /^cap slot \d+ holds a capability, but its task \d+ is free$/],
  ["emptyCapSlotsClean", "an empty slot keeps a parent", (m) => void (m.caps.parent[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a child", (m) => void (m.caps.firstChild[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a next sibling", (m) => void (m.caps.nextSib[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a previous sibling", (m) => void (m.caps.prevSib[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a next on its object's list", (m) => void (m.caps.objNext[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a previous on its object's list", (m) => void (m.caps.objPrev[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  ["emptyCapSlotsClean", "an empty slot keeps a mapping", (m) => void (m.caps.firstMap[emptyCapSlot(m)] = 0), /^empty cap slot \d+ keeps old links$/],
  // freedEntriesClean (in the start machine task 2, account 2, container 1, DMA handle 0 and every swap page are free; container slot 3 is empty)
  ["freedEntriesClean", "a free task keeps its account", (m) => void (m.tasks.account[2] = 0), /^free task \d+ keeps its account or directory page$/],
  ["freedEntriesClean", "a free task keeps a directory page", (m) => void (m.pages.dirOf[2] = 0), /^free task \d+ keeps its account or directory page$/],
  ["freedEntriesClean", "a free account keeps a parent", (m) => void (m.accounts.parent[2] = 0), /^free account \d+ keeps old links$/],
  ["freedEntriesClean", "a free account keeps a child", (m) => void (m.accounts.firstChild[2] = 1), /^free account \d+ keeps old links$/],
  ["freedEntriesClean", "a free account keeps a next sibling", (m) => void (m.accounts.nextSib[2] = 1), /^free account \d+ keeps old links$/],
  ["freedEntriesClean", "a free account keeps a previous sibling", (m) => void (m.accounts.prevSib[2] = 1), /^free account \d+ keeps old links$/],
  ["freedEntriesClean", "a free container keeps its account", (m) => void (m.containers.account[1] = 0), /^free container \d+ keeps its account$/],
  ["freedEntriesClean", "a free container's slot is not empty", (m) => void (m.containers.kind[m.containers.S] = SLOT_HARD), /^container slot \d+ of a free container is not empty$/],
  ["freedEntriesClean", "an empty container slot names a frame", (m) => void (m.containers.frame[3] = 0), /^container slot \d+ holds no frame but names frame \d+$/],
  ["freedEntriesClean", "an empty container slot keeps an epoch", (m) => void (m.containers.aux[3] = 1), /^empty container slot \d+ keeps an epoch or swap page$/],
  ["freedEntriesClean", "a free DMA handle keeps its account", (m) => void (m.handles.account[0] = 0), /^free DMA handle \d+ keeps its account or frame$/],
  ["freedEntriesClean", "a free DMA handle keeps its frame", (m) => void (m.handles.frame[0] = 0), /^free DMA handle \d+ keeps its account or frame$/],
  ["freedEntriesClean", "a free swap page keeps its frame", (m) => void (m.swap.frame[0] = 0), /^free swap page \d+ keeps its frame or references$/],
  ["freedEntriesClean", "a free swap page keeps references", (m) => void (m.swap.refs[0] = 1), /^free swap page \d+ keeps its frame or references$/],
  ["freedEntriesClean", "a free leaf page keeps its directory index", (m) => void (m.pages.leafDirIndex[m.pages.leafFree] = 0), /^free leaf page \d+ keeps its directory index$/],
  ["freedEntriesClean", "a leaf page in use keeps a free-list link", (m) => void (m.pages.leafNextFree[leafOf(m, 0, 0)] = 0), /^leaf page \d+ is in use but keeps a free-list link$/],
  // capLinksConsistent
  ["capLinksConsistent", "a cap on a child list names another parent", (m) => void (m.caps.parent[m.caps.at(0, 4)] = m.caps.at(0, 3)), /^cap slot \d+ is in the child list of \d+ but has parent \d+$/],
  ["capLinksConsistent", "a cap is missing from its parent's child list", (m) => void (m.caps.firstChild[m.caps.at(0, 2)] = -1), /^cap slot \d+ is missing from its parent's child list$/],
  ["capLinksConsistent", "a child list has a wrong back link", (m) => void (m.caps.prevSib[m.caps.firstChild[m.caps.at(0, 2)]!] = 3), /^node \d+ has a wrong back link$/],
  ["capLinksConsistent", "a root cap has a next sibling", (m) => void (m.caps.nextSib[m.caps.at(0, 0)] = m.caps.at(0, 1)), /^root \d+ has sibling links$/],
  ["capLinksConsistent", "a root cap has a previous sibling", (m) => void (m.caps.prevSib[m.caps.at(0, 0)] = m.caps.at(0, 1)), /^root \d+ has sibling links$/],
  ["capLinksConsistent", "a cap is missing from a child list that has others", (m) => m.caps.unlinkFromParent(m.caps.at(0, 4)), /^cap slot \d+ is missing from its parent's child list$/],
  // accountLinksConsistent
  ["accountLinksConsistent", "the root account has a sibling", (m) => void (m.accounts.nextSib[0] = 1), /^account \d+'s child list: root \d+ has sibling links$/],
  ["accountLinksConsistent", "an account on a child list names another parent", (m) => void (m.accounts.parent[1] = 2), /^account \d+'s child list: account \d+ is in the child list of \d+ but has parent \d+$/],
  ["accountLinksConsistent", "an account is missing from its parent's child list", (m) => void (m.accounts.firstChild[0] = -1), /^account \d+ is missing from its parent's child list$/],
  ["accountLinksConsistent", "a free account is on a child list", (m) => m.accounts.free.add(1), /^account \d+'s child list: free account \d+ is in the child list of \d+$/],
  // objectCapListsExact
  ["objectCapListsExact", "an empty slot is listed under an object", (m) => {
    m.caps.objNext[m.caps.at(0, 0)] = emptyCapSlot(m);
    m.caps.objPrev[emptyCapSlot(m)] = m.caps.at(0, 0);
  }, /^empty cap slot \d+ is listed under object \d+$/],
  ["objectCapListsExact", "a cap is listed under the wrong object", (m) => void (m.caps.objFirst[m.caps.objIndex(1, 2)] = m.caps.at(0, 5)), /^cap slot \d+ is listed under the wrong object$/],
  ["objectCapListsExact", "a cap is on no object's list", (m) => void (m.caps.objFirst[m.caps.objIndex(2, 0)] = -1), /^\d+ capabilities but \d+ listed under objects$/],
  // freeListsExact
  ["freeListsExact", "a leaf page in use is on the free list", (m) => void (m.pages.leafFree = leafOf(m, 0, 0)), /^leaf page \d+ is in use and on the free list$/],
  ["freeListsExact", "a free leaf page is lost", (m) => void (m.pages.leafFree = -1), /^leaf pages leak: \d+ in use \+ \d+ free != \d+$/],
  ["freeListsExact", "the leaf free list loops", (m) => void (m.pages.leafNextFree[m.pages.leafFree] = m.pages.leafFree), /^leaf free list does not end$/],
  ["freeListsExact", "the directory free list loops", (m) => void (m.pages.dirPool[m.pages.dirFree * m.pages.dirEntries] = m.pages.dirFree), /^directory free list does not end$/],
  ["freeListsExact", "a free directory page is lost", (m) => void (m.pages.dirFree = -1), /^directory pages leak: \d+ tasks \+ \d+ free != \d+$/],
];

/**
 * The start machine's directory pages have one entry (its 8 pages fit one
 * leaf page). This one has 1,024 pages, so two entries: task 0 maps page 0,
 * task 1 page 1000 (directory entry 1), task 2 was given page 600 and
 * destroyed (its directory page and leaf page are free); container slot 1
 * is swapped out.
 */
function bigMachine(): Machine {
  const m = new Machine({ ...CONFIG, vpages: 1024 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "container.alloc", task: 0, container: 2, index: 1 },
    { op: "container.swapOut", task: 0, container: 2, index: 1 },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read"] },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.window", task: 1, slot: 0, slots: 0, page: 0, pages: 1024 },
    { op: "l4.map", task: 0, vpage: 0, target: 3, dest: 1000, rights: ["read"] },
    { op: "task.create", task: 0, account: 0, dest: 4 },
    { op: "task.window", task: 2, slot: 0, slots: 0, page: 0, pages: 1024 },
    { op: "l4.map", task: 0, vpage: 0, target: 4, dest: 600, rights: ["read"] },
    { op: "task.destroy", task: 0, target: 4 },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const BIG_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["freeListsExact", "a free directory page keeps a leaf page", (m) => void (m.pages.dirPool[m.pages.dirFree * m.pages.dirEntries + 1] = 0), /^free directory page \d+ keeps leaf page 0 at index 1$/],
  ["freedEntriesClean", "a swapped slot names a frame", (m) => void (m.containers.frame[1] = 0), /^container slot \d+ holds no frame but names frame \d+$/],
  ["pageTablesMatchDatabase", "a task keeps an empty leaf page", (m) => {
    const p = m.pages.leafFree;
    m.pages.leafFree = m.pages.leafNextFree[p]!;
    m.pages.leafNextFree[p] = -1;
    m.pages.leafTask[p] = 0;
    m.pages.leafDirIndex[p] = 1;
    m.pages.dirPool[m.pages.dirOf[0]! * m.pages.dirEntries + 1] = p;
  }, /^task \d+ keeps an empty leaf page \d+$/],
];

/**
 * Pagers: sigma0 (task 0) pages task 1, task 1 pages tasks 2 and 3; tasks
 * 2 and 3 wait in task 1's queue (2 first), and task 1 got sigma0's page 0
 * (the ledger); task 4 was made and destroyed.
 */
function pagerMachine(): Machine {
  const m = new Machine({ ...CONFIG, tasks: 5, capSlots: 10, faultQueue: 2 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.create", task: 0, account: 0, dest: 4 },
    { op: "task.create", task: 0, account: 0, dest: 5 },
    { op: "task.create", task: 0, account: 0, dest: 6 },
    { op: "task.pager", task: 0, target: 3, pager: 1 },
    { op: "task.pager", task: 0, target: 4, pager: 3 },
    { op: "task.pager", task: 0, target: 5, pager: 3 },
    { op: "task.pager", task: 0, target: 6, pager: 3 },
    { op: "mem.read", task: 1, vpage: 0 },
    { op: "sigma0.serve" },
    { op: "mem.read", task: 2, vpage: 1 },
    { op: "mem.write", task: 3, vpage: 2, value: 5 },
    { op: "task.destroy", task: 0, target: 6 },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const PAGER_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["faultQueuesLinked", "a queue's tail is wrong", (m) => void (m.tasks.qTail[1] = 2), /^the fault queue of task 1 ends at 3 but its tail is 2$/],
  ["faultQueuesLinked", "a queue's count is wrong", (m) => void (m.tasks.qLen[1] = 1), /^the fault queue of task 1 links 2 tasks but counts 1$/],
  ["faultQueuesLinked", "a queue loops", (m) => void (m.tasks.qNext[3] = 2), /^the fault queue of task 1 does not end$/],
  ["faultQueuesLinked", "a queued task does not wait", (m) => void (m.tasks.faultPage[3] = -1), /^task 3 is in the fault queue of task 1 but does not wait on it$/],
  ["faultQueuesLinked", "a waiting task is in no queue", (m) => void (m.tasks.faultPage[1] = 0), /^3 tasks wait on faults but 2 are queued$/],
  ["faultQueuesLinked", "a paged task's back link is wrong", (m) => void (m.tasks.pagedPrev[m.tasks.pagedHead[1]!] = 0), /^task \d+'s back link on the list of paged tasks is 0, not -1$/],
  ["faultQueuesLinked", "a paged task is off its pager's list", (m) => void (m.tasks.pagedHead[1] = -1), /^3 tasks have a pager but 1 are on lists of paged tasks$/],
  ["faultQueuesLinked", "a task on a pager's list has another pager", (m) => void (m.tasks.pager[2] = 0), /^task 2 is in the fault queue of task 1 but does not wait on it$/],
  ["faultQueuesLinked", "a ledger count is wrong", (m) => void (m.tasks.ledger[1] = 0), /^task 1 got 1 of sigma0's pages but its ledger count is 0$/],
  ["freedEntriesClean", "a free task keeps its pager", (m) => void (m.tasks.pager[4] = 1), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a free task keeps a fault", (m) => void (m.tasks.faultPage[4] = 0), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a free task keeps a queue head", (m) => void (m.tasks.qHead[4] = 2), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a free task keeps a queue count", (m) => void (m.tasks.qLen[4] = 1), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a free task keeps paged tasks", (m) => void (m.tasks.pagedHead[4] = 2), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a free task keeps a ledger count", (m) => void (m.tasks.ledger[4] = 1), /^free task 4 keeps its pager, fault, fault queue, paged tasks or ledger count$/],
  ["freedEntriesClean", "a task waiting on nothing keeps a fault's write flag", (m) => void (m.tasks.faultWrite[1] = 1), /^task 1 waits on no fault but keeps a fault's write, word or queue link$/],
  ["freedEntriesClean", "a task waiting on nothing keeps a queue link", (m) => void (m.tasks.qNext[1] = 2), /^task 1 waits on no fault but keeps a fault's write, word or queue link$/],
  ["freedEntriesClean", "a task with no pager keeps a paged-list link", (m) => void (m.tasks.pagedNext[0] = 1), /^task 0 has no pager but keeps links of a list of paged tasks$/],
  ["freedEntriesClean", "a task with no pager keeps a paged-list back link", (m) => void (m.tasks.pagedPrev[0] = 1), /^task 0 has no pager but keeps links of a list of paged tasks$/],
  ["faultQueuesLinked", "a list of paged tasks loops", (m) => void (m.tasks.pagedNext[2] = m.tasks.pagedHead[1]!), /^task 3's back link on the list of paged tasks is -1, not 2$/],
  ["faultQueuesLinked", "a task on sigma0's list has another pager", (m) => void (m.tasks.pager[1] = 2), /^task 1 is on task 0's list of paged tasks but its pager is 2$/],
  ["freedEntriesClean", "a task waiting on nothing keeps a fault's word", (m) => void (m.tasks.faultValue[1] = 9), /^task 1 waits on no fault but keeps a fault's write, word or queue link$/],
];

/**
 * Notices: sigma0 (task 0) pages task 1, which got sigma0's pages 0-2 by
 * faults; physmem then took the three frames, and sigma0 (faultQueue 2)
 * holds the notices about task 1's pages 0 and 1 and missed the third;
 * task 2 was made and destroyed (a free id), task 3 never made.
 */
function noticeMachine(): Machine {
  const m = new Machine({ ...CONFIG, tasks: 4, faultQueue: 2 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "task.create", task: 0, account: 0, dest: 3 },
    { op: "task.create", task: 0, account: 0, dest: 4 },
    { op: "task.destroy", task: 0, target: 4 },
    { op: "task.pager", task: 0, target: 3, pager: 1 },
  ];
  ops.push(...faultedIn(3));
  for (let f = 0; f < 3; f++) ops.push({ op: "physmem.reclaim", frame: f });
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  assert.equal(m.tasks.noteLen[0], 2);
  assert.equal(m.tasks.missed[0], 1);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const NOTICE_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["noticesLinked", "a record's tail is wrong", (m) => void (m.tasks.noteTail[0] = m.tasks.noteHead[0]!), /^the notices of task 0 end at node \d+ but its tail is \d+$/],
  ["noticesLinked", "a record's count is wrong", (m) => void (m.tasks.noteLen[0] = 1), /^the notices of task 0 link 2 nodes but count 1$/],
  ["noticesLinked", "a record loops", (m) => void (m.tasks.noteNext[m.tasks.noteTail[0]!] = m.tasks.noteHead[0]!), /^the notices of task 0 reach node \d+ twice or outside the pool$/],
  ["noticesLinked", "a notice names a task its holder does not page", (m) => void (m.tasks.noteTask[m.tasks.noteHead[0]!] = 0), /^task 0 holds a notice \(node \d+\) about task 0, which it does not page$/],
  ["noticesLinked", "a free node keeps its task", (m) => void (m.tasks.noteTask[m.tasks.noteFree] = 1), /^free notice node \d+ keeps its task or page$/],
  ["noticesLinked", "a free node keeps its page", (m) => void (m.tasks.notePage[m.tasks.noteFree] = 1), /^free notice node \d+ keeps its task or page$/],
  ["noticesLinked", "the free list loses a node", (m) => void (m.tasks.noteFree = m.tasks.noteNext[m.tasks.noteFree]!), /^2 notice nodes are held and 13 free, but the pool has 16$/],
  ["noticesLinked", "the free list reaches a held node", (m) => void (m.tasks.noteNext[m.tasks.noteFree] = m.tasks.noteHead[0]!), /^the free notice nodes reach node \d+, which is held or outside the pool$/],
  ["noticesLinked", "a free task keeps notices", (m) => void (m.tasks.noteHead[2] = m.tasks.noteHead[0]!), /^free task 2 keeps notices or a count of missed ones$/],
  ["noticesLinked", "a free task keeps a count of missed notices", (m) => void (m.tasks.missed[2] = 1), /^free task 2 keeps notices or a count of missed ones$/],
  ["noticesLinked", "a record links outside the pool", (m) => void (m.tasks.noteNext[m.tasks.noteTail[0]!] = 16), /^the notices of task 0 reach node 16 twice or outside the pool$/],
  ["noticesLinked", "a record starts at a negative node", (m) => void (m.tasks.noteHead[0] = -5), /^the notices of task 0 reach node -5 twice or outside the pool$/],
  ["noticesLinked", "the free list links outside the pool", (m) => void (m.tasks.noteFree = 16), /^the free notice nodes reach node 16, which is held or outside the pool$/],
  ["noticesLinked", "the free list starts at a negative node", (m) => void (m.tasks.noteFree = -3), /^the free notice nodes reach node -3, which is held or outside the pool$/],
  ["noticesLinked", "a free task keeps a notice count", (m) => void (m.tasks.noteLen[3] = 1), /^free task 3 keeps notices or a count of missed ones$/],
];

/**
 * Preemption: a budget of 1; task 0's page 0 is the root of mappings at its
 * own pages 1 and 2 (and page 3, derived from page 1); task 0's page.unmap
 * of page 0 stopped twice: its walk stands at page 2 (the greatest key first); task 1 is a free id.
 */
function preemptMachine(): Machine {
  const m = new Machine({ ...CONFIG, tasks: 2, budget: 1 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 0, rights: ["read", "write"] },
    { op: "l4.map", task: 0, vpage: 0, target: 1, dest: 2, rights: ["read"] },
    { op: "l4.map", task: 0, vpage: 0, target: 1, dest: 1, rights: ["read"] },
    { op: "l4.map", task: 0, vpage: 1, target: 1, dest: 3, rights: ["read"] },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  const unmap: Op = { op: "page.unmap", task: 0, vpage: 0, order: 0, mode: "derived" };
  assert.deepEqual(m.apply(unmap), { ok: true, value: null, preempted: true });
  assert.deepEqual(m.apply(unmap), { ok: true, value: null, preempted: true });
  assert.equal(m.tasks.curV[0], 2);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const PREEMPT_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  [
    "preemptedWalksExact",
    "children out of key order",
    (m) => {
      const root = m.lookup(0, 0);
      const [one, two] = [m.lookup(0, 1), m.lookup(0, 2)];
      m.pages.firstChild[root] = one;
      m.pages.next[one] = two;
      m.pages.prev[two] = one;
      m.pages.next[two] = -1;
      m.pages.prev[one] = -1;
    },
    /^the children of mapping \d+ are not in order of key, greatest first: task 0's page 2 comes after task 0's page 1$/,
  ],
  ["preemptedWalksExact", "the count of preempted walks is wrong", (m) => void (m.pendingCount = 2), /^1 tasks have a preempted removal but 2 are counted$/],
  ["preemptedWalksExact", "the list of them names another task", (m) => void (m.pendingTasks[0] = 1), /^the list of tasks with a preempted removal has task 1 at 0, out of order or without one$/],
  ["preemptedWalksExact", "a task without one keeps a cursor", (m) => void (m.tasks.curT[1] = 0), /^task 1 has no preempted removal but keeps fields of one$/],
  ["preemptedWalksExact", "a task without one keeps its bits", (m) => void (m.tasks.pendBits[1] = 2), /^task 1 has no preempted removal but keeps fields of one$/],
  ["preemptedWalksExact", "a free task has one", (m) => void (m.tasks.pendMode[1] = 0), /^free task 1 has a preempted removal$/],
  ["preemptedWalksExact", "the cursor is not mapped", (m) => void (m.tasks.curV[0] = 5), /^task 0's preempted walk stands at task 0's page 5, which is not mapped$/],
  ["preemptedWalksExact", "half a last child", (m) => void (m.tasks.lastT[0] = 0), /^task 0's preempted walk has half a cursor, last child or subtree$/],
  ["preemptedWalksExact", "half a subtree", (m) => void (m.tasks.zoneV[0] = 3), /^task 0's preempted walk has half a cursor, last child or subtree$/],
];

/**
 * A preempted revoke: a budget of 1; task 0's container capability in slot
 * 2 has children in slots 3 and 4; slot 3 authorized mappings at pages 0
 * and 1 and has children in slots 5 and 6. Task 0's revoke of slot 2
 * stopped four times: down to slot 4, slot 4 removed, down to slot 3, down
 * to page 1 (the greatest key first).
 */
function revokeMachine(): Machine {
  const m = new Machine({ ...CONFIG, tasks: 2, budget: 1 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "cap.derive", task: 0, src: 2, dest: 3, rights: ["read", "write", "alloc"] },
    { op: "cap.derive", task: 0, src: 2, dest: 4, rights: ["read"] },
    { op: "page.map", task: 0, container: 3, index: 0, vpage: 0, rights: ["read"] },
    { op: "page.map", task: 0, container: 3, index: 0, vpage: 1, rights: ["read"] },
    { op: "cap.derive", task: 0, src: 3, dest: 5, rights: ["read"] },
    { op: "cap.derive", task: 0, src: 3, dest: 6, rights: ["read"] },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  const revoke: Op = { op: "cap.revoke", task: 0, slot: 2 };
  for (let i = 0; i < 4; i++) assert.deepEqual(m.apply(revoke), { ok: true, value: null, preempted: true });
  assert.deepEqual([m.tasks.curT[0], m.tasks.curV[0]], [0, 1]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const REVOKE_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  [
    "preemptedWalksExact",
    "a capability's children out of key order",
    (m) => {
      const [three, five, six] = [m.caps.at(0, 3), m.caps.at(0, 5), m.caps.at(0, 6)];
      m.caps.firstChild[three] = five;
      m.caps.nextSib[five] = six;
      m.caps.prevSib[six] = five;
      m.caps.nextSib[six] = -1;
      m.caps.prevSib[five] = -1;
    },
    /^the children of cap slot \d+ are not in order of key, greatest first: cap slot \d+ comes after cap slot \d+$/,
  ],
  [
    "preemptedWalksExact",
    "a capability's root mappings out of key order",
    (m) => {
      const [zero, one] = [m.lookup(0, 0), m.lookup(0, 1)];
      m.caps.firstMap[m.caps.at(0, 3)] = zero;
      m.pages.nextCap[zero] = one;
      m.pages.prevCap[one] = zero;
      m.pages.nextCap[one] = -1;
      m.pages.prevCap[zero] = -1;
    },
    /^the root mappings of cap slot \d+ are not in order of key, greatest first: mapping \d+ comes after mapping \d+$/,
  ],
  ["preemptedWalksExact", "a revoke of an empty slot", (m) => void (m.tasks.pendVpage[0] = 7), /^task 0's preempted revoke names slot 7, which holds no capability$/],
  ["preemptedWalksExact", "a revoke keeps an unmap's bits", (m) => void (m.tasks.pendBits[0] = 1), /^task 0's preempted revoke keeps fields of an unmap$/],
  ["preemptedWalksExact", "a revoke stands at a capability not below the revoked one", (m) => void (m.tasks.curV[0] = -2 - 1), /^task 0's preempted revoke stands at a node that is not below the capability it revokes$/],
  ["preemptedWalksExact", "a revoke stands at an unmapped page", (m) => void (m.tasks.curV[0] = 9), /^task 0's preempted revoke stands at a node that is not below the capability it revokes$/],
  ["preemptedWalksExact", "a revoke's half cursor", (m) => void (m.tasks.curT[0] = -1), /^task 0's preempted walk has half a cursor, last child or subtree$/],
  ["preemptedWalksExact", "a revoke not counted", (m) => void (m.pendingCount = 0), /^1 tasks have a preempted removal but 0 are counted$/],
];

/**
 * A preempted container.destroy: a budget of 1; container 0 (task 0's slot
 * 2, two slots) holds frames in both; task 0 maps slot 1 at pages 0, 1 and
 * 3 and slot 0 at page 2. Three entries: down to page 3 (the greatest key
 * at slot 1), page 3 removed, down to page 1.
 */
function destroyMachine(): Machine {
  const m = new Machine({ ...CONFIG, tasks: 2, containerSlots: 2, budget: 1 });
  const ops: Op[] = [
    { op: "container.create", task: 0, account: 0, dest: 2 },
    { op: "container.alloc", task: 0, container: 2, index: 0 },
    { op: "container.alloc", task: 0, container: 2, index: 1 },
    { op: "page.map", task: 0, container: 2, index: 1, vpage: 0, rights: ["read"] },
    { op: "page.map", task: 0, container: 2, index: 1, vpage: 1, rights: ["read"] },
    { op: "page.map", task: 0, container: 2, index: 0, vpage: 2, rights: ["read"] },
    { op: "page.map", task: 0, container: 2, index: 1, vpage: 3, rights: ["read"] },
    { op: "cap.derive", task: 0, src: 2, dest: 3, rights: ["read"] },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  const destroy: Op = { op: "container.destroy", task: 0, container: 2 };
  for (let i = 0; i < 3; i++) assert.deepEqual(m.apply(destroy), { ok: true, value: null, preempted: true });
  assert.deepEqual([m.tasks.pendPage[0], m.tasks.curT[0], m.tasks.curV[0]], [1, 0, 1]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const DESTROY_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "a destroy through an empty slot", (m) => void (m.tasks.pendVpage[0] = 6), /^task 0's preempted destroy names slot 6, which holds no capability to container 0$/],
  ["preemptedWalksExact", "a destroy through a capability to another object", (m) => void (m.tasks.pendVpage[0] = 1), /^task 0's preempted destroy names slot 1, which holds no capability to container 0$/],
  ["preemptedWalksExact", "a destroy past a slot that is not empty", (m) => void (m.tasks.pendPage[0] = 0), /^task 0's preempted destroy has passed slot 1 of container 0, which is not empty$/],
  ["preemptedWalksExact", "a destroy at a slot outside the container", (m) => void (m.tasks.pendPage[0] = 2), /^task 0's preempted destroy stands at slot 2, outside the container$/],
  ["preemptedWalksExact", "a destroy's cursor in another slot's tree", (m) => void (m.tasks.curV[0] = 2), /^task 0's preempted destroy stands at a mapping that is not in a tree rooted at the slot it empties$/],
  ["preemptedWalksExact", "a destroy keeps an unmap's bits", (m) => void (m.tasks.pendBits[0] = 1), /^task 0's preempted destroy keeps fields of an unmap$/],
  [
    "preemptedWalksExact",
    "a slot's root mappings out of key order",
    (m) => {
      const si = 1;
      const [zero, one] = [m.lookup(0, 0), m.lookup(0, 1)];
      m.pages.slotRoots[si] = zero;
      m.pages.next[zero] = one;
      m.pages.prev[one] = zero;
      m.pages.next[one] = -1;
      m.pages.prev[zero] = -1;
    },
    /^the root mappings of container slot 1 are not in order of key, greatest first: mapping \d+ comes after mapping \d+$/,
  ],
];

/**
 * A preempted task.destroy: a budget of 1; task 0 destroys task 1 (its
 * slot 2), which holds a capability to container 0 and maps its slot 0 at
 * pages 1 and 3; task 1's page 3 is passed on to task 0's page 5. Two
 * entries: the greatest mapped page (3) found, down to task 0's page 5.
 */
function taskDestroyMachine(): Machine {
  const m = new Machine({ ...CONFIG, budget: 1 });
  const ops: Op[] = [
    { op: "task.create", task: 0, account: 0, dest: 2 },
    { op: "task.window", task: 1, slot: 0, slots: 8, page: 0, pages: 8 },
    { op: "task.window", task: 0, slot: 0, slots: 8, page: 0, pages: 8 },
    { op: "container.create", task: 0, account: 0, dest: 3 },
    { op: "container.alloc", task: 0, container: 3, index: 0 },
    { op: "cap.copy", task: 0, src: 3, target: 2, dest: 0 },
    { op: "cap.copy", task: 0, src: 1, target: 2, dest: 1 },
    { op: "page.map", task: 1, container: 0, index: 0, vpage: 1, rights: ["read"] },
    { op: "page.map", task: 1, container: 0, index: 0, vpage: 3, rights: ["read"] },
    { op: "l4.map", task: 1, vpage: 3, target: 1, dest: 5, rights: ["read"] },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  const destroy: Op = { op: "task.destroy", task: 0, target: 2 };
  for (let i = 0; i < 2; i++) assert.deepEqual(m.apply(destroy), { ok: true, value: null, preempted: true });
  assert.deepEqual([m.tasks.pendPage[0], m.tasks.pendBits[0], m.tasks.curT[0], m.tasks.curV[0]], [3, 7, 0, 5]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const TASK_DESTROY_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "a task destroy through an empty slot", (m) => void (m.tasks.pendVpage[0] = 6), /^task 0's preempted task\.destroy names slot 6, which holds no capability to task 1$/],
  ["preemptedWalksExact", "a task destroy of another task than its capability names", (m) => void (m.tasks.pendOrder[0] = 2), /^task 0's preempted task\.destroy names slot 2, which holds no capability to task 2$/],
  ["preemptedWalksExact", "a task destroy past a mapped page", (m) => void (m.tasks.pendPage[0] = 2), /^task 0's preempted task\.destroy has passed page 3 of task 1, which is mapped$/],
  ["preemptedWalksExact", "a task destroy at a page outside the address space", (m) => void (m.tasks.pendPage[0] = 8), /^task 0's preempted task\.destroy stands at page 8, outside the address space$/],
  ["preemptedWalksExact", "a task destroy among the capabilities while pages remain", (m) => void (m.tasks.pendBits[0] = 3), /^task 0's preempted task\.destroy stands at capability slot 3 \(page 3\)$/],
  [
    "preemptedWalksExact",
    "a task destroy among the capabilities while a page is still mapped",
    (m) => {
      m.tasks.pendPage[0] = -1;
      m.tasks.pendBits[0] = 0;
      m.tasks.curT[0] = -1;
      m.tasks.curV[0] = -1;
    },
    /^task 0's preempted task\.destroy has passed page 3 of task 1, which is mapped$/,
  ],
  ["preemptedWalksExact", "a task destroy's cursor outside the tree of its page", (m) => void (m.tasks.curT[0] = 1), /^task 0's preempted task\.destroy stands at a mapping that is not in the tree of the page it empties, nor of a root mapping it hands up$/],
  ["preemptedWalksExact", "a task destroy keeps an unmap's last child", (m) => void ((m.tasks.lastT[0] = 1), (m.tasks.lastV[0] = 3)), /^task 0's preempted task\.destroy keeps fields of an unmap$/],
  ["preemptedWalksExact", "a task destroy not counted", (m) => void (m.pendingCount = 0), /^1 tasks have a preempted removal but 0 are counted$/],
];

/**
 * A preempted account.destroy: a budget of 1; task 0 destroys account 1
 * (its slot 2), which pays for task 1; task 1 maps at page 2 a frame of a
 * container the root account pays for. Two entries: task 1 chosen, its
 * greatest mapped page (2) found.
 */
function accountDestroyMachine(): Machine {
  const m = new Machine({ ...CONFIG, budget: 1 });
  const ops: Op[] = [
    { op: "account.create", task: 0, account: 0, dest: 2, frames: 2, objects: 20 },
    { op: "task.create", task: 0, account: 2, dest: 3 },
    { op: "task.window", task: 1, slot: 0, slots: 8, page: 0, pages: 8 },
    { op: "container.create", task: 0, account: 0, dest: 4 },
    { op: "container.alloc", task: 0, container: 4, index: 0 },
    { op: "cap.copy", task: 0, src: 4, target: 3, dest: 0 },
    { op: "page.map", task: 1, container: 0, index: 0, vpage: 2, rights: ["read"] },
  ];
  for (const op of ops) assert.ok(m.apply(op).ok, JSON.stringify(op));
  const destroy: Op = { op: "account.destroy", task: 0, account: 2 };
  for (let i = 0; i < 2; i++) assert.deepEqual(m.apply(destroy), { ok: true, value: null, preempted: true });
  const tt = m.tasks;
  assert.deepEqual([tt.zoneT[0], tt.zoneV[0], tt.pendPage[0], tt.pendBits[0], tt.curT[0], tt.curV[0]], [1, 1, 2, 7, 1, 2]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const ACCOUNT_DESTROY_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "an account destroy through an empty slot", (m) => void (m.tasks.pendVpage[0] = 6), /^task 0's preempted account\.destroy names slot 6, which holds no capability to account 1$/],
  ["preemptedWalksExact", "an account destroy of the root account", (m) => void ((m.tasks.pendOrder[0] = 0), (m.tasks.pendVpage[0] = 0)), /^task 0's preempted account\.destroy destroys the root account$/],
  ["preemptedWalksExact", "an account destroy taking apart a task it does not pay for", (m) => void (m.tasks.zoneV[0] = 0), /^task 0's preempted account\.destroy takes apart task 0, which the account does not pay for$/],
  ["preemptedWalksExact", "an account destroy taking apart an object of no kind", (m) => void (m.tasks.zoneT[0] = 5), /^task 0's preempted account\.destroy takes apart an object of kind 5$/],
  ["preemptedWalksExact", "an account destroy past a mapped page", (m) => void (m.tasks.pendPage[0] = 1), /^task 0's preempted account\.destroy has passed page 2 of task 1, which is mapped$/],
  ["preemptedWalksExact", "an account destroy among the capabilities while pages remain", (m) => void (m.tasks.pendBits[0] = 3), /^task 0's preempted account\.destroy stands at page 2, capability slot 3 of task 1$/],
  ["preemptedWalksExact", "an account destroy's cursor outside the tree of its page", (m) => void (m.tasks.curV[0] = 1), /^task 0's preempted account\.destroy stands at a mapping that is not in the tree of the page it empties, nor of a root mapping it hands up$/],
  ["preemptedWalksExact", "an account destroy between objects that keeps a walk", (m) => void ((m.tasks.zoneT[0] = -1), (m.tasks.zoneV[0] = -1)), /^task 0's preempted account\.destroy is between objects but keeps where a walk stood$/],
  ["preemptedWalksExact", "an account destroy keeps an unmap's last child", (m) => void ((m.tasks.lastT[0] = 1), (m.tasks.lastV[0] = 2)), /^task 0's preempted account\.destroy keeps fields of an unmap$/],
];

/**
 * A revoke emptying a zombie: the first 58 operations of the regression
 * trace revoke-zombies.json. Task 1 revokes its account capability; task 3,
 * whose only capability (task 1's slot 1) is below it, is the zombie; its
 * walk stands at task 2's page 2, derived from task 3's page 0.
 */
function zombieMachine(): Machine {
  const trace = JSON.parse(readFileSync(join(import.meta.dirname, "../refinement-tests/harness/regressions/revoke-zombies.json"), "utf8")) as { config: Config; ops: Op[] };
  const m = new Machine(trace.config);
  for (const op of trace.ops.slice(0, 58)) m.apply(op);
  assert.deepEqual([m.tasks.zoneT[1], m.tasks.zoneV[1], m.tasks.pendPage[1], m.tasks.curT[1], m.tasks.curV[1]], [1, 3, 0, 2, 2]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const ZOMBIE_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "a zombie of no kind", (m) => void (m.tasks.zoneT[1] = 5), /^task 1's preempted revoke empties an object of kind 5$/],
  ["preemptedWalksExact", "a zombie that is not there", (m) => void (m.tasks.zoneV[1] = 4), /^task 1's preempted revoke empties task 4, which is not there$/],
  ["preemptedWalksExact", "a zombie named twice", (m) => void (m.caps.objNext[m.caps.at(1, 1)] = m.caps.at(0, 4)), /^task 1's preempted revoke empties task 3, which more than one capability names$/],
  ["preemptedWalksExact", "a zombie whose capability is not below the revoked one", (m) => void (m.caps.parent[m.caps.at(1, 1)] = -1), /^task 1's preempted revoke empties task 3, whose capability is not a leaf below the one it revokes$/],
  ["preemptedWalksExact", "a zombie walk past a mapped page", (m) => void (m.tasks.pendPage[1] = -1), /^task 1's preempted revoke has passed page 0 of task 3, which is mapped$/],
  ["preemptedWalksExact", "a zombie walk outside its page's tree", (m) => void (m.tasks.curV[1] = 1), /^task 1's preempted revoke stands at a mapping that is not in the tree of the page it empties, nor of a root mapping it hands up$/],
  ["preemptedWalksExact", "a zombie keeps an unmap's last child", (m) => void ((m.tasks.lastT[1] = 2), (m.tasks.lastV[1] = 2)), /^task 1's preempted revoke keeps fields of an unmap$/],
];

/**
 * A task destroy emptying a chain of zombies: the first 30 operations of
 * the regression trace nested-zombies.json. Task 4 destroys task 1; inside
 * it task 2 is a zombie, task 3 one inside task 2, and container 0 one
 * inside task 3 (the innermost), whose walk stands at its slot 1.
 */
function chainMachine(): Machine {
  const trace = JSON.parse(readFileSync(join(import.meta.dirname, "../refinement-tests/harness/regressions/nested-zombies.json"), "utf8")) as { config: Config; ops: Op[] };
  const m = new Machine(trace.config);
  for (const op of trace.ops.slice(0, 30)) m.apply(op);
  assert.deepEqual([m.tasks.pendOrder[4], m.tasks.zOutT[4], m.tasks.zOutV[4], m.tasks.zInT[4], m.tasks.zInV[4], m.tasks.pendPage[4]], [1, 1, 2, 0, 0, 1]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const CHAIN_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "half a chain", (m) => void (m.tasks.zOutT[4] = -1), /^task 4's preempted task\.destroy keeps half a chain of zombies \(zOutV is set\)$/],
  ["preemptedWalksExact", "an innermost zombie of no kind", (m) => void (m.tasks.zInT[4] = 3), /^task 4's preempted task\.destroy empties an object of kind 3$/],
  ["preemptedWalksExact", "an innermost zombie that is not there", (m) => void (m.tasks.zInV[4] = 1), /^task 4's preempted task\.destroy empties container 1, which is not there/],
  ["preemptedWalksExact", "an outermost zombie the task walked does not name", (m) => void (m.tasks.zOutV[4] = 3), /^task 4's preempted task\.destroy empties task 3, whose capability task 1 does not hold$/],
  ["preemptedWalksExact", "a chain that passes its outermost", (m) => void (m.tasks.zOutV[4] = 4), /^task 4's preempted task\.destroy empties task 2, whose capability task 1 holds, but it is not the outermost zombie$/],
  ["preemptedWalksExact", "an innermost zombie's walk past a filled slot", (m) => void (m.tasks.pendPage[4] = -1), /^task 4's preempted task\.destroy has passed slot 0 of container 0, which is not empty$/],
];

/**
 * A task destroy emptying an account zombie: the first 41 operations of
 * the regression trace account-zombies.json. Task 3 destroys task 2, which
 * held the only capability naming account 1; account 1 is the zombie
 * (zInT 2), and its walk stands in container 0 (pendBits), slot 0, at the
 * root task's page 0.
 */
function accountZombieMachine(): Machine {
  const trace = JSON.parse(readFileSync(join(import.meta.dirname, "../refinement-tests/harness/regressions/account-zombies.json"), "utf8")) as { config: Config; ops: Op[] };
  const m = new Machine(trace.config);
  for (const op of trace.ops.slice(0, 41)) m.apply(op);
  assert.deepEqual([m.tasks.pendOrder[3], m.tasks.zInT[3], m.tasks.zInV[3], m.tasks.pendBits[3], m.tasks.pendPage[3], m.tasks.curT[3], m.tasks.curV[3]], [2, 2, 1, 0, 0, 0, 0]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const ACCOUNT_ZOMBIE_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "the root account as a zombie", (m) => void ((m.tasks.zInV[3] = 0), (m.tasks.zOutV[3] = 0)), /^task 3's preempted task\.destroy empties account 0, which is not there \(or is the root task or account\)$/],
  ["preemptedWalksExact", "an account zombie that pays for its holder", (m) => void (m.tasks.account[2] = 1), /^task 3's preempted task\.destroy empties account 1, which pays for task 2, the subject or a task a walk around it takes apart$/],
  ["preemptedWalksExact", "an account zombie's walk in a container it does not pay for", (m) => void (m.tasks.pendBits[3] = 1), /^task 3's preempted task\.destroy takes apart container 1, which account 1 does not pay for$/],
  ["preemptedWalksExact", "an account zombie between objects that keeps a walk", (m) => void (m.tasks.pendBits[3] = -1), /^task 3's preempted task\.destroy is between objects of account 1 but keeps where a walk stood$/],
  ["preemptedWalksExact", "an account zombie's walk past a filled slot", (m) => void (m.tasks.pendPage[3] = -1), /^task 3's preempted task\.destroy has passed slot 0 of container 0, which is not empty$/],
];

/**
 * A task destroy emptying an account zombie that pays for a task: the
 * first 36 operations of the regression trace account-zombie-tasks.json.
 * Task 4 destroys task 3, which held the only capability naming account 1;
 * account 1 is the zombie (zInT 2), and its walk takes apart task 1
 * (lastT 1, lastV 1), at its page 0, at that page's own mapping.
 */
function accountTaskMachine(): Machine {
  const trace = JSON.parse(readFileSync(join(import.meta.dirname, "../refinement-tests/harness/regressions/account-zombie-tasks.json"), "utf8")) as { config: Config; ops: Op[] };
  const m = new Machine(trace.config);
  for (const op of trace.ops.slice(0, 36)) m.apply(op);
  const tt = m.tasks;
  assert.deepEqual([tt.pendOrder[4], tt.zInT[4], tt.zInV[4], tt.lastT[4], tt.lastV[4], tt.pendPage[4], tt.pendBits[4], tt.curT[4], tt.curV[4]], [3, 2, 1, 1, 1, 0, 11, 1, 0]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const ACCOUNT_TASK_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "an account zombie at a task it does not pay for", (m) => void (m.tasks.lastV[4] = 2), /^task 4's preempted task\.destroy takes apart task 2, which account 1 does not pay for$/],
  ["preemptedWalksExact", "an account zombie at a task while a container is left", (m) => void (m.containers.account[1] = 1), /^task 4's preempted task\.destroy takes apart task 1 while container 1, which account 1 pays for, is left$/],
  ["preemptedWalksExact", "an account zombie's walk past a mapped page", (m) => void (m.tasks.pendPage[4] = -1), /^task 4's preempted task\.destroy has passed page 0 of task 1, which is mapped$/],
  ["preemptedWalksExact", "an account zombie that pays for the subject", (m) => void (m.tasks.account[4] = 1), /^task 4's preempted task\.destroy empties account 1, which pays for task 4, the subject or a task a walk around it takes apart$/],
  ["preemptedWalksExact", "an account zombie at a task of no kind", (m) => void (m.tasks.lastT[4] = 0), /^task 4's preempted task\.destroy keeps fields of an unmap$/],
];

/**
 * A task destroy whose chain has an account link: the first 48 operations
 * of account-zombie-tasks.json. Task 4 destroys task 3; account 1, the
 * outermost zombie, takes task 1 apart (marked: linkOf(1, 4) is 1), and
 * task 2 is a zombie inside it, the innermost.
 */
function accountLinkMachine(): Machine {
  const trace = JSON.parse(readFileSync(join(import.meta.dirname, "../refinement-tests/harness/regressions/account-zombie-tasks.json"), "utf8")) as { config: Config; ops: Op[] };
  const m = new Machine(trace.config);
  for (const op of trace.ops.slice(0, 48)) m.apply(op);
  const tt = m.tasks;
  assert.deepEqual([tt.zOutT[4], tt.zOutV[4], tt.zInT[4], tt.zInV[4], tt.linkOf(1, 4), tt.zMarks], [2, 1, 1, 2, 1, 1]);
  assert.deepEqual(checkRepresentation(m), []);
  return m;
}

const ACCOUNT_LINK_CORRUPTIONS: [string, string, (m: Machine) => void, RegExp][] = [
  ["preemptedWalksExact", "an account link left unmarked", (m) => void m.tasks.unmarkAccount(1, 4), /^task 4's preempted task\.destroy empties task 0, which is not there/],
  ["preemptedWalksExact", "the marks miscounted", (m) => void (m.tasks.zMarks = 2), /^mark 1 of an account link names account -1 and task -1$/],
  ["preemptedWalksExact", "an account marked twice", (m) => void m.tasks.markAccount(1, 4, 1), /^account 1 is marked twice as a link of task 4's chain$/],
  ["preemptedWalksExact", "an account marked that is not a link", (m) => void m.tasks.markAccount(3, 4, 0), /^task 4's preempted task\.destroy marks 2 accounts as links of its chain, but 1 are$/],
  ["preemptedWalksExact", "a mark for a task without a chain", (m) => void m.tasks.markAccount(3, 0, 0), /^account 3 is marked as a link of task 0's chain of zombies, which has none$/],
  ["preemptedWalksExact", "an account link in a task it does not pay for", (m) => void (m.tasks.account[1] = 0), /^task 4's preempted task\.destroy takes apart task 1, which account 1 does not pay for$/],
];

describe("representation checks", () => {
  it("pass on the machine the corruptions start from", () => {
    machine();
  });
  for (const [start, corruptions] of [
    [machine, CORRUPTIONS],
    [bigMachine, BIG_CORRUPTIONS],
    [pagerMachine, PAGER_CORRUPTIONS],
    [noticeMachine, NOTICE_CORRUPTIONS],
    [preemptMachine, PREEMPT_CORRUPTIONS],
    [revokeMachine, REVOKE_CORRUPTIONS],
    [destroyMachine, DESTROY_CORRUPTIONS],
    [taskDestroyMachine, TASK_DESTROY_CORRUPTIONS],
    [accountDestroyMachine, ACCOUNT_DESTROY_CORRUPTIONS],
    [zombieMachine, ZOMBIE_CORRUPTIONS],
    [chainMachine, CHAIN_CORRUPTIONS],
    [accountZombieMachine, ACCOUNT_ZOMBIE_CORRUPTIONS],
    [accountTaskMachine, ACCOUNT_TASK_CORRUPTIONS],
    [accountLinkMachine, ACCOUNT_LINK_CORRUPTIONS],
  ] as const) {
    for (const [check, what, corrupt, message] of corruptions) {
      it(`${check} notices: ${what}`, () => {
        const m = start();
        corrupt(m);
        const broken = checkRepresentation(m);
        const found = broken.find((b) => b.invariant === check);
        assert.ok(found, `${check} is silent (broken: ${broken.map((b) => b.invariant).join(", ") || "none"})`);
        assert.match(found.message, message, `${check} names another problem`);
      });
    }
  }
});
