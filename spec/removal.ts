/**
 * Taking things away: the one place where the spec removes objects.
 *
 * Every destructive operation (destroy an account, task or container, revoke
 * or delete a capability, free a slot, unmap) names a few *seeds*; the
 * closure below adds everything that cannot outlive them, and `applyRemoval`
 * takes the whole set out at once, re-attaches what survives, and settles
 * the accounts. Because the set is computed first and removed as a whole,
 * the result does not depend on the order in which things are found: the
 * impl may walk its structures in any order it likes and still agree.
 *
 * What cannot outlive what:
 * - an account takes its sub-accounts with it, and every task, container and
 *   DMA handle they pay for (Genode-style: destroying a child returns all of
 *   its quota);
 * - a task takes every capability in its space and every mapping in its page
 *   table ("kill -9", 000_0acf2069c9b56720.txt);
 * - any object takes every capability naming it, and a container every
 *   mapping rooted in one of its slots (Coyotos-style rescind, seed 001);
 * - a mapping takes every mapping derived from it (L4 unmap, seed 001);
 * - a DMA handle unwires its frame (a frame no slot holds any more is
 *   released only now: "kill -9 during DMA");
 * - a dying task's fault leaves its pager's queue, the faults waiting at a
 *   dying pager fail, the tasks it paged have no pager any more, its
 *   pager's notices about it go, and sigma0's ledger forgets the task
 *   (pagers.ts);
 * - an object lives exactly as long as some capability names it (seL4's
 *   final-capability rule; the root account and the root task, named by the
 *   permanent boot capabilities, excepted): an object whose last capability
 *   goes is destroyed with all the above, whatever removed the capability.
 *
 * One rule for what a vanishing capability does to what hangs from it:
 * - *revoked* capabilities (the descendants of the capability a revoke names)
 *   go with everything derived from them and every mapping they authorized;
 * - any other capability that goes (deleted, held by a dying task, naming a
 *   dying object) takes nothing along: each capability derived from it that
 *   survives is re-attached to its nearest surviving ancestor, and each root
 *   mapping it authorized is re-attached to its nearest surviving ancestor if
 *   that one names the same container, and goes otherwise (with its derived
 *   mappings). While removals are preempted, "surviving" also passes over
 *   the capabilities one of them will make vanish (preemption.ts,
 *   passedOver), so that another task cannot add, by deleting, to what a
 *   removal has to hand up before they vanish (not in the units of the
 *   walks themselves, whose hand-ups move what they move one level up).
 *   So killing a task and deleting its capabilities one by one have the
 *   same effect, and only revoke (or destroying the object) takes back
 *   what was handed on (seL4's CDT: delete re-parents, revoke removes).
 *
 * The spec walks these relations with explicit work lists, never recursion,
 * so a 100,000-deep derivation chain is no problem.
 */
import type { Cap, CapRef, Draft, MapRef, State } from "./state.js";
import { capKey, draft, mapKey, ROOT_ACCOUNT, ROOT_TASK, settleLeaves } from "./state.js";
import { passedOver } from "./preemption.js";

export interface Removal {
  readonly accounts: Set<number>;
  readonly tasks: Set<number>;
  readonly containers: Set<number>;
  readonly handles: Set<number>;
  /** capability keys `task:slot` */
  readonly caps: Set<string>;
  /** the removed capabilities that were revoked (their mappings go, nothing is re-attached to them) */
  readonly revoked: Set<string>;
  /** mapping keys `task:vpage` */
  readonly mappings: Set<string>;
  /** surviving capabilities whose parent goes: capability key -> new parent (nearest surviving ancestor) */
  readonly reparent: Map<string, CapRef | null>;
  /** surviving root mappings whose authorizing capability goes: mapping key -> new authorizing capability */
  readonly reauthorize: Map<string, CapRef>;
}

