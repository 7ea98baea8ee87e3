/**
 * The operation vocabulary of capmem, defined once.
 *
 * Everything that crosses the boundary between the spec, the impl, the
 * refinement tests and (later) trace files and the CLI is described here as a
 * zod schema: the machine configuration, the operations, the rights, the
 * error codes and the shape of a result. Both sides import these types; a
 * trace file is parsed with these schemas and nothing else.
 *
 * Numbers in operations are only checked to be non-negative integers here.
 * Whether a slot, a page or an index exists depends on the configuration, so
 * that is for the operation itself to answer (with an error code, never a
 * throw).
 */
import { z } from "zod";

// ---------------------------------------------------------------------------
// Configuration

/**
 * The fixed sizes of a machine. Every table in the model has a bound: this is
 * the "never overcommit" stance of seed 004 applied to the model itself.
 */
export const Config = z
  .object({
    /** physical frames (page-sized units of memory) */
    frames: z.int().min(1).max(1 << 24),
    /** the kernel-object budget shared out through object quota */
    objects: z.int().min(3).max(1 << 28),
    /** account ids 0 .. accounts-1 */
    accounts: z.int().min(1).max(1 << 20),
    /** task ids 0 .. tasks-1 */
    tasks: z.int().min(1).max(1 << 20),
    /** container ids 0 .. containers-1 */
    containers: z.int().min(0).max(1 << 20),
    /** capability slots in each task's capability space */
    capSlots: z.int().min(2).max(1 << 24),
    /** virtual pages in each task's address space */
    vpages: z.int().min(1).max(1 << 18),
    /** frame slots in each container */
    containerSlots: z.int().min(1).max(1 << 16),
    /** DMA handle ids 0 .. handles-1 (may be omitted: 4) */
    handles: z.int().min(0).max(1 << 20).default(4),
    /** swap pages, the backing store physmem swaps out to (may be omitted: one per container slot) */
    swap: z.int().min(0).max(1 << 24).optional(),
    /** faults that can wait at one pager at a time (may be omitted: 4) */
    faultQueue: z.int().min(1).max(1 << 20).optional(),
    /** work units one kernel entry may spend on a removal before it is preempted (may be omitted: no limit; preemption.ts) */
    budget: z.int().min(1).max(2 ** 40).optional(),
  })
  .strict();
export type Config = z.infer<typeof Config>;

// ---------------------------------------------------------------------------
// Rights

/**
 * Rights on a capability or a mapping. What each right allows depends on the
 * kind of object (see docs and the operations in spec/):
 *
 * | right | account                         | task                     | container                     |
 * |-------|---------------------------------|--------------------------|-------------------------------|
 * | read  | -                               | -                        | map readable, read            |
 * | write | -                               | install caps (cap.copy), | map writable, write           |
 * |       |                                 | set or be its pager      |                               |
 * | alloc | create objects on it, transfer  | destroy the task         | allocate/free slots, destroy  |
 * |       | out of it, destroy it           |                          |                               |
 * | priv  | -                               | -                        | wire a slot for DMA           |
 *
 * On a DMA handle: write = device write through it, alloc = unwire (destroy it).
 *
 * A capability without `alloc` to a container is the "proxy" of seed 000
 * (000_0acf2069c9b56720.txt): it can use the frames already there but cannot
 * make its holder's partner pay for more.
 */
export const RIGHT_NAMES = ["read", "write", "alloc", "priv"] as const;
export const Right = z.enum(RIGHT_NAMES);
export type Right = z.infer<typeof Right>;

/** Bit for each right in a rights mask. */
export const R = { read: 1, write: 2, alloc: 4, priv: 8 } as const;
export const ALL_RIGHTS = R.read | R.write | R.alloc | R.priv;

/** A set of rights, written in trace files as a list of names without repeats. */
export const Rights = z
  .array(Right)
  .max(RIGHT_NAMES.length)
  .refine((rs) => new Set(rs).size === rs.length, { message: "rights must not repeat" });
export type Rights = z.infer<typeof Rights>;

/**
 * The mask of a rights list. Total: returns -1 for anything that is not a
 * list of distinct right names (so an operation given such a list can answer
 * `BadRights` rather than throw). Allocates nothing.
 */
