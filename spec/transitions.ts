/**
 * Two-state properties: what must hold of every step (before, operation,
 * after), not only of every state. A state invariant cannot see that an
 * operation destroyed data it had no business touching, or that a wired
 * frame changed under a device; these compare the state before a step with
 * the state after it. The refinement tests check them on every step.
 */
import type { State } from "./state.js";
import type { Op } from "./vocabulary.js";
import { rootOf, type Violation } from "./invariants.js";


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
  if (x.kind === "swapped") return x.content;
  if (x.kind === "soft" && s.frames[x.frame]!.epoch === x.epoch) return s.frames[x.frame]!.content;
  return undefined;
}

/** The root container slot of the mapping at (task, vpage), if the mapping exists. */
function rootSlot(s: State, task: number, vpage: number): string | null {
  const m = s.tasks[task]?.pages[vpage];
  const root = m ? rootOf(s, m) : null;
  return root && root.source.kind === "slot" ? `${root.source.container}:${root.source.index}` : null;
}

/** Operations that take slots or their contents away on purpose. */
const REMOVING: ReadonlySet<string> = new Set(["container.free", "container.destroy", "account.destroy", "dma.write"]);
/** Operations that allocate a frame, and so may reclaim one held only by soft references. */
const ALLOCATING: ReadonlySet<string> = new Set(["container.alloc", "container.swapIn", "physmem.relocate", "mem.write"]);

export const TRANSITION_INVARIANTS: readonly TransitionInvariant[] = [
  {
    name: "nothingLost",
    description:
      "Every operation other than a write, a device write, a free or a destroy leaves the content of every container slot as it was: relocation, copy-on-write, swap, demotion and promotion preserve it. A write changes only the slot its mapping is rooted at (copy-on-write keeps the other copies), and a soft reference may go stale only when a frame is allocated or written.",
    check(before, op, after) {
      if (REMOVING.has(op.op)) return null;
      const written = op.op === "mem.write" ? rootSlot(before, op.task, op.vpage) : null;
      for (let c = 0; c < before.containers.length; c++) {
        const slots = before.containers[c]?.slots ?? [];
        for (let i = 0; i < slots.length; i++) {
          const was = slotContent(before, c, i);
          if (was === undefined || written === `${c}:${i}`) continue;
          const now = slotContent(after, c, i);
          if (now === undefined && slots[i]!.kind === "soft" && ALLOCATING.has(op.op)) continue;
          if (now !== was) return `${op.op} changed the content of slot ${c}:${i} from ${was} to ${now ?? "nothing"}`;
        }
      }
      return null;
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

/** Every broken two-state property of the step before --op--> after. */
export function checkTransition(before: State, op: Op, after: State): Violation[] {
  const out: Violation[] = [];
  for (const inv of TRANSITION_INVARIANTS) {
    const message = inv.check(before, op, after);
    if (message !== null) out.push({ invariant: inv.name, message });
  }
  return out;
}
