/**
 * The generated part of docs/: a reference page per operation and per named
 * invariant, built from the spec itself (the zod schemas, the doc comments
 * of the operation families in spec/, the invariants' names and descriptions
 * and their code), and the generated sections of the scenario pages (each trace with
 * its results, and the state drawn before and after).
 *
 * `capmem docs` writes them; `capmem docs --check` (run by the tests) fails
 * when any is out of date. The parsing is deliberately strict: a doc comment
 * whose "Errors" paragraph names something that is not an error code, or
 * that the generator cannot read, is an error, so the reference cannot drift
 * silently from the spec.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { INVARIANTS } from "../../spec/invariants.js";
import { TRANSITION_INVARIANTS } from "../../spec/transitions.js";
import { OPERATIONS, step } from "../../spec/operations.js";
import { boot, type State } from "../../spec/state.js";
import { ERROR_CODES, type ErrorCode, Op, OP_KINDS, type OpKind, type Trace } from "../../spec/vocabulary.js";
import { toMermaid } from "../cli/draw.js";
import { showResult, traceFiles } from "../cli/traces.js";
import { inSpec, runningFrom } from "../harness/watchdog.js";

/** The package's root: the nearest folder up with a package.json (the sources run from refinement-tests/docs, the compiled package from dist/refinement-tests/docs). */
export const PACKAGE_ROOT = ((): string => {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const ROOT = PACKAGE_ROOT;

const read = (rel: string) => readFileSync(join(ROOT, rel), "utf8");

// ---------------------------------------------------------------------------
// Reading the sources

interface DocComment {
  /** the comment's text, ` * ` prefixes removed */
  readonly text: string;
  /** 1-based line of the function it documents */
  readonly line: number;
  /** the file it is in, relative to the repository (set by specDocComments) */
  readonly file?: string;
}

/** The spec's source files (not its tests), relative to the repository. */
export function specFiles(): string[] {
  return readdirSync(join(ROOT, "spec"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort()
    .map((f) => `spec/${f}`);
}

/** The doc comment of every top-level function in the spec's files, by function name, with its file. */
export function specDocComments(): Map<string, DocComment> {
  const out = new Map<string, DocComment>();
  for (const file of specFiles()) {
    for (const [fn, c] of docComments(read(file))) {
      if (out.has(fn)) throw new Error(`${file}: function ${fn} is also defined in ${out.get(fn)!.file}`);
      out.set(fn, { ...c, file });
    }
  }
  return out;
}

/** The doc comment of every (exported or not) top-level function of a source file, by function name. */
export function docComments(source: string): Map<string, DocComment> {
  const out = new Map<string, DocComment>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n(?:export )?function (\w+)\(/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const text = m[1]!
      .split("\n")
      .map((l) => l.replace(/^\s*\* ?/, ""))
      .join("\n")
      .trim();
    const line = source.slice(0, m.index + m[0].length).split("\n").length;
    out.set(m[2]!, { text, line });
  }
  return out;
}

/** Each error code's one-line description (the doc comment above it in ERROR_CODES). */
export function errorDescriptions(vocabulary: string): Map<ErrorCode, string> {
  const out = new Map<ErrorCode, string>();
  const re = /\/\*\* (.*?) \*\/\s*\n\s*"(\w+)",/g;
  for (let m = re.exec(vocabulary); m; m = re.exec(vocabulary)) out.set(m[2] as ErrorCode, m[1]!);
  for (const code of ERROR_CODES) if (!out.has(code)) throw new Error(`spec/vocabulary.ts: error code ${code} has no one-line doc comment`);
  return out;
}

/** The parts of an operation's doc comment. */
export interface OpDoc {
  readonly kind: OpKind;
  readonly fn: string;
  /** the spec file that defines it, relative to the repository */
  readonly file: string;
  readonly line: number;
  /** what the operation does (the first paragraph, without the "kind — " prefix) */
  readonly effect: string;
  readonly why: string;
  readonly result: string | null;
  /** the preconditions in check order: the codes one check can give, and when */
  readonly errors: readonly { codes: ErrorCode[]; when: string | null }[];
  readonly faults: boolean;
}

const isCode = (x: string): x is ErrorCode => (ERROR_CODES as readonly string[]).includes(x);

/** Splits at top-level semicolons (not inside parentheses). */
function splitItems(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === ";" && depth === 0) {
      items.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) items.push(cur.trim());
  return items;
}

function parseErrorList(text: string, where: string): { codes: ErrorCode[]; when: string | null }[] {
  return splitItems(text.replace(/\.$/, "")).map((item) => {
    const m = /^([A-Z]\w*(?:,\s*[A-Z]\w*)*)\s*(?:\(([\s\S]*)\))?$/.exec(item);
    if (!m) throw new Error(`${where}: cannot read the error item "${item}"`);
    const codes = m[1]!.split(/,\s*/);
    for (const c of codes) if (!isCode(c)) throw new Error(`${where}: "${c}" is not an error code`);
    return { codes: codes as ErrorCode[], when: m[2]?.replace(/\s+/g, " ") ?? null };
  });
}

/** Reads the doc comment of every operation; throws if one cannot be read. */
export function operationDocs(comments = specDocComments()): Map<OpKind, OpDoc> {
  const out = new Map<OpKind, OpDoc>();
  const resolveErrors = (fn: string, text: string): OpDoc["errors"] => {
    const where = `${comments.get(fn)?.file ?? "spec"} ${fn}`;
    let m = /^Errors(?:, in order)?: as ([\w.]*\w)(?:, without (\w+)[^.]*)?\.?$/.exec(text);
    if (m) {
      const other = m[1] as OpKind;
      const base = out.get(other) ?? (OP_KINDS.includes(other) ? parse(other) : null);
      if (!base) throw new Error(`${where}: "as ${other}" names no operation`);
      const drop = m[2];
      return base.errors.map((e) => ({ ...e, codes: e.codes.filter((c) => c !== drop) })).filter((e) => e.codes.length > 0);
    }
    m = /^Errors(?: \(faults\))?, in order: ([\s\S]*)$/.exec(text);
    if (m) return parseErrorList(m[1]!, where);
    m = /^Errors: see .*\((\w+)\)\.?$/.exec(text);
    if (m) {
      const shared = comments.get(m[1]!);
      const inner = shared && /Errors, in order: ([\s\S]*)$/.exec(shared.text.replace(/\n/g, " "));
      if (!inner) throw new Error(`${where}: the shared checks ${m[1]} have no "Errors, in order" paragraph`);
      return parseErrorList(inner[1]!, `${shared.file} ${m[1]}`);
    }
    throw new Error(`${where}: cannot read the Errors paragraph "${text}"`);
  };
  const parse = (kind: OpKind): OpDoc => {
    const fn = OPERATIONS[kind].name;
    const c = comments.get(fn);
    if (!c) throw new Error(`spec: ${fn} (${kind}) has no doc comment`);
    const file = c.file ?? "spec";
    const paragraphs = c.text.split(/\n\s*\n/).map((p) => p.replace(/\n/g, " ").trim());
    const first = paragraphs[0]!;
    const prefix = `${kind} — `;
    if (!first.startsWith(prefix)) throw new Error(`${file} ${fn}: the doc comment should start with "${prefix}"`);
    let why = "";
    let result: string | null = null;
    let errorsText: string | null = null;
    let faults = false;
    const extra: string[] = [];
    for (const p of paragraphs.slice(1)) {
      // "Result:" and "Errors" may share a paragraph: split it at "Errors"
      const [before, ...rest] = p.split(/(?=Errors[ ,:(])/);
      for (const part of [before!, ...rest].map((x) => x.trim()).filter(Boolean)) {
        if (part.startsWith("Why:")) why = part.slice(4).trim();
        else if (part.startsWith("Result:")) result = part.slice(7).trim();
        else if (part.startsWith("Errors")) {
          errorsText = part;
          faults = part.startsWith("Errors (faults)");
        } else extra.push(part);
      }
    }
    if (!why) throw new Error(`${file} ${fn}: no "Why:" paragraph`);
    if (errorsText === null) throw new Error(`${file} ${fn}: no "Errors" paragraph`);
    const effect = [first.slice(prefix.length), ...extra].join("\n\n");
    return { kind, fn, file, line: c.line, effect, why, result, errors: resolveErrors(fn, errorsText), faults };
  };
  for (const kind of OP_KINDS) out.set(kind, parse(kind));
  return out;
}

/** The seeds cited in a text, as file names (from "seed 003" or "003_....txt"). */
export function seedsCited(text: string, seedFiles: readonly string[]): string[] {
  const nums = new Set<string>();
  for (const m of text.matchAll(/seeds? (\d{3})((?:,? (?:and )?\d{3})*)/g)) {
    nums.add(m[1]!);
    for (const n of m[2]!.matchAll(/\d{3}/g)) nums.add(n[0]);
  }
  for (const m of text.matchAll(/\b(\d{3})_[0-9a-f]{16}\.txt/g)) nums.add(m[1]!);
  return [...nums].sort().map((n) => seedFiles.find((f) => f.startsWith(`${n}_`)) ?? `${n} (unknown seed)`);
}

// ---------------------------------------------------------------------------
// Rendering

/**
 * The seeds (../shared/seeds/, outside this repository), each with a short
 * summary of what capmem takes from it. Kept here, not read from the seeds'
 * directory, so the generated pages are the same in any checkout.
 */
const SEEDS: ReadonlyMap<string, string> = new Map([
  ["000_0acf2069c9b56720.txt", "Hurd-on-L4 physmem containers (Brinkmann): sharing memory with untrusted servers, proxy capabilities and revocation, DMA wiring, logical copy, soft references for caches, swap and relocation by physmem."],
  ["001_468f3620a1a4dd19.txt", "Shapiro on L4 map/unmap versus Coyotos: the mapping database and who pays for its nodes, mapping co-equally, constant-time revoke."],
  ["002_977c03b37cc28449.txt", "Forum discussion of sigma0 and kernel memory: charging tasks for kernel objects, forced unmap, flexpages, access and dirty bits for pagers."],
  ["003_a2470de884760ae8.txt", "Feske on Genode: quota donated along the parent/child tree, ballooning by resource requests until denied and by yield requests."],
  ["004_1a77f3008d0f6074.txt", "Walfield on physmem and self-paging tasks: quota from a policy server that never overcommits, logical copy with copy-on-write, swap."],
]);
const SEED_FILES = [...SEEDS.keys()];

/** A zod field schema in words. */
function fieldType(schema: z.ZodType): string {
  const j = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  if (j.type === "integer") {
    const min = j.minimum as number | undefined;
    const max = j.maximum as number | undefined;
    if (min === -2147483648 && max === 2147483647) return "32-bit signed integer";
    if (min !== undefined && max !== undefined && max < Number.MAX_SAFE_INTEGER) return `integer ${min}..${max}`;
    if (min !== undefined) return `integer >= ${min}`;
    return "integer";
  }
  if (Array.isArray(j.enum)) return `one of ${(j.enum as string[]).map((x) => `"${x}"`).join(", ")}`;
  if (j.type === "array") {
    const items = j.items as { enum?: string[] };
    return `list of distinct rights from ${(items.enum ?? []).map((x) => `"${x}"`).join(", ")}`;
  }
  return JSON.stringify(j);
}

const FAMILIES: readonly [string, (k: OpKind) => boolean][] = [
  ["Accounts and quota", (k) => k.startsWith("account.")],
  ["Tasks", (k) => k.startsWith("task.")],
  ["Containers and frames", (k) => k.startsWith("container.")],
  ["Capabilities", (k) => k.startsWith("cap.")],
  ["Mappings", (k) => k.startsWith("page.") || k.startsWith("l4.")],
  ["Memory access", (k) => k.startsWith("mem.")],
  ["Pagers and faults", (k) => k.startsWith("fault.") || k.startsWith("sigma0.")],
  ["DMA", (k) => k.startsWith("dma.")],
  ["Environment", (k) => k.startsWith("physmem.")],
];

const GENERATED_NOTE = "<!-- generated by `npm run docs` from the spec: do not edit; `npm test` fails when this is out of date -->";

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The text up to the first full stop outside parentheses. */
function firstSentence(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "." && depth === 0 && (i + 1 === text.length || text[i + 1] === " " || text[i + 1] === "\n")) return text.slice(0, i + 1);
  }
  return text.replace(/\s*\n\s*/g, " "); // a table cell is one line
}

function renderOperation(doc: OpDoc, errors: Map<ErrorCode, string>): string {
  const schema = Op.options.find((o) => o.shape.op.value === doc.kind)!;
  const fields = Object.entries(schema.shape).filter(([k]) => k !== "op");
  const example = `{ "op": "${doc.kind}"${fields.map(([k]) => `, "${k}": …`).join("")} }`;
  const lines = [
    GENERATED_NOTE,
    `# \`${doc.kind}\``,
    "",
    capital(doc.effect),
    "",
    "## Signature",
    "",
    "```",
    example,
    "```",
    "",
    "| field | type |",
    "| --- | --- |",
    ...fields.map(([k, s]) => `| \`${k}\` | ${fieldType(s as z.ZodType)}${k === "task" ? " (the subject: the task performing the operation)" : ""} |`),
    "",
    "## Why",
    "",
    capital(doc.why),
    "",
    "## Result",
    "",
    doc.result ? capital(doc.result) : "`ok` with no value.",
    "",
    `## Preconditions${doc.faults ? " (faults)" : ""}`,
    "",
    "Checked in this order; the first that fails is the result, and then nothing changes (the impl checks in the same order, so both sides agree on which error).",
    "",
    "| # | error | about | meaning |",
    "| --- | --- | --- | --- |",
    ...doc.errors.map((e, i) => `| ${i + 1} | ${e.codes.map((c) => `\`${c}\``).join(", ")} | ${e.when ?? ""} | ${e.codes.length === 1 ? errors.get(e.codes[0]!) : e.codes.map((c) => `${c}: ${errors.get(c)}`).join("; ")} |`),
    "",
  ];
  const cited = seedsCited(`${doc.effect} ${doc.why}`, SEED_FILES);
  if (cited.length) {
    lines.push("## Seeds cited", "");
    for (const f of cited) lines.push(`- \`${f}\`${SEEDS.has(f) ? ` — ${SEEDS.get(f)}` : ""}`);
    lines.push("");
  }
  lines.push("## Source", "", `[\`${doc.fn}\` in ${doc.file}](../../../${doc.file}#L${doc.line}); every step of it is checked against the impl (${doc.file.replace("spec/", "impl/")}) by the refinement tests.`, "");
  return lines.join("\n");
}

