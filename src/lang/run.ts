/**
 * Running a model: one interpreter over the graph, on two value types — the reference (float64
 * arrays and the table's loops) and the fast path (tfjs-core kernels, float32). Every node's value
 * is recorded in a {@link ModelTrace} keyed by node path; nodes in a scan body are recorded at every
 * step.
 */
import type * as tfc from "@tensorflow/tfjs-core";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { formatOf } from "../display/registry";
import { ArchlabError, bytes as bytesText, errors } from "../errors";
import { currentBackend } from "../engine/backend";
import { tensorflow } from "../engine/tensorflow";
import type { Graph, ScanInfo } from "./build";
import type { Tensor } from "./graph";
import { float32Tensor } from "./fast-native";
import * as nd from "./nd";
import { type ND } from "./nd";
import { OPS, type KernelContext, type OpSpec } from "./ops";
import { evalShape, showShape } from "./size";

/** Nested arrays of numbers, or a concrete array. */
export type ValueLike = number | readonly ValueLike[] | ND;

/** Options of {@link runGraph}. */
export interface RunOptions {
  /** "fast" (tfjs-core kernels, float32; the default) or "reference" (float64 loops). */
  backend?: "fast" | "reference";
  /** Training mode: dropout drops, batch norm uses the batch's statistics (default false). */
  training?: boolean;
  /** Sizes not fixed by the model or the inputs' shapes (a decoder's number of steps). */
  sizes?: Record<string, number>;
  /** Stop at the first NaN or ±Infinity computed, naming the node and step (default false). */
  checkFinite?: boolean;
}

declare module "../display/registry" {
  interface Formats {
    /** A model's trace displays as its paths and shapes. */
    trace: ModelTrace;
  }
}

/**
 * One recorded value. On the fast path it stays a tfjs tensor until it is first read: reading every
 * node back to the host as the run computed it took ~40% of the ConvAutoEncoder's run, and a trace
 * is mostly read at a few paths. Once read, the host copy is kept and the tensor freed.
 */
/** @internal */
export class Recorded {
  constructor(
    private value: ND | undefined,
    private tensor?: tfc.Tensor,
    private readonly holding?: Holding,
  ) {}

  /** The value on the host (read back now if needed), or undefined once its trace was disposed unread. */
  read(): ND | undefined {
    if (!this.value && this.tensor) {
      this.value = readTensor(this.tensor);
      this.drop();
    }
    return this.value;
  }

  /** Frees the tensor (the host copy, if read, stays). */
  drop() {
    if (!this.tensor) return;
    this.holding?.release(this.tensor);
    this.tensor.dispose();
    this.tensor = undefined;
  }
}

/** @internal Host values as recorded values (a gradient trace's). */
export const hostRecorded = (steps: readonly ND[]): Recorded[] => steps.map((v) => new Recorded(v));

const readTensor = (t: tfc.Tensor): ND => ({ shape: t.shape, data: t.dataSync() as Float32Array });

/**
 * The tensors one fast run's trace holds unread. A tensor recorded under several paths (an
 * identity op's result is its operand) is held once.
 */
class Holding {
  private readonly held = new Map<tfc.Tensor, Recorded>();
  /** Bytes of the tensors still held. */
  bytes = 0;

  /** Keeps a tensor past the run's tfjs scope until it is read or the trace disposed. */
  hold(tf: typeof tfc, t: tfc.Tensor): Recorded {
    let r = this.held.get(t);
    if (!r) {
      tf.keep(t);
      this.held.set(t, (r = new Recorded(undefined, t, this)));
      this.bytes += t.size * 4;
    }
    return r;
  }

  release(t: tfc.Tensor) {
    if (this.held.delete(t)) this.bytes -= t.size * 4;
    if (this.held.size === 0) HOLDINGS.delete(this);
  }

  /** Reads every held tensor back to the host (the values stay readable; the tensors are freed). */
  settle() {
    for (const r of [...this.held.values()]) r.read();
    HOLDINGS.delete(this);
  }

  /** Frees every held tensor unread. */
  dispose() {
    for (const r of [...this.held.values()]) r.drop();
    HOLDINGS.delete(this);
  }
}

/** The holdings of every live trace, oldest first. */
const HOLDINGS = new Set<Holding>();

