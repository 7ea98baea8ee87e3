/**
 * A spec state as a graph: the account tree and who pays for what, each task
 * with its capabilities and mappings, the capability derivation tree, the
 * mapping database, containers, frames and DMA handles. One graph, two
 * renderings: a Mermaid flowchart (for Markdown) and Graphviz DOT (which
 * `capmem draw --out x.svg` lays out into SVG with Graphviz compiled to
 * WebAssembly, no browser needed). A drawing can be cut down to some tasks
 * and containers: their own nodes and everything one edge away.
 */
import type { Pending, State } from "../../spec/state.js";
import { isAccountDestroy, isDestroy, isRevoke, isTaskDestroy } from "../../spec/state.js";
import { zombiesOf } from "../../spec/preemption.js";
import { rightsList } from "../../spec/vocabulary.js";

type Shape = "box" | "stadium" | "subroutine" | "cylinder" | "hexagon";

interface Node {
  readonly id: string;
  readonly lines: readonly string[];
  readonly shape: Shape;
  /** the subgraph it is drawn in (a task, or the accounts) */
  readonly group?: string;
  /** what it belongs to, for cutting the drawing down: "task:1", "container:2" */
  readonly tags: readonly string[];
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly style: "solid" | "dotted" | "thick";
}

export interface Graph {
  readonly groups: ReadonlyMap<string, string>;
  readonly nodes: readonly Node[];
  readonly edges: readonly Edge[];
}

/** What to draw: everything, or the nodes of some tasks and containers and their neighbours. */
export interface Selection {
  readonly tasks?: readonly number[];
  readonly containers?: readonly number[];
}

const rights = (mask: number) => rightsList(mask).map((r) => r[0]).join("") || "-";

