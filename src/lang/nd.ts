/**
 * Plain n-dimensional arrays and the reference kernels the definition language's ops run on in the
 * reference interpreter: float64, row-major, written as loops that are obviously right. The fast
 * path (tfjs-core kernels) is tested against these.
 */
import { ArchlabError } from "../errors";

/** A concrete tensor value: shape and row-major data. Integer tensors (word ids) hold integers in the same array type. */
export interface ND {
  readonly shape: readonly number[];
  readonly data: Float64Array | Float32Array;
}

/** Largest element count allocated for one tensor (2^31−1: a typed array's practical limit). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Number of elements of a shape. */
export function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A zero-filled float64 array of `shape`; a named error saying how many bytes it would take when too large. */
export function zeros(shape: readonly number[], what = "a tensor"): ND {
  const n = count(shape);
  if (!Number.isSafeInteger(n) || n > MAX_ELEMENTS)
    throw new ArchlabError(
      "too-large",
      `${what} of shape [${shape.join(", ")}] has ${n.toLocaleString("en-US")} elements (${(n * 8 / 1e9).toLocaleString("en-US", { maximumFractionDigits: 1 })} GB in float64), more than can be allocated. Use smaller sizes (a smaller batch, image or hidden size).`,
    );
  return { shape: [...shape], data: new Float64Array(n) };
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) (s[i] = acc), (acc *= shape[i]);
  return s;
}

/** Elementwise f over one array. */
export function map(a: ND, f: (x: number) => number): ND {
  const out = zeros(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i]);
  return out;
}

