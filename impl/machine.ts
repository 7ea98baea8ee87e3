/**
 * The implementation: the same kernel as spec/, done in place on typed arrays.
 *
 * Layout (struct-of-arrays throughout; an object, node or page is an index):
 * - frames: content, reference count, epoch, referenced/dirty flags, and a
 *   two-level bitmap of free frames for the lowest-free search;
 * - accounts, tasks, containers: fixed tables indexed by id, with a bitmap of
 *   free ids; accounts keep child lists for destroy;
 * - capability spaces: one Int32Array of `tasks * capSlots` entries holding a
 *   capability node index or -1;
 * - capability nodes: the derivation tree as first-child / next / prev
 *   sibling links, a per-object list of the nodes naming each object, and
 *   the list of root mappings each node authorized; free nodes are kept on a
 *   free list and the arrays grow by doubling;
 * - page tables and the mapping database are one structure: two-level radix
 *   tables (a directory page per task pointing at leaf pages of up to 512
 *   entries, both kinds of page kept in pools with free lists), where a leaf
 *   entry *is* the mapping node of its (task, vpage). The entry's fields
 *   (frame or slot, rights, parent or cap, first child, siblings, cap list)
 *   live in arrays parallel to the leaf pool, so a mapping costs 29 bytes
 *   with its page-table entry included, and finding it is two array reads.
 *   A child's siblings are the other children of its parent; a root mapping's
 *   "siblings" are the other root mappings of its container slot, and it is
 *   also on the list of the capability that authorized it.
 *
 * Every traversal of a tree uses an explicit stack (a reusable Int32Array),
 * never recursion. `exec` allocates no JS objects: it returns a status (0 for
 * ok, else 1 + the index of the error code in ERROR_CODES) and leaves the
 * result value in `value`. `apply` wraps it into a `Result` for tests.
 *
 * Preconditions are checked in exactly the order the spec documents, and all
 * of them before anything is changed: an error leaves every array as it was.
 */
import type { Config, ErrorCode, Op, Result } from "../spec/vocabulary.js";
import { ALL_RIGHTS, Config as ConfigSchema, ERROR_CODES, inRange, isAmount, isWord, R, rightsMask } from "../spec/vocabulary.js";
import { LowestFreeSet } from "./bitmap.js";

/** Status codes: 0 is ok, an error is 1 + its index in ERROR_CODES. */
export const E = Object.fromEntries(ERROR_CODES.map((c, i) => [c, i + 1])) as { readonly [K in ErrorCode]: number };
export const OK = 0;

export const KIND_ACCOUNT = 0;
export const KIND_TASK = 1;
export const KIND_CONTAINER = 2;
export const KIND_DMA = 3;

/** log2 of the largest leaf page; smaller address spaces get leaves just big enough */
export const PT_BITS = 9;
export const PT_SIZE = 1 << PT_BITS;

const FLAG_REFERENCED = 1; // = BIT_REFERENCED
const FLAG_DIRTY = 2; // = BIT_DIRTY

export const SLOT_EMPTY = 0;
export const SLOT_HARD = 1;
export const SLOT_SOFT = 2;
export const SLOT_SWAPPED = 3;

const SEND_MAP = 0;
const SEND_GRANT = 1;
const SEND_SHARE = 2;

function grown<T extends Int32Array | Uint8Array>(a: T, length: number, fill: number): T {
  const b = new (a.constructor as { new (n: number): T })(length);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}


export class Machine {
  readonly config: Config;
  private readonly C: number; // cap slots per task
  private readonly S: number; // slots per container
  readonly dirEntries: number; // directory entries per task

  // frames
  readonly content: Int32Array;
  readonly refs: Int32Array;
  readonly epoch: Int32Array;
  readonly flags: Uint8Array;
  readonly wired: Int32Array;
  /** frames with no hard reference and no valid soft reference */
  readonly freeFrames: LowestFreeSet;
  /** frames with no hard reference but a valid soft reference: reclaimable */
  readonly softOnly: LowestFreeSet;
  /** number of soft slots whose epoch matches the frame's */
  readonly softLive: Int32Array;

  // accounts
  readonly accParent: Int32Array;
  readonly accFirstChild: Int32Array;
  readonly accNextSib: Int32Array;
  readonly accPrevSib: Int32Array;
  readonly accFrameQuota: Float64Array;
  readonly accFramesCharged: Float64Array;
  readonly accObjQuota: Float64Array;
  readonly accObjCharged: Float64Array;
  readonly accYieldRequest: Float64Array;
  readonly freeAccounts: LowestFreeSet;

  // tasks
  readonly taskAccount: Int32Array;
  readonly taskDir: Int32Array;
  readonly freeTasks: LowestFreeSet;
  readonly cspace: Int32Array;

  // containers
  readonly conAccount: Int32Array;
  readonly conSlots: Int32Array; // frame of a hard or soft slot, else -1; by container * S + index
  readonly slotKind: Uint8Array; // SLOT_EMPTY, SLOT_HARD, SLOT_SOFT, SLOT_SWAPPED
  readonly slotAux: Int32Array; // epoch of a soft slot, content of a swapped one
  /** bumped when a container is destroyed: its capabilities go stale at once (Coyotos-style rescind) */
  readonly conVersion: Int32Array;
  readonly slotFirstMap: Int32Array; // root mappings of a slot
  readonly freeContainers: LowestFreeSet;

  // DMA handles
  readonly handleAccount: Int32Array;
  readonly handleFrame: Int32Array;
  readonly freeHandles: LowestFreeSet;

  // capability nodes
  capCap = 0;
  capTop = 0;
  capFree = -1;
  capKind = new Uint8Array(0);
  capRights = new Uint8Array(0);
  capObj = new Int32Array(0);
  capTask = new Int32Array(0);
  capSlot = new Int32Array(0);
  capParent = new Int32Array(0);
  capFirstChild = new Int32Array(0);
  capNextSib = new Int32Array(0);
  capPrevSib = new Int32Array(0);
  capObjNext = new Int32Array(0);
  capObjPrev = new Int32Array(0);
  capFirstMap = new Int32Array(0);
  /** for a container cap: the container's version when the cap was made */
  capVersion = new Int32Array(0);
  /** head of the list of cap nodes naming each object, by objIndex(kind, id) */
  readonly objFirstCap: Int32Array;

  // Directory pages: `dirEntries` entries each, a leaf page or -1.
  readonly leafBits: number;
  readonly leafSize: number;
  private readonly leafMask: number;
  dirPool = new Int32Array(0);
  dirPages = 0;
  dirTop = 0;
  dirFree = -1;

  // Leaf pages: owner, place in the owner's directory, live entries, free list.
  leafPages = 0;
  leafTop = 0;
  leafFree = -1;
  leafTask = new Int32Array(0); // -1 while free
  leafDirIndex = new Int32Array(0);
  leafCount = new Int32Array(0);
  leafNextFree = new Int32Array(0);

  // Leaf entries = mapping nodes, indexed by leaf * leafSize + (vpage & leafMask).
  /** -1: no mapping; >= 0: a mapping derived from that entry; <= -2: a root mapping authorized by cap node -2 - value */
  mapUp = new Int32Array(0);
  /** a derived mapping's frame; a root mapping's container slot (container * S + index), whose frame it maps */
  mapWhat = new Int32Array(0);
  mapRights = new Uint8Array(0);
  mapFirstChild = new Int32Array(0);
  /** next/previous child of the same parent; for a root mapping, next/previous root of the same slot */
  mapNext = new Int32Array(0);
  mapPrev = new Int32Array(0);
  /** root mappings only: next/previous mapping authorized by the same cap node */
  mapNextCap = new Int32Array(0);
  mapPrevCap = new Int32Array(0);

