/**
 * The driver protocol: how capmem checks an implementation written in any
 * language. capmem starts the implementation's driver as a child process and
 * talks to it in JSON lines over its stdin and stdout: one request per line,
 * one answer per line, in order. The operations, results and configurations
 * are the ones of spec/vocabulary.ts (the same schemas as trace files); the
 * abstract state a driver reports has the shape of the spec's State, so the
 * comparison the lockstep makes for impl/ applies unchanged.
 *
 * docs/protocol.md describes it for driver authors; docs/protocol.schema.json
 * is generated from the schemas below (`capmem schema --protocol`).
 */
import { z } from "zod";
import type { State } from "../../spec/state.js";
import { Config, OBJECT_KINDS, Op, Result, UNMAP_MODES } from "../../spec/vocabulary.js";

/** The version this capmem speaks; a driver answering another one is refused. */
export const PROTOCOL_VERSION = 1;

const id = z.int().min(0);
const CapRef = z.object({ task: id, slot: id }).strict();
const MapRef = z.object({ task: id, vpage: id }).strict();
/** A zombie (spec/state.ts), with the zombie inside it, if any. */
const Zombie = z
  .object({
    kind: z.enum(["container", "task", "account"]),
    id,
    page: z.int().min(-1),
    slot: z.int().min(-1),
    cursor: MapRef.nullable(),
    container: id.optional(),
    task: id.optional(),
    get inner() {
      return Zombie.optional();
    },
  })
  .strict()
  .meta({ id: "Zombie" });

/** The abstract state, as spec/state.ts defines it (a check below keeps the two the same). */
export const AbstractState = z
  .object({
    config: Config,
    frames: z.array(z.object({ content: z.int(), refs: id, epoch: id, wired: id }).strict()),
    accounts: z.array(
      z
        .object({
          parent: id.nullable(),
          yieldRequest: id,
          requested: id,
          frameQuota: id,
          framesCharged: id,
          objectQuota: id,
          objectsCharged: id,
        })
        .strict()
        .nullable(),
    ),
    tasks: z.array(
      z
        .object({
          account: id,
          window: z.object({ slot: id, slots: id, page: id, pages: id }).strict(),
          pager: id.nullable(),
          fault: z.object({ vpage: id, write: z.boolean(), value: z.int() }).strict().nullable(),
          queue: z.array(id),
          notices: z.array(z.object({ task: id, vpage: id }).strict()),
          missed: id,
          pending: z
            .union([
              z
                .object({
                  op: z.object({ op: z.literal("page.unmap"), task: id, vpage: id, order: id, mode: z.enum(UNMAP_MODES) }).strict(),
                  page: id,
                  cursor: MapRef.nullable(),
                  last: MapRef.nullable(),
                  zone: MapRef.nullable(),
                  bits: id,
                })
                .strict(),
              z
                .object({
                  op: z.object({ op: z.literal("container.destroy"), task: id, container: id }).strict(),
                  object: id,
                  slot: z.int().min(-1),
                  cursor: MapRef.nullable(),
                })
                .strict(),
              z
                .object({
                  op: z.object({ op: z.literal("account.destroy"), task: id, account: id }).strict(),
                  object: id,
                  at: z.object({ kind: z.enum(["container", "task"]), id }).strict().nullable(),
                  page: z.int().min(-1),
                  slot: z.int().min(-1),
                  cursor: MapRef.nullable(),
                  zombie: Zombie.optional(),
                })
                .strict(),
              z
                .object({
                  op: z.object({ op: z.literal("task.destroy"), task: id, target: id }).strict(),
                  object: id,
                  page: z.int().min(-1),
                  slot: z.int().min(-1),
                  cursor: MapRef.nullable(),
                  zombie: Zombie.optional(),
                })
                .strict(),
              z
                .object({
                  op: z.object({ op: z.literal("cap.revoke"), task: id, slot: id }).strict(),
                  cursor: z
                    .discriminatedUnion("kind", [z.object({ kind: z.literal("cap"), task: id, slot: id }).strict(), z.object({ kind: z.literal("map"), task: id, vpage: id }).strict()])
                    .nullable(),
                  zombie: Zombie.optional(),
                })
                .strict(),
            ])
            .nullable(),
          caps: z.array(z.object({ kind: z.enum(OBJECT_KINDS), object: id, rights: id, parent: CapRef.nullable() }).strict().nullable()),
          pages: z.array(
            z
              .object({
                frame: id,
                rights: id,
                source: z.discriminatedUnion("kind", [
                  z.object({ kind: z.literal("slot"), container: id, index: id, cap: CapRef }).strict(),
                  z.object({ kind: z.literal("map"), parent: MapRef }).strict(),
                ]),
                bits: id,
              })
              .strict()
              .nullable(),
          ),
        })
        .strict()
        .nullable(),
    ),
    containers: z.array(
      z
        .object({
          account: id,
          slots: z.array(
            z.discriminatedUnion("kind", [
              z.object({ kind: z.literal("empty") }).strict(),
              z.object({ kind: z.literal("hard"), frame: id }).strict(),
              z.object({ kind: z.literal("soft"), frame: id, epoch: id }).strict(),
              z.object({ kind: z.literal("swapped"), page: id }).strict(),
            ]),
          ),
        })
        .strict()
        .nullable(),
    ),
    handles: z.array(z.object({ account: id, frame: id }).strict().nullable()),
    swap: z.array(z.object({ content: z.int(), frame: id, epoch: id, refs: id }).strict().nullable()),
    sigma0: z.array(id.nullable()),
  })
  .strict();

