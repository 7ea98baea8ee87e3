/**
 * The security properties: what an attacker must not be able to do, stated
 * as named state invariants and two-state properties (MODEL.md, "The model
 * is a security specification"). Spec and impl agreeing proves nothing when
 * both are wrong the same way; these are what notice.
 *
 * - confinement: all authority hangs, by recorded derivation, under sigma0's
 *   two boot capabilities, and rights never grow along any edge, object
 *   creation and wiring included (seL4's authority-confinement theorem asks
 *   the same of its capability derivation tree);
 * - noOrphans: every object but the root account and the root task is named
 *   by some capability, so someone can always reclaim it;
 * - wiredNeverShared: a frame wired for DMA is never also a logical copy, so
 *   a device can never write through a copy-on-write share (seed 000 wires
 *   "the containers memory", not somebody else's);
 * - framesBacked: every frame in use is paid for by an account (seed 004:
 *   the policy server must never overcommit);
 * - noAccessAfterRevoke (two-state): once revoke returns (under a budget:
 *   its last entry), nothing whose authority came through the revoked
 *   subtree survives;
 * - copyOnWriteIsolation (two-state): a frame held by two or more slots
 *   never changes in place, not even by a device;
 * - authorityOnlyDerived (two-state): a step adds a capability only as a
 *   child of one that existed before it, and when a capability or a root
 *   mapping is re-attached (because what it hung from vanished) it moves up
 *   its own line of ancestors, never sideways;
 * - consentToReceive (two-state): a task's capability space and page table
 *   gain entries only by its own operations, inside the receive window it
 *   opened, or at the page of its own fault when its pager answers, so
 *   nobody makes another account pay for what it did not accept;
 * - accessBitsPrivate (two-state): a mapping's referenced/dirty bits are set
 *   only by accesses through it and cleared only through it or a mapping it
 *   derives from (Pistachio and Fiasco keep them per page-table entry);
 * - quotaLeavesOnlyByOwnAction (two-state): an account's quota shrinks only
 *   by an operation of a task it pays for, or with its destruction (Genode:
 *   a parent takes quota back only by destroying the child).
 */
import type { CapRef, Cap, State } from "./state.js";
import { BOOT_ACCOUNT_SLOT, BOOT_TASK_SLOT, capKey, mapKey, ROOT_ACCOUNT, ROOT_TASK } from "./state.js";
import type { ObjectKind, Op, OpKind } from "./vocabulary.js";
import { ALL_RIGHTS, R, rightsMask } from "./vocabulary.js";
import { allCaps, allMappings, capAt, mapAt } from "./walk.js";
import { answered } from "./pagers.js";

interface Property {
  readonly name: string;
  readonly description: string;
}
export interface StateProperty extends Property {
  readonly check: (s: State) => string | null;
}
export interface StepProperty extends Property {
  readonly check: (before: State, op: Op, after: State) => string | null;
}

/**
 * The access a pager's answer completed in this step, if any: fault.resolve
 * and sigma0.serve answer the oldest fault at their pager, and when they
 * resolve it (rather than refuse it) the faulting task's page is mapped
 * after the step and the access went through that mapping. `via` is the
 * pager's mapping the answer handed on.
 */
export function resumedAccess(before: State, op: Op, after: State): { task: number; vpage: number; write: boolean; via: { task: number; vpage: number } } | null {
  const a = op.op === "fault.refuse" ? null : answered(before, op);
  if (!a) return null;
  const { task: t, fault, pager } = a;
  // (an answer maps only at a page that is not mapped: a refusal leaves a protection fault's page mapped as it was)
  if (after.tasks[t]?.fault || before.tasks[t]!.pages[fault.vpage] || !after.tasks[t]?.pages[fault.vpage]) return null;
  return { task: t, vpage: fault.vpage, write: fault.write, via: { task: pager, vpage: op.op === "fault.resolve" ? op.vpage : fault.vpage } };
}

