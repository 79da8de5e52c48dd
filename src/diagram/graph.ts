/**
 * Diagrams of any model of the definition language (src/lang), in the style of the Graphviz
 * architecture reference: inputs and outputs as records, parameters as small records beside the ops
 * they feed (frozen ones dashed and marked ❄; a tied parameter drawn once, with an edge to each
 * use), every op a box `symbol = equation`, every edge labelled with the symbolic shape of the
 * tensor it carries. A block with a kind (a ConvBlock) folds into one box `enc1: ConvBlock` or
 * expands into a cluster of its ops; a scan is a cluster with its body, and a state's recurrence is
 * drawn back (red, dashed) from its next value to its `state` placeholder only when the body reads
 * that placeholder — so an ELM has no recurrent edge and an ESN has one.
 *
 * Labels cannot lie: an equation is the op table's `notation` applied to its operands' symbols, so
 * a node's name is only its symbol. An unnamed node read once, in its own block, is written into
 * its reader's equation (`h = tanh(x Win + h_prev W)`) instead of getting a box of its own.
 */
import { errors } from "../errors";
import { isAutoNamed, type ScanInfo } from "../lang/build";
import { scopePath, type Scope, type Tensor } from "../lang/graph";
import type { Model } from "../lang/model";
import { count } from "../lang/nd";
import { OPS, type OpSpec } from "../lang/ops";
import type { ModelTrace } from "../lang/run";
import { evalShape, showShape } from "../lang/size";
import { describe } from "./describe";
import { Diagram } from "./diagram";
import { emptyGraph, type Cluster, type GraphEdge, type GraphNode, type Role } from "./model";
import { modelLive, type NodeLive } from "./model-live";
import { checkKeys, STYLE_KEYS, styleOf, type StyleOptions } from "./options";

/** Options of {@link modelDiagram}. */
export interface ModelDiagramOptions extends StyleOptions {
  /**
   * Blocks drawn as a cluster of their ops instead of one box: `true` for every block, or block
   * paths (`["enc1", "dec1"]`). By default every block with a kind (`layer("ConvBlock", …)`) is one
   * box; plain name scopes and scans are always expanded.
   */
  expand?: boolean | readonly string[];
  /** Blocks or scans drawn as one box (`["l0", "l1_reverse"]`): a scan's recurrences become red loops on its box. */
  fold?: readonly string[];
  /** A trace of this model (`(await model.run(inputs)).trace`): every box shows its value at position `t` for batch row `b`. */
  trace?: ModelTrace;
  /** Position in the sequence to show (default: the last); only for a model with a scan. */
  t?: number;
  /** Batch row to show (default 0). */
  b?: number;
}

/** The builder's plumbing: drawn as records, clusters and edges, never as op boxes. */
const WIRING = new Set(["input", "param", "step", "state", "scan", "scanOut", "scanFinal"]);

/** Layer ops: always a box of their own, so an expanded block shows its layers (conv → BN → pool) as the reference draws them. */
const LAYER_OPS = new Set(["conv2d", "maxPool", "avgPool", "upsample", "batchNorm", "layerNorm", "dropout", "softmax", "logSoftmax"]);

/** The longest equation an unnamed node is written into its reader's; a longer one gets its own box. */
const INLINE_LIMIT = 40;

/** Ops drawn in the colours of the cells' affine maps and gates. */
const ROLE_OF_OP: Record<string, Role> = { matmul: "pre", conv2d: "pre", dot: "pre", outer: "pre", sigmoid: "gate", softmax: "gate" };

const TABLE: Record<string, OpSpec> = OPS;

/**
 * The diagram of a model: `modelDiagram(m)` (blocks folded, scans expanded),
 * `modelDiagram(m, { expand: true })` (every op), `{ fold: [...] }` (scans or name scopes as one box
 * too). A Model displays as this diagram in Jupyter.
 *
 * @example
 * const d = modelDiagram(esn);                             // the reservoir scan, its one recurrent edge, W frozen
 * await d.save("esn.svg");
 * modelDiagram(cae, { expand: ["enc1"] });                 // enc1's conv, batch norm and pooling; other blocks folded
 * modelDiagram(dbLstmModel(db), { fold: ["l0", "l1_reverse"] }); // each cell scan one box with a red loop
 * const { trace } = await esn.run({ x: xs, h0 });
 * modelDiagram(esn, { trace, t: 3, b: 0 });               // every box's value at step 3, batch row 0
 */
