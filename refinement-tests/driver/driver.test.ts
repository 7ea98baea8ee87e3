/**
 * The driver protocol end to end: capmem's command checking implementations
 * in other processes. The reference driver (impl/ served by `capmem driver`)
 * and the example driver (docs/examples, a separate program that does not
 * use impl/) agree with the spec; drivers with an injected bug, one that
 * crashes, one that hangs, one that prints junk and one that speaks another
 * protocol version each get a clear verdict, never a crash of capmem.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Trace } from "../../spec/vocabulary.js";
import { protocolJsonSchema } from "./protocol.js";
import { GOOD } from "../cli/fixtures.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "refinement-tests/cli/bin/capmem.mjs");
const DRIVER = `node ${BIN} driver`;
let dir: string;

function capmem(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A driver: impl/ with `exec` replaced for one kind of operation. */
function driverWith(name: string, kind: string, body: string): string {
  writeFileSync(
    join(dir, `${name}.mts`),
    `import { Machine } from ${JSON.stringify(join(ROOT, "impl/machine.ts"))};
export default class extends Machine {
  exec(op) {
    if (op.op === ${JSON.stringify(kind)}) { ${body} }
    return super.exec(op);
  }
}
`,
  );
  return `${DRIVER} --impl ${name}.mts`;
}

const STORY = GOOD;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "capmem-driver-"));
  writeFileSync(join(dir, "story.json"), JSON.stringify(STORY));
});

