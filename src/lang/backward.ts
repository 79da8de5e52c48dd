/**
 * Reverse mode through a recorded run: the forward trace holds every node's value at every step — it
 * is the tape. {@link backwardGraph} walks the graph's nodes from last to first and applies each
 * op's gradient rule (`OpSpec.vjp`, ops.ts) to the recorded values, summing what every consumer
 * sends back: a node used twice gets both shares, a parameter tied in two places (or read at every
 * step of a scan) the sum of all its uses.
 *
 * A scan goes back through its steps in the reverse of the order they ran (a reversed scan ran
 * position T−1 first, so its backward pass ends there):
 *
 *     step k (processing order, k = T−1 … 0), position t = k, or T−1−k when reversed:
 *       ∂L/∂next  = ∂L/∂state carried from step k+1 (∂L/∂scanFinal at the last step)
 *       ∂L/∂out   = ∂L/∂scanOut sliced at t
 *       body, last node to first  ──VJP──►  ∂L/∂state_prev (carried to step k−1),
 *                                           ∂L/∂(the step's slice) → ∂L/∂sequence at t,
 *                                           ∂L/∂(outer nodes read: parameters, an encoder's outputs)
 *     after step 0: ∂L/∂state_prev → ∂L/∂(the state's initial value)
 *
 * Nested scans work the same way: an inner scan's steps are gone through once per outer step.
 * Only nodes that depend on a float input or a trainable or frozen parameter take gradients (an
 * initial state of zeros, integer ids and constants do not); the gradient trace has zeros there.
 */
import { ArchlabError } from "../errors";
import type { Graph, ScanInfo } from "./build";
import type { Tensor } from "./graph";
import * as nd from "./nd";
import type { ND } from "./nd";
import { OPS, type KernelContext, type OpSpec } from "./ops";
import { ModelTrace, toND, type ModelRun, type ValueLike } from "./run";

/** What {@link Model.backward} returns: ∂L/∂ of every parameter, input and node of one run. */
export interface ModelGradients {
  /** ∂L/∂(every trainable parameter) by path, summed over its uses and the steps of scans. */
  readonly params: Record<string, ND>;
  /** ∂L/∂(every float input) by name. */
  readonly inputs: Record<string, ND>;
  /**
   * ∂L/∂(every node), with the forward trace's paths: `get(path)` of a scan body's node stacks
   * its steps as the forward trace does (processing order), so the same plots show it.
   */
  readonly trace: ModelTrace;
}

/** ∂L/∂(an output): a number (every element gets it), nested arrays or an ND of the output's shape. */
export type Seeds = Record<string, ValueLike>;

/** Where a body node lives: its scan node and the per-scan data the walk needs. */
interface ScanLinks {
  /** The scan node each body node belongs to (absent for top-level nodes). */
  owner: Map<Tensor, Tensor>;
  /** Each scan node's scanOut and scanFinal nodes, by index. */
  results: Map<Tensor, { outs: Tensor[]; finals: Tensor[] }>;
  /** Each state placeholder's scan and index. */
  stateOf: Map<Tensor, { info: ScanInfo; index: number }>;
  /** Every node, bodies included. */
  all: Tensor[];
}

function links(graph: Graph): ScanLinks {
  const l: ScanLinks = { owner: new Map(), results: new Map(), stateOf: new Map(), all: [] };
  const visit = (nodes: readonly Tensor[], scan?: Tensor) => {
    for (const n of nodes) {
      l.all.push(n);
      if (scan) l.owner.set(n, scan);
      if (n.op === "scan") {
        const info = n.attrs.scan as ScanInfo;
        l.results.set(n, { outs: [], finals: [] });
        info.states.forEach((s, index) => l.stateOf.set(s, { info, index }));
        visit(info.body, n);
      }
      if (n.op === "scanOut") l.results.get(n.inputs[0])!.outs[n.attrs.index as number] = n;
      if (n.op === "scanFinal") l.results.get(n.inputs[0])!.finals[n.attrs.index as number] = n;
    }
  };
  visit(graph.nodes);
  return l;
}

