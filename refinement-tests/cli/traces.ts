/**
 * Reading and writing trace files: JSON validated by the shared `Trace`
 * schema, with messages that name the offending field and what was
 * expected. Never a stack trace for a malformed file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { type Result, Trace } from "../../spec/vocabulary.js";
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
  const lines = error.issues.slice(0, limit).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
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
  return parseTrace(readText(file), file);
}

/** Writes a trace, one operation per line, so diffs and hand edits stay easy. */
export function writeTrace(file: string, trace: Trace): void {
  writeFileSync(file, formatTrace(trace));
}

/** A trace as JSON text, one operation (and one expected result) per line; a name and description are kept. */
export function formatTrace(trace: Trace): string {
  const lines = (xs: readonly unknown[]) => xs.map((x) => "    " + JSON.stringify(x)).join(",\n");
  const expect = trace.expect ? `,\n  "expect": [\n${lines(trace.expect)}\n  ]` : "";
  const head = `${trace.name !== undefined ? `  "name": ${JSON.stringify(trace.name)},\n` : ""}${trace.description !== undefined ? `  "description": ${JSON.stringify(trace.description)},\n` : ""}`;
  return `{\n${head}  "config": ${JSON.stringify(trace.config)},\n  "ops": [\n${lines(trace.ops)}\n  ]${expect}\n}\n`;
}

/** The JSON Schema of trace files, generated from the zod schema. */
export function traceJsonSchema(): unknown {
  return z.toJSONSchema(Trace, { io: "input" });
}

/** A result as the CLI prints it: `ok`, `ok 3`, `error Denied`. */
export function showResult(r: Result): string {
  return r.ok ? `ok${r.value === null ? "" : ` ${r.value}`}` : `error ${r.error}`;
}

/** If the trace says what step i must return and `got` is something else, a line saying so. */
export function unexpected(trace: Trace, i: number, got: Result): string | null {
  const want = trace.expect?.[i];
  if (want === undefined) return null;
  return equal(want, got) ? null : `step ${i} ${JSON.stringify(trace.ops[i])}: expected ${showResult(want)}, got ${showResult(got)}`;
}
