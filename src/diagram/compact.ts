/** The compact view: a whole cell as one node, its inputs and states as tensor records around it. */
import { equationOf, type CellDef } from "../cells/define";
import type { ValueSource } from "./folded";
import { shapeText } from "./folded";
import { idMaker, type Graph, type GraphNode } from "./model";

/** What the compact builder needs besides the definition. */
export interface CompactSpec {
  sizes?: Readonly<Record<string, number>>;
  batch?: number;
  values?: ValueSource;
  /** Id of the cell node (default: the definition's name). */
  id?: string;
  /** Title of the cell node (default: the definition's name). */
  title?: string;
  cluster?: string;
}

const EQUATIONS = new WeakMap<CellDef, readonly string[]>();

/** The cell's title and every node's equation, once per definition (an unrolled diagram has a node per step). */
function equations(def: CellDef): readonly string[] {
  let out = EQUATIONS.get(def);
  if (!out) EQUATIONS.set(def, (out = [def.title, ...def.nodes.map((n) => `${n.label} = ${equationOf(def, n)}`)]));
  return out;
}

/** The cell as one node: its title, and every equation in the tooltip. */
export function cellNode(def: CellDef, { id, title, values, cluster }: Pick<CompactSpec, "id" | "title" | "values" | "cluster">): GraphNode {
  const out = def.states.find((s) => s.next === def.output)!;
  return {
    id: id ?? def.name,
    kind: "cell",
    role: "cell",
    title: title ?? def.name,
    notes: equations(def),
    values: values?.(`state:${out.name}`),
    ...(cluster ? { cluster } : {}),
  };
}

/** Adds the compact folded view (cell node, input and state records, recurrences) to `graph`. */
export function addCompact(graph: Graph, def: CellDef, spec: CompactSpec): void {
  const { sizes, batch, values } = spec;
  const unique = idMaker(graph);
  const node = cellNode(def, { ...spec, id: unique(def.name) });
  graph.nodes.push(node);
  const shape = (size: string) => shapeText(["B", size], sizes, batch);
  for (const i of def.inputs) {
    const id = unique(i.name);
    graph.nodes.push({ id, kind: "tensor", role: "input", title: i.label, shape: shape(i.size), values: values?.(i.name) });
    graph.edges.push({ from: id, to: node.id, kind: "data", values: values?.(i.name) });
  }
  for (const s of def.states) {
    const [prev, next] = [unique(s.prev), unique(`${s.name}[t]`)];
    graph.nodes.push({ id: prev, kind: "tensor", role: "state-in", title: s.label, shape: shape(s.size), values: values?.(s.prev) });
    graph.nodes.push({ id: next, kind: "tensor", role: "state-out", title: `${s.name}[t]`, shape: shape(s.size), values: values?.(`state:${s.name}`) });
    graph.edges.push({ from: prev, to: node.id, kind: "data", values: values?.(s.prev) });
    graph.edges.push({ from: node.id, to: next, kind: "data", label: s.name });
    graph.edges.push({ from: next, to: prev, kind: "recurrent", label: "t+1" });
  }
}