/** NumPy broadcasting of two shapes (aligned from the right); undefined when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each flat index of `shape`, the flat index into an array of `from` broadcast to it. */
function broadcastIndex(from: readonly number[], shape: readonly number[]): Int32Array {
  const n = count(shape);
  const out = new Int32Array(n);
  const r = shape.length;
  // The step in `from` of each axis of `shape` (0 where `from` lacks the axis or has length 1),
  // and the index carried along as the axes count up (no loop over the axes per element).
  const fs = strides(from);
  const offset = r - from.length;
  const step = shape.map((_, d) => (d < offset || from[d - offset] === 1 ? 0 : fs[d - offset]));
  const idx = new Array<number>(r).fill(0);
  let f = 0;
  for (let i = 0; i < n; i++) {
    out[i] = f;
    for (let d = r - 1; d >= 0; d--) {
      f += step[d];
      if (++idx[d] < shape[d]) break;
      f -= step[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Elementwise f over two broadcast arrays. */
export function zip(a: ND, b: ND, f: (x: number, y: number) => number): ND {
  if (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
    // Same shapes (most calls): no index maps.
    const out = zeros(a.shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[i], b.data[i]);
    return out;
  }
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) throw new ArchlabError("shape", `Shapes [${a.shape}] and [${b.shape}] do not broadcast.`);
  const out = zeros(shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return out;
}

/** Elementwise f over three broadcast arrays (for `where`). */
export function zip3(a: ND, b: ND, c: ND, f: (x: number, y: number, z: number) => number): ND {
  const shape = broadcastShape(broadcastShape(a.shape, b.shape) ?? [], c.shape);
  if (!shape) throw new ArchlabError("shape", `Shapes [${a.shape}], [${b.shape}] and [${c.shape}] do not broadcast.`);
  const out = zeros(shape);
  const [ia, ib, ic] = [a, b, c].map((x) => broadcastIndex(x.shape, shape));
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[ia[i]], b.data[ib[i]], c.data[ic[i]]);
  return out;
}

/**
 * The gradient of a broadcast: `dy` (of a broadcast result's shape) summed back to `shape`, the
 * operand's shape before broadcasting — over the leading axes it lacked and the axes where it had
 * length 1. Every gradient rule of an op that broadcasts ends with it.
 */
export function sumTo(dy: ND, shape: readonly number[]): ND {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const out = zeros(shape);
  const idx = broadcastIndex(shape, dy.shape);
  for (let i = 0; i < dy.data.length; i++) out.data[idx[i]] += dy.data[i];
  return out;
}

/** Reduces `axes` with (acc, x) → acc from `init`, then `finish(acc, n)`; the reduced axes are kept with length 1 when `keep`. */
export function reduce(a: ND, axes: readonly number[], init: number, step: (acc: number, x: number) => number, finish: (acc: number, n: number) => number = (x) => x, keep = false): ND {
  const kept = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = zeros(kept);
  out.data.fill(init);
  const idx = broadcastIndex(kept, a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[idx[i]] = step(out.data[idx[i]], a.data[i]);
  const n = axes.reduce((p, ax) => p * a.shape[ax], 1);
  for (let i = 0; i < out.data.length; i++) out.data[i] = finish(out.data[i], n);
  return keep ? out : { shape: a.shape.filter((_, i) => !axes.includes(i)), data: out.data };
}

/** The array with a new shape of the same element count (no copy). */
export function reshape(a: ND, shape: readonly number[]): ND {
  if (count(shape) !== a.data.length) throw new ArchlabError("shape", `Cannot reshape [${a.shape}] (${a.data.length} elements) to [${shape}] (${count(shape)}).`);
  return { shape: [...shape], data: a.data };
}

/** Axes permuted: out.shape[i] = a.shape[perm[i]]. */
export function transpose(a: ND, perm: readonly number[]): ND {
  const shape = perm.map((p) => a.shape[p]);
  const out = zeros(shape);
  const as = strides(a.shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let f = 0;
    for (let d = 0; d < shape.length; d++) f += idx[d] * as[perm[d]];
    out.data[i] = a.data[f];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Batched matrix product [..., m, k] × [..., k, n] → [..., m, n], batch axes broadcast. */
export function matmul(a: ND, b: ND): ND {
  return product(a, b, false, false);
}

/**
 * The products a matmul's gradient needs, without transposing an operand first: `a bᵀ`
 * ([…, m, n] × […, k, n] → […, m, k]) when `transB`, `aᵀ b` ([…, k, m] × […, k, n] → […, m, n])
 * when `transA`. Each entry is the same sum in the same order as `matmul` of the transposed
 * operand, so the results are identical.
 */
export function matmulT(a: ND, b: ND, transpose: "a" | "b"): ND {
  return product(a, b, transpose === "a", transpose === "b");
}

/**
 * [..., m, k] × [..., k, n] per batch, with either operand read transposed. Each entry is summed
 * over p in increasing order, as the textbook loop does; the loops run along contiguous memory:
 * i, p, j (rows of b and of the result) for b as stored, i, j, p (rows of both) for b transposed.
 */
function product(a: ND, b: ND, transA: boolean, transB: boolean): ND {
  const ra = a.shape.length, rb = b.shape.length;
  const [m, k] = transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [k2, n] = transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (k !== k2) throw new ArchlabError("shape", `matmul: inner sizes differ, [${a.shape}] × [${b.shape}].`);
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batch) throw new ArchlabError("shape", `matmul: batch axes of [${a.shape}] and [${b.shape}] do not broadcast.`);
  const out = zeros([...batch, m, n]);
  const ia = broadcastIndex(a.shape.slice(0, -2), batch);
  const ib = broadcastIndex(b.shape.slice(0, -2), batch);
  const nb = count(batch);
  const A = a.data, B = b.data, O = out.data;
  // Element (i, p) of a's matrix is A[ao + i·ai + p·ap].
  const [ai, ap] = transA ? [1, m] : [k, 1];
  for (let q = 0; q < nb; q++) {
    const ao = ia[q] * m * k;
    const bo = ib[q] * k * n;
    const oo = q * m * n;
    for (let i = 0; i < m; i++) {
      const row = oo + i * n, aRow = ao + i * ai;
      if (transB) {
        for (let j = 0; j < n; j++) {
          const bRow = bo + j * k;
          let s = 0;
          for (let p = 0; p < k; p++) s += A[aRow + p * ap] * B[bRow + p];
          O[row + j] = s;
        }
      } else {
        for (let p = 0; p < k; p++) {
          const x = A[aRow + p * ap], bRow = bo + p * n;
          for (let j = 0; j < n; j++) O[row + j] += x * B[bRow + j];
        }
      }
    }
  }
  return out;
}

/** Arrays joined along `axis`. */
export function concat(parts: readonly ND[], axis: number): ND {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
  const out = zeros(shape);
  const outer = count(shape.slice(0, axis));
  const inner = count(shape.slice(axis + 1));
  let offset = 0;
  for (const p of parts) {
    const len = p.shape[axis] * inner;
    for (let o = 0; o < outer; o++) out.data.set(p.data.subarray(o * len, (o + 1) * len), o * shape[axis] * inner + offset);
    offset += len;
  }
  return out;
}

/** `length` entries from `start` along `axis`. */
export function slice(a: ND, axis: number, start: number, length: number): ND {
  const shape = [...a.shape];
  shape[axis] = length;
  const out = zeros(shape);
  const outer = count(a.shape.slice(0, axis));
  const inner = count(a.shape.slice(axis + 1));
  for (let o = 0; o < outer; o++)
    out.data.set(a.data.subarray((o * a.shape[axis] + start) * inner, (o * a.shape[axis] + start + length) * inner), o * length * inner);
  return out;
}

/** Rows of `table` [V, ...] at integer `ids` [...]: [...ids, ...row]. */
export function gather(table: ND, ids: ND, what: string): ND {
  const row = count(table.shape.slice(1));
  const out = zeros([...ids.shape, ...table.shape.slice(1)]);
  checkIds(ids.data, table.shape[0], what);
  for (let i = 0; i < ids.data.length; i++) out.data.set(table.data.subarray(ids.data[i] * row, (ids.data[i] + 1) * row), i * row);
  return out;
}

/** A named error for the first id that is not a whole number in 0…n−1. */
export function checkIds(ids: ArrayLike<number>, n: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= n)
      throw new ArchlabError("bad-id", `${what}: id ${id} at position ${i} is outside 0…${n - 1}. Ids must be whole numbers below the table's size.`);
  }
}

/** Padding before and after one spatial axis for a kernel of effective size `k` with `stride`: "same" as TensorFlow pads it. */
export function padding(pad: number | "same" | "valid", size: number, k: number, stride: number): [number, number, number] {
  if (pad === "valid") return [0, 0, Math.floor((size - k) / stride) + 1];
  if (pad === "same") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2), out];
  }
  return [pad, pad, Math.floor((size + 2 * pad - k) / stride) + 1];
}