export function rightsMask(rights: unknown): number {
  if (!Array.isArray(rights)) return -1;
  let mask = 0;
  for (let i = 0; i < rights.length; i++) {
    const r = rights[i];
    let bit = 0;
    if (r === "read") bit = R.read;
    else if (r === "write") bit = R.write;
    else if (r === "alloc") bit = R.alloc;
    else if (r === "priv") bit = R.priv;
    if (bit === 0 || (mask & bit) !== 0) return -1;
    mask |= bit;
  }
  return mask;
}

/** The rights list of a mask, in canonical order. */
export function rightsList(mask: number): Right[] {
  return RIGHT_NAMES.filter((name) => (mask & R[name]) !== 0);
}

// ---------------------------------------------------------------------------
// Operations

const slot = z.int().min(0);
const amount = z.int().min(0);
const subject = { task: z.int().min(0) };

/**
 * What `page.unmap` takes from each mapping in its range (L4 flexpage unmap,
 * 001_468f3620a1a4dd19.txt): `derived` removes every mapping derived from it,
 * `all` removes those and the mapping itself, `readonly` takes the write
 * right away from every mapping derived from it (removing those that then
 * have no right left).
 */
export const UNMAP_MODES = ["derived", "all", "readonly"] as const;
export const UnmapMode = z.enum(UNMAP_MODES);
export type UnmapMode = z.infer<typeof UnmapMode>;

/** Bits reported by `page.unmap` and `page.bits`: referenced = 1, dirty = 2. */
export const BIT_REFERENCED = 1;
export const BIT_DIRTY = 2;

/** A word of page content: a signed 32-bit integer. */
export const Word = z.int32();