/** The nodes that take gradients: those depending on a float input or a trainable or frozen parameter (a fixed point, as states feed back). */
function differentiable(l: ScanLinks): Set<Tensor> {
  const needs = new Set<Tensor>();
  const need = (n: Tensor): boolean => {
    if (n.dtype === "int") return false;
    switch (n.op) {
      case "input":
        return true;
      case "param":
        return n.attrs.kind !== "constant";
      case "step":
        return needs.has(n.attrs.of as Tensor);
      case "state": {
        const { info, index } = l.stateOf.get(n)!;
        return needs.has(n.attrs.init as Tensor) || needs.has(info.next[index]);
      }
      case "scan":
        return false;
      case "scanOut":
        return needs.has((n.inputs[0].attrs.scan as ScanInfo).outs[n.attrs.index as number]);
      case "scanFinal":
        return needs.has((n.inputs[0].attrs.scan as ScanInfo).next[n.attrs.index as number]);
      default:
        return n.inputs.some((i) => needs.has(i));
    }
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of l.all)
      if (!needs.has(n) && need(n)) {
        needs.add(n);
        changed = true;
      }
  }
  return needs;
}

/** The seeds as ∂L/∂(output node), checked against the run's outputs. */
function readSeeds(graph: Graph, run: ModelRun, seeds: Seeds | undefined): [Tensor, ND][] {
  const names = Object.keys(graph.outputs);
  if (seeds === undefined) {
    const scalars = names.filter((k) => run.outputs[k].shape.length === 0 && graph.outputs[k].dtype === "float");
    if (scalars.length !== 1)
      throw new ArchlabError(
        "no-seed",
        `backward(run) without seeds needs exactly one scalar output to differentiate, but model ${graph.name} has ${scalars.length ? `several: ${scalars.join(", ")}` : "none"} (outputs: ${names.map((k) => `${k} [${run.outputs[k].shape.join(", ")}]`).join(", ")}). Give the seeds: backward(run, { ${scalars[0] ?? names[0]}: 1 }).`,
      );
    return [[graph.outputs[scalars[0]], nd.map(run.outputs[scalars[0]], () => 1)]];
  }
  if (typeof seeds !== "object" || seeds === null)
    throw new ArchlabError("bad-option", `backward(run, seeds): seeds must be an object { outputName: ∂L/∂output }, not ${seeds === null ? "null" : typeof seeds}.`);
  return Object.entries(seeds).map(([k, v]) => {
    if (!Object.hasOwn(graph.outputs, k))
      throw new ArchlabError("unknown-output", `backward: model ${graph.name} has no output ${JSON.stringify(k)} to seed. Its outputs: ${names.join(", ")}.`);
    const node = graph.outputs[k];
    const shape = run.outputs[k].shape;
    if (node.dtype === "int") throw new ArchlabError("bad-option", `backward: output ${k} holds whole numbers (dtype int), which take no gradient. Seed a float output.`);
    if (typeof v === "number") return [node, nd.map(run.outputs[k], () => v)];
    const g = toND(v, `the seed of output ${k}`);
    if (g.shape.length !== shape.length || g.shape.some((d, i) => d !== shape[i]))
      throw new ArchlabError("shape", `backward: the seed of output ${k} has shape [${g.shape.join(", ")}], but the output has shape [${shape.join(", ")}] in this run. Give ∂L/∂${k} of the output's shape, or a number for every element.`);
    return [node, { shape: [...g.shape], data: Float64Array.from(g.data) }];
  });
}

/** `g` written into position `t` of `axis` of `dst` (g has dst's shape without that axis). */
function place(dst: ND, axis: number, t: number, g: ND) {
  const n = dst.shape[axis];
  const inner = nd.count(dst.shape.slice(axis + 1));
  const outer = nd.count(dst.shape.slice(0, axis));
  for (let o = 0; o < outer; o++) (dst.data as Float64Array).set(g.data.subarray(o * inner, (o + 1) * inner), (o * n + t) * inner);
}

/** Position `t` of `axis`, the axis removed. */
const at = (v: ND, axis: number, t: number) => nd.reshape(nd.slice(v, axis, t, 1), v.shape.filter((_, i) => i !== axis));

/**
 * The backward pass of one run of `graph` from ∂L/∂(outputs) `seeds` (by output name); no seeds:
 * the model's single scalar output gets 1. See the module's comment for how scans go back.
 */