  // scratch stack for traversals, and a mark array for account destroy
  private stack = new Int32Array(64);
  private mapStack = new Int32Array(64);
  private readonly accMark: Uint8Array;

  /** The value of the last successful operation (id, frame, word), or null. */
  value: number | null = null;

  constructor(config: Config) {
    this.config = ConfigSchema.parse(config);
    const { frames, accounts, tasks, containers, capSlots, vpages, containerSlots, handles } = this.config;
    this.C = capSlots;
    this.S = containerSlots;
    this.leafBits = Math.min(PT_BITS, Math.ceil(Math.log2(vpages)));
    this.leafSize = 1 << this.leafBits;
    this.leafMask = this.leafSize - 1;
    this.dirEntries = Math.ceil(vpages / this.leafSize);
    if (this.dirEntries > PT_SIZE) throw new RangeError(`vpages ${vpages} exceeds a two-level table (${PT_SIZE * PT_SIZE})`);

    this.content = new Int32Array(frames);
    this.refs = new Int32Array(frames);
    this.epoch = new Int32Array(frames);
    this.flags = new Uint8Array(frames);
    this.wired = new Int32Array(frames);
    this.freeFrames = new LowestFreeSet(frames, true);
    this.softOnly = new LowestFreeSet(frames, false);
    this.softLive = new Int32Array(frames);

    this.accParent = new Int32Array(accounts).fill(-1);
    this.accFirstChild = new Int32Array(accounts).fill(-1);
    this.accNextSib = new Int32Array(accounts).fill(-1);
    this.accPrevSib = new Int32Array(accounts).fill(-1);
    this.accFrameQuota = new Float64Array(accounts);
    this.accFramesCharged = new Float64Array(accounts);
    this.accObjQuota = new Float64Array(accounts);
    this.accObjCharged = new Float64Array(accounts);
    this.accYieldRequest = new Float64Array(accounts);
    this.freeAccounts = new LowestFreeSet(accounts, true);
    this.accMark = new Uint8Array(accounts);

    this.taskAccount = new Int32Array(tasks).fill(-1);
    this.taskDir = new Int32Array(tasks).fill(-1);
    this.freeTasks = new LowestFreeSet(tasks, true);
    this.cspace = new Int32Array(tasks * capSlots).fill(-1);

    this.conAccount = new Int32Array(containers).fill(-1);
    this.conSlots = new Int32Array(containers * containerSlots).fill(-1);
    this.slotKind = new Uint8Array(containers * containerSlots);
    this.slotAux = new Int32Array(containers * containerSlots);
    this.conVersion = new Int32Array(containers);
    this.slotFirstMap = new Int32Array(containers * containerSlots).fill(-1);
    this.freeContainers = new LowestFreeSet(containers, true);

    this.handleAccount = new Int32Array(handles).fill(-1);
    this.handleFrame = new Int32Array(handles).fill(-1);
    this.freeHandles = new LowestFreeSet(handles, true);

    this.objFirstCap = new Int32Array(accounts + tasks + containers + handles).fill(-1);
    this.growCaps(16);
    this.growDirs(4);
    this.growLeaves(4);

    // Boot (sigma0): root account 0 with everything, root task 0 paid by it,
    // holding all-rights caps to the account (slot 0) and to itself (slot 1).
    this.freeAccounts.delete(0);
    this.accFrameQuota[0] = frames;
    this.accObjQuota[0] = this.config.objects;
    this.newTask(0, 0);
    this.newCap(0, 0, KIND_ACCOUNT, 0, ALL_RIGHTS, -1);
    this.newCap(0, 1, KIND_TASK, 0, ALL_RIGHTS, -1);
    this.accObjCharged[0] = 3;
  }

  // -------------------------------------------------------------------------
  // Storage management

  private growCaps(n: number): void {
    this.capKind = grown(this.capKind, n, 0);
    this.capRights = grown(this.capRights, n, 0);
    this.capObj = grown(this.capObj, n, -1);
    this.capTask = grown(this.capTask, n, -1);
    this.capSlot = grown(this.capSlot, n, -1);
    this.capParent = grown(this.capParent, n, -1);
    this.capFirstChild = grown(this.capFirstChild, n, -1);
    this.capNextSib = grown(this.capNextSib, n, -1);
    this.capPrevSib = grown(this.capPrevSib, n, -1);
    this.capObjNext = grown(this.capObjNext, n, -1);
    this.capObjPrev = grown(this.capObjPrev, n, -1);
    this.capFirstMap = grown(this.capFirstMap, n, -1);
    this.capVersion = grown(this.capVersion, n, 0);
    this.capCap = n;
  }

  private growDirs(pages: number): void {
    this.dirPool = grown(this.dirPool, pages * this.dirEntries, -1);
    this.dirPages = pages;
  }

  private growLeaves(pages: number): void {
    this.leafTask = grown(this.leafTask, pages, -1);
    this.leafDirIndex = grown(this.leafDirIndex, pages, -1);
    this.leafCount = grown(this.leafCount, pages, 0);
    this.leafNextFree = grown(this.leafNextFree, pages, -1);
    const n = pages * this.leafSize;
    this.mapUp = grown(this.mapUp, n, -1);
    this.mapWhat = grown(this.mapWhat, n, -1);
    this.mapRights = grown(this.mapRights, n, 0);
    this.mapFirstChild = grown(this.mapFirstChild, n, -1);
    this.mapNext = grown(this.mapNext, n, -1);
    this.mapPrev = grown(this.mapPrev, n, -1);
    this.mapNextCap = grown(this.mapNextCap, n, -1);
    this.mapPrevCap = grown(this.mapPrevCap, n, -1);
    this.leafPages = pages;
  }

  private allocCapNode(): number {
    let n = this.capFree;
    if (n !== -1) {
      this.capFree = this.capNextSib[n]!;
    } else {
      if (this.capTop === this.capCap) this.growCaps(this.capCap * 2);
      n = this.capTop++;
    }
    return n;
  }

  /** A directory page with no leaves (its first entry links the free list while free). */
  private allocDir(): number {
    let d = this.dirFree;
    if (d !== -1) {
      this.dirFree = this.dirPool[d * this.dirEntries]!;
      this.dirPool[d * this.dirEntries] = -1;
    } else {
      if (this.dirTop === this.dirPages) this.growDirs(this.dirPages * 2);
      d = this.dirTop++;
    }
    return d;
  }

  private freeDir(d: number): void {
    this.dirPool.fill(-1, d * this.dirEntries, (d + 1) * this.dirEntries);
    this.dirPool[d * this.dirEntries] = this.dirFree;
    this.dirFree = d;
  }

  /** A new empty leaf page at directory index `di` of task t. */
  private allocLeaf(t: number, di: number): number {
    let p = this.leafFree;
    if (p !== -1) {
      this.leafFree = this.leafNextFree[p]!;
      this.leafNextFree[p] = -1;
    } else {
      if (this.leafTop === this.leafPages) this.growLeaves(this.leafPages * 2);
      p = this.leafTop++;
    }
    this.leafTask[p] = t;
    this.leafDirIndex[p] = di;
    this.leafCount[p] = 0;
    this.dirPool[this.taskDir[t]! * this.dirEntries + di] = p;
    return p;
  }

  /** Unhooks leaf page p (all its entries already empty) from its directory and frees it. */
  private freeLeaf(p: number): void {
    this.dirPool[this.taskDir[this.leafTask[p]!]! * this.dirEntries + this.leafDirIndex[p]!] = -1;
    this.leafTask[p] = -1;
    this.leafDirIndex[p] = -1;
    this.leafNextFree[p] = this.leafFree;
    this.leafFree = p;
  }

  /** Pushes onto the stack for capability and account walks. */
  private push(sp: number, v: number): number {
    if (sp === this.stack.length) this.stack = grown(this.stack, sp * 2, 0);
    this.stack[sp] = v;
    return sp + 1;
  }