export interface Seeds {
  accounts?: readonly number[];
  tasks?: readonly number[];
  containers?: readonly number[];
  handles?: readonly number[];
  /** capabilities that vanish (deleted): what hangs from them is re-attached */
  caps?: readonly CapRef[];
  /** capabilities whose descendants are revoked (the capabilities themselves stay) */
  revoke?: readonly CapRef[];
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

/**
 * Everything that must go when the seeds go, and where what survives is
 * re-attached. With `spare`, that task and the accounts that pay for it
 * (its account and those above) are not taken along for want of a
 * capability naming them (preemption.ts counts a removal's work so).
 * Without `pass` (a unit of a removal's walk), nothing is re-attached past
 * a capability another removal will make vanish: the state a walk's unit
 * sees is not settled yet (another removal it ended still has its record).
 */
export function closure(state: State, seeds: Seeds, spare: number | null = null, pass = true): Removal {
  const capsByKey = new Map<string, Cap>();
  state.tasks.forEach((task, t) => task?.caps.forEach((cap, slot) => cap && capsByKey.set(capKey({ task: t, slot }), cap)));
  const children = capChildren(state);

  // Revoked: every descendant of a revoke seed.
  const revoked = new Set<string>();
  addDescendants(seeds.revoke ?? [], children, capKey, revoked);
  const caps = new Set<string>(revoked);
  for (const r of seeds.caps ?? []) caps.add(capKey(r));

  const accounts = new Set<number>(seeds.accounts ?? []);
  const tasks = new Set<number>(seeds.tasks ?? []);
  const containers = new Set<number>(seeds.containers ?? []);
  const handles = new Set<number>(seeds.handles ?? []);
  const spared = new Set<string>();
  if (spare !== null && state.tasks[spare]) {
    spared.add(`task:${spare}`);
    for (let a: number | null = state.tasks[spare].account, hops = 0; a !== null && hops <= state.accounts.length; a = state.accounts[a]?.parent ?? null, hops++) spared.add(`account:${a}`);
  }
  const isRootObject = (kind: string, id: number) => (kind === "account" && id === ROOT_ACCOUNT) || (kind === "task" && id === ROOT_TASK) || spared.has(`${kind}:${id}`);
  const gone = (cap: Cap) =>
    (cap.kind === "account" && accounts.has(cap.object)) ||
    (cap.kind === "task" && tasks.has(cap.object)) ||
    (cap.kind === "container" && containers.has(cap.object)) ||
    (cap.kind === "dma" && handles.has(cap.object));

  // Grow to a fixpoint: accounts take sub-accounts and what they pay for;
  // tasks take the capabilities they hold; objects take the capabilities
  // naming them; an object no surviving capability names goes.
  for (let grew = true; grew; ) {
    const before = accounts.size + tasks.size + containers.size + handles.size + caps.size;
    state.accounts.forEach((a, id) => a && a.parent !== null && accounts.has(a.parent) && accounts.add(id));
    state.tasks.forEach((t, id) => t && accounts.has(t.account) && tasks.add(id));
    state.containers.forEach((c, id) => c && accounts.has(c.account) && containers.add(id));
    state.handles.forEach((h, id) => h && accounts.has(h.account) && handles.add(id));
    for (const [k, cap] of capsByKey) if (!caps.has(k) && (tasks.has(parseRef(k)[0]) || gone(cap))) caps.add(k);
    const named = new Set<string>();
    for (const [k, cap] of capsByKey) if (!caps.has(k)) named.add(`${cap.kind}:${cap.object}`);
    const unnamed = (kind: string, id: number) => !isRootObject(kind, id) && !named.has(`${kind}:${id}`);
    state.accounts.forEach((a, id) => a && unnamed("account", id) && accounts.add(id));
    state.tasks.forEach((t, id) => t && unnamed("task", id) && tasks.add(id));
    state.containers.forEach((c, id) => c && unnamed("container", id) && containers.add(id));
    state.handles.forEach((h, id) => h && unnamed("dma", id) && handles.add(id));
    grew = accounts.size + tasks.size + containers.size + handles.size + caps.size !== before;
  }

  // Surviving capabilities re-attach to their nearest surviving ancestor,
  // passing over those a preempted removal will make vanish (preemption.ts,
  // passedOver: while none is preempted, there are none), but in a unit of
  // a removal's walk (`pass` false: preemption.ts).
  const pending = pass && state.tasks.some((t) => t?.pending);
  const survivor = (from: CapRef | null): CapRef | null => {
    let p = from;
    while (p !== null && (caps.has(capKey(p)) || (pending && passedOver(state, p)))) p = capsByKey.get(capKey(p))!.parent;
    return p;
  };
  const reparent = new Map<string, CapRef | null>();
  for (const [k, cap] of capsByKey) if (!caps.has(k) && cap.parent && caps.has(capKey(cap.parent))) reparent.set(k, survivor(cap.parent));

  // Mappings: the seeds, those of removed tasks, those rooted in a removed
  // container, those a revoked capability authorized, and those whose
  // vanished capability has no surviving ancestor naming their container;
  // then everything derived from any of these.
  const mappings = new Set<string>();
  const mapStart: MapRef[] = [];
  const reauthorize = new Map<string, CapRef>();
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
      if (tasks.has(t) || (s.kind === "slot" && (containers.has(s.container) || revoked.has(capKey(s.cap))))) return addMap({ task: t, vpage });
      if (s.kind === "slot" && caps.has(capKey(s.cap))) {
        const heir = survivor(capsByKey.get(capKey(s.cap))!.parent);
        const heirCap = heir && capsByKey.get(capKey(heir));
        if (heir && heirCap && heirCap.kind === "container" && heirCap.object === s.container) reauthorize.set(mapKey({ task: t, vpage }), heir);
        else addMap({ task: t, vpage });
      }
    });
  });
  addDescendants(mapStart, mapChildren(state), mapKey, mappings);
  for (const k of mappings) reauthorize.delete(k);

  return { accounts, tasks, containers, handles, caps, revoked, mappings, reparent, reauthorize };
}

