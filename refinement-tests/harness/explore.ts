/**
 * Bounded-exhaustive exploration: breadth-first search over every state the
 * spec can reach from boot in a few operations on a tiny configuration,
 * trying every operation with every argument from small domains. Each new
 * state is checked against the named invariants (and each step against the
 * two-state properties); with `impl`, the impl is driven along the same path
 * and its abstraction compared. Breadth-first order means the first broken
 * invariant found comes with a shortest trace.
 */
import { checkInvariants } from "../../spec/invariants.js";
import { checkTransition } from "../../spec/transitions.js";
import { step } from "../../spec/operations.js";
import type { State } from "../../spec/state.js";
import { boot } from "../../spec/state.js";
import type { Config, Op, Right, Trace } from "../../spec/vocabulary.js";
import { OP_KINDS, UNMAP_MODES } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { Machine } from "../../impl/machine.js";
import { type Driver, DriverSetupError } from "../driver/client.js";
import { firstDifference } from "./compare.js";
import { describeThrow } from "./lockstep.js";

export const TINY_CONFIG: Config = { frames: 2, objects: 10, accounts: 2, tasks: 2, containers: 1, capSlots: 4, vpages: 2, containerSlots: 1, handles: 1 };

/** A key that is the same for equal states whatever the key order of their objects. */
export function canonicalKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const RIGHTS: Right[][] = [[], ["read"], ["read", "write"], ["read", "write", "alloc", "priv"]];
const MAP_RIGHTS: Right[][] = [["read"], ["write"], ["read", "write"]];

/** Every operation from the small domains, for every live task of `s` (and the environment). */
export function enumerateOps(s: State): Op[] {
  const { capSlots, containerSlots, vpages, frames } = s.config;
  const slots = range(capSlots);
  const idx = range(containerSlots);
  const pages = range(vpages);
  const out: Op[] = [];
  for (let task = 0; task < s.tasks.length; task++) {
    if (!s.tasks[task]) continue;
    for (const kind of OP_KINDS) {
      switch (kind) {
        case "account.create":
          for (const account of slots) for (const dest of slots) for (const frames of [0, 1]) out.push({ op: kind, task, account, dest, frames, objects: 2 });
          break;
        case "account.transfer":
          for (const from of slots) for (const to of slots) out.push({ op: kind, task, from, to, frames: 1, objects: 1 });
          break;
        case "account.request":
        case "account.answer":
        case "account.yieldRequest":
          for (const account of slots) out.push({ op: kind, task, account, frames: 1 });
          break;
        case "account.destroy":
        case "account.yield":
          for (const account of slots) out.push({ op: kind, task, account });
          break;
        case "task.create":
        case "container.create":
          for (const account of slots) for (const dest of slots) out.push({ op: kind, task, account, dest });
          break;
        case "task.destroy":
          for (const target of slots) out.push({ op: kind, task, target });
          break;
        case "task.window":
          // open everything, or close it again
          out.push({ op: kind, task, slot: 0, slots: s.config.capSlots, page: 0, pages: s.config.vpages });
          out.push({ op: kind, task, slot: 0, slots: 0, page: 0, pages: 0 });
          break;
        case "container.destroy":
          for (const container of slots) out.push({ op: kind, task, container });
          break;
        case "container.alloc":
        case "container.free":
        case "container.demote":
        case "container.promote":
        case "container.swapOut":
        case "container.swapIn":
          for (const container of slots) for (const index of idx) out.push({ op: kind, task, container, index });
          break;
        case "container.copy":
          for (const src of slots) for (const srcIndex of idx) for (const dst of slots) for (const dstIndex of idx) out.push({ op: kind, task, src, srcIndex, dst, dstIndex });
          break;
        case "cap.derive":
          for (const src of slots) for (const dest of slots) for (const rights of RIGHTS) out.push({ op: kind, task, src, dest, rights });
          break;
        case "cap.copy":
          for (const src of slots) for (const target of slots) for (const dest of slots) out.push({ op: kind, task, src, target, dest });
          break;
        case "cap.delete":
        case "cap.revoke":
          for (const slot of slots) out.push({ op: kind, task, slot });
          break;
        case "page.map":
          for (const container of slots) for (const index of idx) for (const vpage of pages) for (const rights of MAP_RIGHTS) out.push({ op: kind, task, container, index, vpage, rights });
          break;
        case "page.unmap":
          for (const vpage of pages) for (const mode of UNMAP_MODES) out.push({ op: kind, task, vpage, order: 0, mode });
          break;
        case "page.bits":
        case "mem.read":
          for (const vpage of pages) out.push({ op: kind, task, vpage });
          break;
        case "mem.write":
          for (const vpage of pages) out.push({ op: kind, task, vpage, value: 7 });
          break;
        case "l4.map":
        case "l4.share":
          for (const vpage of pages) for (const target of slots) for (const dest of pages) for (const rights of MAP_RIGHTS) out.push({ op: kind, task, vpage, target, dest, rights });
          break;
        case "l4.grant":
          for (const vpage of pages) for (const target of slots) for (const dest of pages) out.push({ op: kind, task, vpage, target, dest });
          break;
        case "dma.wire":
          for (const container of slots) for (const index of idx) for (const dest of slots) out.push({ op: kind, task, container, index, dest });
          break;
        case "dma.unwire":
          for (const handle of slots) out.push({ op: kind, task, handle });
          break;
        case "dma.write":
          for (const handle of slots) out.push({ op: kind, task, handle, value: 9 });
          break;
        case "physmem.relocate":
          break; // environment: below, once per state
      }
    }
  }
  for (const frame of range(frames)) out.push({ op: "physmem.relocate", frame });
  return out;
}

