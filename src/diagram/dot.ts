/**
 * Writes a diagram model as Graphviz DOT: tensor records as square boxes (name | shape), operations
 * as rounded boxes (symbol = equation, shape), recurrent edges red and dashed, live values as a
 * fill on the diverging scale with a short vector preview. Every text goes through `dotString` or
 * `htmlText`.
 */
import { dotString, htmlText } from "./escape";
import type { Graph, GraphEdge, GraphNode } from "./model";
import { divergingColor, type Theme } from "./theme";

/** Graphviz rank directions: `BT` bottom to top (default), `TB`, `LR`, `RL`. */
export type FlowDirection = "BT" | "TB" | "LR" | "RL";

/** What the DOT writer needs besides the model. */
export interface DotStyle {
  theme: Theme;
  direction: FlowDirection;
  /** Show the caption (title and the definition's notes). */
  caption: boolean;
}

/** A vector preview with two decimals, at most `max` entries: `[0.52, −0.10, …]` (8 values). */
export function preview(values: readonly number[], max = 4): string {
  const shown = values.slice(0, max).map((v) => (Number.isFinite(v) ? v.toFixed(2) : String(v)).replace("-", "−"));
  return `[${shown.join(", ")}${values.length > max ? `, … (${values.length})` : ""}]`;
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);

/** An HTML-like label, already built from escaped parts (written as `<…>`, not quoted). */
interface Html {
  html: string;
}

