/**
 * Lockstep: run the spec and the impl side by side and check, after every
 * operation, that
 * 1. both returned the same result (the same error code, or ok with the same value);
 * 2. the abstraction of the impl state equals the spec state;
 * 3. every named spec invariant holds, and every impl representation invariant,
 *    and the spec's two-state properties hold of the step (nothing lost,
 *    wired frames untouched);
 * 4. an error changed nothing: the spec returned its input state, and every
 *    typed array and counter of the impl has the same contents as before.
 * The first failure throws a `Divergence` that carries the trace up to and
 * including the failing operation, ready to be printed or saved.
 */
import { checkInvariants, checkTransition } from "../spec/invariants.js";
import { step } from "../spec/operations.js";
import type { State } from "../spec/state.js";
import { boot } from "../spec/state.js";
import type { Config, Op, OpKind, Result, Trace } from "../spec/vocabulary.js";
import { toSpec } from "../impl/abstraction.js";
import { checkRepresentation } from "../impl/check.js";
import { Machine } from "../impl/machine.js";
import { allDifferences, firstDifference } from "./compare.js";
import { type Intent, resolve } from "./generate.js";

/** Where and how spec and impl parted: the failing step, both results, and the state differences. */
export interface DivergenceDetail {
  readonly step: number;
  readonly op?: Op;
  readonly spec?: Result;
  readonly impl?: Result;
  /** paths at which the abstract states differ (spec vs impl) */
  readonly differences?: readonly string[];
}

export class Divergence extends Error {
  constructor(
    readonly what: string,
    readonly trace: Trace,
    readonly detail: DivergenceDetail = { step: trace.ops.length - 1 },
  ) {
    super(`${what}\nafter ${trace.ops.length} operation(s); trace:\n${JSON.stringify(trace)}`);
    this.name = "Divergence";
  }
}

export interface Stats {
  steps: number;
  ok: number;
  byKind: Map<OpKind, { steps: number; ok: number }>;
  errors: Map<string, number>;
}

export const newStats = (): Stats => ({ steps: 0, ok: 0, byKind: new Map(), errors: new Map() });

type Numbers = ArrayLike<number> & { readonly length: number };

/**
 * The impl's concrete state (every typed array, bitmap and number field of
 * the machine) copied into one reusable buffer, to check that an operation
 * that failed changed nothing. `take` is a native copy per field; `changed`
 * compares element by element and names the fields that differ.
 */
export class Snapshot {
  private buf = new Float64Array(4096);
  private used = 0;

  /** The fields of m in a fixed order, each as a list of numbers. */
  private static parts(m: Machine): [string, Numbers][] {
    const out: [string, Numbers][] = [];
    for (const key of Object.keys(m)) {
      if (key === "value") continue; // the last result, not state
      const v = (m as unknown as Record<string, unknown>)[key];
      if (typeof v === "number") out.push([key, [v]]);
      else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out.push([key, v as unknown as Numbers]);
      else if (v && typeof v === "object" && "words" in v && "summary" in v) {
        const set = v as { words: Uint32Array; summary: Uint32Array };
        out.push([`${key}.words`, set.words], [`${key}.summary`, set.summary]);
      }
    }
    return out;
  }

  take(m: Machine): this {
    let at = 0;
    for (const [, v] of Snapshot.parts(m)) {
      const need = at + 1 + v.length;
      if (need > this.buf.length) {
        const b = new Float64Array(Math.max(need, this.buf.length * 2));
        b.set(this.buf.subarray(0, at));
        this.buf = b;
      }
      this.buf[at++] = v.length;
      if (v.length === 1) this.buf[at] = v[0]!;
      else this.buf.set(v, at);
      at += v.length;
    }
    this.used = at;
    return this;
  }

  /** The names of the fields of m that differ from the last `take` (empty: unchanged). */
  changed(m: Machine): string[] {
    const out: string[] = [];
    let at = 0;
    for (const [key, v] of Snapshot.parts(m)) {
      if (at >= this.used || this.buf[at] !== v.length) {
        out.push(key);
        at = Infinity; // the layout no longer lines up; report this field and stop comparing positions
        continue;
      }
      at++;
      for (let i = 0; i < v.length; i++) {
        if (this.buf[at + i] !== v[i]) {
          out.push(key);
          break;
        }
      }
      at += v.length;
    }
    return out;
  }
}