export function backwardGraph(graph: Graph, run: ModelRun, seeds?: Seeds): ModelGradients {
  const trace = run?.trace;
  if (!(trace instanceof ModelTrace) || trace.graph !== graph)
    throw new ArchlabError("bad-option", `backward(run): run must be what run() of model ${graph.name} returned (its outputs and trace), not ${trace instanceof ModelTrace ? `a run of model ${trace.graph.name}` : typeof run}.`);
  const l = links(graph);
  const needs = differentiable(l);
  const sizes = trace.sizes;

  // The walk's position in each scan being gone through: its occurrence (index into the recorded steps) and position t.
  const current = new Map<Tensor, { occ: number; t: number }>();
  const occ = (n: Tensor) => {
    const s = l.owner.get(n);
    return s ? current.get(s)!.occ : 0;
  };
  const grads = new Map<Tensor, (ND | undefined)[]>();
  const gradOf = (n: Tensor) => grads.get(n)?.[occ(n)];
  const add = (n: Tensor, g: ND | undefined) => {
    if (!g || !needs.has(n)) return;
    let list = grads.get(n);
    if (!list) grads.set(n, (list = []));
    const o = occ(n);
    const prev = list[o];
    list[o] = prev ? nd.zip(prev, g, (a, b) => a + b) : g;
  };
  // Each node's recorded values (looked up once: a node's path is computed from its scopes).
  const recordedOf = new Map<Tensor, readonly ND[]>();
  const value = (n: Tensor) => {
    let steps = recordedOf.get(n);
    if (!steps) recordedOf.set(n, (steps = trace.steps(n.path)));
    return steps[occ(n)];
  };

  for (const [node, g] of readSeeds(graph, run, seeds)) add(node, g);

  const walk = (nodes: readonly Tensor[], step: number) => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (!needs.has(node) && node.op !== "scan") continue;
      switch (node.op) {
        case "input":
        case "param":
        case "step":
        case "state":
        case "scanOut": // their gradients are read by the scan node
        case "scanFinal":
          continue;
        case "scan":
          backScan(node);
          continue;
      }
      const dy = gradOf(node);
      if (!dy) continue;
      const spec = OPS[node.op as keyof typeof OPS] as OpSpec;
      if (!spec.vjp)
        throw new ArchlabError(
          "no-gradient-rule",
          `backward: ${node.path} (${node.op}) is on the path from the seeded outputs to the parameters, but the op ${node.op} has no gradient rule yet. Wrap its operand in stopGradient() if it needs none, or use ops that have one.`,
        );
      const ctx: KernelContext = { training: trace.training, step: Math.max(step, 0), path: node.path, sizes };
      const operands = node.inputs.map(value);
      const back = spec.vjp(dy, operands, value(node), node.attrs as Record<string, unknown>, ctx);
      node.inputs.forEach((operand, k) => add(operand, back[k]));
    }
  };

  const backScan = (node: Tensor) => {
    const info = node.attrs.scan as ScanInfo;
    const { outs, finals } = l.results.get(node)!;
    const length = info.length.eval(sizes, node.path);
    const o = occ(node);
    const dOut = info.outs.map((_, i) => (outs[i] ? gradOf(outs[i]) : undefined));
    let dState = info.next.map((_, i) => (finals[i] ? gradOf(finals[i]) : undefined));
    const seqs = info.steps.map((s) => s.attrs.of as Tensor);
    const dSeq = seqs.map((s) => (needs.has(s) ? nd.zeros(value(s).shape) : undefined));
    for (let k = length - 1; k >= 0; k--) {
      const t = info.reverse ? length - 1 - k : k;
      current.set(node, { occ: o * length + k, t });
      info.next.forEach((n, i) => add(n, dState[i]));
      info.outs.forEach((n, i) => add(n, dOut[i] && at(dOut[i], info.axis, t)));
      walk(info.body, t);
      dState = info.states.map((s) => gradOf(s));
      info.steps.forEach((s, i) => {
        const g = gradOf(s);
        if (g && dSeq[i]) place(dSeq[i], info.axis, t, g);
      });
    }
    current.delete(node);
    info.states.forEach((s, i) => add(s.attrs.init as Tensor, dState[i]));
    seqs.forEach((s, i) => add(s, dSeq[i]));
  };

  walk(graph.nodes, -1);

  // The gradient trace: every recorded node, every occurrence; zeros where no gradient reached.
  const recorded = new Map<string, { node: Tensor; steps: ND[] }>();
  for (const path of trace.paths) {
    const node = trace.node(path);
    const list = grads.get(node) ?? [];
    recorded.set(path, { node, steps: trace.steps(path).map((v, k) => list[k] ?? nd.zeros(v.shape)) });
  }
  const gradients = new ModelTrace(graph, sizes, recorded, trace.training);
  const first = (n: Tensor) => gradients.steps(n.path)[0];
  return {
    params: Object.fromEntries(graph.params.filter((p) => p.attrs.kind === "trainable").map((p) => [p.path, first(p)])),
    inputs: Object.fromEntries(graph.inputs.filter((i) => i.dtype === "float").map((i) => [i.name, first(i)])),
    trace: gradients,
  };
}
