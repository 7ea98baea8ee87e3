/**
 * A spec state as a Mermaid flowchart: the account tree and who pays for
 * what, each task with its capabilities and mappings, the capability
 * derivation tree, the mapping database, containers and frames.
 */
import type { State } from "../../spec/state.js";
import { rightsList } from "../../spec/vocabulary.js";

const esc = (s: string) => s.replace(/"/g, "#quot;");
const rights = (mask: number) => rightsList(mask).map((r) => r[0]).join("") || "-";

export function toMermaid(s: State): string {
  const out = ["flowchart TB"];
  const line = (x: string) => out.push(`  ${x}`);

  line('subgraph accounts["accounts (quota: charged/quota)"]');
  s.accounts.forEach((a, id) => {
    if (!a) return;
    const ask = `${a.yieldRequest ? `<br/>yield request ${a.yieldRequest}` : ""}${a.requested ? `<br/>requested ${a.requested}` : ""}`;
    line(`  A${id}["account ${id}<br/>frames ${a.framesCharged}/${a.frameQuota}<br/>objects ${a.objectsCharged}/${a.objectQuota}${ask}"]`);
  });
  s.accounts.forEach((a, id) => a && a.parent !== null && line(`  A${a.parent} --> A${id}`));
  line("end");

  s.tasks.forEach((t, id) => {
    if (!t) return;
    line(`subgraph T${id}["task ${id}"]`);
    t.caps.forEach((c, slot) => c && line(`  K${id}_${slot}["slot ${slot}: ${c.kind} ${c.object} (${rights(c.rights)})"]`));
    const bits = (b: number) => (b ? `, ${b & 1 ? "R" : ""}${b & 2 ? "D" : ""}` : "");
    t.pages.forEach((m, v) => m && line(`  M${id}_${v}(["page ${v} → frame ${m.frame} (${rights(m.rights)}${bits(m.bits)})"])`));
    line("end");
    line(`A${t.account} -. pays .-> T${id}`);
  });

  s.containers.forEach((c, id) => {
    if (!c) return;
    const slots = c.slots
      .map((x, i) => {
        if (x.kind === "hard") return `${i}: frame ${x.frame}`;
        if (x.kind === "soft") return `${i}: soft frame ${x.frame} @${x.epoch}`;
        if (x.kind === "swapped") return `${i}: swapped to page ${x.page} (${s.swap[x.page]?.content})`;
        return `${i}: empty`;
      })
      .join("<br/>");
    line(`C${id}[["container ${id}<br/>${esc(slots)}"]]`);
    line(`A${c.account} -. pays .-> C${id}`);
    c.slots.forEach((x, i) => x.kind === "hard" && line(`C${id} -- "slot ${i}" --> F${x.frame}`));
  });

  s.handles.forEach((h, id) => {
    if (!h) return;
    line(`H${id}{{"DMA handle ${id}"}}`);
    line(`A${h.account} -. pays .-> H${id}`);
    line(`H${id} == wires ==> F${h.frame}`);
  });

  s.frames.forEach((f, id) => {
    if (f.refs === 0 && f.wired === 0) return;
    line(`F${id}[("frame ${id}<br/>content ${f.content}, refs ${f.refs}, epoch ${f.epoch}${f.wired ? `, wired ${f.wired}` : ""}")]`);
  });

  // derivation tree and mapping database
  s.tasks.forEach((t, id) => {
    t?.caps.forEach((c, slot) => c?.parent && line(`K${c.parent.task}_${c.parent.slot} -->|derived| K${id}_${slot}`));
    t?.pages.forEach((m, v) => {
      if (!m) return;
      if (m.source.kind === "map") line(`M${m.source.parent.task}_${m.source.parent.vpage} -->|mapped| M${id}_${v}`);
      else line(`K${m.source.cap.task}_${m.source.cap.slot} -.->|"authorizes (slot ${m.source.container}:${m.source.index})"| M${id}_${v}`);
    });
  });
  return out.join("\n") + "\n";
}
