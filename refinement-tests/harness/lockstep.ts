/**
 * Lockstep: run the spec and the impl side by side and check, after every
 * operation, that
 * 1. both returned the same result (the same error code, or ok with the same value);
 * 2. the abstraction of the impl state equals the spec state;
 * 3. every named spec invariant holds, and every impl representation invariant,
 *    and the spec's two-state properties hold of the step (nothing lost,
 *    wired frames untouched);
 * 4. an error changed nothing: the spec returned its input state, and every
 *    typed array and counter of the impl has the same contents as before
 *    (then 2 and 3 need not be re-checked: both states are the ones checked
 *    after the previous step).
 * The first failure throws a `Divergence` that carries the trace up to and
 * including the failing operation, ready to be printed or saved.
 */
import { checkInvariants } from "../../spec/invariants.js";
import { checkTransition } from "../../spec/transitions.js";
import { step } from "../../spec/operations.js";
import { continues, HANDS_UP, namesDying, passedOver, pendingRegion, taskDying, zombiesOf } from "../../spec/preemption.js";
import type { State, Zombie } from "../../spec/state.js";
import { boot, isRevoke } from "../../spec/state.js";
import type { Config, Op, OpKind, Result, Trace } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { checkRepresentation } from "../../impl/check.js";
import { Machine } from "../../impl/machine.js";
import { allDifferences, equal, firstDifference } from "./compare.js";
import { type Driver, DriverFailure, type DriverSession, DriverSetupError } from "../driver/client.js";
import { type Intent, resolve } from "./generate.js";
import { Snapshot } from "./snapshot.js";
import { inImpl, inSpec, runningFrom } from "./watchdog.js";

export { Snapshot };

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
  /** entries of a removal that stopped at a preemption point */
  preempted: number;
  /** of those, entries of cap.revoke, and of container.destroy */
  revokes: number;
  destroys: number;
  taskDestroys: number;
  accountDestroys: number;
  /** steps by another task (or the environment) while a removal was preempted */
  interleaved: number;
  /** of those, steps that touched what it was taking apart: refused with Removing, or took a mapping from it */
  touching: number;
  /** entries of a revoke that left it emptying a zombie it was not emptying before */
  zombies: number;
  /** entries that left a chain of two zombies or more, longer than before */
  nested: number;
  /** of `zombies`, the entries whose new zombie is an account */
  accountZombies: number;
  /** entries that left an account zombie taking apart a task it was not taking apart before */
  accountTasks: number;
  /** entries that left an account zombie with another zombie inside it, which it did not have before */
  accountLinks: number;
  /** entries of removals that handed up a capability derived from one they make vanish (spec/preemption.ts handUp) */
  handUps: number;
  /** entries that left a revoke's account zombie taking apart the holder of its capability (which it pays for), newly */
  accountHolders: number;
  /** of the entries, those that handed up a root mapping or took apart the tree of one its capability's parent could not take */
  rootHandUps: number;
  /** steps whose deletion re-attached capabilities past one a preempted removal will make vanish (passedOver) */
  passOvers: number;
}

/** Did a capability move from its parent to another while that parent stayed (a hand-up), between `before` and `after`? */
function handedUp(before: State, after: State): boolean {
  return after.tasks.some((t, task) =>
    t?.caps.some((cap, slot) => {
      const was = before.tasks[task]?.caps[slot]?.parent;
      return !!cap && !!was && (cap.parent?.task !== was.task || cap.parent.slot !== was.slot) && !!after.tasks[was.task]?.caps[was.slot];
    }),
  );
}

/**
 * Did the step re-attach capabilities past one a preempted removal will
 * make vanish (passedOver)? True when a capability with children went and
 * its parent was such a one: the children then skip it (removal.ts).
 */
function passedOverBy(before: State, after: State): boolean {
  if (!before.tasks.some((t) => t?.pending)) return false;
  const gone = new Set<string>();
  before.tasks.forEach((t, task) =>
    t?.caps.forEach((cap, slot) => {
      if (cap?.parent && !after.tasks[task]?.caps[slot] && passedOver(before, cap.parent)) gone.add(`${task}:${slot}`);
    }),
  );
  if (gone.size === 0) return false;
  return before.tasks.some((t, task) => t?.caps.some((cap, slot) => !!cap?.parent && gone.has(`${cap.parent.task}:${cap.parent.slot}`) && !!after.tasks[task]?.caps[slot]));
}

