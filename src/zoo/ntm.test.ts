/**
 * The NTM's addressing, memory writes and reads at every step against an independent plain-loop
 * implementation of Graves et al. (2014) §3 written here from the paper, with the model's own
 * parameters; both interpreters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ND } from "../lang/nd";
import { BACKENDS, affine, assertClose, cosines, sig, softmax, softplus } from "../../test/support/plain-loop";
import { ntm } from "./ntm";

/** One head's weighting (content, interpolation, shift, sharpening), from the paper. */
function head(p: Record<string, ND>, prefix: string, h: number[], M: number[][], wPrev: number[]) {
  const P = (n: string) => p[`ntm/${prefix}/${n}`];
  const k = affine(h, P("W_k"), P("b_k")).map(Math.tanh);
  const beta = softplus(affine(h, P("W_beta"), P("b_beta"))[0]);
  const g = sig(affine(h, P("W_g"), P("b_g"))[0]);
  const s = softmax(affine(h, P("W_s"), P("b_s")));
  const gamma = 1 + softplus(affine(h, P("W_gamma"), P("b_gamma"))[0]);
  const N = M.length;
  const wc = softmax(cosines(M, k).map((x) => beta * x));
  const wg = wc.map((x, i) => g * x + (1 - g) * wPrev[i]);
  const ws = wg.map((_, n) => s[0] * wg[(n + 1) % N] + s[1] * wg[n] + s[2] * wg[(n - 1 + N) % N]);
  const pw = ws.map((x) => Math.pow(x, gamma));
  const z = pw.reduce((a, b) => a + b, 0);
  return pw.map((x) => x / z);
}

test("NTM: every step's write and read weightings, memory and output equal a plain-loop NTM", async () => {
  const N = 6, W = 4, NI = 3;
  const net = ntm({ NInput: NI, NOutput: 2, N, W, NController: 5, seed: 2 });
  const T = 5;
  const x = [Array.from({ length: T }, (_, t) => Array.from({ length: NI }, (_, i) => ((t * 7 + i * 3) % 5) / 4))];
  const p = net.params;
  // The plain loop.
  let M = Array.from({ length: N }, () => new Array<number>(W).fill(1e-6));
  let r = new Array<number>(W).fill(0);
  let wr = [1, ...new Array<number>(N - 1).fill(0)];
  let ww = [...wr];
  const want = { ww: [] as number[], wr: [] as number[], M: [] as number[], y: [] as number[] };
  for (let t = 0; t < T; t++) {
    const h = affine([...x[0][t], ...r], p["ntm/controller/W"], p["ntm/controller/b"]).map(Math.tanh);
    ww = head(p, "write", h, M, ww);
    const e = affine(h, p["ntm/memory/W_e"], p["ntm/memory/b_e"]).map(sig);
    const a = affine(h, p["ntm/memory/W_a"], p["ntm/memory/b_a"]).map(Math.tanh);
    M = M.map((row, n) => row.map((m, i) => m * (1 - ww[n] * e[i]) + ww[n] * a[i]));
    wr = head(p, "read", h, M, wr);
    r = Array.from({ length: W }, (_, i) => M.reduce((s, row, n) => s + wr[n] * row[i], 0));
    const y = affine([...h, ...r], p["ntm/output/W"], p["ntm/output/b"]).map(sig);
    want.ww.push(...ww);
    want.wr.push(...wr);
    want.M.push(...M.flat());
    want.y.push(...y);
  }
  for (const [backend, tol] of BACKENDS) {
    const { outputs, trace } = await net.run({ x }, { backend });
    const close = (got: ArrayLike<number>, expected: number[], what: string) => assertClose(got, expected, tol, `${backend} ${what}`);
    close(trace.get("ntm/write/w").data, want.ww, "write weighting");
    close(trace.get("ntm/read/w").data, want.wr, "read weighting");
    close(trace.get("ntm/memory/M").data, want.M, "memory");
    close(outputs.y.data, want.y, "output");
  }
  // Weightings are distributions over the N slots at every step.
  const { trace } = await net.run({ x }, { backend: "reference" });
  const w = trace.get("ntm/read/w").data;
  for (let t = 0; t < T; t++) assert.ok(Math.abs(Array.from(w.subarray(t * N, (t + 1) * N)).reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test("NTM summary: memory [B, N, W] state, parameters counted once", () => {
  const net = ntm();
  const s = net.summary({ B: 1, SeqLen: 10 });
  assert.deepEqual(s.rows.map((r) => r.name), ["x", "ntm"]);
  assert.deepEqual(s.rows[1].shape, [1, 10, 8]);
  // controller (8+8)·32+32, two heads of (32·(8+1+1+3+1) + 8+1+1+3+1), erase and add 2·(32·8+8), output (32+8)·8+8
  const headParams = 32 * 14 + 14;
  assert.equal(s.totalParams, 16 * 32 + 32 + 2 * headParams + 2 * (32 * 8 + 8) + 40 * 8 + 8);
  assert.equal(ntm.meta.year, 2014);
});
