/**
 * A state's 64-bit fingerprint, used by the explorer (explore.ts) to tell
 * visited states apart and by the mutation corpus to compare a mutant's
 * abstract state with the spec's recorded one. In a module of its own so
 * that the mutation corpus loads nothing else of the explorer.
 */
import type { State } from "../../spec/state.js";
import { isAccountDestroy, isDestroy, isRevoke, isTaskDestroy } from "../../spec/state.js";
import { zombiesOf } from "../../spec/preemption.js";

/**
 * A 64-bit fingerprint of a state (two 32-bit halves), over every field in a
 * fixed order (the configuration, fixed during a search, is left out). Two
 * different states share one with probability about 2^-64 per pair: with n
 * states, about n^2 / 2^65 (3e-6 for ten million), the same odds TLC
 * reports for its fingerprints. explore.test.ts checks that it tells apart
 * every state the full canonical key does, to a depth.
 */
export function fingerprint(s: State): [number, number] {
  let a = 0x811c9dc5 | 0;
  let b = 0x9e3779b9 | 0;
  const mix = (x: number) => {
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ (x + 0x7f4a7c15), 0x5bd1e995);
    b ^= b >>> 15;
  };
  const none = () => mix(-7);
  for (const f of s.frames) {
    mix(f.content);
    mix(f.refs);
    mix(f.epoch);
    mix(f.wired);
  }
  for (const x of s.accounts) {
    if (!x) none();
    else {
      mix(x.parent ?? -1);
      mix(x.yieldRequest);
      mix(x.requested);
      mix(x.frameQuota);
      mix(x.framesCharged);
      mix(x.objectQuota);
      mix(x.objectsCharged);
    }
  }
  for (const t of s.tasks) {
    if (!t) {
      none();
      continue;
    }
    mix(t.account);
    mix(t.window.slot);
    mix(t.window.slots);
    mix(t.window.page);
    mix(t.window.pages);
    mix(t.pager ?? -1);
    if (t.fault) {
      mix(t.fault.vpage);
      mix(t.fault.write ? 1 : 0);
      mix(t.fault.value);
    } else none();
    mix(t.queue.length);
    for (const q of t.queue) mix(q);
    mix(t.notices.length);
    for (const n of t.notices) {
      mix(n.task);
      mix(n.vpage);
    }
    mix(t.missed);
    const p = t.pending;
    if (!p) none();
    else if (isDestroy(p)) {
      mix(-3);
      mix(p.op.task);
      mix(p.op.container);
      mix(p.object);
      mix(p.slot);
      mix(p.cursor?.task ?? -1);
      mix(p.cursor?.vpage ?? -1);
    } else if (isAccountDestroy(p)) {
      mix(-5);
      mix(p.op.task);
      mix(p.op.account);
      mix(p.object);
      mix(p.at === null ? -1 : p.at.kind === "container" ? 0 : 1);
      mix(p.at?.id ?? -1);
      mix(p.page);
      mix(p.slot);
      mix(p.cursor?.task ?? -1);
      mix(p.cursor?.vpage ?? -1);
    } else if (isTaskDestroy(p)) {
      mix(-4);
      mix(p.op.task);
      mix(p.op.target);
      mix(p.object);
      mix(p.page);
      mix(p.slot);
      mix(p.cursor?.task ?? -1);
      mix(p.cursor?.vpage ?? -1);
    } else if (isRevoke(p)) {
      mix(-2);
      mix(p.op.task);
      mix(p.op.slot);
      const c = p.cursor;
      mix(c === null ? -1 : c.kind === "cap" ? 0 : 1);
      mix(c?.task ?? -1);
      mix(c === null ? -1 : c.kind === "cap" ? c.slot : c.vpage);
    } else {
      mix(p.op.task);
      mix(p.op.vpage);
      mix(p.op.order);
      mix(["derived", "all", "readonly"].indexOf(p.op.mode));
      mix(p.page);
      for (const r of [p.cursor, p.last, p.zone]) {
        mix(r?.task ?? -1);
        mix(r?.vpage ?? -1);
      }
      mix(p.bits);
    }
    // (the zombies a revoke, a task destroy or an account destroy empties, from the outermost in)
    if (p)
      for (const z of zombiesOf(p)) {
        mix(z.kind === "container" ? -5 : z.kind === "task" ? -6 : -7);
        mix(z.id);
        mix(z.container ?? -1);
        mix(z.task ?? -1);
        mix(z.page);
        mix(z.slot);
        mix(z.cursor?.task ?? -1);
        mix(z.cursor?.vpage ?? -1);
      }
    for (const c of t.caps) {
      if (!c) none();
      else {
        mix(KIND_CODE[c.kind]!);
        mix(c.object);
        mix(c.rights);
        if (c.parent) {
          mix(c.parent.task);
          mix(c.parent.slot);
        } else none();
      }
    }
    for (const m of t.pages) {
      if (!m) none();
      else {
        mix(m.frame);
        mix(m.rights);
        mix(m.bits);
        if (m.source.kind === "slot") {
          mix(1);
          mix(m.source.container);
          mix(m.source.index);
          mix(m.source.cap.task);
          mix(m.source.cap.slot);
        } else {
          mix(2);
          mix(m.source.parent.task);
          mix(m.source.parent.vpage);
        }
      }
    }
  }
  for (const c of s.containers) {
    if (!c) {
      none();
      continue;
    }
    mix(c.account);
    for (const x of c.slots) {
      if (x.kind === "empty") mix(10);
      else if (x.kind === "hard") {
        mix(11);
        mix(x.frame);
      } else if (x.kind === "soft") {
        mix(12);
        mix(x.frame);
        mix(x.epoch);
      } else {
        mix(13);
        mix(x.page);
      }
    }
  }
  for (const h of s.handles) {
    if (!h) none();
    else {
      mix(h.account);
      mix(h.frame);
    }
  }
  for (const p of s.swap) {
    if (!p) none();
    else {
      mix(p.content);
      mix(p.frame);
      mix(p.epoch);
      mix(p.refs);
    }
  }
  for (const o of s.sigma0) mix(o ?? -1);
  return [a >>> 0, b >>> 0];
}

const KIND_CODE: Record<string, number> = { account: 1, task: 2, container: 3, dma: 4 };
