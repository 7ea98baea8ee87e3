/**
 * Reading and writing trace files: JSON validated by the shared `Trace`
 * schema, with messages that name the offending field and what was
 * expected. Never a stack trace for a malformed file.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type Config, type Op, type Result, Trace } from "../../spec/vocabulary.js";
import { equal } from "../harness/compare.js";

export class TraceFileError extends Error {
  override name = "TraceFileError";
}

/** `ops[3].rights[0]` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out === "" ? "(top level)" : out;
}

/** Human-readable lines for a failed parse, one per problem (at most `limit`). */
export function describeIssues(error: z.ZodError, limit = 10): string[] {
  // a bad key of a record (a note's step number) says why in a nested issue
  const why = (issue: z.core.$ZodIssue) => (issue.code === "invalid_key" && issue.issues[0] ? `${issue.issues[0].message} (got "${String(issue.path.at(-1))}")` : issue.message);
  const lines = error.issues.slice(0, limit).map((issue) => `${formatPath(issue.path)}: ${why(issue)}`);
  if (error.issues.length > limit) lines.push(`... and ${error.issues.length - limit} more`);
  return lines;
}

/**
 * JSON from a file's text: a UTF-8 byte-order mark is skipped (editors
 * write one), and a syntax error is reported at its line and column.
 */
export function parseJson(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    if (!at) throw new TraceFileError(`${source}: not valid JSON: ${message}`);
    const before = body.slice(0, Number(at[1]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    throw new TraceFileError(`${source}:${line}:${column}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, "").replace(/ at position \d+.*$/, "")}`);
  }
}

/** Parses a trace from text; throws TraceFileError naming the field on any problem. */
export function parseTrace(text: string, source: string): Trace {
  const json = parseJson(text, source);
  const r = Trace.safeParse(json);
  if (!r.success) throw new TraceFileError(`${source}: not a capmem trace:\n  ${describeIssues(r.error).join("\n  ")}`);
  return r.data;
}

/** Every trace file (`*.json`) of directory `dir`, parsed, by file name in name order; a bad file's error names it as `shown`/file. */
export function traceFiles(dir: string, shown = dir): Map<string, Trace> {
  const out = new Map<string, Trace>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".json")).sort()) out.set(f, parseTrace(readFileSync(join(dir, f), "utf8"), join(shown, f)));
  return out;
}

/** A file-system error in words, with its code (not a bare ENOENT). */
export function fileError(e: unknown): string {
  const code = (e as { code?: string }).code;
  const words: Record<string, string> = {
    EEXIST: "a file is in the way of a directory it needs",
    ENOTDIR: "a part of the path is a file, not a directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "it is a directory, not a file",
    ENOENT: "no such file or directory",
    ENOSPC: "no space left on the device",
    EROFS: "the file system is read-only",
  };
  return code && words[code] ? `${words[code]} (${code})` : e instanceof Error ? e.message : String(e);
}

/** The text of a file, or a TraceFileError saying in words why not. */
export function readText(file: string, what = file): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new TraceFileError(`${what}: cannot read: ${fileError(e)}`);
  }
}

export function readTrace(file: string): Trace {
  const trace = parseTrace(readText(file), file);
  checkFootprint(trace.config, `${file}: config`);
  return trace;
}

/** Writes a trace, one operation per line, so diffs and hand edits stay easy. */
export function writeTrace(file: string, trace: Trace): void {
  writeFileSync(file, formatTrace(trace));
}

/** A trace as JSON text, one operation (and one expected result) per line; a name, description and notes are kept. */
export function formatTrace(trace: Trace): string {
  const lines = (xs: readonly unknown[]) => xs.map((x) => "    " + JSON.stringify(x)).join(",\n");
  const notes = trace.notes ? Object.entries(trace.notes).sort((a, b) => Number(a[0]) - Number(b[0])) : [];
  const expect =
    (trace.expect ? `,\n  "expect": [\n${lines(trace.expect)}\n  ]` : "") +
    (trace.notes ? `,\n  "notes": {${notes.length ? "\n" + notes.map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n") + "\n  " : ""}}` : "");
  const head = `${trace.name !== undefined ? `  "name": ${JSON.stringify(trace.name)},\n` : ""}${trace.description !== undefined ? `  "description": ${JSON.stringify(trace.description)},\n` : ""}`;
  return `{\n${head}  "config": ${JSON.stringify(trace.config)},\n  "ops": [\n${lines(trace.ops)}\n  ]${expect}\n}\n`;
}