/** 2-D convolution (cross-correlation, as every framework computes it): x [B, H, W, Cin], w [KH, KW, Cin, Cout] → [B, OH, OW, Cout]. */
export function conv2d(x: ND, w: ND, stride: number, pad: number | "same" | "valid", dilation: number): ND {
  const [B, H, W] = x.shape;
  const [KH, KW, , CO] = w.shape;
  const OH = padding(pad, H, (KH - 1) * dilation + 1, stride)[2];
  const OW = padding(pad, W, (KW - 1) * dilation + 1, stride)[2];
  const out = zeros([B, OH, OW, CO], "a convolution's output");
  convTaps(x.shape, w.shape, stride, pad, dilation, (xi, wi, o) => convPair(x, w, out, xi, wi, o));
  return out;
}

/**
 * Calls `visit(xi, wi, o)` for every pair of an input pixel and a kernel tap that a convolution
 * multiplies: the offsets of the pixel's channels in x, of the tap's [Cin, Cout] block in w and of
 * the output pixel's channels. The forward and the gradient walk the same pairs.
 */
function convTaps(xShape: readonly number[], wShape: readonly number[], stride: number, pad: number | "same" | "valid", dilation: number, visit: (xi: number, wi: number, o: number) => void) {
  const [B, H, W, C] = xShape;
  const [KH, KW, , CO] = wShape;
  const [pt, , OH] = padding(pad, H, (KH - 1) * dilation + 1, stride);
  const [pl, , OW] = padding(pad, W, (KW - 1) * dilation + 1, stride);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let ky = 0; ky < KH; ky++) {
          const y = oy * stride - pt + ky * dilation;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const xx = ox * stride - pl + kx * dilation;
            if (xx >= 0 && xx < W) visit(((b * H + y) * W + xx) * C, (ky * KW + kx) * C * CO, ((b * OH + oy) * OW + ox) * CO);
          }
        }
}

/** One input pixel's Cin channels times one kernel tap's [Cin, Cout] weights, added to one output pixel's Cout channels. */
function convPair(x: ND, w: ND, out: ND, xi: number, wi: number, o: number) {
  const C = w.shape[2], CO = w.shape[3]; // not destructured from a slice: this runs once per pixel and tap
  for (let c = 0; c < C; c++) {
    const v = x.data[xi + c];
    if (v === 0) continue;
    for (let co = 0; co < CO; co++) out.data[o + co] += v * w.data[wi + c * CO + co];
  }
}

/** Max or average pooling over k×k windows with `stride`: [B, H, W, C] → [B, OH, OW, C]. Average counts only positions inside the image. */
export function pool(x: ND, kind: "max" | "avg", k: number, stride: number, pad: number | "same" | "valid"): ND {
  const [B, H, W, C] = x.shape;
  const out = zeros([B, padding(pad, H, k, stride)[2], padding(pad, W, k, stride)[2], C]);
  poolWindows(x.shape, k, stride, pad, (inside, o) => {
    let acc = kind === "max" ? -Infinity : 0;
    for (const i of inside) acc = kind === "max" ? Math.max(acc, x.data[i]) : acc + x.data[i];
    out.data[o] = kind === "max" ? acc : acc / inside.length;
  });
  return out;
}

