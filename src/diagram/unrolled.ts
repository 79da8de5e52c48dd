/**
 * The cell unrolled in time: one block per layer, direction and position, inputs x[t] along the
 * bottom, outputs y[t] along the top. Every state carried from one step to the next is a red
 * dashed recurrent edge (a backward layer's point right to left), so a recurrent model can never
 * look feed-forward. A block is the whole cell (`compact`) or its gates (`gates`).
 */
import { Trace } from "../engine/trace";
import { errors } from "../errors";
import { SequenceTrace, positionOf, type Direction } from "../models/trace";
import { cellNode } from "./compact";
import { Diagram } from "./diagram";
import { addFolded, shapeText, type ValueSource } from "./folded";
import { liveValues } from "./live";
import { emptyGraph, type Graph } from "./model";
import { checkKeys, maybeCount, maybeDetail, STYLE_KEYS, styleOf, type StyleOptions } from "./options";
import { resolveStack, type Stack, type UnrollSource } from "./stack";

/** Options of {@link unrolled}. */
export interface UnrolledOptions extends StyleOptions {
  /** Number of timesteps drawn (default: the trace's length, else 4). */
  steps?: number;
  /** `"compact"` (default): each step is one cell node; `"gates"`: each step shows every operation. */
  detail?: "compact" | "gates";
  /** Live values: a cell's Trace, or a sequence model's trace (`model.forward(xs).trace`). */
  trace?: Trace | SequenceTrace;
  /** Batch element shown (default 0). */
  b?: number;
}

const KEYS = [...STYLE_KEYS, "steps", "detail", "trace", "b"];
const ARROW: Record<Direction, string> = { forward: "→", backward: "←" };

/** The ports of one block: where its input enters, where each state leaves and enters. */
interface Block {
  input: string;
  prev: Record<string, string>;
  next: Record<string, string>;
  output: string;
}

/**
 * Draws a cell (or a stack of layers) unrolled over `steps` timesteps. Recurrent edges are red and
 * dashed; with a trace, each block shows its values at its own step.
 *
 * @example
 * unrolled(LSTM, { steps: 5 });                                     // one layer, compact
 * unrolled({ def: GRU_RESET_AFTER, layers: 2, bidirectional: true }, { steps: 4 });
 * unrolled(dbLstm({ inputSize: 3, hiddenSize: 4, depth: 4 }), { steps: 3 });
 * const model = sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: 2 });
 * unrolled(model, { trace: model.forward(xs).trace, detail: "gates" });
 */