/**
 * Bytes of unread tensors all traces may hold together: past it, the oldest traces' tensors are read
 * back to the host (a host array is garbage-collected with its trace; a tensor of the WebAssembly
 * backend is freed only by dispose, and the backend's memory never shrinks).
 */
const HELD_BUDGET = 2 ** 28;

/** A trace the program dropped without disposing frees its tensors when garbage-collected. */
const COLLECTED = new FinalizationRegistry<Holding>((h) => h.dispose());

/** Reads the oldest traces' unread tensors back to the host until at most `limit` bytes stay held. */
function settleHoldings(limit: number) {
  let total = [...HOLDINGS].reduce((s, h) => s + h.bytes, 0);
  for (const h of HOLDINGS) {
    if (total <= limit) break;
    total -= h.bytes;
    h.settle();
  }
}

/** Every node's value in one run, keyed by path. */
export class ModelTrace {
  /** @internal */
  constructor(
    readonly graph: Graph,
    /** The sizes of this run (the model's and the inputs'). */
    readonly sizes: Readonly<Record<string, number>>,
    private readonly values: Map<string, { node: Tensor; steps: Recorded[] }>,
    /** @internal Whether the run was in training mode (dropout's and batch norm's gradient rules read it). */
    readonly training = false,
    private readonly holding?: Holding,
  ) {
    if (holding) COLLECTED.register(this, holding, holding);
  }

  /** Every recorded path, in creation order. */
  get paths(): string[] {
    return [...this.values.keys()];
  }

  /** The node at a path (its op, inputs and symbolic shape). */
  node(path: string): Tensor {
    return this.entry(path).node;
  }

  /**
   * A node's value; for a node in a scan body, its values at every step stacked on a leading axis,
   * in the order the steps ran (a reversed scan's step 0 is the last position, as cell traces do).
   */
  get(path: string): ND {
    const steps = this.entry(path).steps.map((r) => r.read() ?? this.disposedError(path));
    if (steps.length === 1 && !this.inScan(path)) return steps[0];
    const one = steps[0];
    const out = nd.zeros([steps.length, ...one.shape], `the trace of ${path}`);
    steps.forEach((v, t) => out.data.set(v.data, t * one.data.length));
    return out;
  }

  /**
   * @internal A node's recorded values in the order they were computed: one for a node outside
   * scans; for a scan body's node one per step in processing order (a reversed scan's first entry
   * is its last position), and for a nested scan's body, the inner steps of each outer step in turn.
   */
  steps(path: string): readonly ND[] {
    return this.entry(path).steps.map((r) => r.read() ?? this.disposedError(path));
  }

  /** Whether a path is inside a scan body (recorded once per step). */
  inScan(path: string): boolean {
    for (let s = this.entry(path).node.scope; s; s = s.parent) if (s.isScan) return true;
    return false;
  }

  /**
   * Frees the values not read yet (the fast path keeps them as tfjs tensors until first read);
   * values already read stay readable. A trace dropped without dispose is freed when garbage-collected.
   */
  dispose(): void {
    if (!this.holding) return;
    this.holding.dispose();
    COLLECTED.unregister(this.holding);
  }

  /** Shows the recorded paths and shapes in Jupyter (the format the package root registers). */
  [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return formatOf("trace", this, () => `ModelTrace of ${this.graph.name}: ${this.paths.length} nodes`);
  }

  private entry(path: string) {
    const e = this.values.get(path);
    if (!e) throw new ArchlabError("unknown-node", `The trace of ${this.graph.name} has no node ${JSON.stringify(path)}. Its nodes: ${this.paths.slice(0, 30).join(", ")}${this.paths.length > 30 ? ", …" : ""}.`);
    return e;
  }

  private disposedError(path: string): never {
    throw new ArchlabError("disposed", `The trace of ${this.graph.name} was disposed before ${path} was read (trace.dispose() frees the values not read yet). Read it before disposing, or run the model again.`);
  }
}

/** One run's results: the outputs by name and the trace. */
export interface ModelRun {
  readonly outputs: Record<string, ND>;
  readonly trace: ModelTrace;
}

