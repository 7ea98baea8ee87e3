/**
 * Memory access: a task reads or writes one word (the model's stand-in for a
 * page's bytes) through a mapping of its own. A write to a frame that more
 * than one container slot holds breaks the logical copy first (copy-on-write,
 * seed 004, 004_1a77f3008d0f6074.txt): the writer's slot gets a fresh frame
 * and every mapping rooted at that slot follows it.
 */
import type { Draft, MapRef, State } from "./state.js";
import { draft } from "./state.js";
import type { OpOf } from "./vocabulary.js";
import { BIT_DIRTY, BIT_REFERENCED, isWord, R } from "./vocabulary.js";
import type { Step } from "./checks.js";
import { done, fail, isError, subjectOf } from "./checks.js";
import { mappingAt, mappingDescendants, mappingsRootedAt } from "./mappings.js";
import { nextFrame, takeFrame } from "./physmem.js";
import { pageFault } from "./pagers.js";

/**
 * mem.read — read the word at the subject's virtual page `vpage` through its
 * page table; sets the referenced bit of that mapping (not of the frame: the
 * bits are per page-table entry, so another task's access never shows in
 * this task's bits).
 *
 * Why: the referenced/dirty bits are what a self-paging task needs to choose
 * its victims (seed 004; seed 002 on access bits for pagers).
 *
 * A task with a pager does not get NotMapped or ProtectionFault: the access
 * faults instead (pagers.ts, pageFault). The fault waits in the pager's
 * queue, the task waits for the pager, and the result is `ok` with
 * `fault: true`; the read completes when the pager resolves the fault.
 *
 * Result: the word.
 * Errors (faults), in order: NoSuchTask; Blocked; BadPage; NotMapped;
 * ProtectionFault (no read right); PagerBusy (a fault, and the pager's queue
 * is full).
 */
export function memRead(state: State, op: OpOf<"mem.read">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  const m = mappingAt(state, subject, op.vpage);
  const fault = { vpage: op.vpage, write: false, value: 0 };
  if (m === "NotMapped") return pageFault(state, op.task, fault, m);
  if (isError(m)) return fail(state, m);
  if ((m.rights & R.read) === 0) return pageFault(state, op.task, fault, "ProtectionFault");
  const d = draft(state);
  d.tasks[op.task]!.pages[op.vpage]!.bits |= BIT_REFERENCED;
  return done(d, state.frames[m.frame]!.content);
}

/**
 * mem.write — write `value` (a signed 32-bit word) at the subject's virtual
 * page `vpage`; sets the referenced and dirty bits of that mapping (its own
 * page-table entry, as for mem.read) and bumps the frame's
 * epoch (soft references to the old content become stale: "if the user
 * changes or drops the frame, then the soft reference will become stale",
 * seed 000).
 *
 * Copy-on-write: when the frame is held by more than one hard slot (a logical
 * copy), the write first breaks the copy. The mapping's root slot gets a new
 * frame (chosen by `nextFrame`) holding the old content, and every mapping
 * rooted at that slot, with all mappings derived from them, is redirected to
 * it. The slot was already charged a frame to its container's account when
 * the copy was made (the receiver pays), so the charge stays where it is;
 * only a physical frame is needed.
 *
 * Why: writes are where two mechanisms of the seeds become visible: a
 * logical copy stays private to each holder only if the first write breaks
 * it (copy-on-write, seeds 000 and 004), and a cache's soft reference must
 * notice that its frame changed (seed 000).
 *
 * With a pager, NotMapped and ProtectionFault are faults, as for mem.read:
 * the write waits, with its word, and completes when the pager resolves it.
 *
 * Errors (faults), in order: NoSuchTask; Blocked; BadValue; BadPage; NotMapped;
 * ProtectionFault (no write right); PagerBusy (a fault, and the pager's
 * queue is full); Wired (the frame is wired for DMA: "denying
 * access to the memory by the original owner", seed 000); OutOfMemory (a copy
 * to break and no frame to break it with).
 */
export function memWrite(state: State, op: OpOf<"mem.write">): Step {
  const subject = subjectOf(state, op.task);
  if (isError(subject)) return fail(state, subject);
  if (!isWord(op.value)) return fail(state, "BadValue");
  const m = mappingAt(state, subject, op.vpage);
  const fault = { vpage: op.vpage, write: true, value: op.value };
  if (m === "NotMapped") return pageFault(state, op.task, fault, m);
  if (isError(m)) return fail(state, m);
  if ((m.rights & R.write) === 0) return pageFault(state, op.task, fault, "ProtectionFault");
  if (state.frames[m.frame]!.wired > 0) return fail(state, "Wired");
  let frame = m.frame;
  let d: Draft;
  if (state.frames[frame]!.refs > 1) {
    const fresh = nextFrame(state);
    if (fresh === null) return fail(state, "OutOfMemory");
    d = draft(state);
    const root = rootSlotOf(state, { task: op.task, vpage: op.vpage });
    takeFrame(d, fresh, state.frames[frame]!.content);
    d.frames[frame]!.refs -= 1;
    d.containers[root.container]!.slots[root.index] = { kind: "hard", frame: fresh };
    const rooted = mappingsRootedAt(state, root.container, root.index);
    for (const r of [...rooted, ...mappingDescendants(state, rooted)]) d.tasks[r.task]!.pages[r.vpage]!.frame = fresh;
    frame = fresh;
  } else {
    d = draft(state);
  }
  const f = d.frames[frame]!;
  f.content = op.value;
  f.epoch += 1;
  d.tasks[op.task]!.pages[op.vpage]!.bits |= BIT_REFERENCED | BIT_DIRTY;
  return done(d);
}

/** The container slot at the root of the mapping at `r` (following parents). */
export function rootSlotOf(state: State, r: MapRef): { container: number; index: number } {
  let m = state.tasks[r.task]!.pages[r.vpage]!;
  while (m.source.kind === "map") m = state.tasks[m.source.parent.task]!.pages[m.source.parent.vpage]!;
  return { container: m.source.container, index: m.source.index };
}