/**
 * Takes a removal set out of the state and settles the books: every removed
 * object's charge is returned to its (surviving) payer, every removed Hard
 * slot drops its frame's reference count and its frame charge, every removed
 * DMA handle its frame's wire count and its frame charge, and the quota of
 * every removed account goes back to its nearest surviving ancestor. What
 * survives is re-attached as the closure says.
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
      } else if (s.kind === "swapped") {
        releaseSwap(d, s.page);
        uncharge(container.account, 1);
      }
    }
    uncharge(container.account, 1);
    d.containers[c] = null;
  }
  for (const h of r.handles) {
    const handle = state.handles[h]!;
    d.frames[handle.frame]!.wired -= 1;
    if (!r.accounts.has(handle.account)) d.accounts[handle.account]!.framesCharged -= 1;
    uncharge(handle.account, 1);
    d.handles[h] = null;
  }
  // page-table leaf pages the removed mappings emptied (a removed task's are
  // all empty by now; a removed account's refund goes with the account)
  settleLeaves(state, d, state.tasks.flatMap((t, id) => (t ? [id] : [])));
  for (const t of r.tasks) {
    uncharge(payerOfTask(t), 1);
    d.tasks[t] = null;
  }
  // Pagers and faults (pagers.ts): a dying task's fault leaves its pager's
  // queue; the faults waiting at a dying pager fail (their tasks resume
  // without the access) and the tasks it paged have no pager any more; its
  // pager's notices about it go; sigma0's ledger forgets the dying task.
  if (r.tasks.size > 0) {
    state.tasks.forEach((t, id) => {
      if (!t || r.tasks.has(id)) return;
      const orphan = t.pager !== null && r.tasks.has(t.pager);
      if (orphan) {
        d.tasks[id]!.pager = null;
        d.tasks[id]!.fault = null;
      }
      if (t.queue.some((q) => r.tasks.has(q))) d.tasks[id]!.queue = t.queue.filter((q) => !r.tasks.has(q));
      if (t.notices.some((n) => r.tasks.has(n.task))) d.tasks[id]!.notices = t.notices.filter((n) => !r.tasks.has(n.task));
    });
    state.sigma0.forEach((owner, p) => {
      if (owner !== null && r.tasks.has(owner)) d.sigma0[p] = null;
    });
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
  for (const [k, parent] of r.reparent) {
    const [t, slot] = parseRef(k);
    d.tasks[t]!.caps[slot]!.parent = parent;
  }
  for (const [k, cap] of r.reauthorize) {
    const [t, vpage] = parseRef(k);
    const m = d.tasks[t]!.pages[vpage]!;
    if (m.source.kind === "slot") m.source = { ...m.source, cap };
  }
  return d;
}

/** One swapped slot lets go of swap page `page`; the page is freed with its last slot. */
export function releaseSwap(d: Draft, page: number): void {
  const p = d.swap[page]!;
  if (p.refs > 1) p.refs -= 1;
  else d.swap[page] = null;
}

/** Closure and removal in one step (`spare`: see closure). */
export function remove(state: State, seeds: Seeds, spare: number | null = null, pass = true): Draft {
  return applyRemoval(state, closure(state, seeds, spare, pass));
}
