/**
 * Two-state properties: what must hold of every step (before, operation,
 * after), not only of every state. A state invariant cannot see that an
 * operation destroyed data it had no business touching, or that a wired
 * frame changed under a device; these compare the state before a step with
 * the state after it. The refinement tests check them on every step.
 */
import type { State } from "./state.js";
import { isAccountDestroy, isDestroy } from "./state.js";
import type { Op } from "./vocabulary.js";
import type { Violation } from "./invariants.js";
import { rootOf } from "./walk.js";
import { resumedAccess, SECURITY_TRANSITIONS } from "./security.js";
import { PAGER_TRANSITIONS } from "./pagers.js";
import { accountUnder, PREEMPTION_TRANSITIONS, zombiesOf } from "./preemption.js";


export interface TransitionInvariant {
  readonly name: string;
  readonly description: string;
  readonly check: (before: State, op: Op, after: State) => string | null;
}

/** What a container slot holds for its owner, if anything: hard, swapped or a still-valid soft reference. */
export function slotContent(s: State, container: number, index: number): number | undefined {
  const x = s.containers[container]?.slots[index];
  if (!x) return undefined;
  if (x.kind === "hard") return s.frames[x.frame]!.content;
  if (x.kind === "swapped") return s.swap[x.page]?.content;
  if (x.kind === "soft" && s.frames[x.frame]!.epoch === x.epoch) return s.frames[x.frame]!.content;
  return undefined;
}

/** The root container slot of the mapping at (task, vpage), if the mapping exists. */
function rootSlot(s: State, task: number, vpage: number): string | null {
  const m = s.tasks[task]?.pages[vpage];
  const root = m ? rootOf(s, m) : null;
  return root && root.source.kind === "slot" ? `${root.source.container}:${root.source.index}` : null;
}

/** Operations that allocate a frame, and so may reclaim one held only by soft references. */
const ALLOCATING: ReadonlySet<string> = new Set(["container.alloc", "container.swapIn", "physmem.relocate", "mem.write", "fault.resolve", "sigma0.serve"]);

/** The container slot `task`'s capability in `slot` names at `index`, as "container:index", if any. */
function slotNamed(s: State, task: number, slot: number, index: number): string | null {
  const cap = s.tasks[task]?.caps[slot];
  return cap && cap.kind === "container" ? `${cap.object}:${index}` : null;
}

/** The frame of the DMA handle `task`'s capability in `slot` names, if any. */
function handleFrame(s: State, task: number, slot: number): number | null {
  const cap = s.tasks[task]?.caps[slot];
  return cap && cap.kind === "dma" ? (s.handles[cap.object]?.frame ?? null) : null;
}

const CONTENT: readonly TransitionInvariant[] = [
  {
    name: "nothingLost",
    description:
      "Every container slot that survives a step keeps its content, however the step changed the slot (relocation, reclaim, copy-on-write, swap, demotion, promotion), except: the slot a write's mapping is rooted at (a faulting write's too, when its pager's answer completes it) (copy-on-write keeps the other copies), the slot a free names, the slots holding the frame a device writes, and a soft reference, which may go stale when a frame is allocated. A slot may lose its content only with its container, or in an entry of a preempted container.destroy of that container, or of an account.destroy of an account that pays for it, directly or through sub-accounts, or of a cap.revoke, task.destroy or account.destroy that empties it as a zombie, or empties as a zombie an account that pays for it, directly or through sub-accounts (they empty the container slot by slot before the container goes); no operation is exempt as a whole, so collateral damage to other slots is seen.",
    check(before, op, after) {
      const resumed = resumedAccess(before, op, after);
      const written = op.op === "mem.write" ? rootSlot(before, op.task, op.vpage) : resumed?.write ? rootSlot(before, resumed.via.task, resumed.via.vpage) : null;
      const freed = op.op === "container.free" ? slotNamed(before, op.task, op.container, op.index) : null;
      const device = op.op === "dma.write" ? handleFrame(before, op.task, op.handle) : null;
      const emptying = op.op === "container.destroy" || op.op === "account.destroy" || op.op === "cap.revoke" || op.op === "task.destroy" ? (after.tasks[op.task]?.pending ?? before.tasks[op.task]?.pending) : null;
      for (let c = 0; c < before.containers.length; c++) {
        if (!after.containers[c]) continue; // destroyed with its container
        if (emptying && isDestroy(emptying) && emptying.object === c) continue; // being emptied by its preempted destroy
        if (emptying && isAccountDestroy(emptying) && accountUnder(before, before.containers[c]!.account, emptying.object)) continue; // or by its account's
        if (emptying && zombiesOf(emptying).some((z) => (z.kind === "container" && z.id === c) || (z.kind === "account" && accountUnder(before, before.containers[c]!.account, z.id)))) continue; // or as a zombie, or by a zombie account's walk
        const slots = before.containers[c]?.slots ?? [];
        for (let i = 0; i < slots.length; i++) {
          const was = slotContent(before, c, i);
          const key = `${c}:${i}`;
          if (was === undefined || key === written || key === freed) continue;
          const x = slots[i]!;
          if (device !== null && (x.kind === "hard" || x.kind === "soft") && x.frame === device) continue;
          const now = slotContent(after, c, i);
          if (now === undefined && x.kind === "soft" && ALLOCATING.has(op.op)) continue;
          if (now !== was) return `${op.op} changed the content of slot ${key} from ${was} to ${now ?? "nothing"}`;
        }
      }
      return null;
    },
  },
  {
    name: "sharingSurvivesSwap",
    description:
      "A slot swapping in takes back the very frame its content was swapped out from when another slot still holds that frame unchanged (not wired): a logical copy swapped out and in comes back as one shared frame, not two.",
    check(before, op, after) {
      if (op.op !== "container.swapIn") return null;
      const cap = before.tasks[op.task]?.caps[op.container];
      const slot = cap && cap.kind === "container" ? before.containers[cap.object]?.slots[op.index] : undefined;
      if (!cap || slot?.kind !== "swapped") return null;
      const page = before.swap[slot.page]!;
      const f = before.frames[page.frame]!;
      if (f.refs === 0 || f.wired > 0 || f.epoch !== page.epoch) return null;
      const now = after.containers[cap.object]!.slots[op.index]!;
      return now.kind === "hard" && now.frame === page.frame ? null : `container.swapIn did not rejoin frame ${page.frame}, which still holds the slot's content`;
    },
  },
  {
    name: "wiredFramesUntouched",
    description: "A frame wired for DMA is never reused (its epoch stays) and never written by a task: only a device write changes it.",
    check(before, op, after) {
      if (op.op === "dma.write") return null;
      for (let f = 0; f < before.frames.length; f++) {
        const b = before.frames[f]!;
        const a = after.frames[f]!;
        if (b.wired > 0 && (a.epoch !== b.epoch || a.content !== b.content)) return `${op.op} touched wired frame ${f}`;
      }
      return null;
    },
  },
];

/** Every two-state property: the content ones above, the security ones (security.ts), then those of pagers and faults (pagers.ts). */
export const TRANSITION_INVARIANTS: readonly TransitionInvariant[] = [...CONTENT, ...SECURITY_TRANSITIONS, ...PAGER_TRANSITIONS, ...PREEMPTION_TRANSITIONS];

/** Every broken two-state property of the step before --op--> after. */
export function checkTransition(before: State, op: Op, after: State): Violation[] {
  const out: Violation[] = [];
  for (const inv of TRANSITION_INVARIANTS) {
    const message = inv.check(before, op, after);
    if (message !== null) out.push({ invariant: inv.name, message });
  }
  return out;
}