const attrs = (pairs: Record<string, string | number | Html | undefined>) =>
  Object.entries(pairs)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "number" ? v : typeof v === "string" ? dotString(v) : `<${v!.html}>`}`)
    .join(", ");

/** The DOT text of a diagram model. */
export function toDot(graph: Graph, { theme, direction, caption }: DotStyle): string {
  const out: string[] = [];
  out.push(`digraph ${dotString(graph.name)} {`);
  out.push(
    `  graph [${attrs({
      rankdir: direction,
      newrank: "true",
      bgcolor: theme.background,
      fontname: theme.fontname,
      fontcolor: theme.text,
      fontsize: 12,
      nodesep: 0.22,
      ranksep: 0.32,
      labelloc: "t",
      labeljust: "l",
      label: caption ? captionLabel(graph, theme) : undefined,
    })}];`,
  );
  out.push(`  node [${attrs({ fontname: theme.fontname, fontsize: 11, shape: "box", margin: "0.08,0.04", penwidth: 1.2 })}];`);
  out.push(`  edge [${attrs({ fontname: theme.fontname, fontsize: 9, arrowsize: 0.7, color: theme.edges.data, fontcolor: theme.muted })}];`);

  const byCluster = new Map<string | undefined, GraphNode[]>();
  for (const n of graph.nodes) {
    const list = byCluster.get(n.cluster);
    if (list) list.push(n);
    else byCluster.set(n.cluster, [n]);
  }
  const writeCluster = (id: string | undefined, indent: string) => {
    for (const c of graph.clusters.filter((c) => c.parent === id)) {
      out.push(`${indent}subgraph ${dotString(`cluster_${c.id}`)} {`);
      out.push(`${indent}  graph [${attrs({ label: c.label || { html: "" }, style: "rounded,filled", fillcolor: theme.cluster.fill, color: theme.cluster.stroke, fontcolor: theme.muted, fontsize: 10, labeljust: c.labeljust ?? "c", labelloc: c.labelloc })}];`);
      writeCluster(c.id, indent + "  ");
      out.push(`${indent}}`);
    }
    for (const n of byCluster.get(id) ?? []) out.push(`${indent}${dotString(n.id)} [${nodeAttrs(n, theme)}];`);
  };
  writeCluster(undefined, "  ");
  for (const e of graph.edges) {
    const back = e.reversed || e.beside;
    out.push(`  ${dotString(back ? e.to : e.from)} -> ${dotString(back ? e.from : e.to)} [${edgeAttrs(e, theme)}];`);
  }
  // Rows and ranks: each on one rank, ordered left to right by invisible edges; rows also in order
  // along the flow (the first row nearest the start).
  const sameRank = (group: readonly string[]) => {
    out.push(`  { rank=same; ${group.map(dotString).join("; ")}; }`);
    for (let k = 1; k < group.length; k++) out.push(`  ${dotString(group[k - 1])} -> ${dotString(group[k])} [style=invis];`);
  };
  graph.rows.forEach((row, r) => {
    sameRank(row);
    if (r > 0) out.push(`  ${dotString(graph.rows[r - 1][0])} -> ${dotString(row[0])} [style=invis];`);
  });
  graph.ranks.forEach(sameRank);
  out.push("}");
  return out.join("\n") + "\n";
}

function captionLabel(graph: Graph, theme: Theme): Html {
  const lines = graph.caption.lines.map((l) => `<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="${theme.muted}">${htmlText(l)}</FONT></TD></TR>`);
  return { html: `<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD ALIGN="LEFT"><B>${htmlText(graph.caption.title)}</B></TD></TR>${lines.join("")}</TABLE>` };
}

function nodeAttrs(n: GraphNode, theme: Theme): string {
  const role = theme.roles[n.role];
  const live = n.values && n.values.length ? divergingColor(mean(n.values)) : undefined;
  const status = n.status && n.status !== "same" ? theme.status[n.status] : undefined;
  const font = live?.font ?? theme.text;
  const small = (text: string) => `<FONT POINT-SIZE="9" COLOR="${live ? font : theme.muted}">${htmlText(text)}</FONT>`;
  const rows: string[] = [];
  if (n.members) for (const m of n.members) rows.push(`<TD ALIGN="LEFT"><B>${htmlText(m.title)}</B></TD><TD ALIGN="RIGHT">${small(m.shape)}</TD>`);
  // A record without a shape has no shape cell: Graphviz drops a whole label whose cell holds an empty <FONT>.
  else if (n.kind === "tensor") rows.push(`<TD><B>${htmlText(n.title)}</B></TD>${n.shape ? `<TD>${small(n.shape)}</TD>` : ""}`);
  else {
    const same = n.equation !== undefined && n.equation.replace(/\s/g, "") === n.title.replace(/\s/g, "");
    const head = n.equation !== undefined && !same ? `<B>${htmlText(n.title)}</B> = ${htmlText(n.equation)}` : `<B>${htmlText(n.equation ?? n.title)}</B>`;
    rows.push(`<TD>${head}</TD>`);
    if (n.shape) rows.push(`<TD>${small(n.shape)}</TD>`);
  }
  if (n.valueText !== undefined || (n.values && n.values.length)) rows.push(`<TD${n.kind === "tensor" ? ' COLSPAN="2"' : ""}>${small(n.valueText ?? preview(n.values!))}</TD>`);
  if (n.change) rows.push(`<TD${n.kind === "tensor" ? ' COLSPAN="2"' : ""}><FONT POINT-SIZE="9" COLOR="${status ?? theme.muted}">${htmlText(n.change)}</FONT></TD>`);
  const label = { html: `<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="1">${rows.map((r) => `<TR>${r}</TR>`).join("")}</TABLE>` };
  const tooltip = [n.equation !== undefined ? `${n.title} = ${n.equation}` : n.title, n.shape, ...(n.notes ?? []), n.valueText !== undefined ? `values: ${n.valueText}` : n.values ? `values: ${preview(n.values, 8)}` : undefined, n.change]
    .filter(Boolean)
    .join("\n");
  return attrs({
    label,
    tooltip,
    style: [n.kind === "tensor" ? "filled" : "rounded,filled", n.status === "removed" || n.frozen ? "dashed" : undefined].filter(Boolean).join(","),
    fillcolor: live?.fill ?? (n.frozen ? theme.background : role.fill),
    color: status ?? (n.frozen ? theme.muted : role.stroke),
    fontcolor: n.frozen && !live ? theme.muted : font,
    fontsize: n.small ? 9 : undefined,
    penwidth: status ? 2.5 : n.kind === "cell" ? 1.8 : undefined,
    peripheries: n.role === "state-out" ? 2 : undefined,
  });
}

function edgeAttrs(e: GraphEdge, theme: Theme): string {
  const status = e.status && e.status !== "same" ? theme.status[e.status] : undefined;
  const recurrent = e.kind === "recurrent";
  // Near zero the scale is almost white: such an edge keeps the theme's colour so it stays visible.
  const m = e.values && e.values.length && !recurrent ? mean(e.values) : 0;
  const live = Math.abs(m) >= 0.2 ? divergingColor(m).fill : undefined;
  const label = [e.label, e.operand !== undefined ? `(${e.operand})` : undefined].filter(Boolean).join(" ");
  return attrs({
    color: status ?? live ?? theme.edges[e.kind],
    style: e.status === "removed" ? "dotted" : recurrent ? "dashed" : undefined,
    penwidth: recurrent ? 2 : status ? 2 : live ? 1.6 : undefined,
    constraint: recurrent && !e.beside ? "false" : undefined,
    label: label || undefined,
    fontcolor: recurrent ? theme.edges.recurrent : undefined,
    dir: e.reversed || e.beside ? "back" : undefined,
    tooltip: e.values ? preview(e.values, 8) : undefined,
    arrowhead: e.kind === "weight" ? "empty" : undefined,
    weight: e.weight,
  });
}