/** Did the subject's access fault in this step (it waits for its pager after it, and did not before)? */
export const accessFaulted = (before: State, op: Op, after: State): boolean =>
  (op.op === "mem.read" || op.op === "mem.write") && !before.tasks[op.task]?.fault && !!after.tasks[op.task]?.fault;

const isBoot = (r: CapRef) => r.task === ROOT_TASK && (r.slot === BOOT_ACCOUNT_SLOT || r.slot === BOOT_TASK_SLOT);

/** Is account `a` the account `ancestor` or one of its descendants? */
function within(s: State, a: number, ancestor: number): boolean {
  let hops = 0;
  for (let x: number | null = a; x !== null; x = s.accounts[x]?.parent ?? null) {
    if (x === ancestor) return true;
    if (++hops > s.accounts.length) return false;
  }
  return false;
}

/** Is capability `anc` a strict ancestor of `r` in state s? */
function isAncestor(s: State, anc: CapRef, r: CapRef): boolean {
  let hops = 0;
  for (let p = capAt(s, r)?.parent ?? null; p !== null; p = capAt(s, p)?.parent ?? null) {
    if (p.task === anc.task && p.slot === anc.slot) return true;
    if (++hops > s.tasks.length * s.config.capSlots) return false;
  }
  return false;
}

/** The object a capability names, as a key. */
const objectKey = (c: Cap) => `${c.kind}:${c.object}`;

/**
 * May capability `child` hang from `parent`? Either it names the same
 * object (derivation), or the parent is an account capability and the child
 * names what an account capability makes (an object paid by that account or
 * one below it, a sub-account of it) or a DMA handle re-attached up from a
 * vanished container capability, or the parent is a container capability
 * and the child a DMA handle it authorized (wiring).
 */
function edgeAllowed(s: State, parent: Cap, child: Cap): boolean {
  if (parent.kind === child.kind && parent.object === child.object) return true;
  if (child.kind === "dma") return parent.kind === "container" || parent.kind === "account";
  if (parent.kind !== "account") return false;
  if (child.kind === "account") {
    const p = s.accounts[child.object]?.parent ?? null;
    return p !== null && within(s, p, parent.object);
  }
  const payer = child.kind === "task" ? s.tasks[child.object]?.account : s.containers[child.object]?.account;
  return payer !== undefined && within(s, payer, parent.object);
}

