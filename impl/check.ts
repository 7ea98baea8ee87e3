/**
 * Representation invariants of the impl: the concrete structures agree with
 * one another. The spec states a task's pages and the mapping database as
 * one thing; here mappings are leaf entries reached through directory pages,
 * and linked into trees and lists that must stay consistent with the pages,
 * so "pageTablesMatchDatabase" and "mappingListsExact" are checked here, on
 * the concrete state, after every step of the refinement tests, together
 * with the other links the abstraction function and the removals rely on.
 */
import { SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED, type Machine } from "./machine.js";
import { keyAfter } from "./mapdb.js";
import { KIND_ACCOUNT, KIND_CONTAINER, KIND_TASK } from "./constants.js";
import { accountUnder, ADESTROY, capUnder, DESTROY, destroyCursorValid, nameOf, REVOKE, revokeCursorValid, TDESTROY, taskCursorValid, ZOMBIE_KINDS } from "./preemption.js";

export interface ReprInvariant {
  readonly name: string;
  readonly check: (m: Machine) => string | null;
}

function walkList(head: number, next: Int32Array, prev: Int32Array, limit: number, visit: (n: number) => string | null): string | null {
  let p = -1;
  let steps = 0;
  for (let n = head; n !== -1; n = next[n]!) {
    // Stryker disable next-line ConditionalExpression,UpdateOperator,StringLiteral: a doubly linked list cannot loop without a wrong back link, which the walk reports first; the limit only keeps a corrupt walk finite
    if (++steps > limit) return "list does not end";
    if (prev[n] !== p) return `node ${n} has a wrong back link`;
    const e = visit(n);
    if (e) return e;
    p = n;
  }
  return null;
}

/** Parent pointers and child lists (first child, next and previous sibling) of a tree kept in arrays. */
interface TreeArrays {
  readonly parent: Int32Array;
  readonly firstChild: Int32Array;
  readonly nextSib: Int32Array;
  readonly prevSib: Int32Array;
}

/**
 * For each of the `count` nodes that is `live`: its child list ends, has
 * right back links and passes `child` (child, node) for each child, and the
 * node sits in its parent's child list, or if it is a root has no sibling
 * links. The first problem, in words (`inList`
 * wraps one found in a node's list), or null.
 */
function treeLinks(
  count: number,
  live: (n: number) => boolean,
  t: TreeArrays,
  child: (c: number, n: number) => string | null,
  missing: (n: number) => string,
  inList: (n: number, e: string) => string = (_n, e) => e,
): string | null {
  for (let n = 0; n < count; n++) {
    // Stryker disable next-line ConditionalExpression: a free capability slot or account has all its links at -1 (emptyCapSlotsClean, freedEntriesClean), so checking it finds nothing
    if (!live(n)) continue;
    const e = walkList(t.firstChild[n]!, t.nextSib, t.prevSib, count, (c) => child(c, n));
    if (e) return inList(n, e);
    const p = t.parent[n]!;
    if (p !== -1) {
      let found = false;
      for (let c = t.firstChild[p]!; c !== -1 && !found; c = t.nextSib[c]!) found = c === n;
      if (!found) return missing(n);
    } else if (t.nextSib[n] !== -1 || t.prevSib[n] !== -1) {
      return inList(n, `root ${n} has sibling links`);
    }
  }
  return null;
}