describe("drivers that conform", () => {
  it("the reference driver (impl/ over the protocol) agrees: fuzz, replay, explore", () => {
    const f = capmem("fuzz", "--traces", "60", "--seed", "1", "--impl-cmd", DRIVER, "--json");
    expect(f.code, f.err).toBe(0);
    expect(JSON.parse(f.out)).toMatchObject({ command: "fuzz", traces: 60, ok: true });
    const r = capmem("replay", "story.json", "--impl-cmd", DRIVER);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("5 operation(s): spec and impl agree at every step");
    const e = capmem("explore", "--depth", "2", "--impl-cmd", DRIVER);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/no violation in \d+ distinct states/);
  });

  it("the example driver, a separate program that does not use impl/, agrees", () => {
    const r = spawnSync(process.execPath, [BIN, "fuzz", "--traces", "30", "--seed", "2", "--impl-cmd", "npx tsx docs/examples/spec-driver.ts", "--quiet"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('driver "npx tsx docs/examples/spec-driver.ts"');
  });
});

describe("drivers that do not", () => {
  it("an injected bug: found, shrunk, saved, and the replay command names the driver", () => {
    const cmd = driverWith("dirty", "page.bits", "const m = this.lookup(op.task, op.vpage); const dirty = m >= 0 ? this.pages.flags[m] & 2 : 0; const r = super.exec(op); if (r === 0 && m >= 0) this.pages.flags[m] |= dirty; return r;");
    const r = capmem("fuzz", "--time", "60", "--seed", "4", "--impl-cmd", cmd, "--out", "found");
    expect(r.code, r.err).toBe(1);
    const files = readdirSync(join(dir, "found"));
    const trace = Trace.parse(JSON.parse(readFileSync(join(dir, "found", files[0]!), "utf8")));
    expect(trace.ops.at(-1)!.op).toBe("page.bits");
    expect(trace.ops.length).toBeLessThanOrEqual(6);
    expect(r.out).toContain(`--impl-cmd ${JSON.stringify(cmd)}`);
    const again = capmem("replay", join("found", files[0]!), "--impl-cmd", cmd);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/\$\.tasks\[\d+\]\.pages\[\d+\]\.bits: 0 vs 2/);
  });

  it("one that crashes: the exit code and its last words, at the operation that killed it, shrunk", () => {
    const cmd = driverWith("crash", "mem.write", 'process.stderr.write("kernel panic: mem.write\\n"); process.exit(3);');
    const r = capmem("fuzz", "--config", "small", "--steps", "12", "--time", "60", "--seed", "1", "--impl-cmd", cmd, "--out", "crashed");
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/^step \d+ \{"op":"mem\.write".*: the driver exited with code 3 while capmem waited for its answer to \{"type":"apply"/);
    expect(r.out).toContain("kernel panic: mem.write");
    const trace = Trace.parse(JSON.parse(readFileSync(join(dir, "crashed", readdirSync(join(dir, "crashed"))[0]!), "utf8")));
    // (the shortest: the generator makes a write only once a page is mapped)
    expect(trace.ops.length).toBeLessThanOrEqual(4);
    expect(trace.ops.at(-1)!.op).toBe("mem.write");
  });

  it("one that hangs: killed after the timeout, with the request it did not answer", () => {
    const cmd = driverWith("hang", "mem.write", "for (;;) {}");
    const r = capmem("replay", "story.json", "--impl-cmd", cmd, "--driver-timeout", "1");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/first divergence at step 3 of 5:[^]*the driver did not answer \{"type":"apply","op":\{"op":"mem\.write".* within 1 s \(killed\)/);
    // killed with everything it started (it runs under a shell): nothing is left spinning
    expect(spawnSync("pgrep", ["-f", "driver --impl hang.mts"]).status).toBe(1);
  });

  it("one that prints junk: the line it printed", () => {
    const cmd = driverWith("junk", "page.map", 'process.stdout.write("mapping page...\\n");');
    const r = capmem("replay", "story.json", "--impl-cmd", cmd);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/first divergence at step 2 of 5:[^]*the driver answered \{"type":"apply".* with a line that is not JSON: "mapping page\.\.\."/);
  });

  it("one that reports a state of the wrong shape: what is wrong with it", () => {
    // the reference driver behind a filter that adds a field to every frame it reports
    writeFileSync(
      join(dir, "shape.mjs"),
      `import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
const inner = spawn(process.execPath, [${JSON.stringify(BIN)}, "driver"], { stdio: ["pipe", "pipe", "inherit"] });
process.stdin.pipe(inner.stdin);
for await (const line of createInterface({ input: inner.stdout })) {
  const a = JSON.parse(line);
  if (a.state) for (const f of a.state.frames) f.color = "red";
  process.stdout.write(JSON.stringify(a) + "\\n");
}
`,
    );
    const r = capmem("replay", "story.json", "--impl-cmd", "node shape.mjs");
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/divergence at boot, before the first operation:\n  boot: the driver's state is not a capmem state: \.frames\[0\]: Unrecognized key: "color"/);
  });

  it("one that speaks another version, or is not there: a usage error (exit 2), not a divergence", () => {
    writeFileSync(join(dir, "v2.mjs"), `process.stdin.on("data", () => process.stdout.write(JSON.stringify({ type: "hello", protocol: 2 }) + "\\n"));\n`);
    const v2 = capmem("replay", "story.json", "--impl-cmd", "node v2.mjs");
    expect(v2.code).toBe(2);
    expect(v2.err).toContain('driver "node v2.mjs" speaks protocol version 2; this capmem speaks 1');
    const none = capmem("replay", "story.json", "--impl-cmd", "./no-such-driver");
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/driver "\.\/no-such-driver" did not start: the driver exited with code 127/);
    expect(capmem("replay", "story.json", "--impl-cmd", DRIVER, "--impl", "x.mts").err).toContain("--impl and --impl-cmd both name the implementation under test");
  });
});

describe("the protocol's schema", () => {
  it("docs/protocol.schema.json is the one capmem generates", () => {
    const file = JSON.parse(readFileSync(join(ROOT, "docs/protocol.schema.json"), "utf8"));
    expect(file, 'run "npm run -s capmem -- schema --protocol > docs/protocol.schema.json"').toEqual(JSON.parse(JSON.stringify(protocolJsonSchema())));
  });
});