export const SECURITY_INVARIANTS: readonly StateProperty[] = [
  {
    name: "confinement",
    description:
      "All authority hangs under sigma0: the two boot capabilities exist with all rights and are the only capabilities without a parent, every other capability hangs from one naming the same object or from the capability that made or wired its object (an account capability above the object's payer, a container capability above a DMA handle), and no capability has a right its parent lacks.",
    check(s) {
      const bootAccount = capAt(s, { task: ROOT_TASK, slot: BOOT_ACCOUNT_SLOT });
      const bootTask = capAt(s, { task: ROOT_TASK, slot: BOOT_TASK_SLOT });
      if (bootAccount?.kind !== "account" || bootAccount.object !== ROOT_ACCOUNT || bootAccount.rights !== ALL_RIGHTS || bootAccount.parent !== null) return "the boot account capability is gone or changed";
      if (bootTask?.kind !== "task" || bootTask.object !== ROOT_TASK || bootTask.rights !== ALL_RIGHTS || bootTask.parent !== null) return "the boot task capability is gone or changed";
      for (const [r, cap] of allCaps(s)) {
        if (cap.parent === null) {
          if (!isBoot(r)) return `capability ${capKey(r)} has no parent but is not a boot capability`;
          continue;
        }
        const p = capAt(s, cap.parent);
        if (!p) continue; // reported by capTreeIsForest
        if ((cap.rights & ~p.rights) !== 0) return `capability ${capKey(r)} has rights its parent ${capKey(cap.parent)} lacks`;
        if (!edgeAllowed(s, p, cap)) return `capability ${capKey(r)} (${objectKey(cap)}) hangs from ${capKey(cap.parent)} (${objectKey(p)}), which neither names nor made it`;
      }
      return null;
    },
  },
  {
    name: "noOrphans",
    description:
      "Every live object other than the root account and the root task is named by at least one capability: an object lives exactly as long as some capability names it (seL4's final-capability rule), so nothing is left that nobody can reach or reclaim.",
    check(s) {
      const named = new Set<string>();
      for (const [, cap] of allCaps(s)) named.add(objectKey(cap));
      const tables = [
        ["account", s.accounts],
        ["task", s.tasks],
        ["container", s.containers],
        ["dma", s.handles],
      ] as const;
      for (const [kind, table] of tables) {
        for (let id = 0; id < table.length; id++) {
          if (!table[id]) continue;
          if ((kind === "account" && id === ROOT_ACCOUNT) || (kind === "task" && id === ROOT_TASK)) continue;
          if (!named.has(`${kind}:${id}`)) return `${kind} ${id} is alive but no capability names it`;
        }
      }
      return null;
    },
  },
  {
    name: "wiredNeverShared",
    description: "A frame wired for DMA is held by at most one Hard slot: a logical copy is never wired and a wired frame is never logically copied, so a device cannot write through a copy-on-write share.",
    check(s) {
      for (let f = 0; f < s.frames.length; f++) {
        const fr = s.frames[f]!;
        if (fr.wired > 0 && fr.refs > 1) return `frame ${f} is wired and held by ${fr.refs} slots`;
      }
      return null;
    },
  },
  {
    name: "framesBacked",
    description:
      "Every frame in use is paid for: each Hard slot holding it charges its container's account one frame, and each DMA handle wiring it charges the handle's account one frame, so a frame pinned by a handle after its slot was freed is still charged, and the frames in use never outnumber the frames charged.",
    check(s) {
      const paid = new Array<number>(s.frames.length).fill(0);
      for (const c of s.containers) for (const x of c?.slots ?? []) if (x.kind === "hard") paid[x.frame]! += 1;
      for (const h of s.handles) if (h) paid[h.frame]! += 1;
      let inUse = 0;
      for (let f = 0; f < s.frames.length; f++) {
        const fr = s.frames[f]!;
        if (fr.refs > 0 || fr.wired > 0) {
          inUse++;
          if (paid[f] === 0) return `frame ${f} is in use but nobody pays for it`;
        }
      }
      let charged = 0;
      for (const a of s.accounts) if (a) charged += a.framesCharged;
      return charged >= inUse ? null : `${inUse} frames are in use but only ${charged} are charged`;
    },
  },
];