  /** Pushes onto the stack for mapping walks (these run inside capability walks). */
  private pushMap(sp: number, v: number): number {
    if (sp === this.mapStack.length) this.mapStack = grown(this.mapStack, sp * 2, 0);
    this.mapStack[sp] = v;
    return sp + 1;
  }

  objIndex(kind: number, id: number): number {
    const { accounts, tasks, containers } = this.config;
    return kind === KIND_ACCOUNT ? id : kind === KIND_TASK ? accounts + id : kind === KIND_CONTAINER ? accounts + tasks + id : accounts + tasks + containers + id;
  }

  // -------------------------------------------------------------------------
  // Page tables = mapping nodes

  /** The mapping node (leaf entry) at (task, vpage), or -1 if nothing is mapped there. */
  lookup(task: number, vpage: number): number {
    const leaf = this.dirPool[this.taskDir[task]! * this.dirEntries + (vpage >>> this.leafBits)]!;
    if (leaf < 0) return -1;
    const e = leaf * this.leafSize + (vpage & this.leafMask);
    return this.mapUp[e] === -1 ? -1 : e;
  }

  /** The entry for (task, vpage), with its leaf page allocated if need be (may grow the arrays). */
  private entryFor(task: number, vpage: number): number {
    const di = vpage >>> this.leafBits;
    let leaf = this.dirPool[this.taskDir[task]! * this.dirEntries + di]!;
    if (leaf < 0) leaf = this.allocLeaf(task, di);
    return leaf * this.leafSize + (vpage & this.leafMask);
  }

  /** The task whose page table holds entry e. */
  taskOf(e: number): number {
    return this.leafTask[e >>> this.leafBits]!;
  }

  /** The virtual page of entry e. */
  vpageOf(e: number): number {
    return this.leafDirIndex[e >>> this.leafBits]! * this.leafSize + (e & this.leafMask);
  }

  /** Is mapping e a root (made by page.map from a container slot)? */
  isRootMapping(e: number): boolean {
    return this.mapUp[e]! <= -2;
  }

  /** The cap node that authorized root mapping e. */
  capOfRoot(e: number): number {
    return -2 - this.mapUp[e]!;
  }

  /** The frame mapping e maps (a root maps whatever its slot holds). */
  frameAt(e: number): number {
    const w = this.mapWhat[e]!;
    return this.mapUp[e]! >= 0 ? w : this.conSlots[w]!;
  }

  /** Empties entry e (its links must already be undone), freeing its leaf page with its last entry. */
  private clearEntry(e: number): void {
    this.mapUp[e] = -1;
    this.mapWhat[e] = -1;
    this.mapRights[e] = 0;
    this.mapFirstChild[e] = -1;
    this.mapNext[e] = -1;
    this.mapPrev[e] = -1;
    this.mapNextCap[e] = -1;
    this.mapPrevCap[e] = -1;
    const leaf = e >>> this.leafBits;
    if (--this.leafCount[leaf]! === 0) this.freeLeaf(leaf);
  }

  // -------------------------------------------------------------------------
  // Creating

  private newTask(id: number, account: number): void {
    this.freeTasks.delete(id);
    this.taskAccount[id] = account;
    this.taskDir[id] = this.allocDir();
  }

  /** A new cap node in (task, slot), linked under `parent` (or a root), charged to nobody. */
  private newCap(task: number, slot: number, kind: number, obj: number, rights: number, parent: number): number {
    const stale = this.cspace[task * this.C + slot]!;
    if (stale !== -1) this.removeCapSubtree(stale); // only a stale cap can be left in a free slot
    const n = this.allocCapNode();
    this.capVersion[n] = kind === KIND_CONTAINER ? this.conVersion[obj]! : 0;
    this.capKind[n] = kind;
    this.capObj[n] = obj;
    this.capRights[n] = rights;
    this.capTask[n] = task;
    this.capSlot[n] = slot;
    this.capParent[n] = parent;
    this.capFirstChild[n] = -1;
    this.capFirstMap[n] = -1;
    this.capPrevSib[n] = -1;
    if (parent !== -1) {
      const first = this.capFirstChild[parent]!;
      this.capNextSib[n] = first;
      if (first !== -1) this.capPrevSib[first] = n;
      this.capFirstChild[parent] = n;
    } else {
      this.capNextSib[n] = -1;
    }
    const oi = this.objIndex(kind, obj);
    const head = this.objFirstCap[oi]!;
    this.capObjNext[n] = head;
    this.capObjPrev[n] = -1;
    if (head !== -1) this.capObjPrev[head] = n;
    this.objFirstCap[oi] = n;
    this.cspace[task * this.C + slot] = n;
    return n;
  }

  /** Installs a cap in (task, slot) and charges the task's account for it. */
  private installCap(task: number, slot: number, kind: number, obj: number, rights: number, parent: number): void {
    this.newCap(task, slot, kind, obj, rights, parent);
    this.accObjCharged[this.taskAccount[task]!]! += 1;
  }

  // -------------------------------------------------------------------------
  // Removing (explicit stacks; every removal refunds its payer)

  /** Unlinks cap node n from its parent's child list. */
  private unlinkCapFromParent(n: number): void {
    const p = this.capParent[n]!;
    const prev = this.capPrevSib[n]!;
    const next = this.capNextSib[n]!;
    if (prev !== -1) this.capNextSib[prev] = next;
    else if (p !== -1) this.capFirstChild[p] = next;
    if (next !== -1) this.capPrevSib[next] = prev;
    this.capPrevSib[n] = -1;
    this.capNextSib[n] = -1;
  }

  /** Frees cap node n itself (not its children), after its mappings are gone. */
  private freeCapNode(n: number): void {
    while (this.capFirstMap[n]! !== -1) this.removeMappingSubtree(this.capFirstMap[n]!);
    const task = this.capTask[n]!;
    this.cspace[task * this.C + this.capSlot[n]!] = -1;
    this.accObjCharged[this.taskAccount[task]!]! -= 1;
    // unlink from the object's list
    const prev = this.capObjPrev[n]!;
    const next = this.capObjNext[n]!;
    if (prev !== -1) this.capObjNext[prev] = next;
    else if (!this.isStale(n)) this.objFirstCap[this.objIndex(this.capKind[n]!, this.capObj[n]!)] = next; // a stale list is detached
    if (next !== -1) this.capObjPrev[next] = prev;
    this.capTask[n] = -1;
    this.capSlot[n] = -1;
    this.capObj[n] = -1;
    this.capParent[n] = -1;
    this.capFirstChild[n] = -1;
    this.capPrevSib[n] = -1;
    this.capObjNext[n] = -1;
    this.capObjPrev[n] = -1;
    this.capNextSib[n] = this.capFree;
    this.capFree = n;
  }

  /** Removes cap node `top` and all its descendants, with their mappings. */
  private removeCapSubtree(top: number): void {
    this.unlinkCapFromParent(top);
    let sp = this.push(0, top);
    while (sp > 0) {
      const n = this.stack[--sp]!;
      for (let c = this.capFirstChild[n]!; c !== -1; c = this.capNextSib[c]!) sp = this.push(sp, c);
      this.freeCapNode(n);
    }
  }

  /**
   * Takes mapping e out of the list it hangs on: its parent's children, or
   * for a root its slot's roots and its cap's mappings. Its own fields stay.
   */
  private unlinkMapping(e: number): void {
    const up = this.mapUp[e]!;
    const prev = this.mapPrev[e]!;
    const next = this.mapNext[e]!;
    if (prev !== -1) this.mapNext[prev] = next;
    else if (up >= 0) this.mapFirstChild[up] = next;
    else this.slotFirstMap[this.mapWhat[e]!] = next;
    if (next !== -1) this.mapPrev[next] = prev;
    if (up <= -2) {
      const pc = this.mapPrevCap[e]!;
      const nc = this.mapNextCap[e]!;
      if (pc !== -1) this.mapNextCap[pc] = nc;
      else this.capFirstMap[-2 - up] = nc;
      if (nc !== -1) this.mapPrevCap[nc] = pc;
    }
  }