/** The graph of a state (cut down to `selection` when one is given). */
/** The zombies a preempted removal empties, as the task's caption says them (from the outermost in). */
function zombiesDrawn(p: Pending): string {
  return zombiesOf(p)
    .map((z) => `, emptying ${z.kind} ${z.id} (zombie) ${z.kind === "account" ? (z.container !== undefined ? `at container ${z.container} slot ${z.slot}` : z.task !== undefined ? `at task ${z.task} ${z.page >= 0 ? `page ${z.page}` : `slot ${z.slot}`}` : "between objects") : `at ${z.kind === "task" && z.page >= 0 ? `page ${z.page}` : `slot ${z.slot}`}`}${z.cursor ? `, its walk at task ${z.cursor.task}'s page ${z.cursor.vpage}` : ""}`)
    .join("");
}

export function toGraph(s: State, selection: Selection = {}): Graph {
  const groups = new Map<string, string>([["accounts", "accounts (quota: charged/quota)"]]);
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const edge = (from: string, to: string, label: string, style: Edge["style"]) => edges.push({ from, to, label, style });

  s.accounts.forEach((a, id) => {
    if (!a) return;
    const ask = [...(a.yieldRequest ? [`yield request ${a.yieldRequest}`] : []), ...(a.requested ? [`requested ${a.requested}`] : [])];
    nodes.push({ id: `A${id}`, lines: [`account ${id}`, `frames ${a.framesCharged}/${a.frameQuota}`, `objects ${a.objectsCharged}/${a.objectQuota}`, ...ask], shape: "box", group: "accounts", tags: [`account:${id}`] });
    if (a.parent !== null) edge(`A${a.parent}`, `A${id}`, "", "solid");
  });

  s.tasks.forEach((t, id) => {
    if (!t) return;
    const waits = t.fault ? [`waits: ${t.fault.write ? "write" : "read"} fault at page ${t.fault.vpage}`] : [];
    const queue = t.queue.length ? [`faults waiting: task ${t.queue.join(", ")}`] : [];
    const p = t.pending;
    const walk = !p
      ? []
      : isDestroy(p)
        ? [`preempted: container.destroy of container ${p.object}, at slot ${p.slot}${p.cursor ? `, walk at task ${p.cursor.task}'s page ${p.cursor.vpage}` : ""}`]
        : isAccountDestroy(p)
        ? [`preempted: account.destroy of account ${p.object}${p.at ? `, at ${p.at.kind} ${p.at.id}${p.at.kind === "task" && p.page >= 0 ? ` page ${p.page}` : ` slot ${p.slot}`}` : ""}${p.cursor ? `, walk at task ${p.cursor.task}'s page ${p.cursor.vpage}` : ""}${zombiesDrawn(p)}`]
        : isTaskDestroy(p)
        ? [`preempted: task.destroy of task ${p.object}, ${p.page >= 0 ? `at page ${p.page}` : `at capability slot ${p.slot}`}${p.cursor ? `, walk at task ${p.cursor.task}'s page ${p.cursor.vpage}` : ""}${zombiesDrawn(p)}`]
        : isRevoke(p)
        ? [`preempted: cap.revoke of slot ${p.op.slot}${p.cursor ? `, walk at task ${p.cursor.task}'s ${p.cursor.kind === "cap" ? `capability slot ${p.cursor.slot}` : `page ${p.cursor.vpage}`}` : ""}${zombiesDrawn(p)}`]
        : [`preempted: page.unmap ${p.op.mode} of pages ${p.op.vpage}-${p.op.vpage + 2 ** p.op.order - 1}, at page ${p.page}${p.cursor ? `, walk at task ${p.cursor.task}'s page ${p.cursor.vpage}` : ""}`];
    groups.set(`T${id}`, [`task ${id}`, ...waits, ...queue, ...walk].join(" · "));
    t.caps.forEach((c, slot) => {
      if (c) nodes.push({ id: `K${id}_${slot}`, lines: [`slot ${slot}: ${c.kind} ${c.object} (${rights(c.rights)})`], shape: "box", group: `T${id}`, tags: [`task:${id}`, `${c.kind}:${c.object}`] });
    });
    const bits = (b: number) => (b ? `, ${b & 1 ? "R" : ""}${b & 2 ? "D" : ""}` : "");
    t.pages.forEach((m, v) => {
      if (!m) return;
      const tags = [`task:${id}`, ...(m.source.kind === "slot" ? [`container:${m.source.container}`] : [])];
      nodes.push({ id: `M${id}_${v}`, lines: [`page ${v} → frame ${m.frame} (${rights(m.rights)}${bits(m.bits)})`], shape: "stadium", group: `T${id}`, tags });
    });
    edge(`A${t.account}`, `T${id}`, "pays", "dotted");
    if (t.pager !== null) edge(`T${t.pager}`, `T${id}`, "pager of", "dotted");
  });

  s.containers.forEach((c, id) => {
    if (!c) return;
    const slots = c.slots.map((x, i) => {
      if (x.kind === "hard") return `${i}: frame ${x.frame}`;
      if (x.kind === "soft") return `${i}: soft frame ${x.frame} @${x.epoch}`;
      if (x.kind === "swapped") return `${i}: swapped to page ${x.page} (${s.swap[x.page]?.content})`;
      return `${i}: empty`;
    });
    nodes.push({ id: `C${id}`, lines: [`container ${id}`, ...slots], shape: "subroutine", tags: [`container:${id}`] });
    edge(`A${c.account}`, `C${id}`, "pays", "dotted");
    c.slots.forEach((x, i) => x.kind === "hard" && edge(`C${id}`, `F${x.frame}`, `slot ${i}`, "solid"));
  });

  s.handles.forEach((h, id) => {
    if (!h) return;
    nodes.push({ id: `H${id}`, lines: [`DMA handle ${id}`], shape: "hexagon", tags: [`dma:${id}`] });
    edge(`A${h.account}`, `H${id}`, "pays", "dotted");
    edge(`H${id}`, `F${h.frame}`, "wires", "thick");
  });

  s.frames.forEach((f, id) => {
    if (f.refs === 0 && f.wired === 0) return;
    nodes.push({ id: `F${id}`, lines: [`frame ${id}`, `content ${f.content}, refs ${f.refs}, epoch ${f.epoch}${f.wired ? `, wired ${f.wired}` : ""}`], shape: "cylinder", tags: [`frame:${id}`] });
  });

  // derivation tree and mapping database
  s.tasks.forEach((t, id) => {
    t?.caps.forEach((c, slot) => c?.parent && edge(`K${c.parent.task}_${c.parent.slot}`, `K${id}_${slot}`, "derived", "solid"));
    t?.pages.forEach((m, v) => {
      if (!m) return;
      if (m.source.kind === "map") edge(`M${m.source.parent.task}_${m.source.parent.vpage}`, `M${id}_${v}`, "mapped", "solid");
      else edge(`K${m.source.cap.task}_${m.source.cap.slot}`, `M${id}_${v}`, `authorizes (slot ${m.source.container}:${m.source.index})`, "dotted");
    });
  });
  return cut({ groups, nodes, edges }, selection);
}

/** The selected nodes and everything one edge away; a task's own edges count as the task's (its subgraph). */
function cut(g: Graph, selection: Selection): Graph {
  const wanted = new Set([...(selection.tasks ?? []).map((t) => `task:${t}`), ...(selection.containers ?? []).map((c) => `container:${c}`)]);
  if (wanted.size === 0) return g;
  const core = new Set(g.nodes.filter((n) => n.tags.some((t) => wanted.has(t))).map((n) => n.id));
  for (const t of selection.tasks ?? []) core.add(`T${t}`);
  const keep = new Set(core);
  for (const e of g.edges) {
    if (core.has(e.from)) keep.add(e.to);
    if (core.has(e.to)) keep.add(e.from);
  }
  const nodes = g.nodes.filter((n) => keep.has(n.id));
  const edges = g.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const used = new Set(nodes.map((n) => n.group).filter((x) => x !== undefined));
  for (const t of selection.tasks ?? []) used.add(`T${t}`);
  return { groups: new Map([...g.groups].filter(([k]) => used.has(k))), nodes, edges };
}

// ---------------------------------------------------------------------------
// Mermaid

/** Mermaid's default limits: a renderer refuses a diagram past either. */
export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;

const mermaidText = (s: string) => s.replace(/"/g, "#quot;");
const MERMAID_SHAPE: Record<Shape, [string, string]> = {
  box: ["[", "]"],
  stadium: ["([", "])"],
  subroutine: ["[[", "]]"],
  cylinder: ["[(", ")]"],
  hexagon: ["{{", "}}"],
};
const MERMAID_ARROW: Record<Edge["style"], string> = { solid: "-->", dotted: "-.->", thick: "==>" };

export function toMermaid(s: State, selection: Selection = {}): string {
  return graphToMermaid(toGraph(s, selection));
}

export function graphToMermaid(g: Graph): string {
  const out = ["flowchart TB"];
  const node = (n: Node, indent: string) => {
    const [open, close] = MERMAID_SHAPE[n.shape];
    out.push(`${indent}${n.id}${open}"${mermaidText(n.lines.join("<br/>"))}"${close}`);
  };
  const grouped = new Map<string, Node[]>();
  for (const n of g.nodes) if (n.group) grouped.set(n.group, [...(grouped.get(n.group) ?? []), n]);
  for (const [id, label] of g.groups) {
    out.push(`  subgraph ${id}["${mermaidText(label)}"]`);
    for (const n of grouped.get(id) ?? []) node(n, "    ");
    out.push("  end");
  }
  for (const n of g.nodes) if (!n.group) node(n, "  ");
  for (const e of g.edges) out.push(`  ${e.from} ${MERMAID_ARROW[e.style]}${e.label ? `|"${mermaidText(e.label)}"|` : ""} ${e.to}`);
  return out.join("\n") + "\n";
}

/** Why a renderer would refuse this Mermaid text, or null. */
export function mermaidTooBig(text: string, g: Graph): string | null {
  if (text.length <= MERMAID_MAX_TEXT && g.edges.length <= MERMAID_MAX_EDGES) return null;
  return `${text.length.toLocaleString("en")} characters and ${g.edges.length} edges, past Mermaid's default limits (${MERMAID_MAX_TEXT.toLocaleString("en")} characters, ${MERMAID_MAX_EDGES} edges)`;
}

// ---------------------------------------------------------------------------
// Graphviz

const DOT_SHAPE: Record<Shape, string> = { box: "box", stadium: "box", subroutine: "box3d", cylinder: "cylinder", hexagon: "hexagon" };
const dotText = (s: string) => JSON.stringify(s);

export function graphToDot(g: Graph): string {
  const out = ["digraph capmem {", '  node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];'];
  const node = (n: Node, indent: string) =>
    out.push(`${indent}${n.id} [label=${dotText(n.lines.join("\n"))}, shape=${DOT_SHAPE[n.shape]}${n.shape === "stadium" ? ', style="rounded"' : ""}];`);
  const grouped = new Map<string, Node[]>();
  for (const n of g.nodes) if (n.group) grouped.set(n.group, [...(grouped.get(n.group) ?? []), n]);
  for (const [id, label] of g.groups) {
    out.push(`  subgraph cluster_${id} {`, `    label=${dotText(label)};`);
    // an edge may end at a task itself (who pays for it): an invisible anchor stands for the task
    if (id.startsWith("T")) out.push(`    ${id} [label="", shape=point, style=invis];`);
    for (const n of grouped.get(id) ?? []) node(n, "    ");
    out.push("  }");
  }
  for (const n of g.nodes) if (!n.group) node(n, "  ");
  const style = { solid: "", dotted: ", style=dashed", thick: ", penwidth=2.5" };
  for (const e of g.edges) out.push(`  ${e.from} -> ${e.to} [label=${dotText(e.label)}${style[e.style]}${e.to.startsWith("T") ? `, lhead=cluster_${e.to}` : ""}];`);
  out.push("}");
  return out.join("\n") + "\n";
}

/** SVG of a graph, laid out by Graphviz (WebAssembly). */
export async function graphToSvg(g: Graph): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(graphToDot(g), { format: "svg", graphAttributes: { compound: true } });
}