/** Calls `visit(inside, o)` for every window of a pooling and channel: the flat indices of its positions inside the image (row-major), and of its result. */
function poolWindows(shape: readonly number[], k: number, stride: number, pad: number | "same" | "valid", visit: (inside: readonly number[], o: number) => void) {
  const [B, H, W, C] = shape;
  const [pt, , OH] = padding(pad, H, k, stride);
  const [pl, , OW] = padding(pad, W, k, stride);
  const inside: number[] = [];
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          inside.length = 0;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const y = oy * stride - pt + ky;
              const xx = ox * stride - pl + kx;
              if (y >= 0 && y < H && xx >= 0 && xx < W) inside.push(((b * H + y) * W + xx) * C + c);
            }
          visit(inside, ((b * OH + oy) * OW + ox) * C + c);
        }
}

/** Nearest-neighbour upsampling by an integer factor: [B, H, W, C] → [B, sH, sW, C]. */
export function upsample(x: ND, s: number): ND {
  const [B, H, W, C] = x.shape;
  const out = zeros([B, H * s, W * s, C]);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < H * s; y++)
      for (let xx = 0; xx < W * s; xx++) {
        const from = ((b * H + Math.floor(y / s)) * W + Math.floor(xx / s)) * C;
        out.data.set(x.data.subarray(from, from + C), ((b * H * s + y) * W * s + xx) * C);
      }
  return out;
}

/**
 * Transposed convolution, as PyTorch's ConvTranspose2d computes it: every input pixel scatters its
 * kernel-weighted copy into the output, then `pad` rows/columns are cropped from each side and
 * `outputPadding` extra ones kept at the bottom/right. x [B, H, W, Cin], w [KH, KW, Cin, Cout] →
 * [B, (H−1)·stride − 2·pad + KH + outputPadding, …, Cout].
 */
export function conv2dTranspose(x: ND, w: ND, stride: number, pad: number, outputPadding: number): ND {
  const [B, H, W] = x.shape;
  const [KH, KW, , CO] = w.shape;
  const OH = (H - 1) * stride - 2 * pad + KH + outputPadding;
  const OW = (W - 1) * stride - 2 * pad + KW + outputPadding;
  const out = zeros([B, OH, OW, CO], "a transposed convolution's output");
  transposeTaps(x.shape, out.shape, w.shape, stride, pad, (xi, wi, o) => convPair(x, w, out, xi, wi, o));
  return out;
}

/** {@link convTaps} of a transposed convolution: every input pixel scatters into the output pixels its kernel covers (those inside the cropped output). */
function transposeTaps(xShape: readonly number[], outShape: readonly number[], wShape: readonly number[], stride: number, pad: number, visit: (xi: number, wi: number, o: number) => void) {
  const [B, H, W, C] = xShape;
  const [, OH, OW] = outShape;
  const [KH, KW, , CO] = wShape;
  for (let b = 0; b < B; b++)
    for (let iy = 0; iy < H; iy++)
      for (let ix = 0; ix < W; ix++)
        for (let ky = 0; ky < KH; ky++) {
          const oy = iy * stride - pad + ky;
          if (oy < 0 || oy >= OH) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ox = ix * stride - pad + kx;
            if (ox >= 0 && ox < OW) visit(((b * H + iy) * W + ix) * C, (ky * KW + kx) * C * CO, ((b * OH + oy) * OW + ox) * CO);
          }
        }
}

// ───────────────── gradients of the image and normalisation kernels (the ops' gradient rules) ─────────────────

/**
 * The gradient of {@link conv2d}: ∂L/∂x and ∂L/∂w from ∂L/∂out `dy`. The forward's loops, each
 * product x·w in it sending dy back to both factors: dx[…, c] += dy[…, co]·w[…, c, co] and
 * dw[…, c, co] += x[…, c]·dy[…, co].
 */
export function conv2dBackward(x: ND, w: ND, dy: ND, stride: number, pad: number | "same" | "valid", dilation: number): [ND, ND] {
  const [dx, dw] = [zeros(x.shape), zeros(w.shape)];
  convTaps(x.shape, w.shape, stride, pad, dilation, (xi, wi, o) => convPairBackward(x, w, dy, dx, dw, xi, wi, o));
  return [dx, dw];
}

/** The gradient of {@link conv2dTranspose}: ∂L/∂x and ∂L/∂w from ∂L/∂out `dy`, over the forward's pairs. */
export function conv2dTransposeBackward(x: ND, w: ND, dy: ND, stride: number, pad: number): [ND, ND] {
  const [dx, dw] = [zeros(x.shape), zeros(w.shape)];
  transposeTaps(x.shape, dy.shape, w.shape, stride, pad, (xi, wi, o) => convPairBackward(x, w, dy, dx, dw, xi, wi, o));
  return [dx, dw];
}