export interface ExploreOptions {
  readonly config: Config;
  readonly depth: number;
  readonly maxStates?: number;
  /** drive the impl along every new path and compare its abstraction */
  readonly impl?: boolean;
  /** the implementation to drive (default: impl/machine.ts) */
  readonly Impl?: new (config: Config) => Machine;
  /** or a driver process (refinement-tests/driver) */
  readonly driver?: Driver;
  readonly onProgress?: (r: ExploreReport) => void;
}

export interface ExploreReport {
  states: number;
  edges: number;
  depthReached: number;
  seconds: number;
  complete: boolean;
  /** the first problem found (breadth-first: along a shortest path) */
  violation?: { message: string; trace: Trace };
}

interface Node {
  state: State;
  parent: Node | null;
  op: Op | null;
  depth: number;
}

function pathOf(n: Node): Op[] {
  const ops: Op[] = [];
  for (let x: Node | null = n; x && x.op; x = x.parent) ops.push(x.op);
  return ops.reverse();
}

export function explore(opts: ExploreOptions): ExploreReport {
  const started = Date.now();
  const root: Node = { state: boot(opts.config), parent: null, op: null, depth: 0 };
  const seen = new Set<string>([canonicalKey(root.state)]);
  const report: ExploreReport = { states: 1, edges: 0, depthReached: 0, seconds: 0, complete: true };
  const fail = (node: Node, message: string) => {
    report.violation = { message, trace: { config: opts.config, ops: pathOf(node) } };
  };
  let frontier: Node[] = [root];
  let lastProgress = started;
  outer: for (let depth = 1; depth <= opts.depth && frontier.length > 0; depth++) {
    const next: Node[] = [];
    for (const node of frontier) {
      for (const op of enumerateOps(node.state)) {
        const s = step(node.state, op);
        if (!s.result.ok) continue; // errors change nothing: no new state
        report.edges++;
        const child: Node = { state: s.state, parent: node, op, depth };
        const transition = checkTransition(node.state, op, s.state);
        if (transition.length) {
          fail(child, `two-state property ${transition[0]!.invariant} broken: ${transition[0]!.message}`);
          break outer;
        }
        const key = canonicalKey(s.state);
        if (seen.has(key)) continue;
        seen.add(key);
        report.states++;
        report.depthReached = depth;
        const broken = checkInvariants(s.state);
        if (broken.length) {
          fail(child, `invariant ${broken[0]!.invariant} broken: ${broken[0]!.message}`);
          break outer;
        }
        if (opts.impl) {
          const ops = pathOf(child);
          let diff: string | null;
          try {
            if (opts.driver) {
              const d = opts.driver.session(opts.config).prefetch(ops, false);
              let i = 0;
              for (; i < ops.length; i++) if (!d.apply(ops[i]!, false).ok) break;
              diff = i < ops.length ? `the impl failed operation ${i}` : firstDifference(s.state, d.abstractState());
            } else {
              const m = new (opts.Impl ?? Machine)(opts.config);
              let i = 0;
              for (; i < ops.length; i++) if (!m.apply(ops[i]!).ok) break;
              diff = i < ops.length ? `the impl failed operation ${i}` : firstDifference(s.state, toSpec(m));
            }
          } catch (e) {
            if (e instanceof DriverSetupError) throw e;
            // a throwing implementation is a failing one, not a crash of capmem
            diff = `the impl threw: ${describeThrow(e)}`;
          }
          if (diff) {
            fail(child, `spec and impl differ: ${diff}`);
            break outer;
          }
        }
        next.push(child);
        if (opts.maxStates !== undefined && report.states >= opts.maxStates) {
          report.complete = false;
          break outer;
        }
      }
      if (opts.onProgress && Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        report.seconds = (Date.now() - started) / 1000;
        opts.onProgress(report);
      }
    }
    frontier = next;
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}