export function modelDiagram(m: Model, options: ModelDiagramOptions = {}): Diagram {
  checkKeys(options, [...STYLE_KEYS, "expand", "fold", "trace", "t", "b"], "modelDiagram()");
  const style = styleOf(options);
  const g = m.graph;

  // Every node (scan bodies included), each scan's info, and who reads what.
  const all: Tensor[] = [];
  const scans = new Map<Tensor, ScanInfo>();
  const collect = (nodes: readonly Tensor[]) => {
    for (const t of nodes) {
      all.push(t);
      if (t.op === "scan") {
        const info = t.attrs.scan as ScanInfo;
        scans.set(t, info);
        collect(info.body);
      }
    }
  };
  collect(g.nodes);
  // Live values: each node's at position t, batch row b (model-live.ts says what that means inside and outside scans).
  if (options.trace === undefined && (options.t !== undefined || options.b !== undefined)) checkKeys({ t: 0 }, ["trace"], "modelDiagram() (t and b need a trace)");
  const live = options.trace === undefined ? undefined : modelLive(m, scans, { trace: options.trace, t: options.t, b: options.b });
  const liveOf = (t: Tensor | undefined): Pick<GraphNode, "values" | "valueText"> => {
    const v: NodeLive | undefined = t && live?.valueOf(t);
    return v ? { ...(v.values ? { values: v.values } : {}), valueText: v.text } : {};
  };
  const readers = new Map<Tensor, Tensor[]>();
  for (const t of all) for (const i of t.inputs) readers.set(i, [...(readers.get(i) ?? []), t]);
  // Read by wiring: model outputs, scan results (never written into another node's equation).
  const pinned = new Set<Tensor>([...Object.values(g.outputs), ...[...scans.values()].flatMap((s) => [...s.next, ...s.outs])]);

  // Blocks: which fold into one box.
  const blocks = new Map<string, Scope>();
  for (const t of all) for (let s = t.scope; s; s = s.parent) blocks.set(scopePath(s), s);
  const expand = pathsOption("expand", options.expand, [...blocks.keys()].filter((p) => !blocks.get(p)!.isScan), true);
  const folded = pathsOption("fold", options.fold, [...blocks.keys()], false);
  const folds = (s: Scope) => folded(scopePath(s)) || (s.kind !== undefined && !s.isScan && !expand(scopePath(s)));
  const foldOf = (t: Tensor): Scope | undefined => {
    const chain: Scope[] = [];
    for (let s = t.scope; s; s = s.parent) chain.unshift(s);
    return chain.find(folds);
  };

  // Equations, with unnamed single-use nodes written into their reader's.
  const scalar = (t: Tensor) => t.op === "constant" && t.shape.length === 0;
  const expressions = new Map<Tensor, string>();
  const expr = (t: Tensor): string => {
    let e = expressions.get(t);
    if (e === undefined) expressions.set(t, (e = TABLE[t.op].notation(t.inputs.map((_, k) => operand(t, k)), t.attrs)));
    return e;
  };
  const inlined = (t: Tensor): boolean => {
    const by = readers.get(t) ?? [];
    return !WIRING.has(t.op) && !LAYER_OPS.has(t.op) && t.op !== "constant" && isAutoNamed(t) && !pinned.has(t) && by.length === 1 && by[0].scope === t.scope && !WIRING.has(by[0].op) && expr(t).length <= INLINE_LIMIT;
  };
  const operand = (t: Tensor, k: number): string => {
    const i = t.inputs[k];
    if (scalar(i)) return String(i.attrs.text);
    if (inlined(i)) return needsParentheses(i, expr(i), t, k) ? `(${expr(i)})` : expr(i);
    const box = foldOf(i);
    // A folded block's value is named after its box (`keys`), or `keys.K` when the box hands on several.
    if (box && box !== foldOf(t)) {
      const name = visible(box.name, box.parent, t);
      return boxOutputs.get(box)!.size === 1 ? name : `${name}.${dotted(relativePath(i, box))}`;
    }
    return visible(i.name, i.scope, t);
  };

  // What an edge into a node comes from: the box of a folded block, the node's own record or box,
  // or (for a node written into its reader's equation) its own operands.
  const sources = (i: Tensor): { from: string; via: Tensor }[] => {
    const f = foldOf(i);
    if (f) return [{ from: scopePath(f), via: i }];
    if (scalar(i) || i.op === "scan") return [];
    if (inlined(i)) return i.inputs.flatMap(sources);
    return [{ from: i.path, via: i }];
  };
  // A wiring node's operand is held in its attributes.
  const operandsOf = (t: Tensor): readonly Tensor[] => {
    if (t.op === "step") return [t.attrs.of as Tensor];
    if (t.op === "state") return [t.attrs.init as Tensor];
    if (t.op === "scanOut" || t.op === "scanFinal") {
      const info = t.inputs[0].attrs.scan as ScanInfo;
      return [(t.op === "scanOut" ? info.outs : info.next)[t.attrs.index as number]];
    }
    return t.op === "scan" ? [] : t.inputs;
  };
  // The values each folded block hands on (read outside it, or a model output).
  const boxOutputs = new Map<Scope, Set<Tensor>>();
  const handsOn = (i: Tensor, reader: Tensor | undefined) => {
    const box = foldOf(i);
    if (box && (!reader || foldOf(reader) !== box)) boxOutputs.set(box, (boxOutputs.get(box) ?? new Set()).add(i));
  };
  for (const t of all) for (const i of operandsOf(t)) handsOn(i, t);
  for (const t of Object.values(g.outputs)) handsOn(t, undefined);

  const carried = new Set([...scans.values()].flatMap((s) => s.next));
  const unused = (t: Tensor) => (t.op === "scanOut" || t.op === "scanFinal") && !readers.get(t)?.length && !pinned.has(t);

  const frozenCount = g.params.filter((p) => p.attrs.kind === "frozen").reduce((s, p) => s + count(evalShape(p.shape, g.sizes, p.path)), 0);
  const totalCount = g.params.filter((p) => p.attrs.kind !== "constant").reduce((s, p) => s + count(evalShape(p.shape, g.sizes, p.path)), 0);
  const graph = emptyGraph(m.name, `${m.name}: ${totalCount.toLocaleString("en-US")} parameters${frozenCount ? ` (${frozenCount.toLocaleString("en-US")} frozen)` : ""}${live?.at ?? ""}`);
  const clusters = new Map<Scope, Cluster>();
  const clusterOf = (s: Scope | undefined): string | undefined => {
    if (!s) return undefined;
    let c = clusters.get(s);
    if (!c) {
      const parent = clusterOf(s.parent);
      const label = s.isScan ? `${s.name}: ${s.kind} over ${scanLength(s, scans)}` : s.kind !== undefined ? `${s.name}: ${s.kind}` : s.name;
      // The label at the top-left corner, where the fewest edges cross it.
      c = { id: `scope:${scopePath(s)}`, label, labeljust: "l", labelloc: style.direction === "BT" ? "b" : "t", ...(parent ? { parent } : {}) };
      clusters.set(s, c);
      graph.clusters.push(c);
    }
    return c.id;
  };
  const scopeLabel = (s: Scope) => (s.isScan ? `${s.name}: ${s.kind} over ${scanLength(s, scans)}` : s.kind !== undefined ? `${s.name}: ${s.kind}` : s.name);
  const boxes = new Map<Scope, { node: GraphNode; members: Tensor[] }>();
  const edges = new Map<string, GraphEdge & { via?: Tensor }>();
  const addEdge = (from: string, to: string, via: Tensor) => {
    const weight = via.op === "param" || via.op === "constant";
    const key = `${from}\u0000${to}`;
    if (from !== to && !edges.has(key)) edges.set(key, { from, to, kind: weight ? "weight" : "data", ...(weight ? {} : { label: showShape(via.shape) }), via });
  };

  for (const t of all) {
    const fold = foldOf(t);
    if (fold) {
      let box = boxes.get(fold);
      if (!box) {
        const node: GraphNode = { id: scopePath(fold), kind: "cell", role: "cell", title: scopeLabel(fold), ...(clusterOf(fold.parent) ? { cluster: clusterOf(fold.parent) } : {}) };
        boxes.set(fold, (box = { node, members: [] }));
        graph.nodes.push(node);
      }
      box.members.push(t);
      for (const i of operandsOf(t)) for (const s of sources(i)) addEdge(s.from, box.node.id, s.via);
      continue;
    }
    if (t.op === "scan" || scalar(t) || inlined(t) || unused(t)) continue;
    const node = { ...nodeOf(t, expr, carried.has(t)), ...liveOf(t) };
    const cluster = clusterOf(t.scope);
    graph.nodes.push(cluster ? { ...node, cluster } : node);
    // Out of a folded scan comes its stacked (or last) value, not one step's.
    const scanFolded = (t.op === "scanOut" || t.op === "scanFinal") && scanInside(t.inputs[0], foldOf(operandsOf(t)[0]));
    for (const i of operandsOf(t)) for (const s of sources(i)) addEdge(s.from, node.id, scanFolded ? t : s.via);
  }
  for (const [key, t] of Object.entries(g.outputs)) {
    const id = `output:${key}`;
    graph.nodes.push({ id, kind: "tensor", role: "state-out", title: key, shape: showShape(t.shape), notes: [`output ${key} of ${m.name}`], ...liveOf(t) });
    for (const s of sources(t)) addEdge(s.from, id, s.via);
  }
  // A folded box shows the shape (and the live value) it hands on, when it hands on one.
  for (const { node, members } of boxes.values()) {
    const vias = [...edges.values()].filter((e) => e.from === node.id).map((e) => e.via!);
    const out = new Set(vias.map((v) => showShape(v.shape)));
    const params = members.filter((t) => t.op === "param");
    if (out.size === 1) node.shape = [...out][0];
    if (new Set(vias).size === 1) Object.assign(node, liveOf(vias[0]));
    node.notes = [`${members.filter((t) => !WIRING.has(t.op) && !scalar(t)).length} ops, ${params.length} parameter tensors (expand: ["${node.id}"] to draw them)`];
  }
  graph.edges.push(...[...edges.values()].map(({ via, ...e }) => ({ ...e, ...(e.kind === "data" && liveOf(via).values ? { values: liveOf(via).values } : {}) })));

  // Recurrence: a state's next value goes back to its placeholder, when the body reads it.
  const recurrences: string[] = [];
  const loops = new Map<string, { states: string[]; label: string }>();
  for (const [scanNode, info] of scans)
    info.states.forEach((state, k) => {
      const next = info.next[k];
      if (next === state || !readers.get(state)?.length) return;
      const [from] = sources(next);
      const to = foldOf(state) ? scopePath(foldOf(state)!) : state.path;
      if (!from) return;
      const step = info.reverse ? "t−1" : "t+1";
      // A recurrence inside a folded block is a loop on its box (one per box), so the box cannot look feed-forward.
      if (from.from === to) {
        const loop = loops.get(to) ?? { states: [], label: step };
        loops.set(to, loop);
        loop.states.push(state.name.replace(/_prev$/, ""));
      } else graph.edges.push({ from: from.from, to, kind: "recurrent", label: step });
      recurrences.push(`${next.path} → ${state.path} (${scanNode.path}, ${info.reverse ? "previous" : "next"} step)`);
    });

  for (const [box, { states, label }] of loops) graph.edges.push({ from: box, to: box, kind: "recurrent", label: `${states.join(", ")}: ${label}` });
  const frozen = graph.nodes.some((n) => n.frozen);
  graph.caption = {
    title: graph.caption.title,
    lines: [
      ...(frozen ? ["❄ dashed: parameters that do not learn (frozen or constant)."] : []),
      ...(recurrences.length ? ["Red dashed edges carry a state to the next step (the recurrence)."] : []),
      ...(live?.caption ?? []),
    ],
  };
  const text = [describe(graph, "model diagram"), ...recurrences.map((r) => `  recurrence: ${r}`)].join("\n");
  return new Diagram(graph, text, style);
}

