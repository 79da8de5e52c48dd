/**
 * Jacobians through time, exact, for the vanishing-gradient lab: how much a value at step t still
 * moves a value at a later step. ∂h_T/∂h_t is `[n, m]` per batch element; its row i is the gradient
 * of h_T[i], so n reverse passes through the trace ({@link backwardRaw}) give every row for every
 * t at once. No finite differences, so no noise floor: a norm of 1e-40 is 1e-40.
 *
 * The derivative is autograd's (`torch.autograd.grad(h_T, c_t)` with c_t the tensor step t computed):
 * through every path from wrt_t onwards — for an LSTM's ∂h_T/∂c_t also through h_t = o_t ⊙ tanh(c_t)
 * — while values not computed from wrt_t stay fixed (for ∂h_T/∂h_t, the LSTM's c_t).
 */
import { errors, requireObject } from "../errors";
import { backwardRaw, type Gradients } from "./backward";
import { Trace } from "./trace";

/** Options of {@link jacobianNorms} and {@link jacobian}. */
export interface JacobianOptions {
  /** The differentiated node (default: the cell's output, usually h). */
  of?: string;
  /** The node it is differentiated with respect to, at every step (default: the same as `of`). */
  wrt?: string;
  /** The step of `of` (default: the last computed step). */
  at?: number;
}

/** Checked names and step. */
function resolve(trace: Trace, options: JacobianOptions, where: string) {
  if (!(trace instanceof Trace)) throw errors.badOption(`trace of ${where}`, trace, "a Trace from cell.run(xs)");
  requireObject(`options of ${where}`, options, "{ of?, wrt?, at? }");
  const unknown = Object.keys(options).find((k) => !["of", "wrt", "at"].includes(k));
  if (unknown) throw errors.unknownName("option", unknown, ["of", "wrt", "at"], where);
  if (trace.length === 0) throw errors.emptyTrace(where);
  const nodes = trace.def.nodes.map((n) => n.name);
  const node = (name: string, option: string) => {
    if (!nodes.includes(name)) throw errors.unknownName(`node (option ${option})`, name, nodes, where);
    return { name, size: trace.entry(name).size };
  };
  const of = node(options.of ?? trace.def.output, "of");
  const wrt = node(options.wrt ?? of.name, "wrt");
  const at = options.at ?? trace.length - 1;
  if (!Number.isInteger(at) || at < 0 || at >= trace.length) throw errors.outOfRange(`Step at of ${where}`, at, 0, trace.length - 1);
  return { of, wrt, at };
}

/**
 * Calls `row(i, grads)` for each unit i of `of`: grads `[T, B, m]` holds ∂of_at[i]/∂wrt_t for every
 * step t and batch element (zero for t > at).
 */
function rows(trace: Trace, options: JacobianOptions, where: string, row: (i: number, grads: Float64Array) => void) {
  const { of, wrt, at } = resolve(trace, options, where);
  const B = trace.batch;
  const seed = new Float64Array(trace.length * B * of.size);
  for (let i = 0; i < of.size; i++) {
    seed.fill(0);
    for (let b = 0; b < B; b++) seed[(at * B + b) * of.size + i] = 1;
    // Only ∂/∂(nodes) is read: no weight or input gradients (the time loop is then all the work).
    row(i, backwardRaw(trace, { nodes: { [of.name]: seed } }, where, { leaves: false, dtype: "float64" }).values[wrt.name] as Float64Array);
  }
  return { of, wrt, at, B };
}

/**
 * ‖∂of_at / ∂wrt_t‖ for every step t ≤ at and batch element — the Frobenius norm (the root of the
 * sum of squares of the Jacobian's entries), exact. Index `[t][b]`. By default of = wrt = the
 * cell's output h and at = the last step: ‖∂h_T/∂h_t‖, the curve that falls geometrically for a
 * plain RNN (vanishing gradients) and stays up through an LSTM's open forget gates.
 *
 * @example
 * const trace = cell(RNN_TANH, { inputSize: 1, hiddenSize: 16, seed: 1 }).run(xs); // xs [T][B][1]
 * const norms = jacobianNorms(trace);               // [T][B]: ‖∂h_T/∂h_t‖_F
 * jacobianNorms(lstmTrace, { of: "h", wrt: "c" });   // ‖∂h_T/∂c_t‖_F
 */
export function jacobianNorms(trace: Trace, options: JacobianOptions = {}): number[][] {
  let squares: Float64Array | undefined;
  const { at, B } = rows(trace, options, "jacobianNorms", (_i, grads) => {
    const m = grads.length / (trace.length * trace.batch);
    squares ??= new Float64Array(trace.length * trace.batch);
    for (let r = 0; r < squares.length; r++) {
      let s = 0;
      for (let u = 0; u < m; u++) s += grads[r * m + u] ** 2;
      squares[r] += s;
    }
  });
  return Array.from({ length: at + 1 }, (_, t) => Array.from({ length: B }, (_, b) => Math.sqrt(squares![t * B + b])));
}

/**
 * The Jacobians ∂of_at/∂wrt_t themselves, exact: index `[t][b][i][j]` = ∂of_at[i] / ∂wrt_t[j], for
 * t ≤ at (see {@link jacobianNorms} for their norms without keeping them).
 *
 * @example
 * const J = jacobian(trace, { at: 9 });  // J[5][0] is ∂h_9/∂h_5 for batch element 0, [H][H]
 */
export function jacobian(trace: Trace, options: JacobianOptions = {}): number[][][][] {
  const out: number[][][][] = [];
  const { at } = rows(trace, options, "jacobian", (i, grads) => {
    const B = trace.batch;
    const m = grads.length / (trace.length * B);
    for (let t = 0; t < trace.length; t++)
      for (let b = 0; b < B; b++) {
        out[t] ??= [];
        out[t][b] ??= [];
        out[t][b][i] = Array.from(grads.subarray((t * B + b) * m, (t * B + b + 1) * m));
      }
  });
  return out.slice(0, at + 1);
}

/**
 * ‖∂L/∂name_t‖ (Euclidean, over the units) for every step and batch element, index `[t][b]`: where
 * a gradient fades as it flows back in time.
 *
 * @example
 * const grads = backward(trace, { final: { h: ones } });
 * gradientNorms(grads, "c");   // ‖∂L/∂c_t‖ for every t
 */
export function gradientNorms(grads: Gradients | Trace, name: string): number[][] {
  const trace = grads instanceof Trace ? grads : grads?.trace;
  if (!(trace instanceof Trace)) throw errors.badOption("grads of gradientNorms", grads, "what backward(trace, …) returns, or its .trace");
  const { size } = trace.entry(name, "gradientNorms");
  const values = trace.raw(name);
  return Array.from({ length: trace.length }, (_, t) =>
    Array.from({ length: trace.batch }, (_, b) => {
      let s = 0;
      for (let u = 0; u < size; u++) s += values[(t * trace.batch + b) * size + u] ** 2;
      return Math.sqrt(s);
    }),
  );
}