/**
 * Did an entry hand up a root mapping (its capability changed, the old one
 * still there), or take one apart whose capability, held by a task being
 * taken apart and naming a container that is not, is still there (a root
 * its capability's parent could not take: handUpRoot)?
 */
function handedUpRoot(before: State, after: State): boolean {
  return before.tasks.some((t, task) =>
    t?.pages.some((m, vpage) => {
      if (m?.source.kind !== "slot") return false;
      const x = m.source.cap;
      const cap = after.tasks[x.task]?.caps[x.slot];
      if (!cap) return false;
      const now = after.tasks[task]?.pages[vpage];
      if (now?.source.kind === "slot") return now.source.cap.task !== x.task || now.source.cap.slot !== x.slot;
      return !now && taskDying(before, x.task) && !namesDying(before, cap);
    }),
  );
}

export const newStats = (): Stats => ({ steps: 0, ok: 0, byKind: new Map(), errors: new Map(), preempted: 0, revokes: 0, destroys: 0, taskDestroys: 0, accountDestroys: 0, interleaved: 0, touching: 0, zombies: 0, nested: 0, accountZombies: 0, accountTasks: 0, accountLinks: 0, accountHolders: 0, handUps: 0, rootHandUps: 0, passOvers: 0 });

/** How a step stands to the removals preempted before it: none, their continuation, or another step meanwhile (touching what they take apart, or not). */
function interleaving(before: State, op: Op, after: State, r: Result): "none" | "continues" | "other" | "touching" {
  const waiting = before.tasks.flatMap((t, id) => (t?.pending ? [id] : []));
  if (waiting.length === 0) return "none";
  // (the waiting task's own invocations, its continuation or a Blocked attempt at something else, are not others' steps)
  if (waiting.some((t) => continues(before.tasks[t]!.pending!, op) || (op as { task?: unknown }).task === t)) return "continues";
  if (!r.ok && r.error === "Removing") return "touching";
  for (const t of waiting) {
    const was = pendingRegion(before, t);
    const now = pendingRegion(after, t);
    if (now.size < was.size) return "touching";
  }
  return "other";
}

export interface LockstepOptions {
  /** check the impl's concrete state is untouched by an error (costs a copy of its arrays per step) */
  readonly concrete?: boolean;
  readonly stats?: Stats;
  /** the implementation to check (default: impl/machine.ts); any Machine subclass or look-alike */
  readonly Impl?: new (config: Config) => Machine;
  /** or an implementation in another process, spoken to over the driver protocol (refinement-tests/driver) */
  readonly driver?: Driver;
}

export class Lockstep {
  spec: State;
  /** the impl: a Machine in this process, or a driver session (which reports its abstract state itself) */
  readonly impl: Machine;
  private readonly session: DriverSession | null = null;
  readonly ops: Op[] = [];
  private readonly snapshot = new Snapshot();

  constructor(
    readonly config: Config,
    private readonly options: LockstepOptions = {},
  ) {
    this.spec = boot(config);
    runningFrom(() => ({ config, ops: this.ops })); // (a hang report shows this trace: watchdog.ts)
    try {
      if (options.driver) {
        this.session = options.driver.session(config);
        this.impl = this.session as unknown as Machine; // only apply is called on it
      } else this.impl = inImpl(0, () => new (options.Impl ?? Machine)(config));
    } catch (e) {
      if (e instanceof DriverSetupError) throw e;
      // A throwing implementation is a failing one, not a crash of capmem.
      throw new Divergence(e instanceof DriverFailure ? `at boot: ${e.message}` : `the impl threw while booting: ${describeThrow(e)}`, { config, ops: [] }, { step: -1 });
    }
    this.check(() => "boot");
  }

  private fail(what: string, detail: Partial<DivergenceDetail> = {}): never {
    const step = this.ops.length - 1;
    throw new Divergence(what, { config: this.config, ops: [...this.ops] }, { step, op: this.ops[step], ...detail });
  }