/** How one value type is made, read and computed on. */
interface Values<V> {
  from(v: ND): V;
  read(v: V): ND;
  /** A value as the trace records it: read now, or (the fast path) held until first read. */
  record(v: V): Recorded;
  kernel(spec: OpSpec, inputs: V[], attrs: Record<string, unknown>, ctx: KernelContext): V;
  /** Index `t` of `axis`, the axis removed. */
  at(v: V, axis: number, t: number): V;
  /** Values stacked on a new `axis`. */
  stack(vs: V[], axis: number): V;
  shape(v: V): readonly number[];
  /** 8 (float64) or 4 (float32), for the too-large message. */
  readonly bytesPerElement: number;
  /** Bytes a new tensor may still take, when the value type has a fixed memory (WebAssembly's); undefined when unbounded. */
  room(): { free: number; held: number; total: number } | undefined;
}

const reference: Values<ND> = {
  from: (v) => v,
  read: (v) => v,
  record: (v) => new Recorded(v),
  kernel: (spec, inputs, attrs, ctx) => spec.ref(inputs, attrs, ctx),
  at(v, axis, t) {
    const s = nd.slice(v, axis, t, 1);
    return nd.reshape(s, v.shape.filter((_, i) => i !== axis));
  },
  stack(vs, axis) {
    const shape = [...vs[0].shape];
    shape.splice(axis, 0, 1);
    return nd.concat(vs.map((v) => nd.reshape(v, shape)), axis);
  },
  shape: (v) => v.shape,
  bytesPerElement: 8,
  room: () => undefined,
};

function fastValues(tf: typeof tfc, holding: Holding): Values<tfc.Tensor> {
  return {
    from: (v) => float32Tensor(tf, v),
    read: readTensor,
    record: (v) => holding.hold(tf, v),
    kernel(spec, inputs, attrs, ctx) {
      if (spec.fast) return spec.fast(tf, inputs, attrs, ctx);
      const out = spec.ref(inputs.map((v) => ({ shape: v.shape, data: Float64Array.from(v.dataSync()) })), attrs, ctx);
      return this.from(out);
    },
    at: (v, axis, t) => tf.squeeze(tf.slice(v, v.shape.map((_, i) => (i === axis ? t : 0)), v.shape.map((d, i) => (i === axis ? 1 : d))), [axis]),
    stack: (vs, axis) => tf.stack(vs, axis),
    shape: (v) => v.shape,
    bytesPerElement: 4,
    room() {
      if (currentBackend() !== "wasm") return undefined;
      const held = tf.memory().numBytes;
      return { free: WASM_MEMORY - WASM_RESERVED - held, held, total: WASM_MEMORY };
    },
  };
}

/**
 * The WebAssembly backend's whole memory (wasm32: 4 GiB), which every tensor of a run shares until
 * the run ends; tfjs-backend-wasm does not check its allocations (a failed malloc returns address 0, which tfjs then writes to),
 * so the interpreter checks first. Some of it is the module's own (code, stacks, XNNPACK's buffers).
 */
const WASM_MEMORY = 2 ** 32;
const WASM_RESERVED = 2 ** 26;

/**
 * A named error before a kernel allocates a result too large for one typed array (2^31−1 elements)
 * — tfjs and the typed arrays would throw a raw RangeError or abort inside WebAssembly.
 */
function checkAllocatable<V>(node: Tensor, sizes: Record<string, number>, values: Values<V>) {
  const shape = evalShape(node.shape, sizes, node.path);
  const n = nd.count(shape);
  const bytes = n * values.bytesPerElement;
  const what = () => `${node.path} (${node.op}) would have shape ${showShape(node.shape)} = [${shape.join(", ")}]: ${n.toLocaleString("en-US")} elements, ${bytesText(bytes)} (${bytes.toLocaleString("en-US")} bytes) in float${values.bytesPerElement * 8}`;
  const smaller = "Use smaller sizes (a smaller batch, image or hidden size)";
  if (shape.some((d) => d < 0 || !Number.isInteger(d)))
    throw new ArchlabError("shape", `${node.path} (${node.op}) would have shape ${showShape(node.shape)} = [${shape.join(", ")}], a negative length: with these sizes its input is smaller than its window or slice.`);
  if (n > nd.MAX_ELEMENTS) throw new ArchlabError("too-large", `${what()}, more than one tensor can hold (${nd.MAX_ELEMENTS.toLocaleString("en-US")} elements). ${smaller}.`);
  let room = values.room();
  if (room && bytes > room.free && HOLDINGS.size > 0) {
    // Earlier traces' unread tensors share this memory: read them back to the host, then look again.
    settleHoldings(0);
    room = values.room();
  }
  if (room && bytes > room.free)
    throw new ArchlabError(
      "too-large",
      `${what()}, more than the WebAssembly backend's memory of ${bytesText(room.total)} has left (this run already holds ${bytesText(room.held)}). ${smaller}, or install @tensorflow/tfjs-node, which has no such limit.`,
    );
}

