/**
 * The folded cell: one timestep of a definition. Inputs and previous states at the bottom,
 * parameters beside the affine maps they feed, every node an operation box labelled with its
 * paper symbol and equation, the new states at the top, and each state's recurrence drawn back
 * from its new value to its previous one.
 */
import { equationOf, evalSize, labeller, type CellDef, type NodeDef } from "../cells/define";
import { NOTATION, type OpKind } from "../cells/ops";
import { idMaker, type Graph, type GraphEdge, type GraphNode } from "./model";

/** How much of a cell a diagram shows. */
export type Detail = "full" | "gates" | "compact";

/** Reads a live value by definition name (input, previous state `h_prev`, node, or `state:h` for a new state). */
export type ValueSource = (name: string) => readonly number[] | undefined;

/** What the folded builder needs besides the definition. */
export interface FoldedSpec {
  detail: Exclude<Detail, "compact">;
  /** Concrete sizes (a Cell's), or none for symbolic shapes. */
  sizes?: Readonly<Record<string, number>>;
  /** Batch size for shapes (default the symbol B). */
  batch?: number;
  values?: ValueSource;
  /** Prefix of every id (unrolled diagrams hold one folded cell per step). */
  prefix?: string;
  cluster?: string;
  /** Rewrites a label, e.g. `x[t]` → `x[3]` in an unrolled diagram. */
  relabel?: (label: string) => string;
  /** Draw each state's recurrence inside the cell (folded view); unrolled views connect steps instead. */
  loops?: boolean;
}

/** The ids a folded cell exposes to whoever connects it (unrolled, stacked). */
export interface Ports {
  inputs: Record<string, string>;
  prev: Record<string, string>;
  next: Record<string, string>;
}

/** Ops whose operand order changes the result: their edges are numbered. */
const ORDERED: ReadonlySet<OpKind> = new Set<OpKind>(["sub", "div", "concat"]);

/** A shape written as `[B, H]` or, with sizes, `[1, 4]`. */
export function shapeText(dims: readonly string[], sizes?: Readonly<Record<string, number>>, batch?: number): string {
  return `[${dims.map((d) => (d === "B" ? (batch ?? "B") : sizes ? evalSize(d, sizes) : d)).join(", ")}]`;
}

/** Adds one timestep of `def` to `graph` and returns its ports. */
export function addFolded(graph: Graph, def: CellDef, spec: FoldedSpec): Ports {
  const { prefix = "", sizes, batch, values, cluster, relabel = (s: string) => s } = spec;
  const label = labeller(def);
  const unique = idMaker(graph);
  const id = (name: string) => prefix + name;
  const push = (node: Omit<GraphNode, "id">, at: string): string => {
    const nodeId = unique(at);
    graph.nodes.push({ id: nodeId, ...node, ...(cluster ? { cluster } : {}) });
    return nodeId;
  };
  const tensorShape = (size: string) => shapeText(["B", size], sizes, batch);
  const ports: Ports = { inputs: {}, prev: {}, next: {} };
  const ids = new Map<string, string>();
  const first = graph.nodes.length;

  for (const i of def.inputs)
    ids.set(i.name, (ports.inputs[i.name] = push({ kind: "tensor", role: "input", title: relabel(i.label), shape: tensorShape(i.size), values: values?.(i.name) }, id(i.name))));
  for (const s of def.states)
    ids.set(s.prev, (ports.prev[s.name] = push({ kind: "tensor", role: "state-in", title: relabel(s.label), shape: tensorShape(s.size), notes: [`previous value of state ${s.name}`], values: values?.(s.prev) }, id(s.prev))));
  for (const n of def.nodes) ids.set(n.name, push(opNode(def, n, tensorShape(n.size), values?.(n.name), relabel), id(n.name)));
  const params = new Map(def.params.map((p) => [p.name, p]));

  const edge = (from: string, to: string, rest: Omit<GraphEdge, "from" | "to">) => graph.edges.push({ from: ids.get(from) ?? from, to: ids.get(to) ?? to, ...rest });
  for (const n of def.nodes) {
    n.inputs.forEach((input, k) =>
      edge(input, n.name, { kind: "data", values: values?.(input), ...(ORDERED.has(n.op) ? { operand: k + 1 } : {}), ...(n.op === "affine" && spec.detail === "gates" ? { label: n.terms![k].weight } : {}) }),
    );
    if (n.op === "affine" && spec.detail === "full") {
      const used = [...n.terms!.map((t) => t.weight), ...n.bias!].map((w) => params.get(w)!);
      const members = used.map((p) => ({ title: p.name, shape: shapeText(p.shape, sizes) }));
      const notes = used.map((p) => `${p.name}: ${p.kind} parameter ${shapeText(p.shape, sizes)}`);
      const group = push({ kind: "tensor", role: "param", title: `parameters of ${relabel(n.label)}`, members, notes }, id(`${n.name}.params`));
      graph.edges.push({ from: group, to: ids.get(n.name)!, kind: "weight" });
    }
  }
  for (const s of def.states) {
    const out = push(
      { kind: "tensor", role: "state-out", title: relabel(`${s.name}[t]`), shape: tensorShape(s.size), notes: [s.next === def.output ? "new state; the cell's output" : "new state"], values: values?.(`state:${s.name}`) },
      id(`${s.name}[t]`),
    );
    ports.next[s.name] = out;
    edge(s.next, out, { kind: "data", values: values?.(s.next) });
  }
  if (spec.loops) {
    const idOf = (name: string) => ids.get(name) ?? ports.next[name.slice("state:".length)];
    const { ranks, lines } = structure(def);
    graph.ranks.push(...ranks.map((r) => r.map(idOf)));
    // The cell's body in one box; inputs and the states not drawn as a line stay outside, so their
    // recurrences run around the box instead of across it.
    const outside = new Set([...Object.values(ports.inputs), ...def.states.filter((s) => !lines.has(s.name)).flatMap((s) => [ports.prev[s.name], ports.next[s.name]])]);
    const body = `${prefix}cell`;
    graph.clusters.push({ id: body, label: "", ...(cluster ? { parent: cluster } : {}) });
    for (const n of graph.nodes.slice(first)) if (!outside.has(n.id)) n.cluster = body;
    for (const s of def.states)
      graph.edges.push({ from: ports.next[s.name], to: ports.prev[s.name], kind: "recurrent", label: "t+1", ...(lines.has(s.name) ? {} : { beside: true }) });
  }
  return ports;
}