  private check(where: () => string, results: Partial<DivergenceDetail> = {}): void {
    let abstract: State;
    try {
      abstract = this.session ? this.session.abstractState() : inImpl(2, () => toSpec(this.impl));
    } catch (e) {
      this.fail(`${where()}: the abstraction function threw on the impl's state: ${describeThrow(e)}`, results);
    }
    if (!equal(this.spec, abstract)) {
      const malformed = this.session?.malformed();
      if (malformed) this.fail(`${where()}: the driver's state is not a capmem state: ${malformed}`, results);
      this.fail(`${where()}: abstract states differ (spec vs impl) at ${firstDifference(this.spec, abstract)}`, { ...results, differences: allDifferences(this.spec, abstract) });
    }
    const broken = inSpec(1, () => checkInvariants(this.spec));
    if (broken.length) this.fail(`${where()}: spec invariant ${broken[0]!.invariant} broken: ${broken[0]!.message}`);
    if (this.session) return; // a driver's representation is its own business
    let repr: ReturnType<typeof checkRepresentation>;
    try {
      repr = inImpl(3, () => checkRepresentation(this.impl));
    } catch (e) {
      this.fail(`${where()}: the impl's representation checks threw: ${describeThrow(e)}`);
    }
    if (repr.length) this.fail(`${where()}: impl representation invariant ${repr[0]!.invariant} broken: ${repr[0]!.message}`);
  }

  /**
   * Runs one operation on both sides and checks everything; with `full`
   * false, only that both return the same result and that an error leaves
   * the spec state as it was (the states are left for a later full check:
   * see Pacer, which the long-trace commands use).
   */
  run(op: Op, full = true): Result {
    this.ops.push(op);
    const prev = this.spec;
    const where = () => `step ${this.ops.length - 1} ${JSON.stringify(op)}`;
    let s: ReturnType<typeof step>;
    try {
      s = inSpec(0, () => step(prev, op));
    } catch (e) {
      this.fail(`${where()}: the spec threw: ${describeThrow(e)}`);
    }
    // The spec answers first, so the impl's arrays need copying only when the
    // operation is to fail (an impl that fails where the spec succeeds is
    // caught by the result comparison).
    const concrete = full && this.options.concrete === true && !s.result.ok && this.session === null;
    if (concrete) this.snapshot.take(this.impl);
    let r: Result;
    try {
      r = this.session ? this.session.apply(op, full) : inImpl(1, () => this.impl.apply(op));
    } catch (e) {
      this.fail(e instanceof DriverFailure ? `${where()}: ${e.message}` : `${where()}: the impl threw: ${describeThrow(e)}`, { spec: s.result });
    }
    const results = { spec: s.result, impl: r };
    if (!equal(s.result, r)) this.fail(`${where()}: results differ: spec ${JSON.stringify(s.result)}, impl ${JSON.stringify(r)}`, results);
    if (!s.result.ok) {
      if (s.state !== prev) this.fail(`${where()}: the spec changed its state on error ${s.result.error}`);
      const changed = concrete ? this.snapshot.changed(this.impl) : [];
      if (changed.length) this.fail(`${where()}: the impl changed its state on error ${s.result.error} (${changed.join(", ")})`);
    } else if (full) {
      const broken = inSpec(2, () => checkTransition(prev, op, s.state));
      if (broken.length) this.fail(`${where()}: spec two-state property ${broken[0]!.invariant} broken: ${broken[0]!.message}`);
    }
    this.spec = s.state;
    // After an error that provably changed nothing on either side, both
    // states are the ones checked after the previous step.
    if (full && !concrete) this.check(where, results);
    const st = this.options.stats;
    if (st) {
      const how = interleaving(prev, op, this.spec, r);
      if (how === "other" || how === "touching") st.interleaved++;
      if (how === "touching") st.touching++;
      if (r.ok && HANDS_UP.has(op.op) && handedUp(prev, this.spec)) st.handUps++;
      if (r.ok && HANDS_UP.has(op.op) && handedUpRoot(prev, this.spec)) st.rootHandUps++;
      if (r.ok && passedOverBy(prev, this.spec)) st.passOvers++;
      if (r.ok && r.preempted) {
        st.preempted++;
        if (op.op === "cap.revoke") st.revokes++;
        // (an entry that left a zombie that was not one before, anywhere in the chain; or a longer chain than before)
        const q = "task" in op ? this.spec.tasks[op.task]?.pending : null;
        const p = "task" in op ? prev.tasks[op.task]?.pending : null;
        const was = p ? zombiesOf(p) : [];
        const now = q ? zombiesOf(q) : [];
        const fresh = now.filter((z) => !was.some((y) => y.kind === z.kind && y.id === z.id));
        if (fresh.length > 0) st.zombies++;
        if (fresh.some((z) => z.kind === "account")) st.accountZombies++;
        if (now.some((z) => z.task !== undefined && !was.some((y) => y.kind === "account" && y.id === z.id && y.task === z.task))) st.accountTasks++;
        // (a revoke's account zombie taking apart the task that holds its capability, newly)
        const holderOf = (x: typeof q) => (x && isRevoke(x) && x.zombie?.kind === "account" && x.cursor?.kind === "cap" && x.zombie.task === x.cursor.task ? x.zombie.task : -1);
        if (op.op === "cap.revoke" && holderOf(q) !== -1 && holderOf(q) !== holderOf(p)) st.accountHolders++;
        // (an account link: not the innermost of its chain)
        const links = (list: Zombie[]) => list.slice(0, -1).filter((z) => z.kind === "account").map((z) => z.id);
        if (links(now).some((a) => !links(was).includes(a))) st.accountLinks++;
        if (now.length > 1 && now.length > was.length) st.nested++;
        if (op.op === "container.destroy") st.destroys++;
        if (op.op === "task.destroy") st.taskDestroys++;
        if (op.op === "account.destroy") st.accountDestroys++;
      }
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

  /**
   * Tells a driver the operations this run will apply, so that it can answer
   * them in one message (see DriverSession.prefetch); nothing for an impl in
   * this process. Call right after construction, then run exactly these.
   */
  prefetch(ops: readonly Op[]): void {
    this.session?.prefetch(ops, true);
  }

  /** Resolves an intent against the current spec state and runs it. */
  runIntent(intent: Intent): Result {
    const spec = this.spec;
    return this.run(inSpec(3, () => resolve(spec, intent)));
  }
}

/** A thrown value in one line: its message and where it was thrown (the top stack frame). */
export function describeThrow(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof DriverFailure) return e.message; // where capmem noticed is of no interest
  const frame = e.stack?.split("\n").find((l) => l.trim().startsWith("at "))?.trim();
  return `${e.name}: ${e.message}${frame ? ` (${frame})` : ""}`;
}

/**
 * When a long trace's states are checked in full. Checking a state costs
 * time in proportion to its size, so checking every step of a trace that
 * builds a big state is quadratic (a 4,000-operation derivation chain took
 * 8 s, 20,000 more than a minute). The pacer has every step checked while
 * that is cheap (the first `always` steps: every trace the fuzzer makes, and
 * every story in docs/), and after that a step whenever the time spent
 * stepping since the last full check is at least what that check took: the
 * checks then cost at most as much as the steps. The last step is always
 * checked. `full` turns pacing off.
 */
export class Pacer {
  /** steps fully checked */
  checked = 0;
  private stepping = 0;
  private lastCheck = 0;

