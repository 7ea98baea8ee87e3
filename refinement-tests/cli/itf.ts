/**
 * Traces in the Informal Trace Format (ITF: Apalache ADR-015, the format
 * Apalache and Quint read and write), both ways.
 *
 * Export: a capmem trace becomes the sequence of spec states it passes
 * through, one ITF state per step, each with three variables: `state` (the
 * spec's abstract state), `action` (the operation that led to it, as a
 * record) and `result` (its result), the last two options: None in the
 * initial state. Values follow ITF: integers as {"#bigint": "n"}, lists as
 * arrays, records as objects, and whatever may be empty as a Quint option
 * variant, {"tag": "Some", "value": ...} or {"tag": "None", "value":
 * {"#tup": []}}: every entry of a table of records (accounts, tasks,
 * capability slots, pages, container slots, ...), a parent, an ok result's
 * value. The configuration rides in the trace's #meta.
 *
 * Import: an ITF trace whose actions are capmem operations becomes a capmem
 * trace. The action of each state after the first is taken from an `action`
 * variable holding an operation record, or, as Quint's model-based testing
 * writes them, from `mbt::actionTaken` (the operation's name) and
 * `mbt::nondetPicks` (its fields, as options). Results in a `result`
 * variable become the trace's `expect`.
 */
import { step } from "../../spec/operations.js";
import { boot } from "../../spec/state.js";
import { type Config, Op, OP_KINDS, Result, type Trace } from "../../spec/vocabulary.js";
import { TraceFileError } from "./traces.js";
import { inSpec } from "../harness/watchdog.js";

export const ITF_FORMAT = "https://apalache-mc.org/docs/adr/015adr-trace.html";

/** A JSON value as ITF writes it. */
export function toItfValue(x: unknown): unknown {
  if (x === null) return NONE;
  if (typeof x === "number") return { "#bigint": String(x) };
  if (Array.isArray(x)) return x.map((v) => (v !== null && isNullableTable(x) ? some(toItfValue(v)) : toItfValue(v)));
  if (typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = NULLABLE_FIELDS.has(k) && v !== null ? some(toItfValue(v)) : toItfValue(v);
    return out;
  }
  return x;
}

/** Fields of the state that may be null (options in ITF when present too). */
const NULLABLE_FIELDS = new Set(["parent", "pager", "fault", "pending", "cursor", "last", "zone"]);

const some = (x: unknown) => ({ tag: "Some", value: x });
const NONE = { tag: "None", value: { "#tup": [] } };

/** A result as ITF: ok's value, which may be null, is an option. */
const resultToItf = (r: Result) =>
  r.ok ? { ok: true, value: r.value === null ? NONE : some(toItfValue(r.value)), ...(r.fault ? { fault: true } : {}), ...(r.preempted ? { preempted: true } : {}), ...(r.notice ? { notice: toItfValue(r.notice) } : {}) } : toItfValue(r);
/** Tables with empty entries: an array with a null in it, or of records (accounts, tasks, caps, ... may be empty). */
const isNullableTable = (xs: readonly unknown[]) => xs.some((v) => v === null || (typeof v === "object" && !Array.isArray(v)));

/** An ITF value as plain JSON: bigints as numbers, options unwrapped (None is null), sets and tuples as arrays. */
export function fromItfValue(x: unknown, path = "$"): unknown {
  if (x === null || typeof x !== "object") return x;
  if (Array.isArray(x)) return x.map((v, i) => fromItfValue(v, `${path}[${i}]`));
  const o = x as Record<string, unknown>;
  if ("#bigint" in o) {
    const n = Number(o["#bigint"]);
    if (!Number.isSafeInteger(n)) throw new TraceFileError(`${path}: ${JSON.stringify(o["#bigint"])} is not an integer capmem can take`);
    return n;
  }
  if ("#set" in o) return fromItfValue(o["#set"], path);
  if ("#tup" in o) return fromItfValue(o["#tup"], path);
  if ("#map" in o) throw new TraceFileError(`${path}: a map (#map) has no place in a capmem operation or result`);
  if ("#unserializable" in o) throw new TraceFileError(`${path}: an unserializable value (${String(o["#unserializable"])})`);
  if ("tag" in o && "value" in o && Object.keys(o).length === 2) return o.tag === "None" ? null : fromItfValue(o.value, path);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== "#meta") out[k] = fromItfValue(v, `${path}.${k}`);
  return out;
}