// The schema and the spec's State describe the same thing: each is assignable to the other
// (up to readonly). A field added to one and not the other fails the type check here.
type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
const schemaIsState = (x: z.infer<typeof AbstractState>): State => x;
const stateIsSchema = (x: State): DeepReadonly<z.infer<typeof AbstractState>> => x;
void schemaIsState;
void stateIsSchema;

/** An operation, or a malformed one (see apply). */
const AnyOp = z.union([Op, z.looseObject({ op: z.string() })]);

/** What capmem sends. */
export const Request = z.discriminatedUnion("type", [
  /** first message: the protocol version capmem speaks */
  z.object({ type: z.literal("hello"), protocol: z.int() }).strict(),
  /** start afresh from the boot state of this configuration (sent before every trace) */
  z.object({ type: z.literal("boot"), config: Config }).strict(),
  /**
   * apply one operation; with `state`, also report the abstract state after
   * it. The operation is one of the vocabulary's, or (capmem tests that every
   * operation is total) a malformed one: an object with an `op` field whose
   * other fields may be missing, out of range or of the wrong type. The
   * answer to a malformed operation is the error result the spec gives it.
   */
  z.object({ type: z.literal("apply"), op: AnyOp, state: z.boolean() }).strict(),
  /**
   * apply several operations in order, as one message, answering each with
   * its own `result` line as for apply (capmem sends a whole trace this way
   * when it knows it in advance: a round trip per operation costs more than
   * the operation, and a driver that fails part-way has answered the
   * operations before the one that failed); with `states`, each answer
   * carries the abstract state after its operation
   */
  z.object({ type: z.literal("batch"), ops: z.array(AnyOp), states: z.boolean() }).strict(),
  /** report the abstract state */
  z.object({ type: z.literal("state") }).strict(),
  /** the session is over: exit (no answer) */
  z.object({ type: z.literal("bye") }).strict(),
]);
export type Request = z.infer<typeof Request>;

/** What a driver answers: one line per request (one per operation of a batch, none to bye). */
export const Answer = z.discriminatedUnion("type", [
  /** to hello: the version the driver speaks, and a name for messages */
  z.object({ type: z.literal("hello"), protocol: z.int(), name: z.string().optional() }).strict(),
  /** to boot */
  z.object({ type: z.literal("booted") }).strict(),
  /** to apply, and to each operation of a batch: the operation's result, and the state if it was asked for */
  z.object({ type: z.literal("result"), result: Result, state: AbstractState.optional() }).strict(),
  /** to state */
  z.object({ type: z.literal("state"), state: AbstractState }).strict(),
  /** to anything the driver cannot do (an unsupported configuration, say): capmem reports it and stops */
  z.object({ type: z.literal("error"), message: z.string() }).strict(),
]);
export type Answer = z.infer<typeof Answer>;

/**
 * The answers as capmem reads them off the wire: the states are checked by
 * comparing them with the spec's (a state of the wrong shape differs, and
 * `malformedState` then says how), not parsed up front, which would cost more
 * than the rest of a checked step.
 */
export const WireAnswer = z.discriminatedUnion("type", [
  Answer.options[0],
  Answer.options[1],
  z.object({ type: z.literal("result"), result: Result, state: z.unknown().optional() }).strict(),
  z.object({ type: z.literal("state"), state: z.unknown() }).strict(),
  Answer.options[4],
]);
export type WireAnswer = z.infer<typeof WireAnswer>;

/** Why a state a driver reported is not a capmem state (null: it is one). */
export function malformedState(x: unknown): string | null {
  const r = AbstractState.safeParse(x);
  if (r.success) return null;
  const issue = r.error.issues[0]!;
  return `${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") || "(top level)"}: ${issue.message}`;
}

/** The JSON Schema of both directions, for driver authors (docs/protocol.schema.json). */
export function protocolJsonSchema(): unknown {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `capmem driver protocol, version ${PROTOCOL_VERSION}`,
    description: "JSON lines over the driver's stdin (requests) and stdout (answers); one answer per request, in order, none to bye.",
    $defs: {
      request: z.toJSONSchema(Request, { io: "input" }),
      answer: z.toJSONSchema(Answer, { io: "input" }),
    },
  };
}
