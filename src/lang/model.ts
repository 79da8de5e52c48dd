/**
 * A model of the definition language: its graph, its parameters' values, `run` and `summary`.
 */
import seedrandom from "seedrandom";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { formatOf } from "../display/registry";
import { ArchlabError, errors } from "../errors";
import { checkFinite, toFlat, toNested } from "../engine/arrays";
import { backwardGraph, type ModelGradients, type Seeds } from "./backward";
import { buildGraph, type Graph, type ScanInfo } from "./build";
import { Tensor, scopePath } from "./graph";
import { count, type ND } from "./nd";
import { runGraph, type ModelRun, type RunOptions, type ValueLike } from "./run";
import { evalShape } from "./size";

/** Options of {@link model}. */
export interface ModelOptions {
  /** Seed of the parameters' initial values (default 0): the same seed, the same model. */
  seed?: number;
}

/** One row of {@link Model.summary}: a top-level layer (block, scan, input or op). */
export interface SummaryRow {
  name: string;
  /** The block's kind (`ConvBlock`), or the op (`matmul`), or `Input`. */
  op: string;
  /** Output shape with the sizes substituted. */
  shape: number[];
  /** Parameters declared in the row (trainable + frozen; PyTorch's count). */
  params: number;
}

/** What {@link Model.summary} returns. */
export interface Summary {
  rows: SummaryRow[];
  /** Trainable + frozen parameters, as PyTorch counts them (`sum(p.numel() for p in m.parameters())`). */
  totalParams: number;
  trainableParams: number;
  /** Constant values (batch-norm running statistics: PyTorch's buffers), not counted as parameters. */
  constants: number;
}

declare module "../display/registry" {
  interface Formats {
    /** A model displays as its diagram (set up at the package root). */
    model: Model;
    /** A summary displays as a table, under its model's name. */
    summary: { name: string; summary: Summary };
  }
}

/** Ops that draw data out of nothing: sources of the data path, as inputs are. */
const RANDOM_SOURCES = new Set(["randomNormal", "randomUniform"]);

/** A model: one definition that computes, records every intermediate, and draws itself. */
export class Model {
  /** @internal */
  constructor(readonly graph: Graph) {}

  get name(): string {
    return this.graph.name;
  }

  /** Parameters by path, with their current values. */
  get params(): Record<string, ND> {
    return Object.fromEntries(this.graph.params.map((p) => [p.path, this.graph.values.get(p)!]));
  }

  /**
   * Every parameter's value (trainable, frozen and constant) as nested arrays, keyed by path with
   * `.` for `/` (`enc.l0.W`) — the layout of `module.state_dict()` for a PyTorch module declaring
   * the same parameters (same shapes) under the same module names; JSON-serialisable.
   */
  stateDict(): Record<string, unknown> {
    return Object.fromEntries(this.graph.params.map((p) => {
      const v = this.graph.values.get(p)!;
      return [p.path.replaceAll("/", "."), toNested(v.data, v.shape)];
    }));
  }

  /** Loads {@link stateDict}'s layout: every parameter, of its shape, finite; checked in full before anything changes. */
  loadStateDict(stateDict: Record<string, unknown>): this {
    const where = `the state dict of model ${this.name}`;
    if (typeof stateDict !== "object" || stateDict === null || Array.isArray(stateDict)) throw errors.badOption("stateDict", stateDict, "an object of parameter name → nested numbers (model.stateDict()'s layout)");
    const names = this.graph.params.map((p) => p.path.replaceAll("/", "."));
    const extra = Object.keys(stateDict).filter((k) => !names.includes(k));
    if (extra.length) throw errors.extraWeight(extra, where, names);
    const loaded = this.graph.params.map((p, i) => {
      const shape = this.graph.values.get(p)!.shape;
      if (!Object.hasOwn(stateDict, names[i])) throw errors.missingWeight(names[i], where, shape);
      const data = toFlat(stateDict[names[i]], shape, `tensor "${names[i]}" of ${where}`, "float64") as Float64Array;
      checkFinite(data, `tensor "${names[i]}" of ${where}`);
      return { shape, data };
    });
    this.graph.params.forEach((p, i) => this.graph.values.set(p, loaded[i]));
    return this;
  }

  /**
   * Runs the model on inputs given by input name (nested arrays or concrete arrays); every node is
   * recorded. On the fast path the trace keeps each node's tfjs tensor until `trace.get` first reads
   * it; `trace.dispose()` frees the rest at once (a run in a loop should, or past 256 MiB the oldest
   * traces are read back to the host).
   */
  run(inputs: Record<string, ValueLike>, options?: RunOptions): Promise<ModelRun> {
    return runGraph(this.graph, inputs, options);
  }

  /**
   * The backward pass of a run (reverse mode through its trace): ∂L/∂(every trainable parameter,
   * float input and node) for L = Σ ⟨seed, output⟩. `seeds` maps output names to ∂L/∂output (a
   * number for every element, nested arrays or an ND of the output's shape); without seeds the
   * model's single scalar output (a `loss`) gets 1. Works on reference and fast runs (float32
   * values; the gradients are float64).
   *
   * @example
   * const run = await m.run({ x, y }, { backend: "reference" });
   * const g = m.backward(run);          // the scalar output `loss`
   * g.params["l0/W_i"];                 // ∂loss/∂W_i, summed over the steps
   * g.trace.get("l0/c");                // ∂loss/∂c at every step: where the gradient dies
   */
  backward(run: ModelRun, seeds?: Seeds): ModelGradients {
    return backwardGraph(this.graph, run, seeds);
  }