/** The JSON Schema of trace files, generated from the zod schema. */
export function traceJsonSchema(): unknown {
  return z.toJSONSchema(Trace, { io: "input" });
}

/** A result as the CLI prints it: `ok`, `ok 3`, `ok (fault)`, `ok (preempted)`, `ok 0 (notice: task 2, page 5)`, `error Denied`. */
export function showResult(r: Result): string {
  if (!r.ok) return `error ${r.error}`;
  const extra = r.fault ? " (fault)" : r.preempted ? " (preempted)" : r.notice ? ` (notice: task ${r.notice.task}, page ${r.notice.vpage})` : "";
  return `ok${r.value === null ? "" : ` ${r.value}`}${extra}`;
}

/** If the trace says what step i must return and `got` is something else, a line saying so. */
export function unexpected(trace: Trace, i: number, got: Result): Surprise | null {
  const expected = trace.expect?.[i];
  if (expected === undefined) return null;
  return equal(expected, got) ? null : { step: i, op: trace.ops[i]!, expected, got };
}

/** A result that differs from the trace's `expect`. */
export interface Surprise {
  readonly step: number;
  readonly op: Op;
  readonly expected: Result;
  readonly got: Result;
}

export const showSurprise = (x: Surprise): string => `step ${x.step} ${JSON.stringify(x.op)}: expected ${showResult(x.expected)}, got ${showResult(x.got)}`;

/** The memory capmem will allow one configuration's two machines (spec and impl) to take. */
export const CONFIG_BUDGET = 2 * 1024 ** 3;

/**
 * About how many bytes booting a configuration takes on both sides, and what
 * takes most: the spec keeps a slot per capability slot and per page of every
 * task, per container slot, per frame, as plain objects and arrays; the impl
 * the same as typed arrays. The schema accepts sizes whose product no
 * machine holds, so the CLI refuses those before allocating (the figures are
 * rough per-item costs, measured in round numbers, not exact).
 */
export function configFootprint(c: Config): { bytes: number; largest: string } {
  const parts: [string, number][] = [
    [`tasks ${c.tasks} × capSlots ${c.capSlots} (capability spaces)`, c.tasks * c.capSlots * 40],
    [`tasks ${c.tasks} × vpages ${c.vpages} (page tables)`, c.tasks * c.vpages * 10],
    [`containers ${c.containers} × containerSlots ${c.containerSlots} (container slots)`, c.containers * c.containerSlots * 60],
    [`frames ${c.frames}`, c.frames * 340], // the spec copies its frame table on every step (2^22 frames: 1.4 GB measured)
    [`swap ${c.swap ?? c.containers * c.containerSlots} (swap pages)`, (c.swap ?? c.containers * c.containerSlots) * 30],
    [`accounts ${c.accounts}`, c.accounts * 150],
    [`handles ${c.handles}`, c.handles * 40],
  ];
  parts.sort((a, b) => b[1] - a[1]);
  return { bytes: parts.reduce((n, [, b]) => n + b, 0), largest: parts[0]![0] };
}

/** Throws TraceFileError when a configuration would not fit in CONFIG_BUDGET. */
export function checkFootprint(c: Config, where: string): void {
  const { bytes, largest } = configFootprint(c);
  if (bytes <= CONFIG_BUDGET) return;
  const size = (n: number) => (n >= 1024 ** 4 ? `${(n / 1024 ** 4).toFixed(1)} TiB` : n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);
  throw new TraceFileError(`${where}: this configuration would take about ${size(bytes)} to boot, mostly for ${largest}; capmem allows ${size(CONFIG_BUDGET)}: make it smaller`);
}