/** A symbol as a reader writes it: the name where the reader sees its scope, else its dotted path. */
function visible(name: string, scope: Scope | undefined, reader: Tensor): string {
  for (let s = reader.scope; ; s = s.parent) {
    if (s === scope) return name;
    if (!s) return dotted(scope ? `${scopePath(scope)}/${name}` : name);
  }
}

/** The path of `t` inside block `s`. */
function relativePath(t: Tensor, s: Scope): string {
  return t.path.slice(scopePath(s).length + 1);
}

/** A path as a symbol: `keys.K`, since `keys/K` would read as a division. */
const dotted = (path: string) => path.replace(/\//g, ".");

/** How tightly an op's notation binds (juxtaposition `x W` tighter than `⊙`, tighter than `+`); ops written as a call bind tightest. */
const PRECEDENCE: Record<string, number> = { where: 0, add: 1, sub: 1, mul: 2, div: 2, outer: 2, conv2d: 2, matmul: 3, neg: 4, sqrt: 4, pow: 5, transpose: 5, slice: 5, gather: 5 };
/** Ops whose notation is unchanged by regrouping: `a + (b + c)` is written `a + b + c`. */
const ASSOCIATIVE = new Set(["add", "mul", "matmul"]);

/** Whether `text`, operand `k` of `reader`, must be parenthesised there. */
function needsParentheses(operand: Tensor, text: string, reader: Tensor, k: number): boolean {
  if (enclosed(reader, k)) return false;
  const inner = PRECEDENCE[operand.op] ?? (hasTopLevelSpace(text) || text.startsWith("−") ? 0 : Infinity);
  const outer = PRECEDENCE[reader.op] ?? 5;
  if (inner !== outer) return inner < outer;
  return k > 0 && !(operand.op === reader.op && ASSOCIATIVE.has(reader.op));
}

function hasTopLevelSpace(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if ("([⟨".includes(c)) depth++;
    else if (")]⟩".includes(c)) depth--;
    else if (depth === 0 && /\s/.test(c)) return true;
  }
  return false;
}