/** The capabilities derived from `root` in s (children, grandchildren, ...). */
function descendants(s: State, root: CapRef): CapRef[] {
  const children = new Map<string, CapRef[]>();
  for (const [r, cap] of allCaps(s)) {
    if (!cap.parent) continue;
    const k = capKey(cap.parent);
    const list = children.get(k);
    if (list) list.push(r);
    else children.set(k, [r]);
  }
  const out: CapRef[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(capKey(stack.pop()!)) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

const sameCap = (a: Cap | null, b: Cap | null) => a !== null && b !== null && a.kind === b.kind && a.object === b.object && a.rights === b.rights;

/**
 * What a successful operation must have held: for each capability operand
 * (the field of the operation naming a slot of the subject's space), the kind
 * of object and the rights. `asked` stands for the rights the operation asks
 * for (page.map). This is the rights table of vocabulary.ts, restated here on
 * its own so that a check the operations leave out is noticed.
 */
export type Need = readonly [field: string, kind: ObjectKind, rights: number | "asked"];
const ACCOUNT_ALLOC: readonly Need[] = [["account", "account", R.alloc]];
const CONTAINER_ALLOC: readonly Need[] = [["container", "container", R.alloc]];
const SEND: readonly Need[] = [["target", "task", R.write]];
export const RIGHTS_NEEDED: { readonly [K in OpKind]?: readonly Need[] } = {
  "account.create": ACCOUNT_ALLOC,
  "account.transfer": [
    ["from", "account", R.alloc],
    ["to", "account", 0],
  ],
  "account.destroy": ACCOUNT_ALLOC,
  "account.request": ACCOUNT_ALLOC,
  "account.answer": ACCOUNT_ALLOC,
  "account.yieldRequest": ACCOUNT_ALLOC,
  "account.yield": ACCOUNT_ALLOC,
  "task.create": ACCOUNT_ALLOC,
  "container.create": ACCOUNT_ALLOC,
  "task.destroy": [["target", "task", R.alloc]],
  "container.destroy": CONTAINER_ALLOC,
  "container.alloc": CONTAINER_ALLOC,
  "container.free": CONTAINER_ALLOC,
  "container.demote": CONTAINER_ALLOC,
  "container.promote": CONTAINER_ALLOC,
  "container.swapOut": CONTAINER_ALLOC,
  "container.swapIn": CONTAINER_ALLOC,
  "container.copy": [
    ["src", "container", R.read],
    ["dst", "container", R.alloc],
  ],
  "cap.copy": SEND,
  "page.map": [["container", "container", "asked"]],
  "l4.map": SEND,
  "l4.grant": SEND,
  "l4.share": SEND,
  "dma.wire": [["container", "container", R.priv]],
  "dma.unwire": [["handle", "dma", R.alloc]],
  "dma.write": [["handle", "dma", R.write]],
  "task.pager": [
    ["target", "task", R.write],
    ["pager", "task", R.write],
  ],
};

/** The rights a memory access needs on the mapping it goes through. */
export const ACCESS_NEEDS: { readonly [K in OpKind]?: number } = { "mem.read": R.read, "mem.write": R.write };

/** The nearest ancestor of account `a` (itself excluded) that is alive in `after`, by the tree of `before`. */
function survivingAncestor(before: State, after: State, a: number): number | null {
  let hops = 0;
  for (let x = before.accounts[a]?.parent ?? null; x !== null; x = before.accounts[x]?.parent ?? null) {
    if (after.accounts[x]) return x;
    if (++hops > before.accounts.length) return null;
  }
  return null;
}

export const SECURITY_TRANSITIONS: readonly StepProperty[] = [
  {
    name: "noAccessAfterRevoke",
    description:
      "After a revoke, nothing whose authority came through the revoked subtree survives: no capability derived from the revoked one, no root mapping one of them authorized nor any mapping derived from it, and no object that only they named (nor, by noOrphans, what only that object's capabilities reached). Under a budget this holds when the revoke returns finished, of what was left before its last entry; while it is preempted, removalNeverRegrows says that nothing is added to what is left.",
    check(before, op, after) {
      if (op.op !== "cap.revoke" || after === before || after.tasks[op.task]?.pending) return null;
      const root = { task: op.task, slot: op.slot };
      if (!capAt(before, root)) return null;
      const gone = descendants(before, root);
      const goneKeys = new Set(gone.map(capKey));
      for (const r of gone) if (capAt(after, r)) return `capability ${capKey(r)}, derived from the revoked ${capKey(root)}, survives`;
      // mappings authorized by a revoked capability, and all derived from them
      const doomed = new Set<string>();
      for (const [r, m] of allMappings(before)) if (m.source.kind === "slot" && goneKeys.has(capKey(m.source.cap))) doomed.add(mapKey(r));
      let grew = doomed.size > 0;
      while (grew) {
        grew = false;
        for (const [r, m] of allMappings(before)) {
          if (m.source.kind === "map" && doomed.has(mapKey(m.source.parent)) && !doomed.has(mapKey(r))) {
            doomed.add(mapKey(r));
            grew = true;
          }
        }
      }
      for (const [r, m] of allMappings(before)) {
        if (!doomed.has(mapKey(r))) continue;
        const now = mapAt(after, r);
        if (now && now.frame === m.frame) return `mapping ${mapKey(r)}, which the revoked subtree authorized, survives`;
      }
      // objects only the revoked capabilities named
      const namers = new Map<string, number>();
      for (const [r, cap] of allCaps(before)) if (!goneKeys.has(capKey(r))) namers.set(objectKey(cap), (namers.get(objectKey(cap)) ?? 0) + 1);
      for (const r of gone) {
        const cap = capAt(before, r)!;
        if (namers.has(objectKey(cap))) continue;
        const table = cap.kind === "account" ? after.accounts : cap.kind === "task" ? after.tasks : cap.kind === "container" ? after.containers : after.handles;
        if (table[cap.object]) return `${cap.kind} ${cap.object}, named only by the revoked subtree, survives`;
      }
      return null;
    },
  },
  {
    name: "copyOnWriteIsolation",
    description: "A frame held by two or more Hard slots (a logical copy) keeps its content across every step: a task's write breaks the copy first, and a device can never write it (wiredNeverShared).",
    check(before, op, after) {
      for (let f = 0; f < before.frames.length; f++) {
        const b = before.frames[f]!;
        if (b.refs >= 2 && after.frames[f]!.content !== b.content) return `${op.op} changed shared frame ${f} in place`;
      }
      return null;
    },
  },
  {
    name: "consentToReceive",
    description:
      "A task's capability space and page table gain entries only through its own operations, inside the receive window it had opened before the step, or at the page of its own fault, answered by its pager (the fault asked for it): nobody fills another task's space, nor charges its account, without its consent.",
    check(before, op, after) {
      const resumed = resumedAccess(before, op, after);
      for (let t = 0; t < after.tasks.length; t++) {
        const was = before.tasks[t];
        const now = after.tasks[t];
        if (!was || !now || ("task" in op && op.task === t)) continue;
        const w = was.window;
        const asked = resumed && resumed.task === t ? resumed.vpage : -1;
        for (let slot = 0; slot < now.caps.length; slot++) {
          if (now.caps[slot] && !sameCap(was.caps[slot] ?? null, now.caps[slot]!) && !(slot >= w.slot && slot < w.slot + w.slots)) {
            return `${op.op} by another task put a capability into slot ${slot} of task ${t}, outside its receive window`;
          }
        }
        for (let v = 0; v < now.pages.length; v++) {
          if (now.pages[v] && !was.pages[v] && v !== asked && !(v >= w.page && v < w.page + w.pages)) return `${op.op} by another task mapped page ${v} of task ${t}, outside its receive window`;
        }
      }
      return null;
    },
  },
  {
    name: "accessBitsPrivate",
    description:
      "A mapping's access bits are set only by an access through that very mapping (a faulting access when its pager's answer completes it), and cleared only by page.bits or page.unmap of that mapping or of one it derives from: another task mapping the same frame can neither clear the owner's bits (a write stays reported dirty until the writer, or whoever it got the page from, reads and clears it) nor show up in them.",
    check(before, op, after) {
      /** Is the mapping at r the one at `top`, or derived from it, in `before`? */
      const under = (r: { task: number; vpage: number }, top: { task: number; vpage: number }) => {
        let hops = 0;
        for (let cur: { task: number; vpage: number } | null = r; cur; ) {
          if (cur.task === top.task && cur.vpage === top.vpage) return true;
          const m = mapAt(before, cur);
          cur = m && m.source.kind === "map" ? m.source.parent : null;
          if (++hops > before.tasks.length * before.config.vpages) return false;
        }
        return false;
      };
      const clears = (r: { task: number; vpage: number }) => {
        if (op.op === "page.bits") return under(r, { task: op.task, vpage: op.vpage });
        if (op.op !== "page.unmap" || !Number.isInteger(op.order) || op.order < 0 || op.order > 30) return false;
        for (let v = op.vpage; v < op.vpage + 2 ** op.order; v++) if (under(r, { task: op.task, vpage: v })) return true;
        return false;
      };
      const resumed = resumedAccess(before, op, after);
      for (const [r, m] of allMappings(after)) {
        const was = mapAt(before, r);
        if (!was) {
          const accessed = resumed !== null && resumed.task === r.task && resumed.vpage === r.vpage;
          if (m.bits !== 0 && op.op !== "l4.grant" && !accessed) return `${op.op} made mapping ${mapKey(r)} with access bits already set`;
          continue;
        }
        const set = m.bits & ~was.bits;
        const cleared = was.bits & ~m.bits;
        if (set && !((op.op === "mem.read" || op.op === "mem.write") && op.task === r.task && op.vpage === r.vpage)) return `${op.op} set access bits of mapping ${mapKey(r)}, which it did not access through`;
        if (cleared && !clears(r)) return `${op.op} cleared access bits of mapping ${mapKey(r)} from outside its line of mappings`;
      }
      return null;
    },
  },
  {
    name: "quotaLeavesOnlyByOwnAction",
    description:
      "An account's frame or object quota shrinks only through an operation of a task that account pays for (a donation, a transfer, a yield, a grant to its own child), or with the account's destruction: a parent cannot take quota out of a child, and a child cannot take quota out of its parent by asking.",
    check(before, op, after) {
      const actor = "task" in op ? before.tasks[op.task]?.account : undefined;
      for (let id = 0; id < after.accounts.length; id++) {
        const b = before.accounts[id];
        const a = after.accounts[id];
        if (!b || !a || id === actor) continue;
        if (a.frameQuota < b.frameQuota || a.objectQuota < b.objectQuota) return `${op.op} took quota out of account ${id} by another account's task`;
      }
      return null;
    },
  },
  {
    name: "authorityOnlyDerived",
    description:
      "A step adds a capability only as a child of a capability that existed before it, adds a root mapping only under a capability that existed before it, and re-attaches a capability or a root mapping whose parent or authority vanished only to an ancestor of what it hung from: authority moves down derivation edges when given and up them when taken back, never sideways.",
    check(before, op, after) {
      for (const [r, cap] of allCaps(after)) {
        const was = capAt(before, r);
        if (!sameCap(was, cap)) {
          if (cap.parent === null) return `${op.op} made capability ${capKey(r)} out of nothing`;
          if (!capAt(before, cap.parent)) return `${op.op} made capability ${capKey(r)} under ${capKey(cap.parent)}, which did not exist before`;
          continue;
        }
        const oldParent = was!.parent;
        const newParent = cap.parent;
        if (oldParent === null || newParent === null) {
          if (oldParent !== newParent) return `${op.op} changed whether capability ${capKey(r)} has a parent`;
          continue;
        }
        if (capKey(oldParent) !== capKey(newParent) && !isAncestor(before, newParent, oldParent)) {
          return `${op.op} moved capability ${capKey(r)} from ${capKey(oldParent)} to ${capKey(newParent)}, not one of its ancestors`;
        }
      }
      for (const [r, m] of allMappings(after)) {
        if (m.source.kind !== "slot") continue;
        const cap = m.source.cap;
        const was = mapAt(before, r);
        if (was && was.source.kind === "slot" && was.source.container === m.source.container && was.source.index === m.source.index) {
          const old = was.source.cap;
          if (capKey(old) !== capKey(cap) && !isAncestor(before, cap, old)) return `${op.op} moved root mapping ${mapKey(r)} from ${capKey(old)} to ${capKey(cap)}, not one of its ancestors`;
        } else if (!capAt(before, cap)) {
          return `${op.op} made root mapping ${mapKey(r)} under ${capKey(cap)}, which did not exist before`;
        }
      }
      return null;
    },
  },
  {
    name: "rightsHeld",
    description:
      "A successful operation held what it needed: each capability it names in the subject's space existed before it, names the right kind of object and carries the rights the rights table asks for (page.map: the rights it maps with), and a memory access went through a mapping with the right it needs (or faulted, and waits for its pager); a pager's answer hands on no right its own mapping lacks, and the access it completes has the right it needs. Ties every success to the authority that allowed it, so an operation that skips a rights check is noticed even when spec and impl skip it alike.",
    check(before, op, after) {
      const resumed = resumedAccess(before, op, after);
      if (resumed) {
        const via = mapAt(before, resumed.via);
        const need = resumed.write ? R.write : R.read;
        const now = mapAt(after, resumed)!;
        if (!via || (now.rights & ~via.rights) !== 0) return `${op.op} gave task ${resumed.task} rights at page ${resumed.vpage} its pager's mapping does not have`;
        if ((now.rights & need) !== need) return `${op.op} completed an access of task ${resumed.task} through a mapping without the right it needs`;
      }
      if (!("task" in op)) return null;
      const subject = before.tasks[op.task];
      if (!subject) return null;
      const access = ACCESS_NEEDS[op.op];
      if (access !== undefined) {
        if (accessFaulted(before, op, after)) return null; // it waits for its pager: no mapping was used
        const m = subject.pages[(op as { vpage: number }).vpage];
        if (!m || (m.rights & access) !== access) return `${op.op} by task ${op.task} went through a mapping without the right it needs`;
        return null;
      }
      for (const [field, kind, need] of RIGHTS_NEEDED[op.op] ?? []) {
        const slot = (op as unknown as Record<string, number | null>)[field]!;
        if (slot === null) continue; // an operand that may name nothing (task.pager's pager)
        const cap = subject.caps[slot];
        const rights = need === "asked" ? rightsMask((op as { rights?: unknown }).rights) : need;
        if (!cap) return `${op.op} by task ${op.task} succeeded with no capability in slot ${slot} (${field})`;
        if (cap.kind !== kind) return `${op.op} by task ${op.task} used a ${cap.kind} capability as its ${field} (${kind} needed)`;
        if (rights < 0 || (cap.rights & rights) !== rights) return `${op.op} by task ${op.task} succeeded without the rights it needs on its ${field} capability (slot ${slot})`;
      }
      return null;
    },
  },
  {
    name: "quotaMovesAlongEdges",
    description:
      "Quota moves only along the account tree: in each step, every account whose frame or object quota grew got it from its parent or its child, from a new child it made, or (when accounts are destroyed) from a destroyed account whose nearest surviving ancestor it is. Quota conservation alone would allow a transfer between unrelated accounts, or a destroyed account's quota going to the root instead of its parent.",
    check(before, op, after) {
      for (const which of ["frameQuota", "objectQuota"] as const) {
        const gained: number[] = [];
        const lost: number[] = [];
        const n = Math.max(before.accounts.length, after.accounts.length);
        for (let a = 0; a < n; a++) {
          const delta = (after.accounts[a]?.[which] ?? 0) - (before.accounts[a]?.[which] ?? 0);
          if (delta > 0) gained.push(a);
          else if (delta < 0) lost.push(a);
        }
        // (each account that lost must be related so to one that gained, and the other way round: one step may
        // destroy accounts in several places, each with its own heir)
        const related = (g: number, l: number) =>
          (after.accounts[g] ?? before.accounts[g])?.parent === l || before.accounts[l]?.parent === g || (!after.accounts[l] && survivingAncestor(before, after, l) === g);
        const what = which === "frameQuota" ? "frame" : "object";
        for (const l of lost) if (!gained.some((g) => related(g, l))) return `${op.op} moved ${what} quota out of account ${l} to ${gained.length ? `account ${gained.join(", ")}, which is not its parent, child or heir` : "nowhere"}`;
        for (const g of gained) if (!lost.some((l) => related(g, l))) return `${op.op} gave ${what} quota to account ${g} from ${lost.length ? `account ${lost.join(", ")}, which is not its parent, child or a destroyed account it inherits from` : "nowhere"}`;
      }
      return null;
    },
  },
];
