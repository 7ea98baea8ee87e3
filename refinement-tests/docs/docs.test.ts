/**
 * docs/ tells the truth about the spec:
 * - the generated reference (a page per operation and invariant) and the
 *   generated parts of the scenario pages are what `npm run docs` makes from
 *   the current spec and trace files;
 * - every error an operation returns in random traces is one its doc comment
 *   (and so its reference page) lists;
 * - every scenario trace runs on spec and impl in lockstep and gives, step by
 *   step, the results its file expects.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { step } from "../../spec/operations.js";
import { boot, type State } from "../../spec/state.js";
import { Lockstep } from "../harness/lockstep.js";
import { canonicalKey, enumerateOps, TINY_CONFIG } from "../harness/explore.js";
import { configArb, intentArb, resolve } from "../harness/generate.js";
import { generateDocs, operationDocs, scenarioTraces, staleFiles, strayReferenceFiles } from "./reference.js";
import { unexpected } from "../cli/traces.js";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

describe("generated docs", () => {
  it("docs/reference and the scenario pages are up to date with the spec (else run npm run docs)", () => {
    const generated = generateDocs();
    expect(staleFiles(generated), "out of date: run npm run docs").toEqual([]);
    expect(strayReferenceFiles(generated), "no longer generated: run npm run docs").toEqual([]);
  });

  const documented = operationDocs();
  test.prop([fc.tuple(configArb, fc.array(intentArb, { minLength: 1, maxLength: 80 }))], { numRuns: 300 })(
    "every error an operation returns is one its reference page lists",
    ([config, intents]) => {
      let s: State = boot(config);
      for (const intent of intents) {
        const op = resolve(s, intent);
        const r = step(s, op);
        const result = r.result;
        if (!result.ok) {
          const listed = documented.get(op.op)!.errors.some((e) => e.codes.includes(result.error));
          expect(listed, `${op.op} returned ${result.error}, which its doc comment does not list (${JSON.stringify(op)})`).toBe(true);
        }
        s = r.state;
      }
    },
  );

  it("every error any operation returns from any state within 3 steps of boot (tiny config) is listed on its page", () => {
    const seen = new Set<string>([canonicalKey(boot(TINY_CONFIG))]);
    let frontier: State[] = [boot(TINY_CONFIG)];
    const missing = new Set<string>();
    for (let depth = 0; depth <= 3; depth++) {
      const next: State[] = [];
      for (const s of frontier) {
        for (const op of enumerateOps(s)) {
          const r = step(s, op);
          if (!r.result.ok) {
            const code = r.result.error;
            if (!documented.get(op.op)!.errors.some((e) => e.codes.includes(code))) missing.add(`${op.op} ${code}`);
            continue;
          }
          const key = canonicalKey(r.state);
          if (depth < 3 && !seen.has(key)) {
            seen.add(key);
            next.push(r.state);
          }
        }
      }
      frontier = next;
    }
    expect([...missing], "errors returned but not listed in the doc comment").toEqual([]);
  });
});

describe("scenario traces (docs/scenarios)", () => {
  const traces = scenarioTraces();
  it("there are scenario traces, each with expected results", () => {
    expect(traces.size).toBeGreaterThanOrEqual(5);
    for (const [file, t] of traces) expect(t.expect, file).toBeDefined();
  });
  for (const [file, trace] of traces) {
    it(`${file}: spec and impl agree at every step and give the expected results`, () => {
      const ls = new Lockstep(trace.config, { concrete: true });
      const surprises = trace.ops.map((op, i) => unexpected(trace, i, ls.run(op))).filter((x) => x !== null);
      expect(surprises).toEqual([]);
    });
  }
});

describe("docs/mutation.md", () => {
  it("lists every mutant switched off in impl/ (a Stryker disable comment) with the comment's reason, and no other", () => {
    const root = join(import.meta.dirname, "../..");
    const inCode: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) {
          for (const line of readFileSync(join(root, path), "utf8").split("\n")) {
            const m = /\/\/ Stryker disable next-line ([\w,]+): (.+)$/.exec(line);
            if (m) inCode.push(`${path} | ${m[1]} | ${m[2]!.trim()}`);
            else expect(line, `${path}: a Stryker comment this test does not read`).not.toMatch(/Stryker (disable|restore)/);
          }
        }
      }
    };
    walk("impl");
    const doc = readFileSync(join(root, "docs/mutation.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Equivalent mutants"));
    const inDoc = [...section.matchAll(/^\| `(impl\/[^`]+)` \| ([\w,]+) \| (.+) \|$/gm)].map((m) => `${m[1]} | ${m[2]} | ${m[3]!.trim()}`);
    expect(inDoc.sort()).toEqual(inCode.sort());
  });
});