/** The source text of an invariant's check (from its `check(` line to the closing brace of the property). */
function invariantSource(source: string, name: string, file: string): { code: string; line: number } {
  const at = source.indexOf(`name: "${name}",`);
  if (at < 0) throw new Error(`${file}: no invariant named ${name}`);
  const start = source.indexOf("check(", at);
  const lineStart = source.lastIndexOf("\n", start) + 1;
  const end = source.indexOf("\n    },\n", start);
  const code = source
    .slice(lineStart, end + 7)
    .split("\n")
    .map((l) => l.slice(4))
    .join("\n");
  return { code, line: source.slice(0, lineStart).split("\n").length };
}

function renderInvariant(name: string, description: string, twoState: boolean, file: string, source: string): string {
  const { code, line } = invariantSource(source, name, file);
  return [
    GENERATED_NOTE,
    `# \`${name}\``,
    "",
    `*${twoState ? "Two-state property: about one step (state before, operation, state after)" : "State invariant: holds in every reachable state"}.*`,
    "",
    description,
    "",
    "## Where it is checked",
    "",
    twoState
      ? "After every successful step of every refinement trace (`checkTransition`), on every transition `capmem explore` takes, and by `capmem check`."
      : "After every step of every refinement trace (`checkInvariants`), on every new state `capmem explore` reaches, and by `capmem check`; a violation names the invariant and its first offender.",
    "",
    "## Definition",
    "",
    "```ts",
    code,
    "```",
    "",
    `[${file} line ${line}](../../../${file}#L${line})`,
    "",
  ].join("\n");
}

