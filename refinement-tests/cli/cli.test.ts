/**
 * The capmem command, tested through the real bin: spawned processes, real
 * files in a temporary directory.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Trace } from "../../spec/vocabulary.js";
import { traceSeedOf } from "./cli.js";
import { GOOD } from "./fixtures.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "refinement-tests/cli/bin/capmem.mjs");
let dir: string;

function capmem(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "capmem-cli-"));
  writeFileSync(join(dir, "good.json"), JSON.stringify(GOOD));
  // An implementation with one deliberate bug: page.bits forgets to clear the dirty bit.
  writeFileSync(
    join(dir, "broken.mts"),
    `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class Broken extends Machine {
  exec(op) {
    if (op.op !== "page.bits") return super.exec(op);
    const m = this.lookup(op.task, op.vpage);
    const dirty = m >= 0 ? this.pages.flags[m] & 2 : 0;
    const r = super.exec(op);
    if (r === 0 && m >= 0) this.pages.flags[m] |= dirty;
    return r;
  }
}
`,
  );
});

describe("capmem fuzz", () => {
  it("runs for the time given, reports progress and coverage, exits 0", () => {
    const r = capmem("fuzz", "--time", "2", "--seed", "1");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/fuzz seed 1 shard 0\/1: \d+ traces, \d+ steps \(\d+\/s\), [\d.]+% ok, \d+\/\d+ kinds covered/);
    expect(r.out).toMatch(/no divergence: \d+ traces, \d+ steps agreed/);
  });

  it("treats an impl that throws (in an operation or while booting) as a divergence: shrunk, saved, replayable", () => {
    writeFileSync(
      join(dir, "throws.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class Throws extends Machine {
  exec(op) { if (op.op === "page.bits") throw new TypeError("oops in page.bits"); return super.exec(op); }
}
`,
    );
    writeFileSync(
      join(dir, "noboot.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class NoBoot extends Machine { constructor(c) { super(c); throw new Error("cannot boot"); } }
`,
    );
    const r = capmem("fuzz", "--time", "30", "--seed", "3", "--impl", "throws.mts", "--out", "thrown");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^fuzz seed 3 shard 0\/1/); // the seed comes first, even without a terminal
    expect(r.out).toMatch(/the impl threw: TypeError: oops in page\.bits/);
    expect(r.out + r.err).not.toMatch(/^\s+at /m); // no stack trace
    // (with a worker per core, more than one may find it before the first stops the others: the one reported is replayed)
    const written = /written to (thrown\/counterexample-\d+\.json)/.exec(r.out)![1]!;
    expect(readdirSync(join(dir, "thrown"))).toContain(written.slice("thrown/".length));
    const replayed = capmem("replay", written, "--impl", "throws.mts");
    expect(replayed.code).toBe(1);
    expect(replayed.out).toMatch(/the impl threw/);
    const boot = capmem("fuzz", "--time", "30", "--seed", "3", "--impl", "noboot.mts", "--out", "noboot");
    expect(boot.code).toBe(1);
    expect(boot.out).toMatch(/the impl threw while booting: Error: cannot boot/);
  });

  it("stops an impl that never returns (--impl-timeout) and reports where it was stuck, as a divergence", () => {
    writeFileSync(
      join(dir, "loops.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class Loops extends Machine {
  exec(op) {
    if (op.op === "page.bits") for (let x = 0; ; x = (x + 1) | 0);
    return super.exec(op);
  }
}
`,
    );
    writeFileSync(
      join(dir, "stuckboot.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class StuckBoot extends Machine { constructor(c) { super(c); for (;;); } }
`,
    );
    for (const workers of ["1", "2"]) {
      const out = `looped-${workers}`;
      const r = capmem("fuzz", "--time", "60", "--seed", "3", "--impl", "loops.mts", "--impl-timeout", "1", "--workers", workers, "--out", out);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^step \d+ \{"op":"page\.bits".*\}: the impl did not return from apply within 1 s \(stopped after [\d.]+ s; stuck in exec \(loops\.mts:4\)/);
      expect(r.out).toMatch(/not shrunk \(\d+ operation\(s\): a call that never returns cannot be stopped to try a shorter trace\), written to looped-\d\/counterexample-\d+\.json/);
      expect(r.err).toMatch(/divergence in trace \d+ \(seed \d+\): the impl did not return/);
      expect(r.out + r.err).not.toMatch(/Waiting for the debugger|^\s+at /m);
      const written = /written to (looped-\d\/counterexample-\d+\.json)/.exec(r.out)![1]!;
      const trace = Trace.parse(JSON.parse(readFileSync(join(dir, written), "utf8")));
      expect(trace.ops.at(-1)!.op).toBe("page.bits"); // the trace ends at the call that never returned
      const replayed = capmem("replay", written, "--impl", "loops.mts", "--impl-timeout", "1", "--json");
      expect(replayed.code).toBe(1);
      const summary = JSON.parse(replayed.out);
      expect(summary.divergence.step).toBe(trace.ops.length - 1);
      expect(summary.divergence.what).toMatch(/did not return from apply within 1 s/);
      expect(capmem("replay", written).code).toBe(0); // the real impl returns
    }
    const boot = capmem("fuzz", "--time", "30", "--seed", "3", "--impl", "stuckboot.mts", "--impl-timeout", "1", "--workers", "1", "--out", "stuck", "--json");
    expect(boot.code).toBe(1);
    expect(JSON.parse(boot.out).divergence).toMatchObject({ shrunk: false, operations: 0, what: expect.stringMatching(/^at boot: the impl did not return from the constructor \(boot\) within 1 s/) });
    // (explore drives the impl along the paths to new states: an operation that succeeds)
    writeFileSync(join(dir, "derives.mts"), readFileSync(join(dir, "loops.mts"), "utf8").replace('op.op === "page.bits"', 'op.op === "cap.derive"'));
    const explored = capmem("explore", "--depth", "2", "--impl", "derives.mts", "--impl-timeout", "1", "--out", "explored-hang", "--json");
    expect(explored.code).toBe(1);
    expect(JSON.parse(explored.out).violation).toMatchObject({ shrunk: false, what: expect.stringMatching(/"op":"cap\.derive".*did not return from apply within 1 s/) });
    const bad = capmem("fuzz", "--impl-timeout", "0", "--traces", "1");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--impl-timeout: expected a number of seconds > 0, got "0"/);
  });

  it("never loses a counterexample: when --out cannot be written, the trace is printed", () => {
    writeFileSync(join(dir, "in-the-way"), "a file");
    const r = capmem("fuzz", "--time", "30", "--seed", "3", "--impl", "throws.mts", "--out", "in-the-way");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/could not write in-the-way\/counterexample-\d+\.json \(a file is in the way of a directory it needs \(EEXIST\)\), so here it is:/);
    expect(Trace.parse(JSON.parse(r.out.slice(r.out.indexOf("\n{\n") + 1)))).toBeTruthy();
    const d = capmem("draw", "good.json", "--out", "in-the-way/x.mmd");
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/draw: cannot write in-the-way\/x\.mmd: a file is in the way of a directory it needs \(EEXIST\)/);
  });

  it("derives each trace's seed by hashing (seed, trace): neighbouring or long seeds do not overlap", () => {
    const seeds = (seed: string) => Array.from({ length: 50 }, (_, k) => traceSeedOf(seed, k));
    const seven = new Set(seeds("7"));
    expect(seeds("9").filter((x) => seven.has(x))).toEqual([]); // seed + k made 9 repeat 7 shifted by two
    expect(traceSeedOf("0", 0)).not.toBe(traceSeedOf("4294967296", 0)); // only 32 bits counted before
    expect(traceSeedOf("12345678901234567890", 0)).not.toBe(traceSeedOf("12345678901234567891", 0));
    expect(traceSeedOf("any text", 3)).toBe(traceSeedOf("any text", 3));
  });

  it("keeps to --time inside a long trace", () => {
    const started = Date.now();
    const r = capmem("fuzz", "--time", "2", "--steps", "1000000", "--seed", "long", "--quiet");
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000); // start-up, 2 s of fuzzing, and a generous margin
  });

  it("splits a campaign into shards", () => {
    const r = capmem("fuzz", "--traces", "3", "--seed", "9", "--shard", "1/2", "--quiet");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/shard 1\/2: 3 traces/);
  });

  it("finds a bug in a plugged-in impl, shrinks it, writes it and says how to replay it", () => {
    const r = capmem("fuzz", "--time", "60", "--seed", "4", "--impl", "broken.mts", "--out", "found");
    expect(r.code).toBe(1);
    const files = [/written to found\/(counterexample-\d+\.json)/.exec(r.out)![1]!]; // the one reported (another worker may have written one too)
    const trace = Trace.parse(JSON.parse(readFileSync(join(dir, "found", files[0]!), "utf8")));
    expect(trace.ops.at(-1)!.op).toBe("page.bits");
    expect(trace.ops.length).toBeLessThanOrEqual(6);
    // the printed command is one that works, as printed
    const command = /replay it with:\n {2}(.*)\n/.exec(r.out)?.[1];
    expect(command).toMatch(new RegExp(`replay found/${files[0]} --impl broken\\.mts$`));
    const replayed = spawnSync(command!, { cwd: dir, shell: true, encoding: "utf8" });
    expect(replayed.status).toBe(1);
    expect(replayed.stdout).toMatch(/first divergence at step \d+ of \d+/);
    expect(replayed.stdout).toMatch(/spec: \{"ok":true,"value":3\}/);
    expect(replayed.stdout).toMatch(/\$\.tasks\[\d+\]\.pages\[\d+\]\.bits: 0 vs 2/);

    // the real impl agrees on the same trace
    expect(capmem("replay", join("found", files[0]!)).code).toBe(0);

    // the same as JSON, for CI tooling
    const json = capmem("fuzz", "--time", "60", "--seed", "4", "--impl", "broken.mts", "--out", "found-json", "--json");
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.out);
    expect(summary).toMatchObject({ command: "fuzz", seed: "4", ok: false, divergence: { file: expect.stringMatching(/^found-json\/counterexample-\d+\.json$/) } });
    expect(summary.divergence.operations).toBeLessThanOrEqual(6);
    expect(summary.divergence.command).toMatch(/replay found-json\/.* --impl broken\.mts$/);
  });

  it("--workers N runs the campaign as N shards in parallel, adds up their summaries, and stops at the first divergence", () => {
    const r = capmem("fuzz", "--workers", "2", "--traces", "40", "--seed", "1", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ command: "fuzz", workers: 2, traces: 40, ok: true });
    const found = capmem("fuzz", "--workers", "2", "--time", "60", "--seed", "4", "--impl", "broken.mts", "--out", "found-workers");
    expect(found.code, found.err).toBe(1);
    expect(found.out).toMatch(/shrunk to \d+ operation\(s\), written to found-workers\/counterexample-\d+\.json\nreplay it with:\n {2}.* replay found-workers\/counterexample-\d+\.json --impl broken\.mts\n/);
  });

  it("shows where a plugged-in impl has a syntax error", () => {
    writeFileSync(join(dir, "syntax.mjs"), "export default class X {\n  exec(op) { return 1 }\n");
    const r = capmem("replay", "good.json", "--impl", "syntax.mjs");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--impl syntax\.mjs: cannot load: syntax error:\n {2}.*syntax\.mjs:3\n[^]*SyntaxError: Unexpected end of input/);
    writeFileSync(join(dir, "syntax.mts"), "export default class X {\n  exec(op) { return 1 +; }\n}\n");
    const ts = capmem("replay", "good.json", "--impl", "syntax.mts");
    expect(ts.code).toBe(2);
    expect(ts.err).toMatch(/--impl syntax\.mts: cannot load: Transform failed with 1 error:\n {2}.*syntax\.m?ts:2:\d+: ERROR: Unexpected ";"/);
  });

  it("rejects bad options with a message, not a stack trace", () => {
    const r = capmem("fuzz", "--shard", "3/2");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--shard: expected I/N");
    expect(r.err).not.toMatch(/\n\s+at /);
    const negative = capmem("fuzz", "--time", "-1");
    expect(negative.code).toBe(2);
    expect(negative.err).toContain('--time: expected an integer >= 0, got "-1"');
    const schema = capmem("schema", "extra");
    expect(schema.code).toBe(2);
    expect(schema.err).toContain('schema takes no arguments but --protocol, got "extra"');
    const both = capmem("explore", "--spec-only", "--impl", "broken.mts");
    expect(both.code).toBe(2);
    expect(both.err).toContain("--impl would be ignored");
    const timeout = capmem("explore", "--spec-only", "--impl-timeout", "2");
    expect(timeout.code).toBe(2);
    expect(timeout.err).toContain("--impl-timeout would be ignored");
  });
});

describe("capmem replay and check", () => {
  it("replay and check compare the results with the trace's expect, and name each that differs", () => {
    const expected = [
      { ok: true, value: 0 },
      { ok: true, value: 0 },
      { ok: true, value: null },
      { ok: true, value: null },
      { ok: true, value: 7 }, // the trace writes 42: a wrong expectation
    ];
    writeFileSync(join(dir, "expect.json"), JSON.stringify({ ...GOOD, expect: expected }));
    for (const command of ["replay", "check"]) {
      const r = capmem(command, "expect.json");
      expect(r.code, command).toBe(1);
      expect(r.out, command).toMatch(/1 result\(s\) differ from the trace's expect:\n {2}step 4 .*: expected ok 7, got ok 42/);
    }
    writeFileSync(join(dir, "expect-short.json"), JSON.stringify({ ...GOOD, expect: expected.slice(1) }));
    const bad = capmem("replay", "expect-short.json");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("expect: expect must give one result per operation");
  });

  it("long traces: states checked at paced steps, yet the first divergent step is named", () => {
    const n = 1800;
    const chain: Trace = {
      config: { ...GOOD.config, objects: n + 20, capSlots: n + 8 },
      ops: Array.from({ length: n }, (_, i) => ({ op: "cap.derive" as const, task: 0, src: i === 0 ? 0 : i + 1, dest: i + 2, rights: ["read" as const] })),
    };
    writeFileSync(join(dir, "chain.json"), JSON.stringify(chain));
    // An impl that silently changes a frame's content on its 1,500th operation.
    writeFileSync(
      join(dir, "late.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class Late extends Machine {
  count = 0;
  exec(op) {
    const r = super.exec(op);
    if (++this.count === 1500) this.frames.content[0] = 9;
    return r;
  }
}
`,
    );
    const good = capmem("replay", "chain.json");
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/1800 operation\(s\): spec and impl agree at every step( \(states checked in full at \d+ of 1800 steps: every step up to 1000, then paced; --full checks every one\))?\n/);
    const checked = capmem("check", "chain.json");
    expect(checked.code).toBe(0);
    expect(checked.out).toMatch(/1800 operation\(s\): every invariant holds at every step/);
    for (const args of [[], ["--full"]]) {
      const r = capmem("replay", "chain.json", "--impl", "late.mts", ...args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.out).toMatch(/^first divergence at step 1499 of 1800( \(found at step \d+; steps \d+ to \d+ re-run with every state checked\))?:/);
      expect(r.out).toContain("frames[0].content");
    }
    const json = capmem("replay", "chain.json", "--impl", "late.mts", "--json");
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.out);
    expect(summary).toMatchObject({ command: "replay", operations: n, agree: false, ok: false, divergence: { step: 1499 } });
  });

  it("check --update fills expect from the spec's results, keeping name, description and notes; check prints notes", () => {
    const story: Trace = { ...GOOD, name: "write and read", description: "a frame mapped and used", notes: { "3": "the first write" }, expect: GOOD.ops.map(() => ({ ok: true as const, value: null })) };
    writeFileSync(join(dir, "story.json"), JSON.stringify(story));
    const before = capmem("check", "story.json");
    expect(before.code).toBe(1);
    expect(before.out).toContain('{"op":"mem.write","task":0,"vpage":1,"value":42} -> ok   # the first write');
    const r = capmem("check", "story.json", "--update");
    expect(r.code).toBe(0);
    expect(r.out).toContain("expect of story.json: 5 result(s) written, 3 of them new or changed");
    const after = Trace.parse(JSON.parse(readFileSync(join(dir, "story.json"), "utf8")));
    expect(after).toEqual({ ...story, expect: [{ ok: true, value: 0 }, { ok: true, value: 0 }, { ok: true, value: null }, { ok: true, value: null }, { ok: true, value: 42 }] });
    const json = capmem("check", "story.json", "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ command: "check", file: "story.json", operations: 5, checkedInFull: 5, violations: [], unexpected: [], ok: true });
    writeFileSync(join(dir, "badnote.json"), JSON.stringify({ ...GOOD, notes: { "9": "past the end", x: "not a step" } }));
    const bad = capmem("check", "badnote.json");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("notes.x: a note's key is a step number");
  });

  it("reads every operation the fuzzer makes: a raw physmem.relocate of a negative frame is BadFrame, not a malformed file", () => {
    writeFileSync(join(dir, "negative-frame.json"), JSON.stringify({ ...GOOD, ops: [...GOOD.ops, { op: "physmem.relocate", frame: -2 }] }));
    const r = capmem("check", "negative-frame.json");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('{"op":"physmem.relocate","frame":-2} -> error BadFrame');
    expect(capmem("replay", "negative-frame.json").code).toBe(0);
  });

  it("names the field of a malformed expected result", () => {
    writeFileSync(join(dir, "badexpect.json"), JSON.stringify({ ...GOOD, expect: [{ ok: true, value: "x" }, { ok: false, error: "Nope" }, { ok: "yes" }, { ok: true, value: 1 }, { ok: true, value: 1 }] }));
    const r = capmem("check", "badexpect.json");
    expect(r.code).toBe(2);
    expect(r.err).toContain("expect[0].value: Invalid input: expected number, received string");
    expect(r.err).toContain('expect[1].error: Invalid option: expected one of "NoSuchTask"');
    expect(r.err).toContain("expect[2].ok: Invalid discriminator value");
  });

  it("docs --check: the generated docs are up to date", () => {
    const r = capmem("docs", "--check");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\d+ generated doc files are up to date/);
  });

  it("replay: agreement on a good trace", () => {
    const r = capmem("replay", "good.json");
    expect(r.code).toBe(0);
    expect(r.out).toContain("5 operation(s): spec and impl agree at every step");
  });

  it("check: prints every result and confirms the invariants", () => {
    const r = capmem("check", "good.json");
    expect(r.code).toBe(0);
    expect(r.out).toContain('{"op":"mem.read","task":0,"vpage":1} -> ok 42');
    expect(r.out).toContain("every invariant holds at every step");
  });

  it.each([
    ["not JSON", "{ nope", /broken\.json:1:3: not valid JSON/],
    ["a field of the wrong type", JSON.stringify({ ...GOOD, ops: [GOOD.ops[0], { ...GOOD.ops[2], rights: "rw" }] }), /ops\[1\]\.rights: Invalid input: expected array, received string/],
    ["an unknown operation", JSON.stringify({ ...GOOD, ops: [{ op: "frob", task: 0 }] }), /ops\[0\]\.op: Invalid discriminator value\. Expected 'account\.create'/],
    ["a missing config field", JSON.stringify({ ...GOOD, config: { ...GOOD.config, frames: undefined } }), /config\.frames: Invalid input: expected number/],
  ])("a malformed file (%s) gets a message naming the field", (_what, text, message) => {
    writeFileSync(join(dir, "broken.json"), text);
    for (const command of ["replay", "check"]) {
      const r = capmem(command, "broken.json");
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it("a missing file is named", () => {
    const r = capmem("check", "nowhere.json");
    expect(r.code).toBe(2);
    expect(r.err).toContain("nowhere.json: cannot read: no such file or directory (ENOENT)");
    const dirErr = capmem("check", ".");
    expect(dirErr.code).toBe(2);
    expect(dirErr.err).toContain(".: cannot read: it is a directory, not a file (EISDIR)");
  });

  it("reads a file with a UTF-8 byte-order mark, and places a JSON error at its line and column", () => {
    writeFileSync(join(dir, "bom.json"), "\ufeff" + JSON.stringify(GOOD));
    expect(capmem("check", "bom.json").code).toBe(0);
    writeFileSync(join(dir, "broken.json"), '{\n  "config": {"frames": 4,\n   oops\n}');
    const r = capmem("check", "broken.json");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json:3:4: not valid JSON/);
  });

  it("refuses a configuration too big to boot, naming what takes the memory, before allocating anything", () => {
    writeFileSync(join(dir, "huge.json"), JSON.stringify({ config: { ...GOOD.config, tasks: 1 << 20, capSlots: 1 << 24 }, ops: [] }));
    for (const args of [["replay", "huge.json"], ["check", "huge.json"], ["explore", "--config", "huge.json"], ["fuzz", "--config", "huge.json"]]) {
      const r = capmem(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(/would take about [\d.]+ TiB to boot, mostly for tasks 1048576 × capSlots 16777216 \(capability spaces\)/);
    }
  });

  it("takes a trace file's configuration for --config, and lists the named ones when a file is missing", () => {
    const r = capmem("fuzz", "--config", "good.json", "--traces", "3", "--quiet");
    expect(r.code).toBe(0);
    const missing = capmem("fuzz", "--config", "smal");
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("the named configurations are small, tiny, random, pager, preempt, boundary");
    const explored = capmem("explore", "--config", "smal");
    expect(explored.code).toBe(2);
    expect(explored.err).toContain("the named configurations are tiny, small");
    expect(capmem("explore", "--config", "small", "--depth", "1", "--spec-only").code).toBe(0);
    expect(capmem("fuzz", "--config", "tiny", "--traces", "2", "--quiet").code).toBe(0);
  });
});

describe("capmem explore", () => {
  it("on worker threads finds what one thread finds; a checkpoint resumes a search to a greater depth", () => {
    const one = JSON.parse(capmem("explore", "--depth", "4", "--spec-only", "--workers", "1", "--json").out);
    const two = JSON.parse(capmem("explore", "--depth", "4", "--spec-only", "--workers", "2", "--json").out);
    expect(two).toMatchObject({ states: one.states, transitions: one.transitions, workers: 2, ok: true });
    expect(one.bytesPerState).toBeLessThan(200);
    const first = capmem("explore", "--depth", "3", "--spec-only", "--checkpoint", "ck/explore.bin");
    expect(first.code).toBe(0);
    expect(first.err).toContain("checkpoint written to ck/explore.bin");
    const resumed = capmem("explore", "--depth", "4", "--spec-only", "--resume", "ck/explore.bin", "--json");
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming ck\/explore\.bin: \d+ states found/);
    expect(JSON.parse(resumed.out)).toMatchObject({ states: one.states, complete: true });
    writeFileSync(join(dir, "ck", "junk.bin"), "not a checkpoint");
    const junk = capmem("explore", "--resume", "ck/junk.bin");
    expect(junk.code).toBe(2);
    expect(junk.err).toContain("--resume ck/junk.bin: not a capmem explore checkpoint");
  });

  it("searches every state to a depth and reports distinct states and states/s", () => {
    const r = capmem("explore", "--depth", "2");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/explore depth 2\/2: \d+ distinct states, \d+ transitions, \d+ states\/s/);
    expect(r.out).toMatch(/no violation in \d+ distinct states: every state reachable in up to 2 operation\(s\)/);
    const cut = capmem("explore", "--depth", "3", "--max-states", "100");
    expect(cut.code).toBe(0);
    expect(cut.out).toMatch(/no violation in 100 distinct states: depths up to 1 searched in full, depth 2 stopped at --max-states 100/);
    const json = capmem("explore", "--depth", "2", "--json");
    expect(JSON.parse(json.out)).toMatchObject({ command: "explore", depth: 2, complete: true, violation: null, ok: true });
  });

  it("finds the shortest trace on which a plugged-in impl goes wrong", () => {
    // a reused frame keeps its old epoch: visible as soon as a frame is allocated
    writeFileSync(
      join(dir, "old-epoch.mts"),
      `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class OldEpoch extends Machine {
  constructor(config) {
    super(config);
    const frames = this.frames;
    const take = frames.take.bind(frames);
    frames.take = (f, content) => { take(f, content); frames.epoch[f] -= 1; };
  }
}
`,
    );
    const r = capmem("explore", "--depth", "3", "--impl", "old-epoch.mts", "--out", "explored");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/spec and impl differ: \$\.frames\[0\]\.epoch: 1 vs 0/);
    const files = readdirSync(join(dir, "explored"));
    const trace = Trace.parse(JSON.parse(readFileSync(join(dir, "explored", files[0]!), "utf8")));
    // breadth-first: the shortest trace that shows it (a container, then a frame in it)
    expect(trace.ops.map((o) => o.op)).toEqual(["container.create", "container.alloc"]);
    expect(r.out).toContain("--impl old-epoch.mts");
  });
});

describe("capmem draw", () => {
  it("draws the state after a trace as Mermaid", () => {
    const r = capmem("draw", "good.json");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^flowchart TB/);
    expect(r.out).toContain('K0_2 -.->|"authorizes (slot 0:0)"| M0_1');
    expect(r.out).toContain("frame 0<br/>content 42, refs 1, epoch 2");
    expect(r.out).toContain("page 1 → frame 0 (rw, RD)");
    const md = capmem("draw", "good.json", "--out", "state.md");
    expect(md.code).toBe(0);
    expect(readFileSync(join(dir, "state.md"), "utf8")).toMatch(/^```mermaid\nflowchart TB/);
  });

  it("draws the state after any step, one task or container and its neighbours, as DOT or SVG, and warns past Mermaid's limits", () => {
    const atBoot = capmem("draw", "good.json", "--at", "boot");
    expect(atBoot.out).not.toContain("container 0");
    const at1 = capmem("draw", "good.json", "--at", "1");
    expect(at1.out).toContain("frame 0<br/>content 0, refs 1, epoch 1");
    expect(at1.out).not.toContain("M0_1");
    expect(capmem("draw", "good.json", "--at", "5").err).toContain("--at: the trace has steps 0 to 4, got 5");
    const two: Trace = {
      ...GOOD,
      ops: [...GOOD.ops, { op: "task.create", task: 0, account: 0, dest: 3 }, { op: "container.create", task: 0, account: 0, dest: 4 }],
    };
    writeFileSync(join(dir, "two.json"), JSON.stringify(two));
    const one = capmem("draw", "two.json", "--container", "1");
    expect(one.code).toBe(0);
    expect(one.out).toContain('C1[["container 1');
    expect(one.out).toContain("K0_4"); // the capability naming it
    expect(one.out).not.toContain("C0[[");
    expect(one.out).not.toContain("M0_1");
    const task = capmem("draw", "two.json", "--task", "1");
    expect(task.out).toContain('subgraph T1["task 1"]');
    expect(task.out).not.toContain("C0[[");
    const dot = capmem("draw", "good.json", "--out", "state.dot");
    expect(dot.code).toBe(0);
    expect(readFileSync(join(dir, "state.dot"), "utf8")).toMatch(/^digraph capmem \{[^]*cluster_T0[^]*K0_2 -> M0_1 \[label="authorizes \(slot 0:0\)", style=dashed\]/);
    const svg = capmem("draw", "good.json", "--out", "state.svg");
    expect(svg.code).toBe(0);
    expect(svg.out).toContain("the state after step 4 drawn to state.svg");
    expect(readFileSync(join(dir, "state.svg"), "utf8")).toMatch(/<svg[^]*page 1 → frame 0 \(rw, RD\)[^]*<\/svg>/);
    const n = 600;
    const big: Trace = {
      config: { ...GOOD.config, objects: n + 20, capSlots: n + 8 },
      ops: Array.from({ length: n }, (_, i) => ({ op: "cap.derive" as const, task: 0, src: i === 0 ? 0 : i + 1, dest: i + 2, rights: ["read" as const] })),
    };
    writeFileSync(join(dir, "big.json"), JSON.stringify(big));
    const warned = capmem("draw", "big.json", "--out", "big.mmd");
    expect(warned.code).toBe(0);
    expect(warned.err).toMatch(/warning: the drawing has [\d,]+ characters and 601 edges, past Mermaid's default limits \(50,000 characters, 500 edges\)/);
  });
});

describe("capmem schema", () => {
  it("prints the trace JSON Schema, and docs/trace.schema.json is up to date", () => {
    const r = capmem("schema");
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as { $schema?: string };
    expect(schema.$schema).toMatch(/json-schema/);
    expect(readFileSync(join(ROOT, "docs/trace.schema.json"), "utf8")).toBe(r.out);
  });
});

describe("the package", () => {
  it("npm pack gives compiled JavaScript with types: the command runs without the sources, and the library imports by name", () => {
    const packed = spawnSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(packed.status, packed.stderr).toBe(0);
    const files: string[] = JSON.parse(packed.stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain("dist/refinement-tests/cli/cli.js");
    expect(files).toContain("dist/spec/index.d.ts");
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("docs/examples/"))).toEqual([]);
    // install it by hand (no network): the tarball as node_modules/capmem, its dependencies from this clone
    const app = join(dir, "app");
    mkdirSync(join(app, "node_modules"), { recursive: true });
    const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    expect(spawnSync("tar", ["xzf", join(dir, tgz), "-C", join(app, "node_modules")]).status).toBe(0);
    renameSync(join(app, "node_modules", "package"), join(app, "node_modules", "capmem"));
    for (const dep of ["fast-check", "pure-rand", "zod", "tsx", "esbuild", "@esbuild", "get-tsconfig", "resolve-pkg-maps", "@viz-js"]) {
      if (existsSync(join(ROOT, "node_modules", dep))) symlinkSync(join(ROOT, "node_modules", dep), join(app, "node_modules", dep));
    }
    writeFileSync(join(app, "good.json"), JSON.stringify(GOOD));
    const bin = join(app, "node_modules", "capmem", "refinement-tests", "cli", "bin", "capmem.mjs");
    const run = spawnSync(process.execPath, [bin, "replay", "good.json"], { cwd: app, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("5 operation(s): spec and impl agree at every step");
    writeFileSync(
      join(app, "use.mjs"),
      `import { boot, step } from "capmem/spec";
import { Machine } from "capmem/impl";
import { runTrace, readTrace } from "capmem";
const t = readTrace("good.json");
runTrace(t);
console.log(JSON.stringify([step(boot(t.config), t.ops[0]).result, new Machine(t.config).apply(t.ops[0])]));
`,
    );
    const lib = spawnSync(process.execPath, ["use.mjs"], { cwd: app, encoding: "utf8" });
    expect(lib.status, lib.stderr).toBe(0);
    expect(lib.stdout.trim()).toBe('[{"ok":true,"value":0},{"ok":true,"value":0}]');
    expect(spawnSync(process.execPath, [bin, "docs"], { cwd: app, encoding: "utf8" }).stderr).toContain("a clone of the repository has and the package does not");
  });
});

describe("capmem export and import (ITF)", () => {
  it("exports a trace as ITF (integers as #bigint, no null anywhere) and imports it back unchanged", () => {
    const story: Trace = { ...GOOD, name: "write and read", expect: [{ ok: true, value: 0 }, { ok: true, value: 0 }, { ok: true, value: null }, { ok: true, value: null }, { ok: true, value: 42 }] };
    writeFileSync(join(dir, "story-itf.json"), JSON.stringify(story));
    const out = capmem("export", "--itf", "story-itf.json", "--out", "story.itf.json");
    expect(out.code, out.err).toBe(0);
    const itf = JSON.parse(readFileSync(join(dir, "story.itf.json"), "utf8"));
    expect(itf["#meta"].format).toBe("ITF");
    expect(itf.vars).toEqual(["state", "action", "result"]);
    expect(itf.states).toHaveLength(6);
    expect(itf.states[5].result).toEqual({ tag: "Some", value: { ok: true, value: { tag: "Some", value: { "#bigint": "42" } } } });
    const plain: string[] = [];
    const walk = (x: unknown, path: string): void => {
      if (x === null || typeof x === "number") plain.push(path);
      else if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (typeof x === "object") for (const [k, v] of Object.entries(x)) if (k !== "#meta") walk(v, `${path}.${k}`);
    };
    walk(itf.states, "states");
    expect(plain).toEqual([]);
    const back = capmem("import", "--itf", "story.itf.json", "--out", "story-back.json");
    expect(back.code, back.err).toBe(0);
    expect(Trace.parse(JSON.parse(readFileSync(join(dir, "story-back.json"), "utf8")))).toEqual(story);
    // results with a fault, a notice, a preemption, and states with pending removals, come back unchanged too
    for (const name of ["self-paging", "preempted-unmap", "preempted-revoke"]) {
      const file = join(ROOT, "docs/scenarios", `${name}.json`);
      expect(capmem("export", "--itf", file, "--out", `${name}.itf.json`).code).toBe(0);
      expect(capmem("import", "--itf", `${name}.itf.json`, "--out", `${name}-back.json`).code).toBe(0);
      const was = Trace.parse(JSON.parse(readFileSync(file, "utf8")));
      expect(Trace.parse(JSON.parse(readFileSync(join(dir, `${name}-back.json`), "utf8"))).expect, name).toEqual(was.expect);
    }
  });

  it("imports a Quint model-based-testing trace (mbt::actionTaken, mbt::nondetPicks), with a configuration given", () => {
    const big = (n: number) => ({ "#bigint": String(n) });
    const some = (v: unknown) => ({ tag: "Some", value: v });
    const none = { tag: "None", value: { "#tup": [] } };
    const quint = {
      "#meta": { format: "ITF", source: "capmem.qnt" },
      vars: ["mbt::actionTaken", "mbt::nondetPicks"],
      states: [
        { "#meta": { index: 0 }, "mbt::actionTaken": "init", "mbt::nondetPicks": {} },
        { "#meta": { index: 1 }, "mbt::actionTaken": "container.create", "mbt::nondetPicks": { task: some(big(0)), account: some(big(0)), dest: some(big(2)), frames: none } },
        { "#meta": { index: 2 }, "mbt::actionTaken": "container.alloc", "mbt::nondetPicks": { task: some(big(0)), container: some(big(2)), index: some(big(0)) } },
      ],
    };
    writeFileSync(join(dir, "quint.itf.json"), JSON.stringify(quint));
    const missing = capmem("import", "--itf", "quint.itf.json");
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("the trace does not say its capmem configuration (#meta.capmem.config): give one with --config");
    const r = capmem("import", "--itf", "quint.itf.json", "--config", "good.json");
    expect(r.code, r.err).toBe(0);
    const trace = Trace.parse(JSON.parse(r.out));
    expect(trace.ops).toEqual([GOOD.ops[0], GOOD.ops[1]]);
    writeFileSync(join(dir, "notours.itf.json"), JSON.stringify({ ...quint, states: [quint.states[0], { "mbt::actionTaken": "deposit", "mbt::nondetPicks": {} }] }));
    const bad = capmem("import", "--itf", "notours.itf.json", "--config", "small");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/states\[1\]: action "deposit" is not a capmem operation/);
  });
});
