/**
 * Named invariants: what must hold in every reachable state (MODEL.md, "What
 * must always hold"). Each is a predicate over the abstract state that returns
 * `null` when it holds and a sentence naming the first offender when not. The
 * refinement tests check all of them after every step; `checkInvariants`
 * returns the broken ones by name.
 *
 * They are written as independent recountings: they never trust a stored
 * counter without counting what it counts.
 */
import type { State } from "./state.js";
import { capKey, leafSpan, leavesInUse, mapKey } from "./state.js";
import { allCaps, allMappings, capAt, forestCheck, liveAccounts, mapAt, rootOf } from "./walk.js";
import { SECURITY_INVARIANTS } from "./security.js";
import { PAGER_INVARIANTS } from "./pagers.js";
import { PREEMPTION_INVARIANTS } from "./preemption.js";
import { R } from "./vocabulary.js";

export interface Invariant {
  readonly name: string;
  /** One sentence: what holds, and why it matters. */
  readonly description: string;
  readonly check: (s: State) => string | null;
}

const STRUCTURAL: readonly Invariant[] = [
  {
    name: "quotaConserved",
    description: "The accounts' frame quotas add up to the machine's frames and their object quotas to the object budget: quota is moved, never made (seed 004).",
    check(s) {
      let frames = 0;
      let objects = 0;
      for (const [, a] of liveAccounts(s)) {
        frames += a.frameQuota;
        objects += a.objectQuota;
      }
      if (frames !== s.config.frames) return `frame quotas add up to ${frames}, not ${s.config.frames}`;
      if (objects !== s.config.objects) return `object quotas add up to ${objects}, not ${s.config.objects}`;
      return null;
    },
  },
  {
    name: "noOvercommit",
    description: "No account is charged beyond its quota, for frames or for objects, and no count is negative.",
    check(s) {
      for (const [id, a] of liveAccounts(s)) {
        if (a.framesCharged < 0 || a.objectsCharged < 0 || a.frameQuota < 0 || a.objectQuota < 0) return `account ${id} has a negative count`;
        if (a.framesCharged > a.frameQuota) return `account ${id} is charged ${a.framesCharged} frames on a quota of ${a.frameQuota}`;
        if (a.objectsCharged > a.objectQuota) return `account ${id} is charged ${a.objectsCharged} objects on a quota of ${a.objectQuota}`;
      }
      return null;
    },
  },
  {
    name: "exactFrameCharges",
    description: "An account's charged frames are exactly the Hard slots of the containers it pays for plus the DMA handles it pays for (each pins one frame).",
    check(s) {
      const counted = new Map<number, number>();
      s.containers.forEach((c) => {
        if (c) counted.set(c.account, (counted.get(c.account) ?? 0) + c.slots.filter((x) => x.kind === "hard").length);
      });
      s.handles.forEach((h) => h && counted.set(h.account, (counted.get(h.account) ?? 0) + 1));
      for (const [id, a] of liveAccounts(s)) {
        const n = counted.get(id) ?? 0;
        if (a.framesCharged !== n) return `account ${id} is charged ${a.framesCharged} frames but pays for ${n} Hard slots and DMA handles`;
      }
      return null;
    },
  },
  {
    name: "exactObjectCharges",
    description: "An account's charged objects are exactly the sub-accounts, tasks, containers and DMA handles it pays for, the swapped slots of its containers, plus the capabilities, mappings and page-table leaf pages of the tasks it pays for (the receiver pays; every kernel object is paid, page tables included).",
    check(s) {
      const counted = new Map<number, number>();
      const add = (a: number, n = 1) => counted.set(a, (counted.get(a) ?? 0) + n);
      s.accounts.forEach((a) => a && a.parent !== null && add(a.parent));
      s.containers.forEach((c) => c && add(c.account, 1 + c.slots.filter((x) => x.kind === "swapped").length));
      s.handles.forEach((h) => h && add(h.account));
      s.tasks.forEach((t) => {
        if (!t) return;
        add(t.account, 1 + t.caps.filter((c) => c !== null).length + t.pages.filter((m) => m !== null).length + leavesInUse(t, leafSpan(s.config)));
      });
      for (const [id, a] of liveAccounts(s)) {
        const n = counted.get(id) ?? 0;
        if (a.objectsCharged !== n) return `account ${id} is charged ${a.objectsCharged} objects but pays for ${n}`;
      }
      return null;
    },
  },
  {
    name: "refcountExact",
    description: "A frame's reference count is the number of Hard container slots that hold it.",
    check(s) {
      const counted = new Array<number>(s.frames.length).fill(0);
      for (const c of s.containers) for (const x of c?.slots ?? []) if (x.kind === "hard") counted[x.frame] = (counted[x.frame] ?? 0) + 1;
      for (let f = 0; f < s.frames.length; f++) {
        if (s.frames[f]!.refs !== counted[f]) return `frame ${f} has refs ${s.frames[f]!.refs} but ${counted[f]} Hard slots`;
      }
      return null;
    },
  },
  {
    name: "freeFramesUnreachable",
    description: "A free frame (no Hard slot holds it) is reachable through no mapping: a task can touch only frames someone pays for.",
    check(s) {
      for (const [r, m] of allMappings(s)) {
        if ((s.frames[m.frame]?.refs ?? 0) < 1) return `mapping ${mapKey(r)} reaches free frame ${m.frame}`;
      }
      return null;
    },
  },
  {
    name: "mappingsBacked",
    description: "Every mapping's frame is the frame in its root's container slot: no mapping outlives its backing.",
    check(s) {
      for (const [r, m] of allMappings(s)) {
        const root = rootOf(s, m);
        if (!root || root.source.kind !== "slot") return `mapping ${mapKey(r)} has no root`;
        const slot = s.containers[root.source.container]?.slots[root.source.index];
        if (!slot || slot.kind !== "hard") return `mapping ${mapKey(r)} is rooted at an empty or missing slot`;
        if (slot.frame !== m.frame) return `mapping ${mapKey(r)} maps frame ${m.frame} but its slot holds ${slot.frame}`;
      }
      return null;
    },
  },
  {
    name: "mappingsAuthorized",
    description: "Every root mapping's authorizing capability exists, names the mapping's container, and carries the mapping's rights (a granted or shared root mapping may sit in another task than its capability).",
    check(s) {
      for (const [r, m] of allMappings(s)) {
        if (m.source.kind !== "slot") continue;
        const cap = capAt(s, m.source.cap);
        if (!cap) return `root mapping ${mapKey(r)} was authorized by ${capKey(m.source.cap)}, which is gone`;
        if (cap.kind !== "container" || cap.object !== m.source.container) return `root mapping ${mapKey(r)} is authorized by a capability to something else`;
        if ((m.rights & ~cap.rights) !== 0) return `root mapping ${mapKey(r)} has rights its capability lacks`;
      }
      return null;
    },
  },
  {
    name: "capRightsMonotone",
    description: "A derived capability has a subset of its parent's rights (which objects it may name under its parent is confinement's business).",
    check(s) {
      for (const [r, cap] of allCaps(s)) {
        if (!cap.parent) continue;
        const p = capAt(s, cap.parent);
        if (!p) continue; // reported by capTreeIsForest
        if ((cap.rights & ~p.rights) !== 0) return `capability ${capKey(r)} has rights its parent lacks`;
      }
      return null;
    },
  },
  {
    name: "mappingRightsMonotone",
    description: "Mapping rights are read/write only, non-empty, and a derived mapping's rights are a subset of its parent's.",
    check(s) {
      for (const [r, m] of allMappings(s)) {
        if (m.rights === 0 || (m.rights & ~(R.read | R.write)) !== 0) return `mapping ${mapKey(r)} has rights ${m.rights}`;
        if (m.source.kind !== "map") continue;
        const p = mapAt(s, m.source.parent);
        if (p && (m.rights & ~p.rights) !== 0) return `mapping ${mapKey(r)} has rights its parent lacks`;
      }
      return null;
    },
  },
  {
    name: "capTreeIsForest",
    description: "The capability derivation tree is a forest: every parent exists and no capability is its own ancestor.",
    check(s) {
      return forestCheck(
        [...allCaps(s)].map(([r]) => r),
        capKey,
        (r) => capAt(s, r)?.parent ?? null,
        (r) => capAt(s, r) !== null,
        "capability",
      );
    },
  },
  {
    name: "mappingTreeIsForest",
    description: "The mapping database is a forest: every parent mapping exists and no mapping is its own ancestor.",
    check(s) {
      return forestCheck(
        [...allMappings(s)].map(([r]) => r),
        mapKey,
        (r) => {
          const m = mapAt(s, r);
          return m?.source.kind === "map" ? m.source.parent : null;
        },
        (r) => mapAt(s, r) !== null,
        "mapping",
      );
    },
  },
  {
    name: "accountTreeIsForest",
    description: "Account 0 is the only root; every other account's parent exists, with no cycles: all quota flows from sigma0's account.",
    check(s) {
      if (!s.accounts[0] || s.accounts[0].parent !== null) return "account 0 is not a root";
      for (const [id, a] of liveAccounts(s)) if (id !== 0 && a.parent === null) return `account ${id} is a second root`;
      return forestCheck(
        [...liveAccounts(s)].map(([id]) => id),
        String,
        (id) => s.accounts[id]!.parent,
        (id) => s.accounts[id] !== null,
        "account",
      );
    },
  },
  {
    name: "capsNameLiveObjects",
    description: "Every capability names an object that exists: once a destroy returns, nothing can reach what it took away.",
    check(s) {
      for (const [r, cap] of allCaps(s)) {
        const table = cap.kind === "account" ? s.accounts : cap.kind === "task" ? s.tasks : cap.kind === "container" ? s.containers : s.handles;
        if (!table[cap.object]) return `capability ${capKey(r)} names ${cap.kind} ${cap.object}, which is gone`;
      }
      return null;
    },
  },
  {
    name: "payersLive",
    description: "Every task, container and DMA handle is paid for by an account that exists.",
    check(s) {
      for (let t = 0; t < s.tasks.length; t++) if (s.tasks[t] && !s.accounts[s.tasks[t]!.account]) return `task ${t} is paid by a missing account`;
      for (let c = 0; c < s.containers.length; c++) if (s.containers[c] && !s.accounts[s.containers[c]!.account]) return `container ${c} is paid by a missing account`;
      for (let h = 0; h < s.handles.length; h++) if (s.handles[h] && !s.accounts[s.handles[h]!.account]) return `DMA handle ${h} is paid by a missing account`;
      return null;
    },
  },
  {
    name: "wiredCountExact",
    description: "A frame's wire count is the number of DMA handles wiring it: a frame is released only when its last handle goes.",
    check(s) {
      const counted = new Array<number>(s.frames.length).fill(0);
      for (const h of s.handles) if (h) counted[h.frame] = (counted[h.frame] ?? 0) + 1;
      for (let f = 0; f < s.frames.length; f++) if (s.frames[f]!.wired !== counted[f]) return `frame ${f} has wire count ${s.frames[f]!.wired} but ${counted[f]} handles`;
      return null;
    },
  },
  {
    name: "softRefsFromThePast",
    description: "A soft reference's epoch is never ahead of its frame's: it remembers a content the frame had.",
    check(s) {
      for (let c = 0; c < s.containers.length; c++) {
        for (const [i, x] of (s.containers[c]?.slots ?? []).entries()) {
          if (x.kind === "soft" && x.epoch > s.frames[x.frame]!.epoch) return `soft slot ${c}:${i} is ahead of frame ${x.frame}'s epoch`;
        }
      }
      return null;
    },
  },
  {
    name: "swapPagesExact",
    description: "Every swapped slot names a swap page in use, a page's reference count is the number of swapped slots naming it, and no two pages hold the content of the same frame at the same epoch (slots that swapped out one logical copy share one page).",
    check(s) {
      const counted = new Array<number>(s.swap.length).fill(0);
      for (let c = 0; c < s.containers.length; c++) {
        for (const [i, x] of (s.containers[c]?.slots ?? []).entries()) {
          if (x.kind !== "swapped") continue;
          if (!s.swap[x.page]) return `swapped slot ${c}:${i} names swap page ${x.page}, which is free`;
          counted[x.page]! += 1;
        }
      }
      const seen = new Set<string>();
      for (let p = 0; p < s.swap.length; p++) {
        const page = s.swap[p];
        if (!page) continue;
        if (page.refs !== counted[p] || page.refs < 1) return `swap page ${p} counts ${page.refs} slots, ${counted[p]} name it`;
        const k = `${page.frame}@${page.epoch}`;
        if (seen.has(k)) return `two swap pages hold frame ${page.frame}'s content at epoch ${page.epoch}`;
        seen.add(k);
      }
      return null;
    },
  },
  {
    name: "yieldRequestsSane",
    description: "Yield requests and resource requests are non-negative, and the root account, having no parent, has none of either.",
    check(s) {
      for (const [id, a] of liveAccounts(s)) {
        if (a.yieldRequest < 0 || a.requested < 0) return `account ${id} has a negative request`;
        if (a.parent === null && (a.yieldRequest !== 0 || a.requested !== 0)) return "the root account has a request pending";
      }
      return null;
    },
  },
];

/** Every named state invariant: the structural and accounting ones above, the security properties (security.ts), then those of pagers and faults (pagers.ts). */
export const INVARIANTS: readonly Invariant[] = [...STRUCTURAL, ...SECURITY_INVARIANTS, ...PAGER_INVARIANTS, ...PREEMPTION_INVARIANTS];

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

/** Every broken invariant in `s`, by name (empty when all hold). */
export function checkInvariants(s: State): Violation[] {
  const out: Violation[] = [];
  for (const inv of INVARIANTS) {
    const message = inv.check(s);
    if (message !== null) out.push({ invariant: inv.name, message });
  }
  return out;
}