  constructor(
    readonly full = false,
    readonly always = 1000,
  ) {}

  /** Is step i (of n) to be checked in full? */
  due(i: number, n: number): boolean {
    return this.full || i < this.always || i === n - 1 || this.stepping >= this.lastCheck;
  }

  /** Records how long step i took (ms), and whether it was checked in full. */
  took(ms: number, checked: boolean): void {
    if (checked) {
      this.checked++;
      this.lastCheck = ms;
      this.stepping = 0;
    } else this.stepping += ms;
  }
}

/** The operations a list of intents resolves to, from boot (the spec alone; watched as a Lockstep's steps are, with the operations so far as the trace of a hang report). */
export function opsOf(config: Config, intents: readonly Intent[]): Op[] {
  let s = boot(config);
  const ops: Op[] = [];
  runningFrom(() => ({ config, ops }));
  for (const intent of intents) {
    const op = inSpec(3, () => resolve(s, intent));
    ops.push(op);
    s = inSpec(0, () => step(s, op)).state;
  }
  return ops;
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
  if (st.preempted > 0) lines.push(`preemption: ${st.preempted} entries preempted (${st.revokes} of cap.revoke, ${st.destroys} of container.destroy, ${st.taskDestroys} of task.destroy, ${st.accountDestroys} of account.destroy; ${st.zombies} left a removal emptying a new zombie (${st.accountZombies} of them an account), ${st.nested} a longer chain of zombies, ${st.accountTasks} an account zombie taking apart a task, ${st.accountLinks} an account zombie with another inside it, ${st.accountHolders} a revoke's account zombie taking apart the holder of its capability; ${st.handUps} handed up a derived capability, ${st.rootHandUps} a root mapping); ${st.passOvers} deletions passed over a capability a removal will make vanish; ${st.interleaved} steps of others in between, ${st.touching} of them touching what was being taken apart`);
  for (const [k, v] of [...st.byKind].sort()) lines.push(`  ${k.padEnd(18)} ${String(v.steps).padStart(7)} steps  ${pct(v.ok, v.steps).padStart(6)} ok`);
  return lines.join("\n");
}
