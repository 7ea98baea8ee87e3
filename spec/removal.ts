/**
 * Taking things away: the one place where the spec removes objects.
 *
 * Every destructive operation (destroy an account, task or container, revoke
 * or delete a capability, free a slot, unmap) names a few *seeds*; the
 * closure below adds everything that cannot outlive them, and `applyRemoval`
 * takes the whole set out at once and settles the accounts. Because the set is
 * computed first and removed as a whole, the result does not depend on the
 * order in which things are found: the impl may walk its structures in any
 * order it likes and still agree with the spec.
 *
 * What cannot outlive what:
 * - an account takes its sub-accounts with it, and every task and container
 *   they pay for (Genode-style: destroying a child returns all of its quota);
 * - a task takes every capability in its space and every mapping in its page
 *   table, and every capability naming it ("kill -9", 000_0acf2069c9b56720.txt);
 * - a container takes every capability naming it and every mapping rooted in
 *   one of its slots (Coyotos-style rescind, 001_468f3620a1a4dd19.txt);
 * - a capability takes every capability derived from it and every mapping it
 *   authorized (seL4-style revoke);
 * - a mapping takes every mapping derived from it (L4 unmap, 001);
 * - a DMA handle takes every capability naming it and unwires its frame (a
 *   frame no slot holds any more is released only now: "kill -9 during DMA");
 *   an account takes the handles it pays for.
 *
 * The spec walks these relations with explicit work lists, never recursion,
 * so a 100,000-deep derivation chain is no problem.
 */
import type { CapRef, Draft, MapRef, State } from "./state.js";
import { capKey, draft, mapKey } from "./state.js";

export interface Removal {
  readonly accounts: Set<number>;
  readonly tasks: Set<number>;
  readonly containers: Set<number>;
  readonly handles: Set<number>;
  /** capability keys `task:slot` */
  readonly caps: Set<string>;
  /** mapping keys `task:vpage` */
  readonly mappings: Set<string>;
}

export interface Seeds {
  accounts?: readonly number[];
  tasks?: readonly number[];
  containers?: readonly number[];
  handles?: readonly number[];
  caps?: readonly CapRef[];
  mappings?: readonly MapRef[];
}

/** Children of every capability, by key of the parent. */
export function capChildren(state: State): Map<string, CapRef[]> {
  const children = new Map<string, CapRef[]>();
  state.tasks.forEach((task, t) => {
    task?.caps.forEach((cap, slot) => {
      if (cap?.parent) {
        const k = capKey(cap.parent);
        let list = children.get(k);
        if (!list) children.set(k, (list = []));
        list.push({ task: t, slot });
      }
    });
  });
  return children;
}

/** Children of every mapping, by key of the parent. */
export function mapChildren(state: State): Map<string, MapRef[]> {
  const children = new Map<string, MapRef[]>();
  state.tasks.forEach((task, t) => {
    task?.pages.forEach((m, vpage) => {
      if (m?.source.kind === "map") {
        const k = mapKey(m.source.parent);
        let list = children.get(k);
        if (!list) children.set(k, (list = []));
        list.push({ task: t, vpage });
      }
    });
  });
  return children;
}

/** Adds to `into` the keys of all descendants of `start` (explicit stack). */
function addDescendants<T>(start: readonly T[], children: Map<string, T[]>, key: (r: T) => string, into: Set<string>): void {
  const stack = [...start];
  while (stack.length > 0) {
    const r = stack.pop()!;
    for (const c of children.get(key(r)) ?? []) {
      const k = key(c);
      if (!into.has(k)) {
        into.add(k);
        stack.push(c);
      }
    }
  }
}

const parseRef = (k: string): [number, number] => {
  const i = k.indexOf(":");
  return [Number(k.slice(0, i)), Number(k.slice(i + 1))];
};