/**
 * A kernel's failure as a named error naming the node, its operands' shapes and the step; an
 * ArchlabError already naming the node passes unchanged. Anything else a kernel throws (tfjs's own
 * errors, WebAssembly running out of memory) is wrapped, the original kept as its cause.
 */
function kernelError(node: Tensor, shapes: (readonly number[])[], step: number, e: unknown): Error {
  if (e instanceof ArchlabError && e.message.startsWith(node.path)) return e;
  const detail = e instanceof Error ? e.message : String(e);
  const where = `${node.path} (${node.op}) on operands of shapes ${shapes.map((s) => `[${s.join(", ")}]`).join(", ")}${step >= 0 ? ` at step ${step}` : ""}`;
  return new ArchlabError(e instanceof ArchlabError ? e.code : "kernel-failed", `${where}: ${detail}`, { cause: e });
}

/** Nested arrays (or an ND) as an ND, with a named error for ragged or non-numeric data. */
export function toND(value: ValueLike, what: string): ND {
  if (typeof value === "object" && value !== null && "shape" in value && "data" in value) return value as ND;
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out = nd.zeros(shape, what);
  let k = 0;
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw errors.badOption(`${what}${path}`, v, "a number");
      out.data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw errors.ragged(what, path || "[]", shape[depth], Array.isArray(v) ? v.length : 0);
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, "");
  return out;
}

const NAME_ONLY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The run's sizes: the model's, the options', and those read from each input's shape (`B`, `T`). */
function bindSizes(graph: Graph, given: Map<Tensor, ND>, extra: Record<string, number>): Record<string, number> {
  const sizes: Record<string, number> = { ...graph.sizes, ...extra };
  for (const [input, value] of given) {
    if (value.shape.length !== input.rank)
      throw errors.shape(`input ${input.name}`, input.shape.map((s) => s.key), value.shape);
    input.shape.forEach((s, i) => {
      if (NAME_ONLY.test(s.key) && !Object.hasOwn(sizes, s.key)) sizes[s.key] = value.shape[i];
    });
  }
  for (const [input, value] of given) {
    const expected = evalShape(input.shape, sizes, `input ${input.name}`);
    if (expected.some((d, i) => d !== value.shape[i]))
      throw errors.shape(`input ${input.name} (declared ${showShape(input.shape)})`, expected, value.shape);
  }
  return sizes;
}

/** Runs a graph on inputs (by input name) and records every node. */
export async function runGraph(graph: Graph, inputs: Record<string, ValueLike>, options: RunOptions = {}): Promise<ModelRun> {
  const given = new Map<Tensor, ND>();
  for (const t of graph.inputs) {
    if (!Object.hasOwn(inputs, t.name)) throw errors.badOption(`input ${t.name}`, undefined, `a value of shape ${showShape(t.shape)} (the model's inputs: ${graph.inputs.map((i) => i.name).join(", ")})`);
    given.set(t, toND(inputs[t.name], `input ${t.name}`));
  }
  for (const k of Object.keys(inputs))
    if (!graph.inputs.some((t) => t.name === k)) throw errors.badOption(`input ${k}`, inputs[k], `one of the model's inputs: ${graph.inputs.map((i) => i.name).join(", ")}`);
  const sizes = bindSizes(graph, given, options.sizes ?? {});
  if ((options.backend ?? "fast") === "reference") return interpret(graph, given, sizes, options, reference);
  const tf = await tensorflow();
  const holding = new Holding();
  tf.engine().startScope();
  try {
    const run = interpret(graph, given, sizes, options, fastValues(tf, holding), holding);
    if (holding.bytes > 0) HOLDINGS.add(holding);
    settleHoldings(Math.max(HELD_BUDGET, holding.bytes));
    return run;
  } catch (e) {
    holding.dispose();
    throw e;
  } finally {
    tf.engine().endScope();
  }
}