export interface LockstepOptions {
  /** check the impl's concrete state is untouched by an error (costs a copy of its arrays per step) */
  readonly concrete?: boolean;
  readonly stats?: Stats;
  /** the implementation to check (default: impl/machine.ts); any Machine subclass or look-alike */
  readonly Impl?: new (config: Config) => Machine;
}

export class Lockstep {
  spec: State;
  readonly impl: Machine;
  readonly ops: Op[] = [];
  private readonly snapshot = new Snapshot();

  constructor(
    readonly config: Config,
    private readonly options: LockstepOptions = {},
  ) {
    this.spec = boot(config);
    this.impl = new (options.Impl ?? Machine)(config);
    this.check("boot");
  }

  private fail(what: string, detail: Partial<DivergenceDetail> = {}): never {
    const step = this.ops.length - 1;
    throw new Divergence(what, { config: this.config, ops: [...this.ops] }, { step, op: this.ops[step], ...detail });
  }

  private check(where: string, results: Partial<DivergenceDetail> = {}): void {
    const abstract = toSpec(this.impl);
    const diff = firstDifference(this.spec, abstract);
    if (diff) this.fail(`${where}: abstract states differ (spec vs impl) at ${diff}`, { ...results, differences: allDifferences(this.spec, abstract) });
    const broken = checkInvariants(this.spec);
    if (broken.length) this.fail(`${where}: spec invariant ${broken[0]!.invariant} broken: ${broken[0]!.message}`);
    const repr = checkRepresentation(this.impl);
    if (repr.length) this.fail(`${where}: impl representation invariant ${repr[0]!.invariant} broken: ${repr[0]!.message}`);
  }

  /** Runs one operation on both sides and checks everything. */
  run(op: Op): Result {
    this.ops.push(op);
    if (this.options.concrete) this.snapshot.take(this.impl);
    const prev = this.spec;
    const s = step(prev, op);
    const r = this.impl.apply(op);
    const where = `step ${this.ops.length - 1} ${JSON.stringify(op)}`;
    const rd = firstDifference(s.result, r);
    const results = { spec: s.result, impl: r };
    if (rd) this.fail(`${where}: results differ: spec ${JSON.stringify(s.result)}, impl ${JSON.stringify(r)}`, results);
    if (!s.result.ok) {
      if (s.state !== prev) this.fail(`${where}: the spec changed its state on error ${s.result.error}`);
      const changed = this.options.concrete ? this.snapshot.changed(this.impl) : [];
      if (changed.length) this.fail(`${where}: the impl changed its state on error ${s.result.error} (${changed.join(", ")})`);
    }
    if (s.result.ok) {
      const broken = checkTransition(prev, op, s.state);
      if (broken.length) this.fail(`${where}: spec two-state property ${broken[0]!.invariant} broken: ${broken[0]!.message}`);
    }
    this.spec = s.state;
    this.check(where, results);
    const st = this.options.stats;
    if (st) {
      st.steps++;
      if (r.ok) st.ok++;
      const k = st.byKind.get(op.op) ?? { steps: 0, ok: 0 };
      k.steps++;
      if (r.ok) k.ok++;
      else st.errors.set(`${op.op} ${r.error}`, (st.errors.get(`${op.op} ${r.error}`) ?? 0) + 1);
      st.byKind.set(op.op, k);
    }
    return r;
  }

  /** Resolves an intent against the current spec state and runs it. */
  runIntent(intent: Intent): Result {
    return this.run(resolve(this.spec, intent));
  }
}

/** Runs a whole trace in lockstep; throws a Divergence on the first disagreement. */
export function runTrace(trace: Trace, options: LockstepOptions = {}): Lockstep {
  const ls = new Lockstep(trace.config, options);
  for (const op of trace.ops) ls.run(op);
  return ls;
}

/** A summary line per operation kind: steps and success ratio. */
export function formatStats(st: Stats): string {
  const pct = (ok: number, n: number) => (n === 0 ? "-" : `${((100 * ok) / n).toFixed(1)}%`);
  const lines = [`overall: ${st.steps} steps, ${pct(st.ok, st.steps)} ok`];
  for (const [k, v] of [...st.byKind].sort()) lines.push(`  ${k.padEnd(18)} ${String(v.steps).padStart(7)} steps  ${pct(v.ok, v.steps).padStart(6)} ok`);
  return lines.join("\n");
}