export function unrolled(source: UnrollSource, options: UnrolledOptions = {}): Diagram {
  checkKeys(options, KEYS, "unrolled()");
  const stack = resolveStack(source, "unrolled()");
  const detail = maybeDetail(options.detail, ["compact", "gates"] as const, "compact");
  const style = styleOf(options);
  const live = options.trace === undefined ? undefined : liveStack(stack, options.trace, options.b ?? 0);
  const T = maybeCount(options.steps, live?.steps ?? 4, "steps", 500);
  if (live && T > live.steps) throw errors.outOfRange("steps", T, 1, live.steps);
  const { def } = stack;
  const sizes = live?.sizes ?? stack.sizes;
  const graph: Graph = emptyGraph(`${def.name}_unrolled`, `${def.name} unrolled over ${T} step${T > 1 ? "s" : ""}: ${stack.summary}`, [
    "Red dashed edges carry each state from one step to the next (the recurrence).",
    ...def.notes,
  ]);
  const shape = (size: string) => shapeText(["B", size], sizes, live?.batch);
  const input = def.inputs[0];
  const outState = def.states.find((s) => s.next === def.output)!;
  const times = Array.from({ length: T }, (_, t) => t);

  const xs = times.map((t) => `${input.name}[${t}]`);
  times.forEach((t) => graph.nodes.push({ id: xs[t], kind: "tensor", role: "input", title: `${input.name}[${t}]`, shape: shape(input.size), values: live?.input(t) }));
  graph.rows.push(xs);

  let below: string[][] = times.map((t) => [xs[t]]);
  let belowInput: string[] = xs;
  stack.layers.forEach((directions, l) => {
    let sources = below;
    if (stack.shortcut && l > 0) {
      const ms = times.map((t) => `m${l}[${t}]`);
      times.forEach((t) => {
        graph.nodes.push({ id: ms[t], kind: "op", role: "pre", title: `m⁽${l}⁾[${t}]`, equation: `A h⁽${l - 1}⁾ + B m⁽${l - 1}⁾ + b`, shape: shape("H"), notes: ["DB-LSTM input shortcut"] });
        for (const from of below[t]) graph.edges.push({ from, to: ms[t], kind: "layer" });
        graph.edges.push({ from: belowInput[t], to: ms[t], kind: "layer", label: "shortcut" });
      });
      graph.rows.push(ms);
      belowInput = ms;
      sources = times.map((t) => [ms[t]]);
    }
    const outputs: string[][] = times.map(() => []);
    for (const d of directions) {
      const key = `L${l}${d === "forward" ? "" : "_reverse"}`;
      const title = `${def.name}${stack.layers.length > 1 ? ` layer ${l}` : ""} ${ARROW[d]}`;
      const blocks = times.map((t) => addBlock(graph, stack, { key, title, t, T, d, detail, sizes, batch: live?.batch, values: live?.at(l, d, t) }));
      const order = (d === "forward" ? times : [...times].reverse());
      const rowIds: string[] = [];
      // Compact blocks get initial-state records; a gates block's own h[t−1] record is the initial state at its first step.
      if (detail === "compact") {
        for (const s of def.states) {
          const first = blocks[order[0]];
          const init = `${key}:${s.name}[init]`;
          graph.nodes.push({ id: init, kind: "tensor", role: "state-in", title: `${s.name}₀`, shape: shape(s.size), notes: [`initial ${s.name} of ${title}`], values: live?.initial(l, d, s.name) });
          graph.edges.push({ from: init, to: first.prev[s.name], kind: "recurrent", label: s.name, reversed: d === "backward" });
          rowIds.push(init);
        }
      }
      for (let k = 1; k < T; k++)
        for (const s of def.states)
          graph.edges.push({ from: blocks[order[k - 1]].next[s.name], to: blocks[order[k]].prev[s.name], kind: "recurrent", label: s.name, reversed: d === "backward" });
      times.forEach((t) => {
        for (const from of sources[t]) graph.edges.push({ from, to: blocks[t].input, kind: l === 0 || stack.shortcut ? "data" : "layer" });
        outputs[t].push(blocks[t].output);
      });
      if (detail === "compact") {
        const row = times.map((t) => blocks[t].input);
        graph.rows.push(d === "forward" ? [...rowIds, ...row] : [...row, ...rowIds.reverse()]);
      }
    }
    below = outputs;
  });

  const bi = stack.layers[stack.layers.length - 1].length === 2;
  const ys = times.map((t) => `y[${t}]`);
  const ySize = bi ? `${outState.size}+${outState.size}` : outState.size;
  times.forEach((t) => {
    graph.nodes.push({ id: ys[t], kind: "tensor", role: "state-out", title: bi ? `y[${t}] = [${outState.name}→; ${outState.name}←]` : `y[${t}] = ${outState.name}[${t}]`, shape: shape(ySize), values: live?.output(t) });
    for (const from of below[t]) graph.edges.push({ from, to: ys[t], kind: "data" });
  });
  graph.rows.push(ys);
  const text = [
    graph.caption.title,
    `  ${stack.layers.map((ds, l) => `layer ${l}: ${ds.map((d) => `${def.name} ${ARROW[d]}`).join(" + ")}`).join("; ")}`,
    `  recurrent edges: ${def.states.map((s) => `${s.name}[t] → ${s.name}[t${"+"}1]`).join(", ")} in every layer and direction`,
    ...(live ? times.map((t) => `  y[${t}] = ${formatValues(live.output(t))}`) : []),
    ...def.notes.map((n) => `  note: ${n}`),
  ].join("\n");
  return new Diagram(graph, text, style);
}

