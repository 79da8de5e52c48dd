/**
 * The diff of two cells: both folded diagrams merged by name, with nodes and edges that only the
 * second has (added), only the first has (removed), or that both have with another equation, op or
 * shape (changed) highlighted. LSTM vs CIFG shows the coupled forget gate; GRU vs MGU the merged gate.
 */
import type { CellDef } from "../cells/define";
import { describe } from "./describe";
import { Diagram } from "./diagram";
import type { DotStyle } from "./dot";
import { addFolded } from "./folded";
import { emptyGraph, type Graph, type GraphEdge, type GraphNode } from "./model";
import { checkKeys, maybeDetail, STYLE_KEYS, styleOf, type StyleOptions } from "./options";
import { resolveCell, type CellSource } from "./source";

/** Options of {@link diff}. */
export interface DiffOptions extends StyleOptions {
  /** `"gates"` (default): operations only; `"full"`: parameters too. */
  detail?: "gates" | "full";
}

/** What changed from the first cell to the second, by node id (the definitions' names). */
export interface Changes {
  added: string[];
  removed: string[];
  changed: string[];
}

/** A diff diagram: a {@link Diagram} that also lists its changes. */
export class DiffDiagram extends Diagram {
  constructor(
    graph: Graph,
    text: string,
    style: DotStyle,
    /** Node ids added, removed and changed. */
    readonly changes: Changes,
  ) {
    super(graph, text, style);
  }
}

/** What a reader sees of a node; two nodes with the same name differ when this differs. */
const look = (n: GraphNode) => JSON.stringify([n.kind, n.role, n.symbol, n.equation ?? n.title, n.shape, n.members]);
const edgeKey = (e: GraphEdge) => `${e.from}\u0000${e.to}\u0000${e.kind}`;

/**
 * Compares two cells' diagrams: added nodes green, removed red and dashed, changed amber, with
 * the old equation on each changed node.
 *
 * @example
 * diff(LSTM, LSTM_CIFG);                  // f = 1 − i replaces f = σ(f̄); f̄'s weights removed
 * diff(GRU_RESET_AFTER, MGU).changes;     // { added: [...], removed: [...], changed: [...] }
 */
export function diff(a: CellSource, b: CellSource, options: DiffOptions = {}): DiffDiagram {
  checkKeys(options, [...STYLE_KEYS, "detail"], "diff()");
  const detail = maybeDetail(options.detail, ["gates", "full"] as const, "gates");
  const left = resolveCell(a, "diff() (first cell)");
  const right = resolveCell(b, "diff() (second cell)");
  const folded = (def: CellDef, sizes?: Readonly<Record<string, number>>) => {
    const g = emptyGraph(def.name, def.title);
    addFolded(g, def, { detail, sizes, loops: true });
    return g;
  };
  const ga = folded(left.def, left.sizes);
  const gb = folded(right.def, right.sizes);
  const before = new Map(ga.nodes.map((n) => [n.id, n]));
  const after = new Set(gb.nodes.map((n) => n.id));
  const changes: Changes = { added: [], removed: [], changed: [] };
  const graph = emptyGraph(`${left.def.name}_vs_${right.def.name}`, "", [`${left.def.name}: ${left.def.title}`, `${right.def.name}: ${right.def.title}`]);

  for (const n of gb.nodes) {
    const old = before.get(n.id);
    const status = !old ? "added" : look(old) === look(n) ? "same" : "changed";
    if (status !== "same") changes[status].push(n.id);
    const was = old && status === "changed" ? `was: ${old.equation !== undefined ? `${old.title} = ${old.equation}` : `${old.title} ${old.shape ?? ""}`.trim()}` : undefined;
    graph.nodes.push({ ...n, status, ...(was ? { change: was } : {}) });
  }
  for (const n of ga.nodes)
    if (!after.has(n.id)) {
      changes.removed.push(n.id);
      graph.nodes.push({ ...n, status: "removed", values: undefined });
    }
  const edgesBefore = new Set(ga.edges.map(edgeKey));
  const edgesAfter = new Set(gb.edges.map(edgeKey));
  for (const e of gb.edges) graph.edges.push({ ...e, status: edgesBefore.has(edgeKey(e)) ? "same" : "added" });
  for (const e of ga.edges) if (!edgesAfter.has(edgeKey(e))) graph.edges.push({ ...e, status: "removed" });

  graph.caption = {
    title: `${left.def.name} → ${right.def.name}: ${changes.added.length} added, ${changes.removed.length} removed, ${changes.changed.length} changed`,
    lines: graph.caption.lines,
  };
  return new DiffDiagram(graph, describe(graph, "diff (+ added, − removed, ~ changed)"), styleOf(options), changes);
}
