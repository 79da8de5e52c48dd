/**
 * The Dynamic NTM's read and LRU write weightings, its moving average of write logits, contents and
 * output at every step against an independent plain-loop implementation of Gulcehre et al. (2016)
 * written here from the paper, with the model's own parameters (its learned addresses included);
 * both interpreters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKENDS, affine, assertClose, cosines, sig, softmax, softplus } from "../../test/support/plain-loop";
import { ArchlabError } from "../errors";
import { dynamicNtm } from "./dynamic-ntm";

test("Dynamic NTM: every step's read and LRU write weightings, logit average, contents and output equal a plain-loop D-NTM", async () => {
  const N = 5, WA = 2, WC = 3, NI = 3, T = 7;
  const net = dynamicNtm({ NInput: NI, NOutput: 2, N, WAddress: WA, WContent: WC, NController: 6, seed: 4 });
  const P = (n: string) => net.params[`dynamicNtm/${n}`];
  // A strong LRU gate, so that avoiding recently written slots visibly moves the write.
  P("write/b_gamma").data.fill(2);
  const x = [Array.from({ length: T }, (_, t) => Array.from({ length: NI }, (_, i) => ((t * 5 + i * 3) % 7) / 6 - 0.4))];
  const A = Array.from({ length: N }, (_, i) => Array.from(P("A").data.subarray(i * WA, (i + 1) * WA)));

  // The plain loop (one batch row).
  let C = Array.from({ length: N }, () => new Array<number>(WC).fill(0));
  let h = new Array<number>(6).fill(0);
  let v = new Array<number>(N).fill(0);
  const want = { wr: [] as number[], ww: [] as number[], v: [] as number[], C: [] as number[], y: [] as number[] };
  let lruMoved = 0;
  for (let t = 0; t < T; t++) {
    const lin = (head: string, n: string, from: number[]) => affine(from, P(`${head}/W_${n}`), P(`${head}/b_${n}`));
    const M = A.map((a, i) => [...a, ...C[i]]);
    const z = (head: string, from: number[]) => {
      const beta = softplus(lin(head, "beta", from)[0]);
      return cosines(M, lin(head, "k", from)).map((c) => beta * c);
    };
    const wr = softmax(z("read", h));
    const r = Array.from({ length: WA + WC }, (_, j) => M.reduce((s, row, i) => s + wr[i] * row[j], 0));
    h = affine([...x[0][t], ...r], P("controller/W"), P("controller/b")).map(Math.tanh);
    const zw = z("write", h);
    const gamma = sig(lin("write", "gamma", h)[0]);
    const ww = softmax(zw.map((zi, i) => zi - gamma * v[i]));
    lruMoved = Math.max(lruMoved, ...ww.map((w, i) => Math.abs(w - softmax(zw)[i])));
    v = v.map((vi, i) => 0.1 * vi + 0.9 * zw[i]);
    const e = lin("memory", "e", h).map(sig);
    const c = lin("memory", "c", h).map((u) => Math.max(u, 0));
    C = C.map((row, i) => row.map((m, j) => m * (1 - ww[i] * e[j]) + ww[i] * c[j]));
    const y = affine(h, P("output/W"), P("output/b"));
    want.wr.push(...wr);
    want.ww.push(...ww);
    want.v.push(...v);
    want.C.push(...C.flat());
    want.y.push(...y);
  }
  assert.ok(lruMoved > 0.01, `the LRU term moves the write weighting (by ${lruMoved})`);

  for (const [backend, tol] of BACKENDS) {
    const { outputs, trace } = await net.run({ x }, { backend });
    const close = (got: ArrayLike<number>, expected: number[], what: string) => assertClose(got, expected, tol, `${backend} ${what}`);
    close(trace.get("dynamicNtm/read/w").data, want.wr, "read weighting");
    close(trace.get("dynamicNtm/write/w").data, want.ww, "write weighting");
    close(trace.get("dynamicNtm/write/v").data, want.v, "write logits' average");
    close(trace.get("dynamicNtm/memory/C").data, want.C, "contents");
    close(outputs.y.data, want.y, "output");
    // The addresses are the model's parameter at every step (in float32 on the fast path): never written.
    const M = trace.get("dynamicNtm/M");
    const exact = backend === "reference" ? (a: number) => a : Math.fround;
    for (let s = 0; s < T; s++) for (let i = 0; i < N; i++) for (let j = 0; j < WA; j++) assert.equal(M.data[(s * N + i) * (WA + WC) + j], exact(A[i][j]));
  }
  // Read and write weightings are distributions over the N slots at every step.
  const { trace } = await net.run({ x }, { backend: "reference" });
  for (const path of ["dynamicNtm/read/w", "dynamicNtm/write/w"]) {
    const w = Array.from(trace.get(path).data);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(w.slice(t * N, (t + 1) * N).reduce((a, b) => a + b, 0) - 1) < 1e-12 && w.every((p) => p >= 0), path);
  }
});

test("Dynamic NTM summary: learned addresses [N, WAddress] counted once; keys over address and content", () => {
  const net = dynamicNtm();
  const s = net.summary({ B: 1, SeqLen: 10 });
  assert.deepEqual(s.rows.map((r) => r.name), ["x", "dynamicNtm"]);
  assert.deepEqual(s.rows[1].shape, [1, 10, 8]);
  const [NI, NO, N, WA, WC, H] = [8, 8, 16, 4, 8, 32];
  const head = H * (WA + WC) + (WA + WC) + H + 1; // key and strength
  assert.equal(s.totalParams, N * WA + head + (NI + WA + WC) * H + H + head + (H + 1) + 2 * (H * WC + WC) + H * NO + NO);
  assert.deepEqual(net.params["dynamicNtm/A"].shape, [N, WA]);
  assert.deepEqual(dynamicNtm.meta.parents, ["ntm"]);
});

test("Dynamic NTM refuses sizes that are not whole numbers ≥ 1 (N ≥ 2), naming the option", () => {
  const bad = (o: object, name: string) => assert.throws(() => dynamicNtm(o), (e: unknown) => e instanceof ArchlabError && e.code === "bad-option" && new RegExp(`${name} of zoo\\.dynamicNtm`).test(e.message));
  bad({ WAddress: 0 }, "WAddress");
  bad({ WContent: "8" }, "WContent");
  bad({ N: 1 }, "N");
});
