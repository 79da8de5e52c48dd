/**
 * The diagram model: plain data between a cell definition and DOT. Builders (folded, unrolled,
 * diff) produce it from definitions; `dot.ts` writes it; tests and the text view read it. Nothing
 * in it is drawn by hand: every node is an input, state, parameter or node of a definition.
 */
import type { NodeRole } from "../cells/define";

/** What a diagram node stands for; the theme colours by it. */
export type Role = NodeRole | "input" | "state-in" | "state-out" | "param" | "cell";

/** How a node or edge compares in a diff. */
export type Status = "same" | "added" | "removed" | "changed";

/** One node: a tensor record (input, state, parameter), an operation box, or a whole cell. */
export interface GraphNode {
  id: string;
  kind: "tensor" | "op" | "cell";
  role: Role;
  /** The paper's symbol (the definition's label), e.g. `f`, `x[t]`, `U_f`. */
  title: string;
  /** The op's symbol, e.g. `σ`, `⊙`. */
  symbol?: string;
  /** Right-hand side of the node's equation, e.g. `σ(f̄)`. */
  equation?: string;
  /** Shape, symbolic (`[B, H]`) or concrete (`[1, 4]`). */
  shape?: string;
  /** Extra lines for the tooltip (notes, op description). */
  notes?: readonly string[];
  /** Live values at the diagram's step (one batch element). */
  values?: readonly number[];
  /** Live values written as text instead of the preview of `values` (a model diagram's summary of a large tensor). */
  valueText?: string;
  /** In a diff: how this node compares. */
  status?: Status;
  /** In a diff: what changed. */
  change?: string;
  /** The cluster it sits in. */
  cluster?: string;
  /** A record of several tensors (an affine map's parameters), one row each. */
  members?: readonly { title: string; shape: string }[];
  /** A parameter that does not learn (frozen or constant): drawn dashed and muted. */
  frozen?: boolean;
  /** Drawn in a smaller font (parameters beside the ops they feed). */
  small?: boolean;
}

/** How an edge carries data. */
export type EdgeKind = "data" | "weight" | "recurrent" | "layer";

/** One edge: `from` is an operand of `to` (operands keep their order). */
export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Position among the head's operands, for ops whose operand order matters. */
  operand?: number;
  label?: string;
  /** Live values flowing along it. */
  values?: readonly number[];
  status?: Status;
  /** Draw the arrow against the edge's layout direction (backward recurrences). */
  reversed?: boolean;
  /**
   * A recurrence laid out from the previous value up to the new one (arrow pointing back), both
   * outside the cell's box: it runs straight beside the box instead of across it.
   */
  beside?: boolean;
  /** Graphviz's edge weight: a heavier edge is kept shorter and straighter (a chart's axis). */
  weight?: number;
}

/** A box around nodes (one timestep, one layer). */
export interface Cluster {
  id: string;
  label: string;
  parent?: string;
  /** Where the label sits (Graphviz's labelloc and labeljust; default centred at the flow's start). */
  labelloc?: "t" | "b";
  labeljust?: "l" | "r";
}

/** A whole diagram. */
export interface Graph {
  name: string;
  /** The caption: a title line and the definition's notes. */
  caption: { title: string; lines: readonly string[] };
  nodes: GraphNode[];
  edges: GraphEdge[];
  clusters: Cluster[];
  /** Groups of node ids laid out on one rank, each in order (left to right), stacked along the flow. */
  rows: string[][];
  /** Groups of node ids laid out on one rank, each in order, placed wherever the edges put them. */
  ranks: string[][];
}

/** An empty graph. */
export function emptyGraph(name: string, title: string, lines: readonly string[] = []): Graph {
  return { name, caption: { title, lines }, nodes: [], edges: [], clusters: [], rows: [], ranks: [] };
}

/** Hands out node ids unique in `graph`: a clash (a user's name that equals a generated one) gets primes. */
export function idMaker(graph: Graph): (base: string) => string {
  const taken = new Set(graph.nodes.map((n) => n.id));
  return (base) => {
    let out = base;
    while (taken.has(out)) out += "′";
    taken.add(out);
    return out;
  };
}
