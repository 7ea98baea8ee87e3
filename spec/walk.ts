/**
 * Views of a state that the named properties share: lookups by reference,
 * the live objects as lists, the forest check, and the root of a mapping.
 * Plain functions over the abstract state, with no knowledge of any
 * operation.
 */
import type { Account, Cap, CapRef, MapRef, Mapping, State } from "./state.js";

export const capAt = (s: State, r: CapRef) => s.tasks[r.task]?.caps[r.slot] ?? null;
export const mapAt = (s: State, r: MapRef) => s.tasks[r.task]?.pages[r.vpage] ?? null;

// The live objects of a state as lists (plain arrays: cheaper than generators
// on the lockstep's hot path, and as easy to read).
export function liveAccounts(s: State) {
  const out: (readonly [number, Account])[] = [];
  for (let id = 0; id < s.accounts.length; id++) {
    const a = s.accounts[id];
    if (a) out.push([id, a] as const);
  }
  return out;
}
export function allCaps(s: State) {
  const out: (readonly [CapRef, Cap])[] = [];
  for (let t = 0; t < s.tasks.length; t++) {
    const caps = s.tasks[t]?.caps ?? [];
    for (let slot = 0; slot < caps.length; slot++) {
      const cap = caps[slot];
      if (cap) out.push([{ task: t, slot }, cap] as const);
    }
  }
  return out;
}
export function allMappings(s: State) {
  const out: (readonly [MapRef, Mapping])[] = [];
  for (let t = 0; t < s.tasks.length; t++) {
    const pages = s.tasks[t]?.pages ?? [];
    for (let vpage = 0; vpage < pages.length; vpage++) {
      const m = pages[vpage];
      if (m) out.push([{ task: t, vpage }, m] as const);
    }
  }
  return out;
}

/** Follows a parent relation from every node; reports a cycle or a dangling parent. Iterative. */
export function forestCheck<K>(nodes: Iterable<K>, key: (k: K) => string, parent: (k: K) => K | null, exists: (k: K) => boolean, what: string): string | null {
  const done = new Set<string>();
  for (const start of nodes) {
    const path = new Set<string>();
    let cur: K | null = start;
    while (cur !== null && !done.has(key(cur))) {
      const k = key(cur);
      if (path.has(k)) return `${what} ${k} lies on a cycle`;
      path.add(k);
      const p: K | null = parent(cur);
      if (p !== null && !exists(p)) return `${what} ${k} has a parent ${key(p)} that does not exist`;
      cur = p;
    }
    for (const k of path) done.add(k);
  }
  return null;
}

/** The root mapping a mapping derives from (following parents; iterative). */
export function rootOf(s: State, m: Mapping): Mapping | null {
  let cur: Mapping | null = m;
  let hops = 0;
  while (cur && cur.source.kind === "map") {
    cur = mapAt(s, cur.source.parent);
    if (++hops > s.config.tasks * s.config.vpages) return null; // a cycle: reported by mappingTreeIsForest
  }
  return cur;
}