export const Op = z.discriminatedUnion("op", [
  z.object({ op: z.literal("account.create"), ...subject, account: slot, dest: slot, frames: amount, objects: amount }).strict(),
  z.object({ op: z.literal("account.transfer"), ...subject, from: slot, to: slot, frames: amount, objects: amount }).strict(),
  z.object({ op: z.literal("account.destroy"), ...subject, account: slot }).strict(),
  z.object({ op: z.literal("account.request"), ...subject, account: slot, frames: amount }).strict(),
  z.object({ op: z.literal("account.answer"), ...subject, account: slot, frames: amount }).strict(),
  z.object({ op: z.literal("account.yieldRequest"), ...subject, account: slot, frames: amount }).strict(),
  z.object({ op: z.literal("account.yield"), ...subject, account: slot }).strict(),
  z.object({ op: z.literal("task.create"), ...subject, account: slot, dest: slot }).strict(),
  z.object({ op: z.literal("task.destroy"), ...subject, target: slot }).strict(),
  z.object({ op: z.literal("task.window"), ...subject, slot, slots: amount, page: slot, pages: amount }).strict(),
  // pager: a slot holding a task capability, or null for no pager
  z.object({ op: z.literal("task.pager"), ...subject, target: slot, pager: slot.nullable() }).strict(),
  z.object({ op: z.literal("container.create"), ...subject, account: slot, dest: slot }).strict(),
  z.object({ op: z.literal("container.destroy"), ...subject, container: slot }).strict(),
  z.object({ op: z.literal("container.alloc"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("container.free"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("container.copy"), ...subject, src: slot, srcIndex: slot, dst: slot, dstIndex: slot }).strict(),
  z.object({ op: z.literal("container.demote"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("container.promote"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("container.swapOut"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("container.swapIn"), ...subject, container: slot, index: slot }).strict(),
  z.object({ op: z.literal("cap.derive"), ...subject, src: slot, dest: slot, rights: Rights }).strict(),
  z.object({ op: z.literal("cap.copy"), ...subject, src: slot, target: slot, dest: slot }).strict(),
  z.object({ op: z.literal("cap.delete"), ...subject, slot }).strict(),
  z.object({ op: z.literal("cap.revoke"), ...subject, slot }).strict(),
  z.object({ op: z.literal("page.map"), ...subject, container: slot, index: slot, vpage: slot, rights: Rights }).strict(),
  z.object({ op: z.literal("page.unmap"), ...subject, vpage: slot, order: z.int().min(0).max(31), mode: UnmapMode }).strict(),
  z.object({ op: z.literal("page.bits"), ...subject, vpage: slot }).strict(),
  z.object({ op: z.literal("l4.map"), ...subject, vpage: slot, target: slot, dest: slot, rights: Rights }).strict(),
  z.object({ op: z.literal("l4.grant"), ...subject, vpage: slot, target: slot, dest: slot }).strict(),
  z.object({ op: z.literal("l4.share"), ...subject, vpage: slot, target: slot, dest: slot, rights: Rights }).strict(),
  z.object({ op: z.literal("mem.read"), ...subject, vpage: slot }).strict(),
  z.object({ op: z.literal("mem.write"), ...subject, vpage: slot, value: Word }).strict(),
  z.object({ op: z.literal("dma.wire"), ...subject, container: slot, index: slot, dest: slot }).strict(),
  z.object({ op: z.literal("dma.unwire"), ...subject, handle: slot }).strict(),
  z.object({ op: z.literal("dma.write"), ...subject, handle: slot, value: Word }).strict(),
  z.object({ op: z.literal("fault.resolve"), ...subject, vpage: slot, rights: Rights }).strict(),
  z.object({ op: z.literal("fault.refuse"), ...subject }).strict(),
  z.object({ op: z.literal("fault.notice"), ...subject }).strict(),
  z.object({ op: z.literal("sigma0.serve") }).strict(),
  // any integer: a frame out of range, negative included, is the operation's BadFrame, not a malformed file
  z.object({ op: z.literal("physmem.relocate"), frame: z.int() }).strict(),
  z.object({ op: z.literal("physmem.reclaim"), frame: z.int() }).strict(),
]);
export type Op = z.infer<typeof Op>;
export type OpKind = Op["op"];
export type OpOf<K extends OpKind> = Extract<Op, { op: K }>;

/** Every operation kind, in the order of the table above. */
export const OP_KINDS: readonly OpKind[] = Op.options.map((o) => o.shape.op.value);

// ---------------------------------------------------------------------------
// Results

/**
 * Error codes. Each operation checks its preconditions in a fixed order and
 * returns the first that fails; the spec's doc comments list that order and
 * the impl follows it, so the two sides agree on *which* error as well as on
 * whether there is one.
 */
export const ERROR_CODES = [
  /** the subject task does not exist */
  "NoSuchTask",
  /** a capability slot number is outside the capability space */
  "BadCapSlot",
  /** a capability slot that should hold a capability is empty */
  "NoCap",
  /** a capability names the wrong kind of object for the operation */
  "WrongType",
  /** a capability lacks a right the operation needs */
  "NoRights",
  /** a destination capability slot is already occupied */
  "CapSlotOccupied",
  /** a rights list is malformed, empty where it must not be, or grows rights */
  "BadRights",
  /** a quota amount or written value is not an integer of the right range */
  "BadValue",
  /** no id is free for a new account, task or container */
  "OutOfIds",
  /** the paying account has too little unused frame quota */
  "FrameQuotaExceeded",
  /** the paying account has too little unused object quota */
  "ObjectQuotaExceeded",
  /** no physical frame is free */
  "OutOfMemory",
  /** a transfer between accounts that are not parent and child */
  "NotRelated",
  /** the root account, the root task or a boot capability: it has no parent, cannot be destroyed, and the root task (sigma0) has no pager and serves faults only by its protocol */
  "IsRoot",
  /** a container slot index is outside the container */
  "BadIndex",
  /** a container slot that should hold a frame is empty */
  "FrameSlotEmpty",
  /** a container slot that should be empty holds a frame */
  "FrameSlotOccupied",
  /** a container slot that should hold a hard reference holds a soft one or swapped content */
  "SlotNotHard",
  /** a container slot that should hold a soft reference does not */
  "NotSoft",
  /** a soft reference whose frame was reused or written since it was made */
  "Stale",
  /** a container slot that should hold swapped-out content does not */
  "NotSwapped",
  /** a virtual page number is outside the address space */
  "BadPage",
  /** a virtual page that should be free is mapped */
  "PageMapped",
  /** fault: the virtual page is not mapped */
  "NotMapped",
  /** fault: the mapping lacks the right the access needs */
  "ProtectionFault",
  /** the frame is wired for DMA: tasks may not write, move, demote or swap it */
  "Wired",
  /** a frame number is outside the machine */
  "BadFrame",
  /** the frame is not in use (no hard reference), so there is nothing to move */
  "FrameNotInUse",
  /** a balloon request the parent's unused quota cannot cover */
  "Denied",
  /** the frame is a logical copy held by more than one slot, so it cannot be wired for DMA */
  "Shared",
  /** the receiving task's receive window does not cover the slot or page named */
  "NotInWindow",
  /** every swap page is in use */
  "SwapFull",
  /** the subject task, or the task an operation would deliver to, waits for its pager to answer a fault; or the subject has a preempted operation to finish, and this is another one */
  "Blocked",
  /** the pager's fault queue is full (faultQueue in the configuration) */
  "PagerBusy",
  /** no fault waits at this pager */
  "NoFault",
  /** the pager has no notice to read and missed none */
  "NoNotice",
  /** the pager named is the task itself or has it above it in its chain of pagers */
  "PagerLoop",
  /** a mapping of the frame has its dirty bit set: its content must be saved (page.bits) before physmem may take it */
  "Dirty",
  /** the mapping named is being taken apart by a preempted page.unmap (nothing may be derived from it until that finishes) */
  "Removing",
  /** the subject is not paid by the account whose quota this would move (or, for answers and yield requests, by its parent) */
  "NotYours",
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * The result of an operation: `ok` with a value (a new object's id, a frame
 * number, a word read; `null` when there is nothing to say) or `err` with a
 * code. An error result promises that nothing changed. A memory access that
 * faults to the task's pager is `ok` with `fault: true` and value null: the
 * fault now waits in the pager's queue and the access is not done yet (it
 * completes when the pager resolves the fault). A pager reading a notice
 * (fault.notice) gets `ok` with the notice in `notice` and, as value, how
 * many notices it missed since its last read. A removal that ran out of
 * its work budget (config.budget) is `ok` with `preempted: true` and value
 * null: it stopped at a preemption point, and invoking the same operation
 * again continues it (preemption.ts).
 */
export const Result = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    value: z.int().nullable(),
    fault: z.literal(true).optional(),
    preempted: z.literal(true).optional(),
    notice: z.object({ task: z.int().min(0), vpage: z.int().min(0) }).strict().optional(),
  }).strict(),
  z.object({ ok: z.literal(false), error: ErrorCode }).strict(),
]);
export type Result = z.infer<typeof Result>;

export const ok = (value: number | null = null): Result => ({ ok: true, value });
export const err = (error: ErrorCode): Result => ({ ok: false, error });
/** The result of a removal that stopped at a preemption point. */
export const preempted = (): Result => ({ ok: true, value: null, preempted: true });
/** The result of an access that faulted to the task's pager. */
export const faulted = (): Result => ({ ok: true, value: null, fault: true });

/** Kinds of object a capability can name. */
export const OBJECT_KINDS = ["account", "task", "container", "dma"] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** A quota amount: a non-negative safe integer. Total over any value. */
export function isAmount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** True when `v` is a word of page content (a signed 32-bit integer). Total over any value. */
export function isWord(v: unknown): v is number {
  return typeof v === "number" && (v | 0) === v;
}

/** True when `n` is an integer in [0, limit). Total over any value. */
export function inRange(n: unknown, limit: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n < limit;
}

// ---------------------------------------------------------------------------
// Trace files

/**
 * A trace: a configuration and the operations to run from its boot state.
 * This is the format of counterexamples the refinement tests print and of
 * scenario files. A scenario may also say what each operation must return
 * (`expect`, one result per operation); `capmem replay` and `capmem check`
 * then verify every result, which makes a trace file a regression test.
 * A hand-written trace may carry a `name` and a `description` (a story's
 * title and what it shows), and `notes` on single operations, keyed by step
 * number (`{"3": "the proxy cannot allocate"}`); `capmem check` prints each
 * note beside its step, and the tools keep all three when they rewrite a
 * trace.
 */
export const Trace = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    config: Config,
    ops: z.array(Op),
    expect: z.array(Result).optional(),
    notes: z.record(z.string().regex(/^(0|[1-9][0-9]*)$/, "a note's key is a step number: 0, 1, 2, ..."), z.string()).optional(),
  })
  .strict()
  .refine((t) => t.expect === undefined || t.expect.length === t.ops.length, {
    message: "expect must give one result per operation",
    path: ["expect"],
  })
  .refine((t) => t.notes === undefined || Object.keys(t.notes).every((k) => Number(k) < t.ops.length), {
    message: "a note names a step past the last operation",
    path: ["notes"],
  });
export type Trace = z.infer<typeof Trace>;