const formatValues = (v: readonly number[] | undefined) => (v ? `[${v.map((x) => x.toFixed(3)).join(", ")}]` : "");

/** Adds one block (a cell node, or a cluster with the cell's gates) at position t. */
function addBlock(
  graph: Graph,
  stack: Stack,
  b: { key: string; title: string; t: number; T: number; d: Direction; detail: "compact" | "gates"; sizes?: Readonly<Record<string, number>>; batch?: number; values?: ValueSource },
): Block {
  const { def } = stack;
  const outState = def.states.find((s) => s.next === def.output)!;
  const id = `${b.key}@${b.t}`;
  if (b.detail === "compact") {
    const node = cellNode(def, { id, title: `${b.title}  t=${b.t}`, values: b.values });
    graph.nodes.push(node);
    const all = Object.fromEntries(def.states.map((s) => [s.name, id]));
    return { input: id, prev: all, next: all, output: id };
  }
  graph.clusters.push({ id, label: `${b.title}  t = ${b.t}` });
  const prevT = b.d === "forward" ? b.t - 1 : b.t + 1;
  const relabel = (label: string) => label.replace(/\[t−1\]/g, `[${String(prevT).replace("-", "−")}]`).replace(/\[t\]/g, `[${b.t}]`);
  const ports = addFolded(graph, def, { detail: "gates", prefix: `${id}/`, cluster: id, sizes: b.sizes, batch: b.batch, values: b.values, relabel });
  return { input: ports.inputs[def.inputs[0].name], prev: ports.prev, next: ports.next, output: ports.next[outState.name] };
}

/** Values of a stack at (layer, direction, position t). */
interface LiveStack {
  steps: number;
  batch: number;
  sizes: Readonly<Record<string, number>>;
  input(t: number): number[];
  output(t: number): number[];
  at(l: number, d: Direction, t: number): ValueSource;
  initial(l: number, d: Direction, state: string): number[];
}

function liveStack(stack: Stack, trace: Trace | SequenceTrace, b: number): LiveStack {
  const cellTrace = (l: number, d: Direction): Trace => {
    if (trace instanceof Trace) {
      if (l !== 0 || d !== trace.direction) throw errors.badOption("trace", `a single cell's trace (${trace.direction})`, `a sequence model's trace (model.forward(xs).trace) for ${stack.summary}`);
      return trace;
    }
    return trace.trace(l, d);
  };
  const first = cellTrace(0, stack.layers[0][0]);
  if (first.def.name !== stack.def.name) throw errors.badOption("trace", `a trace of cell "${first.def.name}"`, `a trace of cell "${stack.def.name}"`);
  if (trace instanceof SequenceTrace && trace.numLayers !== stack.layers.length)
    throw errors.badOption("trace", `a trace of ${trace.numLayers} layers`, `a trace of the drawn model (${stack.layers.length} layers)`);
  if (!Number.isInteger(b) || b < 0 || b >= first.batch) throw errors.outOfRange("Batch element b", b, 0, first.batch - 1);
  const T = first.length;
  if (T === 0) throw errors.emptySequence("The trace given to unrolled()");
  const step = (d: Direction, t: number) => positionOf(d, t, T);
  const outState = stack.def.states.find((s) => s.next === stack.def.output)!;
  const top = stack.layers.length - 1;
  return {
    steps: T,
    batch: first.batch,
    sizes: first.sizes,
    input: (t) => first.value(stack.def.inputs[0].name, { t: step(stack.layers[0][0], t), b }),
    output: (t) => stack.layers[top].flatMap((d) => cellTrace(top, d).value(outState.next, { t: step(d, t), b })),
    at: (l, d, t) => liveValues(cellTrace(l, d), step(d, t), b),
    initial: (l, d, state) => cellTrace(l, d).initial[state][b],
  };
}