  /** Removes mapping `top` and all mappings derived from it, refunding each holder's account. */
  private removeMappingSubtree(top: number): void {
    this.unlinkMapping(top);
    let sp = this.pushMap(0, top);
    while (sp > 0) {
      const e = this.mapStack[--sp]!;
      for (let c = this.mapFirstChild[e]!; c !== -1; c = this.mapNext[c]!) sp = this.pushMap(sp, c);
      this.accObjCharged[this.taskAccount[this.taskOf(e)]!]! -= 1;
      this.clearEntry(e);
    }
  }

  /** Removes every cap naming object (kind, id), with descendants and mappings. */
  private rescind(kind: number, id: number): void {
    const oi = this.objIndex(kind, id);
    while (this.objFirstCap[oi]! !== -1) this.removeCapSubtree(this.objFirstCap[oi]!);
  }

  private destroyTask(t: number): void {
    const base = t * this.C;
    for (let s = 0; s < this.C; s++) {
      const n = this.cspace[base + s]!;
      if (n !== -1) this.removeCapSubtree(n);
    }
    this.rescind(KIND_TASK, t);
    const dir = this.taskDir[t]!;
    for (let d = 0; d < this.dirEntries; d++) {
      for (let i = 0; i < this.leafSize; i++) {
        const leaf = this.dirPool[dir * this.dirEntries + d]!;
        if (leaf < 0) break; // freed with its last entry
        const e = leaf * this.leafSize + i;
        if (this.mapUp[e] !== -1) this.removeMappingSubtree(e);
      }
    }
    this.freeDir(dir);
    this.taskDir[t] = -1;
    this.accObjCharged[this.taskAccount[t]!]! -= 1;
    this.taskAccount[t] = -1;
    this.freeTasks.add(t);
  }

  private destroyHandle(h: number): void {
    this.rescind(KIND_DMA, h);
    const f = this.handleFrame[h]!;
    this.wired[f]! -= 1;
    this.refreshFrame(f);
    this.accObjCharged[this.handleAccount[h]!]! -= 1;
    this.handleAccount[h] = -1;
    this.handleFrame[h] = -1;
    this.freeHandles.add(h);
  }

  /**
   * Destroys container c. Its capabilities are rescinded in O(1): bumping the
   * version makes every one of them stale (dead when used, invisible to the
   * abstraction function) and detaches their object list; the nodes are freed
   * lazily, when their slot is reused or their task dies. Its mappings are
   * all rooted at its slots and go with them.
   */
  private destroyContainer(c: number): void {
    this.conVersion[c]! += 1;
    this.objFirstCap[this.objIndex(KIND_CONTAINER, c)] = -1;
    const account = this.conAccount[c]!;
    for (let i = 0; i < this.S; i++) this.dropSlot(c * this.S + i, account);
    this.accObjCharged[account]! -= 1;
    this.conAccount[c] = -1;
    this.freeContainers.add(c);
  }

  /**
   * Lets go of what container slot `si` holds (its account is `account`) and
   * leaves it empty: a hard reference takes its mappings along and refunds the
   * frame charge; a valid soft reference stops counting for its frame.
   */
  private dropSlot(si: number, account: number): void {
    const kind = this.slotKind[si]!;
    const f = this.conSlots[si]!;
    if (kind === SLOT_HARD) {
      while (this.slotFirstMap[si]! !== -1) this.removeMappingSubtree(this.slotFirstMap[si]!);
      this.accFramesCharged[account]! -= 1;
      this.refs[f]! -= 1;
      this.refreshFrame(f);
    } else if (kind === SLOT_SOFT && this.slotAux[si] === this.epoch[f]) {
      this.softLive[f]! -= 1;
      this.refreshFrame(f);
    }
    this.slotKind[si] = SLOT_EMPTY;
    this.conSlots[si] = -1;
    this.slotAux[si] = 0;
  }

  /** Puts frame f into the free or soft-only set as its counts now say. */
  private refreshFrame(f: number): void {
    const unused = this.refs[f] === 0 && this.wired[f] === 0;
    const soft = this.softLive[f]! > 0;
    if (unused && !soft) this.freeFrames.add(f);
    else this.freeFrames.delete(f);
    if (unused && soft) this.softOnly.add(f);
    else this.softOnly.delete(f);
  }

  /** The frame to hand out next (lowest free, else lowest soft-only), or -1. */
  private nextFrame(): number {
    const f = this.freeFrames.lowest();
    return f >= 0 ? f : this.softOnly.lowest();
  }

  /** Gives frame f to a new user: one more reference, new epoch (soft refs go stale), bits clear. */
  private takeFrame(f: number, content: number): void {
    this.refs[f]! += 1;
    this.epoch[f]! += 1;
    this.softLive[f] = 0;
    this.content[f] = content;
    this.flags[f] = 0;
    this.refreshFrame(f);
  }

  private destroyAccount(a: number): void {
    // Mark the subtree (explicit stack over child lists) and add up its quota.
    let frameQuota = 0;
    let objQuota = 0;
    let sp = this.push(0, a);
    while (sp > 0) {
      const x = this.stack[--sp]!;
      this.accMark[x] = 1;
      frameQuota += this.accFrameQuota[x]!;
      objQuota += this.accObjQuota[x]!;
      for (let c = this.accFirstChild[x]!; c !== -1; c = this.accNextSib[c]!) sp = this.push(sp, c);
    }
    const { tasks, containers, accounts } = this.config;
    for (let t = 0; t < tasks; t++) if (!this.freeTasks.has(t) && this.accMark[this.taskAccount[t]!]) this.destroyTask(t);
    for (let c = 0; c < containers; c++) if (!this.freeContainers.has(c) && this.accMark[this.conAccount[c]!]) this.destroyContainer(c);
    for (let h = 0; h < this.config.handles; h++) if (!this.freeHandles.has(h) && this.accMark[this.handleAccount[h]!]) this.destroyHandle(h);
    for (let x = 0; x < accounts; x++) if (this.accMark[x]) this.rescind(KIND_ACCOUNT, x);
    // Return the quota to the parent, refund the node, unlink a.
    const p = this.accParent[a]!;
    this.accFrameQuota[p]! += frameQuota;
    this.accObjQuota[p]! += objQuota;
    this.accObjCharged[p]! -= 1;
    const prev = this.accPrevSib[a]!;
    const next = this.accNextSib[a]!;
    if (prev !== -1) this.accNextSib[prev] = next;
    else this.accFirstChild[p] = next;
    if (next !== -1) this.accPrevSib[next] = prev;
    for (let x = 0; x < accounts; x++) {
      if (!this.accMark[x]) continue;
      this.accMark[x] = 0;
      this.accParent[x] = -1;
      this.accFirstChild[x] = -1;
      this.accNextSib[x] = -1;
      this.accPrevSib[x] = -1;
      this.accFrameQuota[x] = 0;
      this.accFramesCharged[x] = 0;
      this.accObjQuota[x] = 0;
      this.accObjCharged[x] = 0;
      this.accYieldRequest[x] = 0;
      this.freeAccounts.add(x);
    }
  }

  // -------------------------------------------------------------------------
  // Checks shared by the operations (same order as the spec's lookups)

  private subjectOk(task: unknown): task is number {
    return inRange(task, this.config.tasks) && !this.freeTasks.has(task);
  }