function interpret<V>(graph: Graph, given: Map<Tensor, ND>, sizes: Record<string, number>, options: RunOptions, values: Values<V>, holding?: Holding): ModelRun {
  const env = new Map<Tensor, V>();
  const recorded = new Map<string, { node: Tensor; steps: Recorded[] }>();
  /** Each node's last record (an output is read from it). */
  const last = new Map<Tensor, Recorded>();
  const scanResults = new Map<Tensor, { outs: V[]; finals: V[] }>();
  const training = options.training ?? false;

  const record = (node: Tensor, v: V, step: number) => {
    const shape = values.shape(v);
    const expected = evalShape(node.shape, sizes, node.path);
    if (expected.length !== shape.length || expected.some((d, i) => d !== shape[i]))
      throw new ArchlabError("shape", `${node.path} (${node.op}) computed shape [${shape.join(", ")}], but its definition says ${showShape(node.shape)} = [${expected.join(", ")}].`);
    let r: Recorded;
    if (options.checkFinite) {
      const value = values.read(v);
      const bad = value.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        throw new ArchlabError("non-finite", `${node.path} (${node.op}) computed ${value.data[bad]} at element ${bad}${step >= 0 ? ` at step ${step}` : ""}: the first non-finite value of this run.`);
      r = new Recorded(value);
    } else r = values.record(v);
    let entry = recorded.get(node.path);
    if (!entry) recorded.set(node.path, (entry = { node, steps: [] }));
    entry.steps.push(r);
    last.set(node, r);
  };

  const evaluate = (nodes: readonly Tensor[], step: number) => {
    for (const node of nodes) {
      let v: V;
      switch (node.op) {
        case "input":
          v = values.from(given.get(node)!);
          break;
        case "param":
          v = values.from(graph.values.get(node)!);
          break;
        case "step":
        case "state":
          continue; // set by the scan before its body runs
        case "scan":
          scanResults.set(node, runScan(node));
          continue;
        case "scanOut":
          v = scanResults.get(node.inputs[0])!.outs[node.attrs.index as number];
          break;
        case "scanFinal":
          v = scanResults.get(node.inputs[0])!.finals[node.attrs.index as number];
          break;
        default: {
          const spec = OPS[node.op as keyof typeof OPS] as OpSpec;
          const ctx: KernelContext = { training, step: Math.max(step, 0), path: node.path, sizes };
          const args = node.inputs.map((t) => env.get(t)!);
          checkAllocatable(node, sizes, values);
          try {
            v = values.kernel(spec, args, node.attrs as Record<string, unknown>, ctx);
          } catch (e) {
            throw kernelError(node, args.map((a) => values.shape(a)), step, e);
          }
        }
      }
      env.set(node, v);
      record(node, v, step);
    }
  };

  const runScan = (node: Tensor) => {
    const info = node.attrs.scan as ScanInfo;
    const length = info.length.eval(sizes, node.path);
    const seqs = info.steps.map((s) => env.get(s.attrs.of as Tensor)!);
    let state = info.states.map((s) => env.get(s.attrs.init as Tensor)!);
    const outs: V[][] = info.outs.map(() => new Array<V>(length));
    for (let k = 0; k < length; k++) {
      const t = info.reverse ? length - 1 - k : k;
      info.steps.forEach((s, i) => {
        const v = values.at(seqs[i], info.axis, t);
        env.set(s, v);
        record(s, v, t);
      });
      info.states.forEach((s, i) => {
        env.set(s, state[i]);
        record(s, state[i], t);
      });
      evaluate(info.body, t);
      state = info.next.map((n) => env.get(n)!);
      info.outs.forEach((o, i) => (outs[i][t] = env.get(o)!));
    }
    if (length === 0) throw new ArchlabError("empty-sequence", `scan ${node.path || node.name}: the sequence has no steps.`);
    return { outs: outs.map((o) => values.stack(o, info.axis)), finals: state };
  };

  evaluate(graph.nodes, -1);
  const outputs = Object.fromEntries(Object.entries(graph.outputs).map(([k, t]) => [k, last.get(t)?.read() ?? values.read(env.get(t)!)]));
  return { outputs, trace: new ModelTrace(graph, sizes, recorded, training, holding) };
}