  /** One row per top-level layer — name, op, output shape under `sizes`, parameter count — and totals, as Keras prints it. */
  summary(sizes: Record<string, number> = {}): Summary {
    const all = { ...this.graph.sizes, ...sizes };
    const rows: SummaryRow[] = [];
    const paramCount = (p: Tensor) => count(evalShape(p.shape, all, p.path));
    const counted = (p: Tensor) => p.attrs.kind !== "constant";
    // Top-level unit of a node: its outermost block, or itself.
    const unitOf = (t: Tensor) => {
      let s = t.scope;
      while (s?.parent) s = s.parent;
      return s ? s.name : t.name;
    };
    // Rows are the data path: nodes fed by an input or by a random draw (a GAN's noise z is data too;
    // initial values made of constants are not layers). A scan is fed too when its body reads a fed
    // node directly (a decoder that generates from an encoder's outputs, RAM's glimpses of the image).
    const fed = new Set<Tensor>();
    const bodyReadsFed = (t: Tensor): boolean => t.op === "scan" && (t.attrs.scan as ScanInfo).body.some((n) => n.inputs.some((i) => fed.has(i)) || bodyReadsFed(n));
    for (const t of this.graph.nodes) if (t.op === "input" || RANDOM_SOURCES.has(t.op) || t.inputs.some((i) => fed.has(i)) || bodyReadsFed(t)) fed.add(t);
    const order: string[] = [];
    const last = new Map<string, Tensor>();
    const kinds = new Map<string, string>();
    for (const t of this.graph.nodes) {
      if (t.op === "param" || t.op === "scan" || !fed.has(t)) continue;
      const unit = t.op === "scanOut" || t.op === "scanFinal" ? unitOf(t.inputs[0]) : unitOf(t);
      if (!last.has(unit)) order.push(unit);
      if (t.op !== "scanFinal" || !last.has(unit)) last.set(unit, t);
      if (!kinds.has(unit)) {
        let s = t.scope;
        while (s?.parent) s = s.parent;
        // A top-level scan's row is of its kind; a scan inside a block (a BiLSTM's two scans) leaves the row to the block's kind.
        const scanKind = (t.op === "scanOut" || t.op === "scanFinal") && !t.inputs[0].scope ? (t.inputs[0].attrs.kind as string) : undefined;
        kinds.set(unit, scanKind ?? (s ? (s.kind ?? "Block") : t.op === "input" ? "Input" : t.op));
      }
    }
    for (const unit of order) {
      const out = last.get(unit)!;
      const params = this.graph.params.filter((p) => counted(p) && (p.path === unit || p.path.startsWith(`${unit}/`) || scopePath(p.scope) === unit));
      rows.push({ name: unit, op: kinds.get(unit)!, shape: evalShape(out.shape, all, out.path), params: params.reduce((s, p) => s + paramCount(p), 0) });
    }
    // Parameters used directly at the top level (a tied output weight is counted where it is declared).
    const inRows = new Set(rows.map((r) => r.name));
    const loose = this.graph.params.filter((p) => counted(p) && !p.scope && !inRows.has(p.name));
    if (loose.length) {
      const owner = new Map<Tensor, string>();
      const visit = (nodes: readonly Tensor[], unit?: string) => {
        for (const t of nodes) {
          for (const i of t.inputs) if (loose.includes(i) && !owner.has(i)) owner.set(i, unit ?? unitOf(t));
          if (t.op === "scan") visit((t.attrs.scan as ScanInfo).body, unit ?? unitOf(t));
        }
      };
      visit(this.graph.nodes);
      for (const p of loose) {
        const row = rows.find((r) => r.name === owner.get(p));
        if (row) row.params += paramCount(p);
      }
    }
    const totalParams = this.graph.params.filter(counted).reduce((s, p) => s + paramCount(p), 0);
    const trainableParams = this.graph.params.filter((p) => p.attrs.kind === "trainable").reduce((s, p) => s + paramCount(p), 0);
    const constants = this.graph.params.filter((p) => !counted(p)).reduce((s, p) => s + paramCount(p), 0);
    const out: Summary = { rows, totalParams, trainableParams, constants };
    // Displays as a table; not enumerable, so the summary stays plain data (compared, serialised).
    Object.defineProperty(out, DISPLAY, { value: () => formatOf("summary", { name: this.name, summary: out }, () => `${this.name}: ${totalParams} parameters`) });
    return out;
  }

  /** Shows the model's diagram in Jupyter (the format the package root registers). */
  [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return formatOf("model", this, () => this.toString());
  }

  /** Node's inspection (a cell's last value, `display(model)` before a display is registered) shows the one-line text, not the graph. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  toString(): string {
    return `Model ${this.name}: ${this.graph.inputs.map((i) => i.toString()).join(", ")} → ${Object.keys(this.graph.outputs).join(", ")}`;
  }
}

/**
 * Defines a model: `build` runs once, with `sizes` bound, and returns its output tensor or an object
 * of them. Parameters get their initial values now, from `options.seed`.
 */
export function model(name: string, sizes: Record<string, number>, build: () => Record<string, Tensor> | Tensor, options: ModelOptions = {}): Model {
  if (typeof build !== "function") throw new ArchlabError("bad-model", `model(${JSON.stringify(name)}, sizes, build): build must be a function that defines the model.`);
  return new Model(buildGraph(name, sizes ?? {}, build, seedrandom(String(options.seed ?? 0))));
}