/** Everything that must go when the seeds go. */
export function closure(state: State, seeds: Seeds): Removal {
  // Accounts: the seeds and all their sub-accounts.
  const accounts = new Set<number>(seeds.accounts ?? []);
  let grew = accounts.size > 0;
  while (grew) {
    grew = false;
    state.accounts.forEach((a, id) => {
      if (a && a.parent !== null && accounts.has(a.parent) && !accounts.has(id)) {
        accounts.add(id);
        grew = true;
      }
    });
  }
  // Tasks and containers: the seeds and whatever a removed account pays for.
  const tasks = new Set<number>(seeds.tasks ?? []);
  state.tasks.forEach((t, id) => t && accounts.has(t.account) && tasks.add(id));
  const containers = new Set<number>(seeds.containers ?? []);
  state.containers.forEach((c, id) => c && accounts.has(c.account) && containers.add(id));
  const handles = new Set<number>(seeds.handles ?? []);
  state.handles.forEach((h, id) => h && accounts.has(h.account) && handles.add(id));

  // Capabilities: the seeds, those held by removed tasks, those naming a
  // removed object, and everything derived from any of these.
  const caps = new Set<string>();
  const capStart: CapRef[] = [];
  const addCap = (r: CapRef) => {
    const k = capKey(r);
    if (!caps.has(k)) {
      caps.add(k);
      capStart.push(r);
    }
  };
  (seeds.caps ?? []).forEach(addCap);
  state.tasks.forEach((task, t) => {
    task?.caps.forEach((cap, slot) => {
      if (!cap) return;
      const objectGone =
        (cap.kind === "account" && accounts.has(cap.object)) ||
        (cap.kind === "task" && tasks.has(cap.object)) ||
        (cap.kind === "container" && containers.has(cap.object)) ||
        (cap.kind === "dma" && handles.has(cap.object));
      if (tasks.has(t) || objectGone) addCap({ task: t, slot });
    });
  });
  addDescendants(capStart, capChildren(state), capKey, caps);

  // Mappings: the seeds, those of removed tasks, those rooted in a removed
  // container or authorized by a removed capability, and everything derived.
  const mappings = new Set<string>();
  const mapStart: MapRef[] = [];
  const addMap = (r: MapRef) => {
    const k = mapKey(r);
    if (!mappings.has(k)) {
      mappings.add(k);
      mapStart.push(r);
    }
  };
  (seeds.mappings ?? []).forEach(addMap);
  state.tasks.forEach((task, t) => {
    task?.pages.forEach((m, vpage) => {
      if (!m) return;
      const s = m.source;
      const rootGone = s.kind === "slot" && (containers.has(s.container) || caps.has(capKey(s.cap)));
      if (tasks.has(t) || rootGone) addMap({ task: t, vpage });
    });
  });
  addDescendants(mapStart, mapChildren(state), mapKey, mappings);

  return { accounts, tasks, containers, handles, caps, mappings };
}

/**
 * Takes a removal set out of the state and settles the books: every removed
 * object's charge is returned to its (surviving) payer, every removed Hard
 * slot drops its frame's reference count and its frame charge, and the quota
 * of every removed account goes back to its nearest surviving ancestor.
 * Returns an editable copy so callers can finish their own edits on it.
 */
export function applyRemoval(state: State, r: Removal): Draft {
  const d = draft(state);
  const payerOfTask = (t: number) => state.tasks[t]!.account;
  const uncharge = (account: number, objects: number) => {
    if (!r.accounts.has(account)) d.accounts[account]!.objectsCharged -= objects;
  };

  for (const k of r.mappings) {
    const [t, vpage] = parseRef(k);
    uncharge(payerOfTask(t), 1);
    d.tasks[t]!.pages[vpage] = null;
  }
  for (const k of r.caps) {
    const [t, slot] = parseRef(k);
    uncharge(payerOfTask(t), 1);
    d.tasks[t]!.caps[slot] = null;
  }
  for (const c of r.containers) {
    const container = state.containers[c]!;
    for (const s of container.slots) {
      if (s.kind === "hard") {
        d.frames[s.frame]!.refs -= 1;
        if (!r.accounts.has(container.account)) d.accounts[container.account]!.framesCharged -= 1;
      }
    }
    uncharge(container.account, 1);
    d.containers[c] = null;
  }
  for (const h of r.handles) {
    const handle = state.handles[h]!;
    d.frames[handle.frame]!.wired -= 1;
    uncharge(handle.account, 1);
    d.handles[h] = null;
  }
  for (const t of r.tasks) {
    uncharge(payerOfTask(t), 1);
    d.tasks[t] = null;
  }
  for (const a of r.accounts) {
    const account = state.accounts[a]!;
    let heir = account.parent;
    while (heir !== null && r.accounts.has(heir)) heir = state.accounts[heir]!.parent;
    if (heir !== null) {
      d.accounts[heir]!.frameQuota += account.frameQuota;
      d.accounts[heir]!.objectQuota += account.objectQuota;
    }
    if (account.parent !== null) uncharge(account.parent, 1);
    d.accounts[a] = null;
  }
  return d;
}

/** Closure and removal in one step. */
export function remove(state: State, seeds: Seeds): Draft {
  return applyRemoval(state, closure(state, seeds));
}