/** A capmem trace as an ITF trace of the spec's states (`at` is told each step before it runs, for a hang report: watchdog.ts). */
export function traceToItf(trace: Trace, source: string, at: (i: number) => void = () => {}): unknown {
  let s = boot(trace.config);
  const states: unknown[] = [{ "#meta": { index: 0 }, state: toItfValue(s), action: NONE, result: NONE }];
  trace.ops.forEach((op, i) => {
    at(i);
    const next = inSpec(0, () => step(s, op));
    s = next.state;
    states.push({ "#meta": { index: i + 1 }, state: toItfValue(s), action: some(toItfValue(op)), result: some(resultToItf(next.result)) });
  });
  return {
    "#meta": {
      format: "ITF",
      "format-description": ITF_FORMAT,
      source,
      description: `capmem trace${trace.name ? ` "${trace.name}"` : ""}: the spec's state after each operation`,
      capmem: { config: trace.config, ...(trace.name ? { name: trace.name } : {}), ...(trace.description ? { description: trace.description } : {}) },
    },
    vars: ["state", "action", "result"],
    states,
  };
}

/** A capmem trace from an ITF trace whose actions are capmem operations; `config` when its #meta has none. */
export function itfToTrace(json: unknown, source: string, config?: Config): Trace {
  const where = (at: string) => `${source}: ${at}`;
  if (json === null || typeof json !== "object" || !Array.isArray((json as { states?: unknown }).states)) throw new TraceFileError(where("not an ITF trace (no states list)"));
  const itf = json as { "#meta"?: { capmem?: { config?: unknown; name?: string; description?: string } }; states: unknown[] };
  const meta = itf["#meta"]?.capmem;
  const cfg = (meta?.config as Config | undefined) ?? config;
  if (cfg === undefined) throw new TraceFileError(where("the trace does not say its capmem configuration (#meta.capmem.config): give one with --config"));
  const ops: Op[] = [];
  const expect: Result[] = [];
  let allResults = true;
  itf.states.forEach((raw, i) => {
    if (i === 0) return; // the initial state: no action led to it
    const st = raw as Record<string, unknown>;
    let op: unknown;
    if (st.action !== undefined) op = fromItfValue(st.action, `states[${i}].action`);
    else if (typeof st["mbt::actionTaken"] === "string") {
      const kind = st["mbt::actionTaken"];
      if (!(OP_KINDS as readonly string[]).includes(kind)) throw new TraceFileError(where(`states[${i}]: action "${kind}" is not a capmem operation (one of ${OP_KINDS.join(", ")})`));
      const picks = fromItfValue(st["mbt::nondetPicks"] ?? {}, `states[${i}].mbt::nondetPicks`) as Record<string, unknown>;
      // (a pick of None is one the action did not make, unless the operation's field takes null: task.pager's pager, "no pager")
      const shape = Op.options.find((o) => o.shape.op.value === kind)!.shape as Record<string, { safeParse(x: unknown): { success: boolean } }>;
      op = { op: kind, ...Object.fromEntries(Object.entries(picks).filter(([k, v]) => v !== null || (shape[k]?.safeParse(null).success ?? false))) };
    } else throw new TraceFileError(where(`states[${i}]: no action (neither an "action" variable nor "mbt::actionTaken")`));
    const parsed = Op.safeParse(op);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TraceFileError(where(`states[${i}]: the action is not a capmem operation: ${issue.path.join(".") || "(top level)"}: ${issue.message} (${JSON.stringify(op).slice(0, 160)})`));
    }
    ops.push(parsed.data);
    const r = st.result === undefined ? undefined : Result.safeParse(fromItfValue(st.result, `states[${i}].result`));
    if (r?.success) expect.push(r.data);
    else allResults = false;
  });
  return {
    ...(meta?.name ? { name: meta.name } : {}),
    ...(meta?.description ? { description: meta.description } : {}),
    config: cfg,
    ops,
    ...(allResults && ops.length > 0 ? { expect } : {}),
  };
}