/** The gradient of one {@link convPair}: out += x·w, so dx += w·dy and dw += x ⊗ dy. */
function convPairBackward(x: ND, w: ND, dy: ND, dx: ND, dw: ND, xi: number, wi: number, o: number) {
  const C = w.shape[2], CO = w.shape[3]; // not destructured from a slice: this runs once per pixel and tap
  for (let c = 0; c < C; c++) {
    const v = x.data[xi + c];
    let s = 0;
    for (let co = 0; co < CO; co++) {
      const g = dy.data[o + co];
      s += g * w.data[wi + c * CO + co];
      dw.data[wi + c * CO + co] += v * g;
    }
    dx.data[xi + c] += s;
  }
}

/**
 * The gradient of {@link pool}: max pooling sends each window's gradient to the position of its
 * maximum (the first one in row-major window order on ties, as PyTorch); average pooling spreads it
 * evenly over the window's positions inside the image (the padding is not counted, as in the forward).
 */
export function poolBackward(x: ND, dy: ND, kind: "max" | "avg", k: number, stride: number, pad: number | "same" | "valid"): ND {
  const dx = zeros(x.shape);
  poolWindows(x.shape, k, stride, pad, (inside, o) => {
    if (kind === "avg") for (const i of inside) dx.data[i] += dy.data[o] / inside.length;
    else if (inside.length > 0) {
      let arg = inside[0];
      for (const i of inside) if (x.data[i] > x.data[arg]) arg = i; // strictly greater: the first maximum
      dx.data[arg] += dy.data[o];
    }
  });
  return dx;
}

/** The gradient of {@link upsample}: each input pixel collects the gradients of its s×s copies. */
export function upsampleBackward(dy: ND, s: number): ND {
  const [B, SH, SW, C] = dy.shape;
  const [H, W] = [SH / s, SW / s];
  const dx = zeros([B, H, W, C]);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < SH; y++)
      for (let xx = 0; xx < SW; xx++) {
        const to = ((b * H + Math.floor(y / s)) * W + Math.floor(xx / s)) * C;
        const from = ((b * SH + y) * SW + xx) * C;
        for (let c = 0; c < C; c++) dx.data[to + c] += dy.data[from + c];
      }
  return dx;
}

/**
 * The gradient of normalising with the statistics of the data itself, then scaling by γ and shifting
 * by β (the last axis is the feature/channel axis, γ and β one per feature): per `"channel"` over all
 * other axes (batch norm in training), or per `"row"` over the last axis (layer norm). With
 * x̂ = (x − μ)/σ, σ = √(var + eps), g = dy·γ and means over the n values of a group:
 * ∂L/∂x = (g − mean(g) − x̂·mean(g·x̂))/σ (the mean and variance depend on x too), ∂L/∂γ = Σ dy·x̂, ∂L/∂β = Σ dy.
 */
export function normalizeBackward(x: ND, gamma: ND, dy: ND, eps: number, per: "channel" | "row"): [ND, ND, ND] {
  const C = x.shape[x.shape.length - 1];
  const R = x.data.length / C;
  const [groups, n] = per === "channel" ? [C, R] : [R, C];
  const group = per === "channel" ? (i: number) => i % C : (i: number) => Math.floor(i / C);
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let i = 0; i < x.data.length; i++) mean[group(i)] += x.data[i] / n;
  for (let i = 0; i < x.data.length; i++) variance[group(i)] += (x.data[i] - mean[group(i)]) ** 2 / n;
  const sigma = variance.map((v) => Math.sqrt(v + eps));
  const xhat = (i: number) => (x.data[i] - mean[group(i)]) / sigma[group(i)];
  const [sumG, sumGX] = [new Float64Array(groups), new Float64Array(groups)];
  const [dx, dgamma, dbeta] = [zeros(x.shape), zeros([C]), zeros([C])];
  for (let i = 0; i < x.data.length; i++) {
    const g = dy.data[i] * gamma.data[i % C];
    sumG[group(i)] += g;
    sumGX[group(i)] += g * xhat(i);
    dgamma.data[i % C] += dy.data[i] * xhat(i);
    dbeta.data[i % C] += dy.data[i];
  }
  for (let i = 0; i < x.data.length; i++) {
    const k = group(i);
    dx.data[i] = (dy.data[i] * gamma.data[i % C] - sumG[k] / n - xhat(i) * (sumGX[k] / n)) / sigma[k];
  }
  return [dx, dgamma, dbeta];
}