  /** Cap node in the subject's slot, or -(status). Checks BadCapSlot, NoCap, WrongType, NoRights. */
  private capIn(task: number, slot: unknown, kind: number, need: number): number {
    if (!inRange(slot, this.C)) return -E.BadCapSlot;
    const n = this.cspace[task * this.C + slot]!;
    if (n === -1 || this.isStale(n)) return -E.NoCap;
    if (kind !== -1 && this.capKind[n] !== kind) return -E.WrongType;
    if ((this.capRights[n]! & need) !== need) return -E.NoRights;
    return n;
  }

  /** 0 if (task, slot) can take a new cap, else a status. */
  private freeCapSlot(task: number, slot: unknown): number {
    if (!inRange(slot, this.C)) return E.BadCapSlot;
    const n = this.cspace[task * this.C + slot]!;
    return n !== -1 && !this.isStale(n) ? E.CapSlotOccupied : 0;
  }

  /**
   * Can account a take `need` more objects? Its charge may still include
   * capabilities made stale by a container rescind (they are charged until
   * their slot is reused or their task dies, but the spec has already
   * refunded them), so when the quick answer is no, count those (a scan of
   * the capability nodes, only on this rare path) before saying no.
   */
  private hasObjects(a: number, need: number): boolean {
    const unused = this.accObjQuota[a]! - this.accObjCharged[a]!;
    return unused >= need || unused + this.staleHeld()[a]! >= need;
  }

  /** For each account, the stale capability nodes held by the tasks it pays for (a scan). */
  staleHeld(): Int32Array {
    const counts = new Int32Array(this.config.accounts);
    for (let c = 0; c < this.capTop; c++) if (this.capTask[c] !== -1 && this.isStale(c)) counts[this.taskAccount[this.capTask[c]!]!]! += 1;
    return counts;
  }

  /** A container capability whose container was destroyed (or its id reused) since it was made. */
  isStale(n: number): boolean {
    return this.capKind[n] === KIND_CONTAINER && this.capVersion[n] !== this.conVersion[this.capObj[n]!];
  }

  private canPayObjectAndCap(payer: number, objects: number, subjectAccount: number): number {
    const needPayer = objects + (payer === subjectAccount ? 1 : 0);
    if (!this.hasObjects(payer, needPayer)) return E.ObjectQuotaExceeded;
    if (payer !== subjectAccount && !this.hasObjects(subjectAccount, 1)) return E.ObjectQuotaExceeded;
    return 0;
  }

  // -------------------------------------------------------------------------
  // Operations

  /** Applies one operation; returns a `Result` (allocates: for tests and tools). */
  apply(op: Op): Result {
    const status = this.exec(op);
    return status === OK ? { ok: true, value: this.value } : { ok: false, error: ERROR_CODES[status - 1]! };
  }

  /** Applies one operation; returns 0 or an error status. Allocates nothing. */
  exec(op: Op): number {
    this.value = null;
    if (op === null || typeof op !== "object") return E.BadValue;
    switch (op.op) {
      case "account.create":
        return this.accountCreate(op.task, op.account, op.dest, op.frames, op.objects);
      case "account.transfer":
        return this.accountTransfer(op.task, op.from, op.to, op.frames, op.objects);
      case "account.destroy":
        return this.accountDestroy(op.task, op.account);
      case "task.create":
        return this.createObject(op.task, op.account, op.dest, KIND_TASK);
      case "task.destroy":
        return this.taskDestroy(op.task, op.target);
      case "container.create":
        return this.createObject(op.task, op.account, op.dest, KIND_CONTAINER);
      case "container.destroy":
        return this.containerDestroy(op.task, op.container);
      case "container.alloc":
        return this.containerAlloc(op.task, op.container, op.index);
      case "container.free":
        return this.containerFree(op.task, op.container, op.index);
      case "container.copy":
        return this.containerCopy(op.task, op.src, op.srcIndex, op.dst, op.dstIndex);
      case "container.demote":
        return this.containerDemote(op.task, op.container, op.index);
      case "container.promote":
        return this.containerPromote(op.task, op.container, op.index);
      case "container.swapOut":
        return this.containerSwapOut(op.task, op.container, op.index);
      case "container.swapIn":
        return this.containerSwapIn(op.task, op.container, op.index);
      case "account.request":
        return this.accountRequest(op.task, op.account, op.frames);
      case "account.yieldRequest":
        return this.accountYieldRequest(op.task, op.account, op.frames);
      case "account.yield":
        return this.accountYield(op.task, op.account);
      case "dma.wire":
        return this.dmaWire(op.task, op.container, op.index, op.dest);
      case "dma.unwire":
        return this.dmaUnwire(op.task, op.handle);
      case "dma.write":
        return this.dmaWrite(op.task, op.handle, op.value);
      case "physmem.relocate":
        return this.physmemRelocate(op.frame);
      case "cap.derive":
        return this.capDerive(op.task, op.src, op.dest, rightsMask(op.rights));
      case "cap.copy":
        return this.capCopy(op.task, op.src, op.target, op.dest);
      case "cap.delete":
        return this.capDelete(op.task, op.slot);
      case "cap.revoke":
        return this.capRevoke(op.task, op.slot);
      case "page.map":
        return this.pageMap(op.task, op.container, op.index, op.vpage, rightsMask(op.rights));
      case "page.unmap":
        return this.pageUnmap(op.task, op.vpage, op.order, op.mode === "derived" ? 0 : op.mode === "all" ? 1 : op.mode === "readonly" ? 2 : -1);
      case "page.bits":
        return this.pageBits(op.task, op.vpage);
      case "l4.map":
        return this.l4Send(op.task, op.vpage, op.target, op.dest, rightsMask(op.rights), SEND_MAP);
      case "l4.grant":
        return this.l4Send(op.task, op.vpage, op.target, op.dest, 0, SEND_GRANT);
      case "l4.share":
        return this.l4Send(op.task, op.vpage, op.target, op.dest, rightsMask(op.rights), SEND_SHARE);
      case "mem.read":
        return this.memRead(op.task, op.vpage);
      case "mem.write":
        return this.memWrite(op.task, op.vpage, op.value);
      default:
        return E.BadValue;
    }
  }

  accountCreate(task: number, slot: number, dest: number, frames: number, objects: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_ACCOUNT, R.alloc);
    if (cap < 0) return -cap;
    const se = this.freeCapSlot(task, dest);
    if (se) return se;
    if (!isAmount(frames) || !isAmount(objects)) return E.BadValue;
    const id = this.freeAccounts.lowest();
    if (id < 0) return E.OutOfIds;
    const p = this.capObj[cap]!;
    if (this.accFrameQuota[p]! - this.accFramesCharged[p]! < frames) return E.FrameQuotaExceeded;
    const qe = this.canPayObjectAndCap(p, objects + 1, this.taskAccount[task]!);
    if (qe) return qe;