/** Whether operand `k` of `t` sits inside brackets of its notation (`tanh(…)`, `[…; …]`): then it needs no parentheses of its own. */
function enclosed(t: Tensor, k: number): boolean {
  const marks = t.inputs.map((_, j) => `\u0001${j}\u0002`);
  const text = TABLE[t.op].notation(marks, t.attrs);
  const at = text.indexOf(marks[k]);
  if (at < 0) return true;
  const [before, after] = [text.slice(0, at), text.slice(at + marks[k].length)];
  return (before === "" && after === "") || (/(?:[([⟨|‖]|[,;] )$/.test(before) && /^[)\]⟩|‖,;]/.test(after));
}

/** The record or box of a drawn node. */
function nodeOf(t: Tensor, expr: (t: Tensor) => string, carried: boolean): GraphNode {
  const shape = showShape(t.shape);
  const base = { id: t.path, shape };
  switch (t.op) {
    case "input":
      return { ...base, kind: "tensor", role: "input", title: t.name, notes: [`input ${t.path}${t.dtype === "int" ? " (whole numbers)" : ""}`] };
    case "param":
    case "constant": {
      const kind = t.op === "constant" ? "constant" : String(t.attrs.kind);
      const mark = kind === "frozen" ? " ❄" : kind === "constant" ? " (const)" : "";
      return { ...base, kind: "tensor", role: "param", title: `${t.name}${mark}`, small: true, frozen: kind !== "trainable", notes: [`${kind} parameter ${t.path}`] };
    }
    case "step": {
      const of = t.attrs.of as Tensor;
      return { ...base, kind: "tensor", role: "input", title: t.name, notes: [`${of.path} at each step (${TABLE.step.notation([], t.attrs)})`] };
    }
    case "state":
      return { ...base, kind: "tensor", role: "state-in", title: t.name, notes: [`the state's value from the previous step (initially ${visible((t.attrs.init as Tensor).name, (t.attrs.init as Tensor).scope, t)})`] };
    case "scanOut":
      return { ...base, kind: "tensor", role: "state", title: t.name, notes: ["stacked over the steps"] };
    case "scanFinal":
      return { ...base, kind: "tensor", role: "state", title: t.name, notes: ["the value after the last step"] };
    default:
      return { ...base, kind: "op", role: carried ? "state" : (ROLE_OF_OP[t.op] ?? "intermediate"), title: t.name, equation: expr(t), notes: [`${t.op} → ${t.path}`] };
  }
}