export const REPR_INVARIANTS: readonly ReprInvariant[] = [
  {
    name: "pageTablesMatchDatabase",
    check(m) {
      const { tasks } = m.config;
      const L = m.pages.leafSize;
      // every directory entry of a live task points at a leaf page that says so and is not empty
      for (let t = 0; t < tasks; t++) {
        if (m.tasks.free.has(t)) continue;
        const dir = m.pages.dirOf[t]!;
        for (let d = 0; d < m.pages.dirEntries; d++) {
          const leaf = m.pages.dirPool[dir * m.pages.dirEntries + d]!;
          if (leaf < 0) continue;
          if (m.pages.leafTask[leaf] !== t || m.pages.leafDirIndex[leaf] !== d) return `directory of task ${t} entry ${d} points at leaf ${leaf}, which belongs to task ${m.pages.leafTask[leaf]} entry ${m.pages.leafDirIndex[leaf]}`;
          let count = 0;
          for (let i = 0; i < L; i++) if (m.pages.up[leaf * L + i] !== -1) count++;
          if (count === 0) return `task ${t} keeps an empty leaf page ${leaf}`;
          if (count !== m.pages.leafCount[leaf]) return `leaf page ${leaf} counts ${m.pages.leafCount[leaf]} entries, holds ${count}`;
        }
      }
      // every leaf page in use is reachable from its owner's directory; free ones are empty
      for (let p = 0; p < m.pages.leafTop; p++) {
        const t = m.pages.leafTask[p]!;
        if (t === -1) {
          for (let i = 0; i < L; i++) if (m.pages.up[p * L + i] !== -1) return `free leaf page ${p} holds a mapping`;
          continue;
        }
        if (m.tasks.free.has(t)) return `leaf page ${p} belongs to dead task ${t}`;
        if (m.pages.dirPool[m.pages.dirOf[t]! * m.pages.dirEntries + m.pages.leafDirIndex[p]!] !== p) return `leaf page ${p} is not in the directory of task ${t}`;
      }
      // every mapping is well formed; every empty entry is clean (a new mapping relies on it)
      for (let e = 0; e < m.pages.leafTop * L; e++) {
        const up = m.pages.up[e]!;
        if (up === -1) {
          if (m.pages.what[e] !== -1 || m.pages.rights[e] !== 0 || m.pages.firstChild[e] !== -1 || m.pages.next[e] !== -1 || m.pages.prev[e] !== -1 || m.pages.nextCap[e] !== -1 || m.pages.prevCap[e] !== -1)
            return `empty entry ${e} keeps old fields`;
          continue;
        }
        if (up >= 0) {
          if (m.pages.up[up] === -1) return `mapping ${e} derives from empty entry ${up}`;
          if (m.pages.what[e] !== m.frameAt(up)) return `mapping ${e} maps frame ${m.pages.what[e]}, its parent ${up} maps ${m.frameAt(up)}`;
          if (m.pages.nextCap[e] !== -1 || m.pages.prevCap[e] !== -1) return `derived mapping ${e} is linked on a capability's list`;
        } else {
          const cap = m.pages.capOfRoot(e);
          const si = m.pages.what[e]!;
          if (m.caps.isEmpty(cap)) return `root mapping ${e} is authorized by empty cap slot ${cap}`;
          if (m.caps.objOf(cap) !== Math.floor(si / m.config.containerSlots)) return `root mapping ${e} maps slot ${si}, outside the container of its cap`;
          if (m.containers.kind[si] !== SLOT_HARD) return `root mapping ${e} maps slot ${si}, which is not hard`;
        }
      }
      return null;
    },
  },
  {
    name: "mappingListsExact",
    check(m) {
      const limit = m.pages.leafTop * m.pages.leafSize;
      let derived = 0;
      let roots = 0;
      let children = 0;
      for (let e = 0; e < limit; e++) {
        const up = m.pages.up[e]!;
        if (up === -1) continue;
        if (up >= 0) derived++;
        else roots++;
        const err = walkList(m.pages.firstChild[e]!, m.pages.next, m.pages.prev, limit, (c) => {
          children++;
          return m.pages.up[c] === e ? null : `mapping ${c} is in the child list of ${e} but derives from ${m.pages.up[c]}`;
        });
        if (err) return err;
      }
      if (children !== derived) return `${derived} derived mappings but ${children} on child lists`;
      let listed = 0;
      for (let si = 0; si < m.pages.slotRoots.length; si++) {
        const err = walkList(m.pages.slotRoots[si]!, m.pages.next, m.pages.prev, limit, (e) => {
          listed++;
          return m.pages.isRoot(e) && m.pages.what[e] === si ? null : `mapping ${e} is listed under slot ${si} but is not its root`;
        });
        if (err) return err;
      }
      if (listed !== roots) return `${roots} root mappings but ${listed} listed under slots`;
      let byCap = 0;
      for (let n = 0; n < m.caps.info.length; n++) {
        const err = walkList(m.caps.firstMap[n]!, m.pages.nextCap, m.pages.prevCap, limit, (e) => {
          byCap++;
          return m.pages.isRoot(e) && m.pages.capOfRoot(e) === n ? null : `mapping ${e} is in the list of cap slot ${n} but was not authorized by it`;
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
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let si = 0; si < m.containers.kind.length; si++) {
        // Stryker disable next-line ConditionalExpression: the epoch test alone fails for a slot that is not soft: a hard slot's epoch field is 0 while a frame in use has epoch 1 or more, and empty and swapped slots name frame -1
        if (m.containers.kind[si] === SLOT_SOFT && m.containers.aux[si] === m.frames.epoch[m.containers.frame[si]!]) soft[m.containers.frame[si]!]! += 1;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let f = 0; f < m.config.frames; f++) {
        if (m.frames.softLive[f] !== soft[f]) return `frame ${f}: softLive ${m.frames.softLive[f]} but ${soft[f]} valid soft slots`;
        const unused = m.frames.refs[f] === 0 && m.frames.wired[f] === 0;
        if (m.frames.free.has(f) !== (unused && soft[f] === 0)) return `frame ${f}: free bit ${m.frames.free.has(f)}, refs ${m.frames.refs[f]}, soft ${soft[f]}`;
        if (m.frames.softOnly.has(f) !== (unused && soft[f]! > 0)) return `frame ${f}: soft-only bit ${m.frames.softOnly.has(f)}, refs ${m.frames.refs[f]}, soft ${soft[f]}`;
      }
      let lowest = -1;
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let f = 0; f < m.config.frames && lowest < 0; f++) if (m.frames.free.has(f)) lowest = f;
      return m.frames.free.lowest() === lowest ? null : "bitmap summary disagrees with its words";
    },
  },
  {
    name: "emptyCapSlotsClean",
    check(m) {
      const caps = m.caps;
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let n = 0; n < caps.info.length; n++) {
        if (!caps.isEmpty(n)) {
          if (m.tasks.free.has(caps.taskOf(n))) return `cap slot ${n} holds a capability, but its task ${caps.taskOf(n)} is free`;
          continue;
        }
        if (caps.parent[n] !== -1 || caps.firstChild[n] !== -1 || caps.nextSib[n] !== -1 || caps.prevSib[n] !== -1 || caps.objNext[n] !== -1 || caps.objPrev[n] !== -1 || caps.firstMap[n] !== -1)
          return `empty cap slot ${n} keeps old links`;
      }
      return null;
    },
  },
  {
    // A free id or an empty slot keeps no old value in a field that is read
    // again when it is reused (most are written at reuse, so a stale value
    // is harmless today, and a bug tomorrow when one of those writes goes).
    name: "freedEntriesClean",
    check(m) {
      const { tasks, accounts: acc, containers: cons, handles, swap, pages } = m;
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let t = 0; t < m.config.tasks; t++) {
        if (tasks.free.has(t) && (tasks.account[t] !== -1 || pages.dirOf[t] !== -1)) return `free task ${t} keeps its account or directory page`;
        if (tasks.free.has(t) && (tasks.pager[t] !== -1 || tasks.faultPage[t] !== -1 || tasks.qHead[t] !== -1 || tasks.qLen[t] !== 0 || tasks.pagedHead[t] !== -1 || tasks.ledger[t] !== 0)) return `free task ${t} keeps its pager, fault, fault queue, paged tasks or ledger count`;
        if (tasks.faultPage[t] === -1 && (tasks.faultWrite[t] !== 0 || tasks.faultValue[t] !== 0 || tasks.qNext[t] !== -1)) return `task ${t} waits on no fault but keeps a fault's write, word or queue link`;
        if (tasks.pager[t] === -1 && (tasks.pagedNext[t] !== -1 || tasks.pagedPrev[t] !== -1)) return `task ${t} has no pager but keeps links of a list of paged tasks`;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let a = 0; a < m.config.accounts; a++) {
        if (acc.free.has(a) && (acc.parent[a] !== -1 || acc.firstChild[a] !== -1 || acc.nextSib[a] !== -1 || acc.prevSib[a] !== -1)) return `free account ${a} keeps old links`;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let c = 0; c < m.config.containers; c++) {
        if (cons.free.has(c) && cons.account[c] !== -1) return `free container ${c} keeps its account`;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let si = 0; si < cons.kind.length; si++) {
        const kind = cons.kind[si]!;
        if (cons.free.has(cons.of(si)) && kind !== SLOT_EMPTY) return `container slot ${si} of a free container is not empty`;
        if ((kind === SLOT_EMPTY || kind === SLOT_SWAPPED) && cons.frame[si] !== -1) return `container slot ${si} holds no frame but names frame ${cons.frame[si]}`;
        if (kind === SLOT_EMPTY && cons.aux[si] !== 0) return `empty container slot ${si} keeps an epoch or swap page`;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let h = 0; h < m.config.handles; h++) {
        if (handles.free.has(h) && (handles.account[h] !== -1 || handles.frame[h] !== -1)) return `free DMA handle ${h} keeps its account or frame`;
      }
      // Stryker disable next-line EqualityOperator: one past the end the arrays read undefined and the bitmaps hold no member, so the extra turn finds nothing
      for (let p = 0; p < swap.frame.length; p++) {
        if (swap.free.has(p) && (swap.frame[p] !== -1 || swap.refs[p] !== 0)) return `free swap page ${p} keeps its frame or references`;
      }
      for (let p = 0; p < pages.leafTop; p++) {
        const free = pages.leafTask[p] === -1;
        if (free && pages.leafDirIndex[p] !== -1) return `free leaf page ${p} keeps its directory index`;
        if (!free && pages.leafNextFree[p] !== -1) return `leaf page ${p} is in use but keeps a free-list link`;
      }
      return null;
    },
  },
  {
    // Each pager's queue is a well-formed FIFO: qLen links from qHead to
    // qTail through qNext, each a task waiting on a fault with this pager;
    // every waiting task is in one queue; each pager's list of paged tasks
    // holds exactly the tasks it pages; the ledger counts are exact.
    name: "faultQueuesLinked",
    check(m) {
      const tasks = m.tasks;
      const n = m.config.tasks;
      let queued = 0;
      for (let p = 0; p < n; p++) {
        let len = 0;
        let last = -1;
        for (let t = tasks.qHead[p]!; t !== -1; t = tasks.qNext[t]!) {
          // Stryker disable next-line EqualityOperator: a queue holds at most n - 1 tasks (none waits at itself: pagersFormAForest), so it never holds n
          if (++len > n) return `the fault queue of task ${p} does not end`;
          if (tasks.faultPage[t] === -1 || tasks.pager[t] !== p) return `task ${t} is in the fault queue of task ${p} but does not wait on it`;
          last = t;
        }
        if (len !== tasks.qLen[p]) return `the fault queue of task ${p} links ${len} tasks but counts ${tasks.qLen[p]}`;
        if (tasks.qTail[p] !== last) return `the fault queue of task ${p} ends at ${last} but its tail is ${tasks.qTail[p]}`;
        queued += len;
      }
      let waiting = 0;
      for (let t = 0; t < n; t++) if (tasks.faultPage[t] !== -1) waiting++;
      if (waiting !== queued) return `${waiting} tasks wait on faults but ${queued} are queued`;
      let paged = 0;
      for (let p = 0; p < n; p++) {
        let prev = -1;
        // (this walk ends: the first task it met twice would need two back links)
        for (let t = m.tasks.pagedHead[p]!; t !== -1; t = m.tasks.pagedNext[t]!) {
          paged++;
          if (tasks.pager[t] !== p) return `task ${t} is on task ${p}'s list of paged tasks but its pager is ${tasks.pager[t]}`;
          if (tasks.pagedPrev[t] !== prev) return `task ${t}'s back link on the list of paged tasks is ${tasks.pagedPrev[t]}, not ${prev}`;
          prev = t;
        }
      }
      let withPager = 0;
      for (let t = 0; t < n; t++) if (tasks.pager[t] !== -1) withPager++;
      if (withPager !== paged) return `${withPager} tasks have a pager but ${paged} are on lists of paged tasks`;
      const owned = new Int32Array(n);
      // Stryker disable next-line EqualityOperator,ConditionalExpression: one past the end the array reads undefined; an entry of -1 would count at index -1, which a typed array ignores; no entry names task 0 (sigma0 never asks itself), so counting from 1 counts the same
      for (let v = 0; v < m.sigma0.length; v++) if (m.sigma0[v]! >= 0) owned[m.sigma0[v]!]! += 1;
      // Stryker disable next-line EqualityOperator: one past the end both arrays read undefined
      for (let t = 0; t < n; t++) if (owned[t] !== tasks.ledger[t]) return `task ${t} got ${owned[t]} of sigma0's pages but its ledger count is ${tasks.ledger[t]}`;
      return null;
    },
  },
  {
    // Each pager's notices are a well-formed FIFO of pool nodes: noteLen
    // nodes from noteHead to noteTail through noteNext, each naming a task
    // the pager pages; every other pool node is on the free list, cleared;
    // a free task holds no notice and has missed none.
    name: "noticesLinked",
    check(m) {
      const tasks = m.tasks;
      // (the pool's three arrays grow together, in addNotice)
      const pool = tasks.noteNext.length;
      const seen = new Uint8Array(pool);
      let used = 0;
      for (let p = 0; p < m.config.tasks; p++) {
        if (tasks.free.has(p) && (tasks.noteHead[p] !== -1 || tasks.noteLen[p] !== 0 || tasks.missed[p] !== 0)) return `free task ${p} keeps notices or a count of missed ones`;
        let len = 0;
        let last = -1;
        for (let x = tasks.noteHead[p]!; x !== -1; x = tasks.noteNext[x]!) {
          if (x < 0 || x >= pool || seen[x]) return `the notices of task ${p} reach node ${x} twice or outside the pool`;
          seen[x] = 1;
          len++;
          if (tasks.pager[tasks.noteTask[x]!] !== p) return `task ${p} holds a notice (node ${x}) about task ${tasks.noteTask[x]}, which it does not page`;
          last = x;
        }
        if (len !== tasks.noteLen[p]) return `the notices of task ${p} link ${len} nodes but count ${tasks.noteLen[p]}`;
        if (tasks.noteTail[p] !== last) return `the notices of task ${p} end at node ${last} but its tail is ${tasks.noteTail[p]}`;
        used += len;
      }
      let free = 0;
      for (let x = tasks.noteFree; x !== -1; x = tasks.noteNext[x]!) {
        if (x < 0 || x >= pool || seen[x]) return `the free notice nodes reach node ${x}, which is held or outside the pool`;
        seen[x] = 1;
        free++;
        if (tasks.noteTask[x] !== -1 || tasks.notePage[x] !== -1) return `free notice node ${x} keeps its task or page`;
      }
      if (used + free !== pool) return `${used} notice nodes are held and ${free} free, but the pool has ${pool}`;
      return null;
    },
  },
  {
    // A mapping's children, a capability's children and a capability's root
    // mappings are in order of key, greatest first (task, then page or
    // slot), as preempted walks take them; the preempted walks are counted
    // exactly and their tasks listed in order of id, each of a live task
    // with a live cursor (a revoke's below the capability it revokes; a
    // destroy's in a tree of the slot or page it empties, which it has not
    // passed: slots, pages and capability slots above are empty), and a
    // task without one keeps none of a walk's fields.
    name: "preemptedWalksExact",
    check(m) {
      const pages = m.pages;
      for (let e = 0; e < pages.up.length; e++) {
        if (pages.up[e] === -1) continue;
        let pt = -1;
        let pv = -1;
        for (let c = pages.firstChild[e]!; c !== -1; c = pages.next[c]!) {
          const t = pages.taskOf(c);
          const v = pages.vpageOf(c);
          if (pt !== -1 && (t > pt || (t === pt && v >= pv))) return `the children of mapping ${e} are not in order of key, greatest first: task ${t}'s page ${v} comes after task ${pt}'s page ${pv}`;
          pt = t;
          pv = v;
        }
      }
      const caps = m.caps;
      for (let n = 0; n < caps.info.length; n++) {
        if (caps.isEmpty(n)) continue;
        for (let c = caps.firstChild[n]!; c !== -1 && caps.nextSib[c] !== -1; c = caps.nextSib[c]!) {
          if (caps.nextSib[c]! >= c) return `the children of cap slot ${n} are not in order of key, greatest first: cap slot ${caps.nextSib[c]} comes after cap slot ${c}`;
        }
        for (let e = caps.firstMap[n]!; e !== -1 && pages.nextCap[e] !== -1; e = pages.nextCap[e]!) {
          if (!keyAfter(m, e, pages.nextCap[e]!)) return `the root mappings of cap slot ${n} are not in order of key, greatest first: mapping ${pages.nextCap[e]} comes after mapping ${e}`;
        }
      }
      for (let si = 0; si < pages.slotRoots.length; si++) {
        for (let e = pages.slotRoots[si]!; e !== -1 && pages.next[e] !== -1; e = pages.next[e]!) {
          if (!keyAfter(m, e, pages.next[e]!)) return `the root mappings of container slot ${si} are not in order of key, greatest first: mapping ${pages.next[e]} comes after mapping ${e}`;
        }
      }
      const tt = m.tasks;
      // (the marks of account links, the first zMarks entries in use: each of a chain that is there, once per account and chain; chainExact checks which)
      if (tt.zMarks < 0 || tt.zMarks > tt.markAcct.length) return `${tt.zMarks} marks of account links are counted, with room for ${tt.markAcct.length}`;
      for (let i = 0; i < tt.markAcct.length; i++) {
        const a = tt.markAcct[i]!;
        const owner = tt.markOwner[i]!;
        if (i >= tt.zMarks) {
          if (a !== -1 || owner !== -1 || tt.markAt[i] !== -1) return `mark ${i} of an account link is not in use but keeps account ${a}`;
          continue;
        }
        if (a < 0 || a >= m.config.accounts || owner < 0 || owner >= m.config.tasks) return `mark ${i} of an account link names account ${a} and task ${owner}`;
        if (tt.zInT[owner] === -1) return `account ${a} is marked as a link of task ${owner}'s chain of zombies, which has none`;
        for (let j = 0; j < i; j++) if (tt.markAcct[j] === a && tt.markOwner[j] === owner) return `account ${a} is marked twice as a link of task ${owner}'s chain`;
      }
      let pending = 0;
      for (let t = 0; t < m.config.tasks; t++) {
        if (tt.pendMode[t] === -1) {
          if (tt.pendVpage[t] !== -1 || tt.pendOrder[t] !== -1 || tt.pendPage[t] !== -1 || tt.pendBits[t] !== 0 || tt.curT[t] !== -1 || tt.lastT[t] !== -1 || tt.zoneT[t] !== -1 || noChain(m, t) !== null) return `task ${t} has no preempted removal but keeps fields of one`;
          continue;
        }
        pending++;
        if (tt.free.has(t)) return `free task ${t} has a preempted removal`;
        if (m.budget === Infinity) return `task ${t} has a preempted removal, but there is no budget`;
        if (tt.pendMode[t] === ADESTROY) {
          const a = tt.pendOrder[t]!;
          const k = caps.at(t, tt.pendVpage[t]!);
          const what = `task ${t}'s preempted account.destroy`;
          if (tt.pendVpage[t]! < 0 || tt.pendVpage[t]! >= caps.C || caps.isEmpty(k) || caps.kindOf(k) !== KIND_ACCOUNT || caps.objOf(k) !== a || m.accounts.free.has(a)) return `${what} names slot ${tt.pendVpage[t]}, which holds no capability to account ${a}`;
          if (m.accounts.parent[a] === -1) return `${what} destroys the root account`;
          if (!lastFieldsExact(m, t)) return `${what} keeps fields of an unmap`;
          if ((tt.curT[t] === -1) !== (tt.curV[t] === -1)) return `task ${t}'s preempted walk has half a cursor, last child or subtree`;
          const kind = tt.zoneT[t]!;
          const x = tt.zoneV[t]!;
          if (kind === -1) {
            if (x !== -1 || tt.pendPage[t] !== -1 || tt.pendBits[t] !== -1 || tt.curT[t] !== -1 || noChain(m, t) !== null) return `${what} is between objects but keeps where a walk stood`;
          } else if (kind === 0 || kind === 1) {
            if ((kind === 0 ? m.containers.free.has(x) : tt.free.has(x)) || !accountUnder(m, (kind === 0 ? m.containers.account : tt.account)[x]!, a)) return `${what} takes apart ${kind === 0 ? "container" : "task"} ${x}, which the account does not pay for`;
            const e = placeExact(m, t, what, kind, x, k);
            if (e) return e;
          } else return `${what} takes apart an object of kind ${kind}`;
          for (let u = 0; u < t; u++) if (tt.pendMode[u] === ADESTROY && tt.pendOrder[u] === a) return `tasks ${u} and ${t} both destroy account ${a}`;
        } else if (tt.pendMode[t] === TDESTROY) {
          const x = tt.pendOrder[t]!;
          const k = caps.at(t, tt.pendVpage[t]!);
          if (tt.pendVpage[t]! < 0 || tt.pendVpage[t]! >= caps.C || caps.isEmpty(k) || caps.kindOf(k) !== KIND_TASK || caps.objOf(k) !== x || tt.free.has(x)) return `task ${t}'s preempted task.destroy names slot ${tt.pendVpage[t]}, which holds no capability to task ${x}`;
          if (x === 0) return `task ${t}'s preempted task.destroy destroys the root task`;
          if (!lastFieldsExact(m, t) || tt.zoneT[t] !== -1 || tt.zoneV[t] !== -1) return `task ${t}'s preempted task.destroy keeps fields of an unmap`;
          for (let u = 0; u < t; u++) if (tt.pendMode[u] === TDESTROY && tt.pendOrder[u] === x) return `tasks ${u} and ${t} both destroy task ${x}`;
          if (noChain(m, t) !== null) {
            const e = placeExact(m, t, `task ${t}'s preempted task.destroy`, 1, x, k);
            if (e) return e;
            continue;
          }
          const V = m.config.vpages;
          if (tt.pendPage[t]! < -1 || tt.pendPage[t]! >= V) return `task ${t}'s preempted task.destroy stands at page ${tt.pendPage[t]}, outside the address space`;
          if (tt.pendBits[t]! < -1 || tt.pendBits[t]! >= caps.C || (tt.pendPage[t]! >= 0 && tt.pendBits[t] !== caps.C - 1)) return `task ${t}'s preempted task.destroy stands at capability slot ${tt.pendBits[t]} (page ${tt.pendPage[t]})`;
          if (tt.pendPage[t]! < V - 1 && pages.mappedAtOrBelow(x, V - 1) > tt.pendPage[t]!) return `task ${t}'s preempted task.destroy has passed page ${pages.mappedAtOrBelow(x, V - 1)} of task ${x}, which is mapped`;
          for (let i = tt.pendBits[t]! + 1; i < caps.C; i++) if (!caps.isEmpty(caps.at(x, i)) && caps.at(x, i) !== k) return `task ${t}'s preempted task.destroy has passed capability slot ${i} of task ${x}, which is not empty`;
          if ((tt.curT[t] === -1) !== (tt.curV[t] === -1)) return `task ${t}'s preempted walk has half a cursor, last child or subtree`;
          if (tt.curT[t] !== -1 && !taskCursorValid(m, t, x)) return `task ${t}'s preempted task.destroy stands at a mapping that is not in the tree of the page it empties, nor of a root mapping it hands up`;
        } else if (tt.pendMode[t] === DESTROY) {
          const c = tt.pendOrder[t]!;
          const k = caps.at(t, tt.pendVpage[t]!);
          if (tt.pendVpage[t]! < 0 || tt.pendVpage[t]! >= caps.C || caps.isEmpty(k) || caps.kindOf(k) !== KIND_CONTAINER || caps.objOf(k) !== c || m.containers.free.has(c)) return `task ${t}'s preempted destroy names slot ${tt.pendVpage[t]}, which holds no capability to container ${c}`;
          const S = m.containers.S;
          if (tt.pendPage[t]! < -1 || tt.pendPage[t]! >= S) return `task ${t}'s preempted destroy stands at slot ${tt.pendPage[t]}, outside the container`;
          for (let i = tt.pendPage[t]! + 1; i < S; i++) if (m.containers.kind[c * S + i] !== SLOT_EMPTY) return `task ${t}'s preempted destroy has passed slot ${i} of container ${c}, which is not empty`;
          if (tt.pendBits[t] !== 0 || tt.lastT[t] !== -1 || tt.lastV[t] !== -1 || tt.zoneT[t] !== -1 || tt.zoneV[t] !== -1 || noChain(m, t) !== null) return `task ${t}'s preempted destroy keeps fields of an unmap`;
          if ((tt.curT[t] === -1) !== (tt.curV[t] === -1)) return `task ${t}'s preempted walk has half a cursor, last child or subtree`;
          if (tt.curT[t] !== -1 && !destroyCursorValid(m, t, c)) return `task ${t}'s preempted destroy stands at a mapping that is not in a tree rooted at the slot it empties`;
        } else if (tt.pendMode[t] === REVOKE) {
          const top = caps.at(t, tt.pendVpage[t]!);
          if (tt.pendVpage[t]! < 0 || tt.pendVpage[t]! >= caps.C || caps.isEmpty(top)) return `task ${t}'s preempted revoke names slot ${tt.pendVpage[t]}, which holds no capability`;
          if ((tt.curT[t] === -1) !== (tt.curV[t] === -1)) return `task ${t}'s preempted walk has half a cursor, last child or subtree`;
          const kind = tt.zoneT[t]!;
          const x = tt.zoneV[t]!;
          if (kind !== -1) {
            // a zombie: a live container, task or account whose only capability is below top, with nothing hanging from it
            const what = `task ${t}'s preempted revoke`;
            if (tt.pendOrder[t] !== -1 || !lastFieldsExact(m, t)) return `${what} keeps fields of an unmap`;
            if (kind !== 0 && kind !== 1 && kind !== 2) return `${what} empties an object of kind ${kind}`;
            const name = `${ZOMBIE_KINDS[kind]} ${x}`;
            if (!zombieLive(m, kind, x)) return `${what} empties ${name}, which is not there`;
            const k = nameOf(m, kind, x);
            if (k === -1 || caps.objNext[k] !== -1) return `${what} empties ${name}, which ${k === -1 ? "no" : "more than one"} capability names`;
            if (!capUnder(m, k, top) || caps.firstChild[k] !== -1 || caps.firstMap[k] !== -1) return `${what} empties ${name}, whose capability is not a leaf below the one it revokes`;
            const e = placeExact(m, t, what, kind, x, k);
            if (e) return e;
          } else if (tt.pendOrder[t] !== -1 || tt.pendPage[t] !== -1 || tt.pendBits[t] !== 0 || tt.lastT[t] !== -1 || tt.lastV[t] !== -1 || x !== -1 || noChain(m, t) !== null) return `task ${t}'s preempted revoke keeps fields of an unmap`;
          else if (tt.curT[t] !== -1 && !revokeCursorValid(m, t, top)) return `task ${t}'s preempted revoke stands at a node that is not below the capability it revokes`;
        } else {
          if (tt.curT[t] !== -1 && (pages.dirOf[tt.curT[t]!] === -1 || pages.lookup(tt.curT[t]!, tt.curV[t]!) === -1)) return `task ${t}'s preempted walk stands at task ${tt.curT[t]}'s page ${tt.curV[t]}, which is not mapped`;
          if ((tt.curT[t] === -1) !== (tt.curV[t] === -1) || (tt.lastT[t] === -1) !== (tt.lastV[t] === -1) || (tt.zoneT[t] === -1) !== (tt.zoneV[t] === -1)) return `task ${t}'s preempted walk has half a cursor, last child or subtree`;
          if (noChain(m, t) !== null) return `task ${t}'s preempted page.unmap keeps zombies`;
        }
      }
      if (pending !== m.pendingCount) return `${pending} tasks have a preempted removal but ${m.pendingCount} are counted`;
      // (strictly ascending, each with a removal, as many as have one: exactly those)
      for (let i = 0; i < m.pendingCount; i++) {
        const t = m.pendingTasks[i]!;
        if (t < 0 || t >= m.config.tasks || tt.pendMode[t] === -1 || (i > 0 && t <= m.pendingTasks[i - 1]!)) return `the list of tasks with a preempted removal has task ${t} at ${i}, out of order or without one`;
      }
      return null;
    },
  },
  {
    name: "capLinksConsistent",
    check(m) {
      const caps = m.caps;
      return treeLinks(
        caps.info.length,
        (n) => !caps.isEmpty(n),
        caps,
        (c, n) => (caps.parent[c] === n ? null : `cap slot ${c} is in the child list of ${n} but has parent ${caps.parent[c]}`),
        (n) => `cap slot ${n} is missing from its parent's child list`,
      );
    },
  },
  {
    name: "accountLinksConsistent",
    check(m) {
      const acc = m.accounts;
      return treeLinks(
        m.config.accounts,
        (a) => !acc.free.has(a),
        acc,
        (c, a) => (acc.free.has(c) ? `free account ${c} is in the child list of ${a}` : acc.parent[c] === a ? null : `account ${c} is in the child list of ${a} but has parent ${acc.parent[c]}`),
        (a) => `account ${a} is missing from its parent's child list`,
        (a, e) => `account ${a}'s child list: ${e}`,
      );
    },
  },
  {
    name: "objectCapListsExact",
    check(m) {
      let listed = 0;
      for (let oi = 0; oi < m.caps.objFirst.length; oi++) {
        let before = -1;
        const e = walkList(m.caps.objFirst[oi]!, m.caps.objNext, m.caps.objPrev, m.caps.info.length, (n) => {
          listed++;
          if (m.caps.isEmpty(n)) return `empty cap slot ${n} is listed under object ${oi}`;
          if (m.caps.objSorted[oi] === 1 && before !== -1 && n > before) return `the list of object ${oi} is marked sorted but cap slot ${n} follows ${before}`;
          before = n;
          return m.caps.objIndex(m.caps.kindOf(n), m.caps.objOf(n)) === oi ? null : `cap slot ${n} is listed under the wrong object`;
        });
        if (e) return e;
      }
      let live = 0;
      for (let n = 0; n < m.caps.info.length; n++) if (!m.caps.isEmpty(n)) live++;
      return listed === live ? null : `${live} capabilities but ${listed} listed under objects`;
    },
  },
  {
    // Each account's lists of the tasks, containers and DMA handles it pays
    // for (tables/lists.ts) hold exactly those, each once; a list marked
    // sorted is in order, greatest id first; a free id is on no list.
    name: "paidListsExact",
    check(m) {
      for (const [what, table, count] of [
        ["task", m.tasks, m.config.tasks],
        ["container", m.containers, m.config.containers],
        ["DMA handle", m.handles, m.config.handles],
      ] as const) {
        const paid = table.paid;
        let listed = 0;
        for (let a = 0; a < m.config.accounts; a++) {
          let before = -1;
          const e = walkList(paid.first[a]!, paid.next, paid.prev, count, (x) => {
            listed++;
            if (table.free.has(x) || table.account[x] !== a) return `${what} ${x} is on it, which the account does not pay for`;
            if (paid.sorted[a] === 1 && before !== -1 && x > before) return `marked sorted, but ${what} ${x} follows ${before}`;
            before = x;
            return null;
          });
          if (e) return `the ${what} list of account ${a}: ${e}`;
        }
        let live = 0;
        for (let x = 0; x < count; x++) {
          if (!table.free.has(x)) live++;
          else if (paid.next[x] !== -1 || paid.prev[x] !== -1) return `free ${what} ${x} keeps links of a list of an account`;
        }
        if (listed !== live) return `${live} ${what}s but ${listed} on the lists of their accounts`;
      }
      return null;
    },
  },
  {
    name: "freeListsExact",
    check(m) {
      let freeLeaves = 0;
      for (let p = m.pages.leafFree; p !== -1; p = m.pages.leafNextFree[p]!) {
        if (m.pages.leafTask[p] !== -1) return `leaf page ${p} is in use and on the free list`;
        if (++freeLeaves > m.pages.leafTop) return "leaf free list does not end";
      }
      let liveLeaves = 0;
      for (let p = 0; p < m.pages.leafTop; p++) if (m.pages.leafTask[p] !== -1) liveLeaves++;
      if (freeLeaves + liveLeaves !== m.pages.leafTop) return `leaf pages leak: ${liveLeaves} in use + ${freeLeaves} free != ${m.pages.leafTop}`;
      let freeDirs = 0;
      const E = m.pages.dirEntries;
      for (let d = m.pages.dirFree; d !== -1; d = m.pages.dirPool[d * E]!) {
        // Stryker disable next-line EqualityOperator: task 0 always holds a directory page, so the free list never holds all of them
        if (++freeDirs > m.pages.dirTop) return "directory free list does not end";
        for (let i = 1; i < E; i++) if (m.pages.dirPool[d * E + i] !== -1) return `free directory page ${d} keeps leaf page ${m.pages.dirPool[d * E + i]} at index ${i}`;
      }
      let liveTasks = 0;
      for (let t = 0; t < m.config.tasks; t++) if (!m.tasks.free.has(t)) liveTasks++;
      return freeDirs + liveTasks === m.pages.dirTop ? null : `directory pages leak: ${liveTasks} tasks + ${freeDirs} free != ${m.pages.dirTop}`;
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

/**
 * Where task t's walk through container (kind 0) or task (kind 1) x
 * stands, an account destroy's or a revoke's zombie's (pendPage, pendBits,
 * curT/curV): within the container or the task, past only empty slots,
 * unmapped pages and empty capability slots (but `k`, kept for last), at a
 * mapping in the tree it empties; or null.
 */
/** Is zombie `kind` `x` (0 a container, 1 a task but not the root task, 2 an account but not the root account) there? */
function zombieLive(m: Machine, kind: number, x: number): boolean {
  if (x < 0) return false;
  if (kind === 0) return x < m.config.containers && !m.containers.free.has(x);
  return x > 0 && (kind === 1 ? x < m.config.tasks && !m.tasks.free.has(x) : x < m.config.accounts && !m.accounts.free.has(x));
}

/**
 * Are task t's lastT/lastV as its preempted destroy or revoke may keep
 * them: both -1, or, while the walk of the step to come is an account
 * zombie's (the innermost of the chain, or a revoke's zombie with none
 * inside), lastT 1 and lastV the task that walk takes apart
 * (accountZombieExact checks which)?
 */
function lastFieldsExact(m: Machine, t: number): boolean {
  const tt = m.tasks;
  if (tt.lastT[t] === -1 && tt.lastV[t] === -1) return true;
  const accountInner = tt.zInT[t] === 2 || (tt.zInT[t] === -1 && tt.pendMode[t] === REVOKE && tt.zoneT[t] === 2);
  return accountInner && tt.lastT[t] === 1 && tt.lastV[t] !== -1;
}

/** Does task t's row keep no chain of zombies (zOutT/zOutV, zInT/zInV all -1)? null if so, else the field that is set. */
function noChain(m: Machine, t: number): string | null {
  const tt = m.tasks;
  return tt.zOutT[t] !== -1 ? "zOutT" : tt.zOutV[t] !== -1 ? "zOutV" : tt.zInT[t] !== -1 ? "zInT" : tt.zInV[t] !== -1 ? "zInV" : null;
}

/**
 * Task t's walk through object (kind 0 a container, 1 a task, 2 a revoke's
 * account zombie) x, which skips capability k, with the zombies inside it:
 * without any, objectWalkExact; with them (inside a task, or inside the
 * task an account's walk stands in, which its mark says), chainExact.
 */
function placeExact(m: Machine, t: number, what: string, kind: number, x: number, k: number): string | null {
  const tt = m.tasks;
  if (noChain(m, t) === null) return objectWalkExact(m, t, what, kind, x, k);
  if (kind === 1) return chainExact(m, t, what, x, k, 0);
  if (kind === 0 || tt.linkOf(x, t) === -1) return `${what} keeps zombies inside ${ZOMBIE_KINDS[kind]} ${x}${kind === 2 ? ", which is not marked as a link of its chain" : ""}`;
  // (the task the account's walk stands in may hold k, the account's only capability, kept for last: then the chain's walk skips it)
  const o = tt.linkOf(x, t);
  return accountLinkExact(m, t, what, x, o, -1) ?? chainExact(m, t, what, o, k !== -1 && m.caps.taskOf(k) === o ? k : -1, 1);
}

/**
 * The chain of zombies inside task t's walk through task o (which skips
 * capability ko): its outermost (zOutT/zOutV) and innermost (zInT/zInV)
 * are both set; from the innermost out, each zombie is there (not the root
 * task or account) and one capability only names it, held by the next one
 * out: a task past its pages at the slot below it (pastPages), or a task
 * an account link's walk stands in, the account marked with it
 * (accountLinkExact); the outermost's by o, past its pages at the slot
 * below it too; the innermost's walk is exact (objectWalkExact); and the
 * accounts marked as links of t's chain are those found (`marked` of them
 * before it: a revoke's account zombie around it).
 */
function chainExact(m: Machine, t: number, what: string, o: number, ko: number, marked: number): string | null {
  const tt = m.tasks;
  const caps = m.caps;
  if (tt.zInT[t] === -1 || tt.zOutT[t] === -1 || tt.zInV[t] === -1 || tt.zOutV[t] === -1) return `${what} keeps half a chain of zombies (${noChain(m, t)} is set)`;
  let kind = tt.zInT[t]!;
  let id = tt.zInV[t]!;
  let inner = -1;
  let links = marked;
  // (a chain is as long as the tasks are many, at most)
  for (let hops = 0; hops <= m.config.tasks; hops++) {
    if (kind !== 0 && kind !== 1 && kind !== 2) return `${what} empties an object of kind ${kind}`;
    const name = ZOMBIE_KINDS[kind];
    if (!zombieLive(m, kind, id)) return `${what} empties ${name} ${id}, which is not there (or is the root task or account)`;
    const k = nameOf(m, kind, id);
    if (k === -1 || caps.objNext[k] !== -1) return `${what} empties ${name} ${id}, which ${k === -1 ? "no" : "more than one"} capability names`;
    if (kind === 2 && inner !== -1) {
      if (tt.linkOf(id, t) === -1) return `${what} empties account ${id} around another zombie, but it is not marked as a link of its chain`;
      links++;
    } else if (kind === 2 && tt.linkOf(id, t) !== -1) return `${what} marks account ${id}, its innermost zombie, as a link`;
    const e = inner === -1 ? objectWalkExact(m, t, what, kind, id, -1) : kind === 1 ? pastPages(m, what, id, inner, -1) : accountLinkExact(m, t, what, id, tt.linkOf(id, t), inner);
    if (e) return e;
    const h = caps.taskOf(k);
    if (kind === tt.zOutT[t] && id === tt.zOutV[t]) {
      if (h !== o) return `${what} empties ${name} ${id}, whose capability task ${o} does not hold`;
      let marks = 0;
      for (let i = 0; i < tt.zMarks; i++) if (tt.markOwner[i] === t) marks++;
      if (marks !== links) return `${what} marks ${marks} accounts as links of its chain, but ${links} are`;
      return pastPages(m, what, o, k, ko);
    }
    if (h === o) return `${what} empties ${name} ${id}, whose capability task ${o} holds, but it is not the outermost zombie`;
    // (the next one out: an account marked with h, whose walk stands in h, or h itself)
    let a = -1;
    for (let i = 0; i < tt.zMarks; i++) if (tt.markOwner[i] === t && tt.markAt[i] === h) a = tt.markAcct[i]!;
    kind = a === -1 ? 1 : 2;
    id = a === -1 ? h : a;
    inner = k;
  }
  return `${what} keeps a chain of zombies that does not end`;
}

/**
 * Task x's walk, around a zombie, is past its pages at the slot below
 * capability `inner` (the one naming that zombie): no page of x is mapped,
 * and its capability slots above `inner` are empty (but `skip`).
 */
function pastPages(m: Machine, what: string, x: number, inner: number, skip: number): string | null {
  const caps = m.caps;
  const v = m.pages.mappedAtOrBelow(x, m.config.vpages - 1);
  if (v !== -1) return `${what} has passed page ${v} of task ${x}, which is mapped`;
  for (let i = caps.slotOf(inner) + 1; i < caps.C; i++) if (!caps.isEmpty(caps.at(x, i)) && caps.at(x, i) !== skip) return `${what} has passed capability slot ${i} of task ${x}, which is not empty`;
  return null;
}

function objectWalkExact(m: Machine, t: number, what: string, kind: number, x: number, k: number): string | null {
  const tt = m.tasks;
  const caps = m.caps;
  const pages = m.pages;
  if (kind === 2) return accountZombieExact(m, t, what, x);
  if (kind === 0) return tt.pendBits[t] !== -1 ? `${what} stands at slot ${tt.pendPage[t]} of container ${x}` : containerSlotsExact(m, t, what, x);
  return taskWalkExact(m, t, what, x, k);
}

/**
 * Task t's walk through task x's pages and capabilities (pendPage,
 * pendBits, curT/curV): at a page and a capability slot of x (the last
 * slot while pages remain), past only unmapped pages and empty capability
 * slots (but `k`, kept for last), at a mapping in the tree of the page it
 * empties; or null.
 */
function taskWalkExact(m: Machine, t: number, what: string, x: number, k: number): string | null {
  const tt = m.tasks;
  const caps = m.caps;
  const pages = m.pages;
  const V = m.config.vpages;
  if (tt.pendPage[t]! < -1 || tt.pendPage[t]! >= V || tt.pendBits[t]! < -1 || tt.pendBits[t]! >= caps.C || (tt.pendPage[t]! >= 0 && tt.pendBits[t] !== caps.C - 1)) return `${what} stands at page ${tt.pendPage[t]}, capability slot ${tt.pendBits[t]} of task ${x}`;
  if (tt.pendPage[t]! < V - 1 && pages.mappedAtOrBelow(x, V - 1) > tt.pendPage[t]!) return `${what} has passed page ${pages.mappedAtOrBelow(x, V - 1)} of task ${x}, which is mapped`;
  for (let i = tt.pendBits[t]! + 1; i < caps.C; i++) if (!caps.isEmpty(caps.at(x, i)) && caps.at(x, i) !== k) return `${what} has passed capability slot ${i} of task ${x}, which is not empty`;
  if (tt.curT[t] !== -1 && !taskCursorValid(m, t, x)) return `${what} stands at a mapping that is not in the tree of the page it empties, nor of a root mapping it hands up`;
  return null;
}


/**
 * Task t's walk through account zombie a: neither a nor an account below
 * it pays for t or a task a walk around a stands in (walksAround); at a
 * task (lastT 1, lastV) that a or one below pays for, with no DMA handle
 * nor container they pay for left, exact as a task's walk (if that task
 * holds a's capability, which a revoke's account zombie may pay for: no
 * other task they pay for left, and that capability kept); between
 * objects (pendBits -1) at no slot and no mapping; else at a container
 * (pendBits) that a or one below pays for, with no DMA handle they pay
 * for left, and exact as a container's walk.
 */
function accountZombieExact(m: Machine, t: number, what: string, a: number): string | null {
  const tt = m.tasks;
  const busy = accountBusyExact(m, t, what, a);
  if (busy) return busy;
  if (tt.lastT[t] !== -1) {
    const y = tt.lastV[t]!;
    const at = accountAtTaskExact(m, what, a, y);
    if (at) return at;
    const k = nameOf(m, 2, a);
    const holds = k !== -1 && m.caps.taskOf(k) === y;
    for (let x = 0; holds && x < m.config.tasks; x++) if (x !== y && !tt.free.has(x) && accountUnder(m, tt.account[x]!, a)) return `${what} takes apart task ${y}, which holds the capability naming it, while task ${x}, which account ${a} pays for, is left`;
    return taskWalkExact(m, t, what, y, holds ? k : -1);
  }
  const handle = handleUnder(m, a);
  const c = tt.pendBits[t]!;
  if (c === -1) return tt.pendPage[t] === -1 && tt.curT[t] === -1 ? null : `${what} is between objects of account ${a} but keeps where a walk stood`;
  if (c < 0 || c >= m.config.containers || m.containers.free.has(c) || !accountUnder(m, m.containers.account[c]!, a)) return `${what} takes apart container ${c}, which account ${a} does not pay for`;
  if (handle !== -1) return `${what} takes apart container ${c} while DMA handle ${handle}, which account ${a} pays for, is left`;
  return containerSlotsExact(m, t, what, c);
}

/**
 * Task t's walk through account a, a link of its chain with a zombie
 * inside it, whose only capability `inner` (-1: checked elsewhere) task y
 * holds: the account pays for no task a walk around it stands in, it takes
 * y apart (accountAtTaskExact), and that walk is past y's pages at the
 * slot below `inner` (pastPages).
 */
function accountLinkExact(m: Machine, t: number, what: string, a: number, y: number, inner: number): string | null {
  // (y may hold a's own capability, kept for last: a revoke's account zombie's holder)
  const k = nameOf(m, 2, a);
  return accountBusyExact(m, t, what, a) ?? accountAtTaskExact(m, what, a, y) ?? (inner === -1 ? null : pastPages(m, what, y, inner, k !== -1 && m.caps.taskOf(k) === y ? k : -1));
}

/** Account zombie a of task t's removal pays for neither t nor a task a walk around it stands in (walksAround); or the message. */
function accountBusyExact(m: Machine, t: number, what: string, a: number): string | null {
  const tt = m.tasks;
  const busy = walksAround(m, t, a);
  for (let x = 0; x < m.config.tasks; x++) if (!tt.free.has(x) && accountUnder(m, tt.account[x]!, a) && busy.includes(x)) return `${what} empties account ${a}, which pays for task ${x}, the subject or a task a walk around it takes apart`;
  return null;
}

/** Account zombie a's walk may take task y apart: y is there, a or an account below it pays for it, and for no DMA handle or container; or the message. */
function accountAtTaskExact(m: Machine, what: string, a: number, y: number): string | null {
  if (y < 0 || y >= m.config.tasks || m.tasks.free.has(y) || !accountUnder(m, m.tasks.account[y]!, a)) return `${what} takes apart task ${y}, which account ${a} does not pay for`;
  const h = handleUnder(m, a);
  if (h !== -1) return `${what} takes apart task ${y} while DMA handle ${h}, which account ${a} pays for, is left`;
  for (let c = 0; c < m.config.containers; c++) if (!m.containers.free.has(c) && accountUnder(m, m.containers.account[c]!, a)) return `${what} takes apart task ${y} while container ${c}, which account ${a} pays for, is left`;
  return null;
}

/** The lowest DMA handle account a or an account below it pays for, or -1. */
function handleUnder(m: Machine, a: number): number {
  for (let h = 0; h < m.config.handles; h++) if (!m.handles.free.has(h) && accountUnder(m, m.handles.account[h]!, a)) return h;
  return -1;
}

/**
 * The tasks an account zombie a of task t's removal may not pay for: t,
 * and (but for a revoke's account zombie) the holder of the capability
 * naming a, and so on out, each zombie
 * task's holder, to the task the walk goes through (a destroy's, or a
 * revoke's zombie task, whose holder too), found through the capabilities
 * naming each (chainExact checks the chain itself).
 */
function walksAround(m: Machine, t: number, a: number): number[] {
  const tt = m.tasks;
  const out = [t];
  const holder = (kind: number, id: number): number => {
    const k = nameOf(m, kind, id);
    return k === -1 ? -1 : m.caps.taskOf(k);
  };
  // (a revoke's account zombie, around its chain if any: not the holder of its capability, which it takes apart last)
  if (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 2 && tt.zoneV[t] === a) return [t];
  let kind = 2;
  let id = a;
  // (from a out, through the chain it is a link of, to the outermost; a chain is as long as the tasks are many, at most)
  for (let hops = 0; tt.zInT[t] !== -1 && !(kind === tt.zOutT[t] && id === tt.zOutV[t]) && hops <= m.config.tasks; hops++) {
    const h = holder(kind, id);
    if (h === -1) break;
    out.push(h);
    // (the next one out: an account marked with h, whose walk stands in h, or h itself)
    let b = -1;
    for (let i = 0; i < tt.zMarks; i++) if (tt.markOwner[i] === t && tt.markAt[i] === h) b = tt.markAcct[i]!;
    kind = b === -1 ? 1 : 2;
    id = b === -1 ? h : b;
  }
  // (the outermost's holder: the task the walk goes through, or the holder of a revoke's zombie's capability)
  const h = holder(kind, id);
  if (h !== -1) out.push(h);
  // (a revoke's zombie task or account, around the chain: its holder too)
  if (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 1 && h === tt.zoneV[t]) out.push(holder(1, h));
  if (tt.pendMode[t] === REVOKE && tt.zoneT[t] === 2 && h !== -1 && h === tt.linkOf(tt.zoneV[t]!, t)) out.push(holder(2, tt.zoneV[t]!));
  return out;
}

/**
 * Task t's walk through container c's slots (pendPage, curT/curV): at a
 * slot of the container, past only empty slots, at a mapping in a tree
 * rooted at the slot it empties; or null.
 */
function containerSlotsExact(m: Machine, t: number, what: string, c: number): string | null {
  const tt = m.tasks;
  const S = m.containers.S;
  if (tt.pendPage[t]! < -1 || tt.pendPage[t]! >= S) return `${what} stands at slot ${tt.pendPage[t]} of container ${c}`;
  for (let i = tt.pendPage[t]! + 1; i < S; i++) if (m.containers.kind[c * S + i] !== SLOT_EMPTY) return `${what} has passed slot ${i} of container ${c}, which is not empty`;
  if (tt.curT[t] !== -1 && !destroyCursorValid(m, t, c)) return `${what} stands at a mapping that is not in a tree rooted at the slot it empties`;
  return null;
}