/**
 * The folded cell laid out as teachers draw it (the cell state as a line through the cell, gates
 * in a row beneath it), as groups of names that share a rank, derived from the definition alone:
 * - a state that only elementwise ops read and update (the LSTM's c) is one line on one rank:
 *   previous value, the ops between it and the new value, the new value;
 * - the first gates and candidates (fewest ops from the inputs) share a rank, listed in the order
 *   they join a line (a hint Graphviz may override to spare crossings);
 * - any other state's new value sits beside the op computing it (the output at the top); such
 *   states stay outside the cell's box with the inputs, their recurrences drawn `beside` it.
 * Names are definition names (`state:h` for a new state); `lines` holds the states drawn as a line.
 */
export function structure(def: CellDef): { ranks: string[][]; lines: Set<string> } {
  const byName = new Map(def.nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, NodeDef[]>();
  for (const n of def.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const used = new Set<string>();
  const ranks: string[][] = [];
  const lines = new Set<string>();
  const line: string[] = [];
  for (const s of def.states) {
    // Forward from the previous value through elementwise ops, then back from the new value.
    const reach = new Set<string>();
    const walk = (name: string) => {
      for (const c of consumers.get(name) ?? []) if (c.op !== "affine" && !reach.has(c.name)) reach.add(c.name), walk(c.name);
    };
    // Only a state no affine map reads is a line: one the gates read (the GRU's h) enters from below.
    if (!(consumers.get(s.prev) ?? []).some((c) => c.op === "affine")) walk(s.prev);
    const onLine = new Set<string>();
    const back = (name: string) => {
      if (!reach.has(name) || onLine.has(name)) return;
      onLine.add(name);
      for (const i of byName.get(name)?.inputs ?? []) back(i);
    };
    back(s.next);
    const path = def.nodes.filter((n) => onLine.has(n.name)).map((n) => n.name);
    const group = path.length ? [s.prev, ...path, `state:${s.name}`] : [s.next, `state:${s.name}`];
    if (group.some((g) => used.has(g))) continue;
    group.forEach((g) => used.add(g));
    ranks.push(group);
    if (path.length) lines.add(s.name), line.push(...group);
  }
  const depth = new Map<string, number>();
  for (const n of def.nodes) depth.set(n.name, 1 + Math.max(0, ...n.inputs.map((i) => depth.get(i) ?? 0)));
  const gates = def.nodes.filter((n) => (n.role === "gate" || n.role === "candidate") && !used.has(n.name));
  const shallowest = Math.min(...gates.map((g) => depth.get(g.name)!));
  // Where a gate joins a line: the position of the first line node it reaches.
  const joins = (name: string, seen = new Set<string>()): number => {
    if (line.includes(name)) return line.indexOf(name);
    seen.add(name);
    return Math.min(Infinity, ...(consumers.get(name) ?? []).filter((c) => !seen.has(c.name)).map((c) => joins(c.name, seen)));
  };
  const row = gates.filter((g) => depth.get(g.name) === shallowest).map((g) => g.name);
  if (row.length > 1) ranks.push(row.map((name, k) => ({ name, k, at: joins(name) })).sort((a, b) => a.at - b.at || a.k - b.k).map((g) => g.name));
  return { ranks, lines };
}

function opNode(def: CellDef, n: NodeDef, shape: string, values: readonly number[] | undefined, relabel: (s: string) => string): Omit<GraphNode, "id"> {
  const notation = NOTATION[n.op];
  return {
    kind: "op",
    role: n.role,
    title: relabel(n.label),
    symbol: n.op === "shift" ? `−${n.constant!.symbol}` : notation.symbol,
    equation: relabel(equationOf(def, n)),
    shape,
    notes: [notation.title, ...(n.note ? [n.note] : [])],
    values,
  };
}