/** Whether the body of scan node `scan` lies in folded block `box` (the box is the scan, or holds it). */
function scanInside(scan: Tensor, box: Scope | undefined): boolean {
  if (!box) return false;
  if (box.isScan && box.name === scan.name && box.parent === scan.scope) return true;
  for (let s = scan.scope; s; s = s.parent) if (s === box) return true;
  return false;
}

/** The number of steps of the scan whose body scope is `s`. */
function scanLength(s: Scope, scans: Map<Tensor, ScanInfo>): string {
  for (const [node, info] of scans) if (node.name === s.name && node.scope === s.parent) return `${info.length.key}${info.reverse ? ", reversed" : ""}`;
  return "?";
}

/** `expand` or `fold`: a test of a block path. */
function pathsOption(option: string, value: unknown, paths: readonly string[], all: boolean): (path: string) => boolean {
  if (value === undefined || (all && value === false)) return () => false;
  if (all && value === true) return () => true;
  if (!Array.isArray(value) || !value.every((p) => typeof p === "string"))
    throw errors.badOption(option, value, `${all ? "true, false, or " : ""}block paths such as ${JSON.stringify(paths.slice(0, 3))}`);
  for (const p of value) if (!paths.includes(p)) throw errors.unknownName("block", p, paths, `modelDiagram() option ${option}`);
  const set = new Set<string>(value);
  return (path) => set.has(path);
}