function renderIndex(docs: Map<OpKind, OpDoc>, errors: Map<ErrorCode, string>): string {
  const lines = [
    GENERATED_NOTE,
    "# Reference",
    "",
    "One page per operation and per named invariant, generated from the spec (`spec/vocabulary.ts`, the operation families in `spec/` named by the dispatch table in `spec/operations.ts`, `spec/invariants.ts`, `spec/transitions.ts`, `spec/security.ts`, `spec/pagers.ts` and `spec/preemption.ts`). For the ideas behind them start with [the overview](../overview.md).",
    "",
    "## Operations",
    "",
  ];
  for (const [family, pick] of FAMILIES) {
    lines.push(`### ${family}`, "", "| operation | what it does |", "| --- | --- |");
    for (const [kind, d] of docs) if (pick(kind)) lines.push(`| [\`${kind}\`](operations/${kind}.md) | ${capital(firstSentence(d.effect))} |`);
    lines.push("");
  }
  lines.push("## Invariants", "", "| invariant | what holds |", "| --- | --- |");
  for (const inv of INVARIANTS) lines.push(`| [\`${inv.name}\`](invariants/${inv.name}.md) | ${inv.description} |`);
  lines.push("", "Two-state properties (about one step):", "", "| property | what holds |", "| --- | --- |");
  for (const inv of TRANSITION_INVARIANTS) lines.push(`| [\`${inv.name}\`](invariants/${inv.name}.md) | ${inv.description} |`);
  lines.push("", "## Error codes", "", "An error result promises that nothing changed.", "", "| code | meaning | returned by |", "| --- | --- | --- |");
  for (const code of ERROR_CODES) {
    const by = [...docs.values()].filter((d) => d.errors.some((e) => e.codes.includes(code))).map((d) => `[\`${d.kind}\`](operations/${d.kind}.md)`);
    const missing = [...docs.values()].filter((d) => !d.errors.some((e) => e.codes.includes(code))).map((d) => `\`${d.kind}\``);
    const returnedBy = by.length > docs.size / 2 ? `every operation${missing.length ? ` except ${missing.join(", ")}` : ""}` : by.join(", ");
    lines.push(`| \`${code}\` | ${errors.get(code)} | ${returnedBy} |`);
  }
  lines.push("");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Scenario pages: hand-written prose, generated trace and drawings

const BEGIN = "<!-- begin generated: do not edit below; `npm run docs` rewrites it from the trace file -->";
const END = "<!-- end generated -->";

/** The directive in a scenario page: which trace, and after which step to draw the "before" state. */
function scenarioDirective(page: string, file: string): { trace: string; before: number } {
  const m = /<!-- scenario: (\S+\.json) before=(\d+) -->/.exec(page);
  if (!m) throw new Error(`${file}: no <!-- scenario: FILE.json before=N --> directive`);
  return { trace: m[1]!, before: Number(m[2]) };
}

function renderScenario(trace: Trace, before: number): string {
  let state: State = boot(trace.config);
  let drawnBefore = "";
  const rows: string[] = ["| # | operation | result |", "| --- | --- | --- |"];
  if (before === 0) drawnBefore = toMermaid(state);
  let at = -1;
  runningFrom(() => ({ config: trace.config, ops: trace.ops.slice(0, at + 1) })); // (for a hang report: watchdog.ts)
  trace.ops.forEach((op, i) => {
    at = i;
    const s = inSpec(0, () => step(state, op));
    state = s.state;
    const { op: kind, ...args } = op as Record<string, unknown>;
    rows.push(`| ${i} | [\`${kind}\`](../reference/operations/${kind}.md) \`${JSON.stringify(args)}\` | ${showResult(s.result)} |`);
    if (i + 1 === before) drawnBefore = toMermaid(state);
  });
  return [
    BEGIN,
    "",
    "### The trace",
    "",
    `Configuration: \`${JSON.stringify(trace.config)}\`. Every result below is the one the trace file expects; the test suite replays it on spec and impl in lockstep.`,
    "",
    ...rows,
    "",
    `### The state ${before === 0 ? "at boot" : `after step ${before - 1}`}`,
    "",
    "```mermaid",
    drawnBefore.trimEnd(),
    "```",
    "",
    "### The state at the end",
    "",
    "```mermaid",
    toMermaid(state).trimEnd(),
    "```",
    "",
    END,
  ].join("\n");
}

export const SCENARIO_DIR = "docs/scenarios";

/** Every scenario trace file, parsed. */
export function scenarioTraces(): Map<string, Trace> {
  return traceFiles(join(ROOT, SCENARIO_DIR), SCENARIO_DIR);
}

// ---------------------------------------------------------------------------

/** The spec files that define named properties. */
const PROPERTY_FILES = ["spec/invariants.ts", "spec/transitions.ts", "spec/security.ts", "spec/pagers.ts", "spec/preemption.ts"];

/** Every generated file (path relative to the repository -> content). */
export function generateDocs(): Map<string, string> {
  const out = new Map<string, string>();
  const errors = errorDescriptions(read("spec/vocabulary.ts"));
  const docs = operationDocs();
  out.set("docs/reference/README.md", renderIndex(docs, errors));
  for (const [kind, d] of docs) out.set(`docs/reference/operations/${kind}.md`, renderOperation(d, errors));
  const sources = new Map(PROPERTY_FILES.map((f) => [f, read(f)] as const)); // each file read once
  const render = (name: string, description: string, twoState: boolean) => {
    const file = PROPERTY_FILES.find((f) => sources.get(f)!.includes(`name: "${name}",`)) ?? PROPERTY_FILES[0]!;
    return renderInvariant(name, description, twoState, file, sources.get(file)!);
  };
  for (const inv of INVARIANTS) out.set(`docs/reference/invariants/${inv.name}.md`, render(inv.name, inv.description, false));
  for (const inv of TRANSITION_INVARIANTS) out.set(`docs/reference/invariants/${inv.name}.md`, render(inv.name, inv.description, true));
  const traces = scenarioTraces();
  for (const f of readdirSync(join(ROOT, SCENARIO_DIR)).filter((x) => x.endsWith(".md") && x !== "README.md").sort()) {
    const path = join(SCENARIO_DIR, f);
    const page = read(path);
    const { trace, before } = scenarioDirective(page, path);
    const t = traces.get(trace);
    if (!t) throw new Error(`${path}: names ${trace}, which is not in ${SCENARIO_DIR}`);
    const head = page.includes(BEGIN) ? page.slice(0, page.indexOf(BEGIN)) : `${page.trimEnd()}\n\n`;
    out.set(path, `${head}${renderScenario(t, before)}\n`);
  }
  return out;
}

/** The generated files whose copy on disk is missing or differs from what the spec generates now. */
export function staleFiles(generated: Map<string, string>): string[] {
  return [...generated].filter(([path, content]) => !existsSync(join(ROOT, path)) || read(path) !== content).map(([path]) => path);
}

/** The generated files under docs/reference that exist on disk but would not be generated (stale leftovers). */
export function strayReferenceFiles(generated: Map<string, string>): string[] {
  const out: string[] = [];
  for (const sub of ["docs/reference", "docs/reference/operations", "docs/reference/invariants"]) {
    const dir = join(ROOT, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith(".md") && !generated.has(`${sub}/${f}`)) out.push(`${sub}/${f}`);
  }
  return out;
}