    this.accFrameQuota[p]! -= frames;
    this.accObjQuota[p]! -= objects;
    this.accObjCharged[p]! += 1;
    this.freeAccounts.delete(id);
    this.accParent[id] = p;
    this.accFrameQuota[id] = frames;
    this.accFramesCharged[id] = 0;
    this.accObjQuota[id] = objects;
    this.accObjCharged[id] = 0;
    this.accFirstChild[id] = -1;
    this.accPrevSib[id] = -1;
    const first = this.accFirstChild[p]!;
    this.accNextSib[id] = first;
    if (first !== -1) this.accPrevSib[first] = id;
    this.accFirstChild[p] = id;
    this.installCap(task, dest, KIND_ACCOUNT, id, ALL_RIGHTS, -1);
    this.value = id;
    return OK;
  }

  accountTransfer(task: number, fromSlot: number, toSlot: number, frames: number, objects: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const from = this.capIn(task, fromSlot, KIND_ACCOUNT, R.alloc);
    if (from < 0) return -from;
    const to = this.capIn(task, toSlot, KIND_ACCOUNT, 0);
    if (to < 0) return -to;
    if (!isAmount(frames) || !isAmount(objects)) return E.BadValue;
    const a = this.capObj[from]!;
    const b = this.capObj[to]!;
    if (this.accParent[a] !== b && this.accParent[b] !== a) return E.NotRelated;
    if (this.accFrameQuota[a]! - this.accFramesCharged[a]! < frames) return E.FrameQuotaExceeded;
    if (!this.hasObjects(a, objects)) return E.ObjectQuotaExceeded;
    this.accFrameQuota[a]! -= frames;
    this.accObjQuota[a]! -= objects;
    this.accFrameQuota[b]! += frames;
    this.accObjQuota[b]! += objects;
    return OK;
  }

  accountDestroy(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_ACCOUNT, R.alloc);
    if (cap < 0) return -cap;
    const a = this.capObj[cap]!;
    if (this.accParent[a] === -1) return E.IsRoot;
    this.destroyAccount(a);
    return OK;
  }

  createObject(task: number, slot: number, dest: number, kind: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_ACCOUNT, R.alloc);
    if (cap < 0) return -cap;
    const se = this.freeCapSlot(task, dest);
    if (se) return se;
    const id = kind === KIND_TASK ? this.freeTasks.lowest() : this.freeContainers.lowest();
    if (id < 0) return E.OutOfIds;
    const payer = this.capObj[cap]!;
    const qe = this.canPayObjectAndCap(payer, 1, this.taskAccount[task]!);
    if (qe) return qe;

    this.accObjCharged[payer]! += 1;
    if (kind === KIND_TASK) {
      this.newTask(id, payer);
    } else {
      this.freeContainers.delete(id);
      this.conAccount[id] = payer;
    }
    this.installCap(task, dest, kind, id, ALL_RIGHTS, -1);
    this.value = id;
    return OK;
  }

  taskDestroy(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_TASK, R.alloc);
    if (cap < 0) return -cap;
    this.destroyTask(this.capObj[cap]!);
    return OK;
  }

  containerDestroy(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_CONTAINER, R.alloc);
    if (cap < 0) return -cap;
    this.destroyContainer(this.capObj[cap]!);
    return OK;
  }

  containerAlloc(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_CONTAINER, R.alloc);
    if (cap < 0) return -cap;
    if (!inRange(index, this.S)) return E.BadIndex;
    const c = this.capObj[cap]!;
    const si = c * this.S + index;
    if (this.slotKind[si] !== SLOT_EMPTY) return E.FrameSlotOccupied;
    const a = this.conAccount[c]!;
    if (this.accFrameQuota[a]! - this.accFramesCharged[a]! < 1) return E.FrameQuotaExceeded;
    const f = this.nextFrame();
    if (f < 0) return E.OutOfMemory;

    this.takeFrame(f, 0);
    this.slotKind[si] = SLOT_HARD;
    this.conSlots[si] = f;
    this.accFramesCharged[a]! += 1;
    this.value = f;
    return OK;
  }

  containerFree(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_CONTAINER, R.alloc);
    if (cap < 0) return -cap;
    if (!inRange(index, this.S)) return E.BadIndex;
    const c = this.capObj[cap]!;
    const si = c * this.S + index;
    if (this.slotKind[si] === SLOT_EMPTY) return E.FrameSlotEmpty;
    this.dropSlot(si, this.conAccount[c]!);
    return OK;
  }

  capDerive(task: number, srcSlot: number, dest: number, rights: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const src = this.capIn(task, srcSlot, -1, 0);
    if (src < 0) return -src;
    if (rights < 0 || (rights & ~this.capRights[src]!) !== 0) return E.BadRights;
    const se = this.freeCapSlot(task, dest);
    if (se) return se;
    if (!this.hasObjects(this.taskAccount[task]!, 1)) return E.ObjectQuotaExceeded;
    this.installCap(task, dest, this.capKind[src]!, this.capObj[src]!, rights, src);
    return OK;
  }

  capCopy(task: number, srcSlot: number, targetSlot: number, dest: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const src = this.capIn(task, srcSlot, -1, 0);
    if (src < 0) return -src;
    const target = this.capIn(task, targetSlot, KIND_TASK, R.write);
    if (target < 0) return -target;
    const receiver = this.capObj[target]!;
    const se = this.freeCapSlot(receiver, dest);
    if (se) return se;
    if (!this.hasObjects(this.taskAccount[receiver]!, 1)) return E.ObjectQuotaExceeded;
    this.installCap(receiver, dest, this.capKind[src]!, this.capObj[src]!, this.capRights[src]!, src);
    return OK;
  }

  capDelete(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const n = this.capIn(task, slot, -1, 0);
    if (n < 0) return -n;
    // Children move up to n's parent (or become roots), then n goes alone.
    const parent = this.capParent[n]!;
    let c = this.capFirstChild[n]!;
    while (c !== -1) {
      const next = this.capNextSib[c]!;
      this.capParent[c] = parent;
      this.capPrevSib[c] = -1;
      if (parent !== -1) {
        const first = this.capFirstChild[parent]!;
        this.capNextSib[c] = first;
        if (first !== -1) this.capPrevSib[first] = c;
        this.capFirstChild[parent] = c;
      } else {
        this.capNextSib[c] = -1;
      }
      c = next;
    }
    this.capFirstChild[n] = -1;
    this.unlinkCapFromParent(n);
    this.freeCapNode(n);
    return OK;
  }

  capRevoke(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const n = this.capIn(task, slot, -1, 0);
    if (n < 0) return -n;
    while (this.capFirstChild[n]! !== -1) this.removeCapSubtree(this.capFirstChild[n]!);
    return OK;
  }

  pageMap(task: number, slot: number, index: number, vpage: number, rights: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (rights <= 0 || (rights & ~(R.read | R.write)) !== 0) return E.BadRights;
    const cap = this.capIn(task, slot, KIND_CONTAINER, rights);
    if (cap < 0) return -cap;
    if (!inRange(index, this.S)) return E.BadIndex;
    const c = this.capObj[cap]!;
    const si = c * this.S + index;
    const f = this.conSlots[si]!;
    if (this.slotKind[si] === SLOT_EMPTY) return E.FrameSlotEmpty;
    if (this.slotKind[si] !== SLOT_HARD) return E.SlotNotHard;
    if (!inRange(vpage, this.config.vpages)) return E.BadPage;
    if (this.lookup(task, vpage) !== -1) return E.PageMapped;
    const account = this.taskAccount[task]!;
    if (!this.hasObjects(account, 1)) return E.ObjectQuotaExceeded;

    this.newMapping(task, vpage, rights, -1, cap, si);
    return OK;
  }

  /**
   * A new mapping at (task, vpage), charged to the task's account: derived
   * from mapping `parent` (whose frame it maps), or (parent -1) a root
   * authorized by cap node `cap` for container slot `si`.
   */
  private newMapping(task: number, vpage: number, rights: number, parent: number, cap: number, si: number): number {
    const e = this.entryFor(task, vpage);
    this.leafCount[e >>> this.leafBits]! += 1;
    this.mapUp[e] = parent !== -1 ? parent : -2 - cap;
    this.mapWhat[e] = parent !== -1 ? this.frameAt(parent) : si;
    this.mapRights[e] = rights;
    this.linkMapping(e);
    this.accObjCharged[this.taskAccount[task]!]! += 1;
    return e;
  }

  /** Hooks mapping e (mapUp and mapWhat set) at the head of its lists: its parent's children, or its slot's and cap's roots. */
  private linkMapping(e: number): void {
    const up = this.mapUp[e]!;
    const first = up >= 0 ? this.mapFirstChild[up]! : this.slotFirstMap[this.mapWhat[e]!]!;
    this.mapNext[e] = first;
    this.mapPrev[e] = -1;
    if (first !== -1) this.mapPrev[first] = e;
    if (up >= 0) this.mapFirstChild[up] = e;
    else this.slotFirstMap[this.mapWhat[e]!] = e;
    if (up <= -2) {
      const cap = -2 - up;
      const head = this.capFirstMap[cap]!;
      this.mapNextCap[e] = head;
      this.mapPrevCap[e] = -1;
      if (head !== -1) this.mapPrevCap[head] = e;
      this.capFirstMap[cap] = e;
    }
  }

  /**
   * Moves mapping e to (task, vpage) (l4.grant): same parent or source, same
   * children; the node changes place, so its links are redone and its
   * children are told (a loop over its children, not over the subtree).
   */
  private moveMapping(e: number, task: number, vpage: number): void {
    const q = this.entryFor(task, vpage);
    this.leafCount[q >>> this.leafBits]! += 1;
    this.unlinkMapping(e);
    this.mapUp[q] = this.mapUp[e]!;
    this.mapWhat[q] = this.mapWhat[e]!;
    this.mapRights[q] = this.mapRights[e]!;
    this.linkMapping(q);
    const first = this.mapFirstChild[e]!;
    this.mapFirstChild[q] = first;
    for (let c = first; c !== -1; c = this.mapNext[c]!) this.mapUp[c] = q;
    this.clearEntry(e);
  }

  /** Referenced/dirty bits of the frame mapped by node m. */
  private bitsOf(m: number): number {
    return this.flags[this.frameAt(m)]! & (FLAG_REFERENCED | FLAG_DIRTY);
  }

  pageUnmap(task: number, vpage: number, order: number, mode: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!inRange(order, 31)) return E.BadPage;
    const size = 2 ** order;
    if (!inRange(vpage, this.config.vpages) || vpage % size !== 0 || vpage + size > this.config.vpages) return E.BadPage;
    if (mode < 0) return E.BadValue;
    let bits = 0;
    for (let v = vpage; v < vpage + size; v++) {
      const m = this.lookup(task, v);
      if (m !== -1) bits |= this.bitsOf(m);
    }
    for (let v = vpage; v < vpage + size; v++) {
      const m = this.lookup(task, v);
      if (m === -1) continue;
      if (mode === 1) this.removeMappingSubtree(m);
      else if (mode === 0) while (this.mapFirstChild[m]! !== -1) this.removeMappingSubtree(this.mapFirstChild[m]!);
      else this.takeWriteBelow(m);
    }
    this.value = bits;
    return OK;
  }

  /** Takes write from every mapping below m; removes those left with no right. */
  private takeWriteBelow(top: number): void {
    let sp = this.push(0, top);
    while (sp > 0) {
      const n = this.stack[--sp]!;
      let c = this.mapFirstChild[n]!;
      while (c !== -1) {
        const next = this.mapNext[c]!;
        if (this.mapRights[c] === R.write) {
          this.removeMappingSubtree(c);
        } else {
          this.mapRights[c] = this.mapRights[c]! & ~R.write;
          sp = this.push(sp, c);
        }
        c = next;
      }
    }
  }

  pageBits(task: number, vpage: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!inRange(vpage, this.config.vpages)) return E.BadPage;
    const m = this.lookup(task, vpage);
    if (m === -1) return E.NotMapped;
    this.value = this.bitsOf(m);
    const f = this.frameAt(m);
    this.flags[f] = this.flags[f]! & ~(FLAG_REFERENCED | FLAG_DIRTY);
    return OK;
  }

  /** l4.map, l4.grant, l4.share: the same checks as the spec's sendChecks, then the kind's effect. */
  l4Send(task: number, vpage: number, targetSlot: number, dest: number, rights: number, kind: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!inRange(vpage, this.config.vpages)) return E.BadPage;
    const m = this.lookup(task, vpage);
    if (m === -1) return E.NotMapped;
    if (kind !== SEND_GRANT && (rights <= 0 || (rights & ~this.mapRights[m]!) !== 0)) return E.BadRights;
    const target = this.capIn(task, targetSlot, KIND_TASK, R.write);
    if (target < 0) return -target;
    const to = this.capObj[target]!;
    if (!inRange(dest, this.config.vpages)) return E.BadPage;
    if (this.lookup(to, dest) !== -1) return E.PageMapped;
    const moving = kind === SEND_GRANT && this.taskAccount[to] === this.taskAccount[task];
    if (!moving && !this.hasObjects(this.taskAccount[to]!, 1)) return E.ObjectQuotaExceeded;

    if (kind === SEND_MAP) {
      this.newMapping(to, dest, rights, m, -1, -1);
    } else if (kind === SEND_SHARE) {
      const up = this.mapUp[m]!;
      if (up >= 0) this.newMapping(to, dest, rights, up, -1, -1);
      else this.newMapping(to, dest, rights, -1, -2 - up, this.mapWhat[m]!);
    } else {
      // grant: the node itself moves; its links (parent, children, lists) stay
      this.accObjCharged[this.taskAccount[task]!]! -= 1;
      this.moveMapping(m, to, dest);
      this.accObjCharged[this.taskAccount[to]!]! += 1;
    }
    return OK;
  }

  memRead(task: number, vpage: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!inRange(vpage, this.config.vpages)) return E.BadPage;
    const m = this.lookup(task, vpage);
    if (m === -1) return E.NotMapped;
    if ((this.mapRights[m]! & R.read) === 0) return E.ProtectionFault;
    const f = this.frameAt(m);
    this.flags[f]! |= FLAG_REFERENCED;
    this.value = this.content[f]!;
    return OK;
  }

  memWrite(task: number, vpage: number, value: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!isWord(value)) return E.BadValue;
    if (!inRange(vpage, this.config.vpages)) return E.BadPage;
    const m = this.lookup(task, vpage);
    if (m === -1) return E.NotMapped;
    if ((this.mapRights[m]! & R.write) === 0) return E.ProtectionFault;
    let f = this.frameAt(m);
    if (this.wired[f]! > 0) return E.Wired;
    if (this.refs[f]! > 1) {
      // copy-on-write: the root slot gets a fresh frame with the old content
      const g = this.nextFrame();
      if (g < 0) return E.OutOfMemory;
      let root = m;
      while (this.mapUp[root]! >= 0) root = this.mapUp[root]!;
      const si = this.mapWhat[root]!;
      this.takeFrame(g, this.content[f]!);
      this.refs[f]! -= 1;
      this.refreshFrame(f);
      this.conSlots[si] = g;
      // roots read their frame from the slot; derived mappings hold it
      for (let r = this.slotFirstMap[si]!; r !== -1; r = this.mapNext[r]!) this.redirect(r, g);
      f = g;
    }
    this.content[f] = value;
    this.flags[f]! |= FLAG_REFERENCED | FLAG_DIRTY;
    this.epoch[f]! += 1;
    this.softLive[f] = 0;
    this.refreshFrame(f);
    return OK;
  }

  /** Points every mapping derived from root mapping `top` at frame g. */
  private redirect(top: number, g: number): void {
    let sp = 0;
    for (let c = this.mapFirstChild[top]!; c !== -1; c = this.mapNext[c]!) sp = this.pushMap(sp, c);
    while (sp > 0) {
      const n = this.mapStack[--sp]!;
      this.mapWhat[n] = g;
      for (let c = this.mapFirstChild[n]!; c !== -1; c = this.mapNext[c]!) sp = this.pushMap(sp, c);
    }
  }

  /** The container slot index named by a container cap and a slot number, or -(status). */
  private slotVia(task: number, slot: number, index: number, need: number): number {
    const cap = this.capIn(task, slot, KIND_CONTAINER, need);
    if (cap < 0) return cap;
    if (!inRange(index, this.S)) return -E.BadIndex;
    return this.capObj[cap]! * this.S + index;
  }

  private needHard(si: number): number {
    const kind = this.slotKind[si]!;
    return kind === SLOT_EMPTY ? E.FrameSlotEmpty : kind !== SLOT_HARD ? E.SlotNotHard : 0;
  }

  private unusedFrames(a: number): number {
    return this.accFrameQuota[a]! - this.accFramesCharged[a]!;
  }

  containerCopy(task: number, src: number, srcIndex: number, dst: number, dstIndex: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const from = this.slotVia(task, src, srcIndex, R.read);
    if (from < 0) return -from;
    const he = this.needHard(from);
    if (he) return he;
    const to = this.slotVia(task, dst, dstIndex, R.alloc);
    if (to < 0) return -to;
    if (this.slotKind[to] !== SLOT_EMPTY) return E.FrameSlotOccupied;
    const account = this.conAccount[(to / this.S) | 0]!;
    if (this.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
    const f = this.conSlots[from]!;
    this.slotKind[to] = SLOT_HARD;
    this.conSlots[to] = f;
    this.refs[f]! += 1;
    this.refreshFrame(f);
    this.accFramesCharged[account]! += 1;
    return OK;
  }

  containerDemote(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const si = this.slotVia(task, slot, index, R.alloc);
    if (si < 0) return -si;
    const he = this.needHard(si);
    if (he) return he;
    const f = this.conSlots[si]!;
    if (this.wired[f]! > 0) return E.Wired;
    this.dropSlot(si, this.conAccount[(si / this.S) | 0]!);
    this.slotKind[si] = SLOT_SOFT;
    this.conSlots[si] = f;
    this.slotAux[si] = this.epoch[f]!;
    this.softLive[f]! += 1;
    this.refreshFrame(f);
    return OK;
  }

  containerPromote(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const si = this.slotVia(task, slot, index, R.alloc);
    if (si < 0) return -si;
    if (this.slotKind[si] !== SLOT_SOFT) return E.NotSoft;
    const f = this.conSlots[si]!;
    if (this.slotAux[si] !== this.epoch[f]) return E.Stale;
    const account = this.conAccount[(si / this.S) | 0]!;
    if (this.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
    this.slotKind[si] = SLOT_HARD;
    this.slotAux[si] = 0;
    this.softLive[f]! -= 1;
    this.refs[f]! += 1;
    this.refreshFrame(f);
    this.accFramesCharged[account]! += 1;
    return OK;
  }

  containerSwapOut(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const si = this.slotVia(task, slot, index, R.alloc);
    if (si < 0) return -si;
    const he = this.needHard(si);
    if (he) return he;
    if (this.wired[this.conSlots[si]!]! > 0) return E.Wired;
    const content = this.content[this.conSlots[si]!]!;
    this.dropSlot(si, this.conAccount[(si / this.S) | 0]!);
    this.slotKind[si] = SLOT_SWAPPED;
    this.slotAux[si] = content;
    return OK;
  }

  containerSwapIn(task: number, slot: number, index: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const si = this.slotVia(task, slot, index, R.alloc);
    if (si < 0) return -si;
    if (this.slotKind[si] !== SLOT_SWAPPED) return E.NotSwapped;
    const account = this.conAccount[(si / this.S) | 0]!;
    if (this.unusedFrames(account) < 1) return E.FrameQuotaExceeded;
    const f = this.nextFrame();
    if (f < 0) return E.OutOfMemory;
    this.takeFrame(f, this.slotAux[si]!);
    this.slotKind[si] = SLOT_HARD;
    this.conSlots[si] = f;
    this.slotAux[si] = 0;
    this.accFramesCharged[account]! += 1;
    this.value = f;
    return OK;
  }

  /** The non-root account named by an `alloc` cap, or -(status). */
  private childAccountVia(task: number, slot: number): number {
    const cap = this.capIn(task, slot, KIND_ACCOUNT, R.alloc);
    if (cap < 0) return cap;
    const a = this.capObj[cap]!;
    return this.accParent[a] === -1 ? -E.IsRoot : a;
  }

  accountRequest(task: number, slot: number, frames: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const a = this.childAccountVia(task, slot);
    if (a < 0) return -a;
    if (!isAmount(frames)) return E.BadValue;
    const p = this.accParent[a]!;
    if (this.unusedFrames(p) < frames) return E.Denied;
    this.accFrameQuota[p]! -= frames;
    this.accFrameQuota[a]! += frames;
    return OK;
  }

  accountYieldRequest(task: number, slot: number, frames: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const a = this.childAccountVia(task, slot);
    if (a < 0) return -a;
    if (!isAmount(frames)) return E.BadValue;
    this.accYieldRequest[a] = frames;
    return OK;
  }

  accountYield(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const a = this.childAccountVia(task, slot);
    if (a < 0) return -a;
    const n = Math.min(this.accYieldRequest[a]!, this.unusedFrames(a));
    this.accFrameQuota[a]! -= n;
    this.accYieldRequest[a]! -= n;
    this.accFrameQuota[this.accParent[a]!]! += n;
    this.value = n;
    return OK;
  }

  dmaWire(task: number, slot: number, index: number, dest: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const si = this.slotVia(task, slot, index, R.priv);
    if (si < 0) return -si;
    const he = this.needHard(si);
    if (he) return he;
    const se = this.freeCapSlot(task, dest);
    if (se) return se;
    const h = this.freeHandles.lowest();
    if (h < 0) return E.OutOfIds;
    const account = this.taskAccount[task]!;
    const qe = this.canPayObjectAndCap(account, 1, account);
    if (qe) return qe;
    const f = this.conSlots[si]!;
    this.freeHandles.delete(h);
    this.handleAccount[h] = account;
    this.handleFrame[h] = f;
    this.wired[f]! += 1;
    this.refreshFrame(f);
    this.accObjCharged[account]! += 1;
    this.installCap(task, dest, KIND_DMA, h, ALL_RIGHTS, -1);
    this.value = h;
    return OK;
  }

  dmaUnwire(task: number, slot: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    const cap = this.capIn(task, slot, KIND_DMA, R.alloc);
    if (cap < 0) return -cap;
    this.destroyHandle(this.capObj[cap]!);
    return OK;
  }

  dmaWrite(task: number, slot: number, value: number): number {
    if (!this.subjectOk(task)) return E.NoSuchTask;
    if (!isWord(value)) return E.BadValue;
    const cap = this.capIn(task, slot, KIND_DMA, R.write);
    if (cap < 0) return -cap;
    const f = this.handleFrame[this.capObj[cap]!]!;
    this.content[f] = value;
    this.epoch[f]! += 1;
    this.softLive[f] = 0;
    this.refreshFrame(f);
    return OK;
  }

  /**
   * Environment: physmem moves frame f. Finds the hard slots holding f by a
   * scan of all container slots (relocation is rare; no reverse index kept).
   */
  physmemRelocate(f: number): number {
    if (!inRange(f, this.config.frames)) return E.BadFrame;
    if (this.refs[f] === 0) return E.FrameNotInUse;
    if (this.wired[f]! > 0) return E.Wired;
    const g = this.nextFrame();
    if (g < 0) return E.OutOfMemory;
    for (let si = 0; si < this.conSlots.length; si++) {
      if (this.slotKind[si] !== SLOT_HARD || this.conSlots[si] !== f) continue;
      while (this.slotFirstMap[si]! !== -1) this.removeMappingSubtree(this.slotFirstMap[si]!);
      this.conSlots[si] = g;
    }
    this.refs[g] = this.refs[f]!;
    this.epoch[g]! += 1;
    this.softLive[g] = 0;
    this.content[g] = this.content[f]!;
    this.flags[g] = this.flags[f]!;
    this.refs[f] = 0;
    this.refreshFrame(f);
    this.refreshFrame(g);
    this.value = g;
    return OK;
  }
}
