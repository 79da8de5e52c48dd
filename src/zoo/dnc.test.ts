/**
 * The DNC's usage, allocation, write and read weightings, link matrix, memory and output at every
 * step against an independent plain-loop implementation of Graves et al. (2016), Methods, written
 * here from the paper — with the free list φ found by an actual sort — with the model's own
 * parameters; both interpreters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKENDS, affine, assertClose, cosines, sig, softmax, softplus } from "../../test/support/plain-loop";
import { ArchlabError } from "../errors";
import { dnc } from "./dnc";

const oneplus = (x: number) => 1 + softplus(x);
/** C(M, k, β): softmax over slots of β · cosine similarity. */
const contentWeighting = (M: number[][], k: number[], beta: number) => softmax(cosines(M, k).map((c) => beta * c));

/**
 * The paper's allocation: sort slots by usage (ε-lifted as in DeepMind's code), a[φ_j] = (1 − u[φ_j]) Π_{i<j} u[φ_i].
 * `key` is the usage as the interpreter tells values apart: float32 for the fast one.
 */
function allocate(usage: number[], key: (u: number) => number): number[] {
  const u = usage.map((x) => 1e-6 + (1 - 1e-6) * x);
  const phi = u.map((_, i) => i).sort((i, j) => key(u[i]) - key(u[j])); // stable: ties in slot order
  const a = new Array<number>(u.length).fill(0);
  let prod = 1;
  for (const j of phi) {
    a[j] = (1 - u[j]) * prod;
    prod *= u[j];
  }
  return a;
}

test("DNC: every step's usage, allocation, write and read weightings, links, memory and output equal a plain-loop DNC", async () => {
  const N = 5, W = 3, R = 2, NI = 3, NC = 6;
  const net = dnc({ NInput: NI, NOutput: 2, N, W, R, NController: NC, seed: 3 });
  const T = 7;
  const x = [Array.from({ length: T }, (_, t) => Array.from({ length: NI }, (_, i) => ((t * 7 + i * 3) % 5) / 4 - 0.3))];
  const p = net.params;
  // Gates biased open, so that allocation and freeing matter: the free gates open, allocation is
  // preferred to content, and the write gate is mostly on.
  const P = (n: string) => p[`dnc/${n}`];
  P("usage/b_f").data.fill(1);
  P("write/b_ga").data.fill(1);
  P("write/b_gw").data.fill(2);

  /**
   * The plain loop (one batch row). The float32 interpreter cannot tell apart usages closer than
   * float32's resolution — after the first step the unused slots' usages differ only by the
   * allocation's ε² … ε^N tail — so for it the free list sorts the usages as float32.
   */
  const plainLoop = (key: (u: number) => number) => {
    let M = Array.from({ length: N }, () => new Array<number>(W).fill(0));
    let r = Array.from({ length: R }, () => new Array<number>(W).fill(0));
    let wr = Array.from({ length: R }, () => new Array<number>(N).fill(0));
    let ww = new Array<number>(N).fill(0);
    let u = new Array<number>(N).fill(0);
    let prec = new Array<number>(N).fill(0);
    let L = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    const want = { u: [] as number[], a: [] as number[], ww: [] as number[], M: [] as number[], L: [] as number[], p: [] as number[], wr: [] as number[], y: [] as number[] };
    for (let t = 0; t < T; t++) {
      const h = affine([...x[0][t], ...r.flat()], P("controller/W"), P("controller/b")).map(Math.tanh);
      const lin = (n: string) => affine(h, P(`${n.replace("/", "/W_")}`), P(`${n.replace("/", "/b_")}`));
      // Usage (with the previous step's write and read weightings).
      const f = lin("usage/f").map(sig);
      const psi = Array.from({ length: N }, (_, n) => wr.reduce((s, w, i) => s * (1 - f[i] * w[n]), 1));
      u = u.map((x, n) => (x + ww[n] - x * ww[n]) * psi[n]);
      const a = allocate(u, key);
      // Write weighting.
      const kw = lin("write/k");
      const bw = oneplus(lin("write/beta")[0]);
      const ga = sig(lin("write/ga")[0]);
      const gw = sig(lin("write/gw")[0]);
      const cw = contentWeighting(M, kw, bw);
      ww = a.map((ai, n) => gw * (ga * ai + (1 - ga) * cw[n]));
      // Erase and add.
      const e = lin("memory/e").map(sig);
      const v = lin("memory/v");
      M = M.map((row, n) => row.map((m, i) => m * (1 - ww[n] * e[i]) + ww[n] * v[i]));
      // Link matrix (with the previous precedence), then precedence.
      L = L.map((row, i) => row.map((l, j) => (i === j ? 0 : (1 - ww[i] - ww[j]) * l + ww[i] * prec[j])));
      const written = ww.reduce((s, x) => s + x, 0);
      prec = prec.map((q, n) => (1 - written) * q + ww[n]);
      // Read heads: modes backward, content, forward.
      const kr = lin("read/k");
      const br = lin("read/beta").map(oneplus);
      const pi = lin("read/pi");
      wr = wr.map((wPrev, i) => {
        const modes = softmax(pi.slice(3 * i, 3 * i + 3));
        const c = contentWeighting(M, kr.slice(W * i, W * (i + 1)), br[i]);
        const fwd = L.map((row) => row.reduce((s, l, j) => s + l * wPrev[j], 0));
        const bwd = L.map((_, n) => L.reduce((s, row, j) => s + row[n] * wPrev[j], 0));
        return c.map((cn, n) => modes[0] * bwd[n] + modes[1] * cn + modes[2] * fwd[n]);
      });
      r = wr.map((w) => Array.from({ length: W }, (_, i) => M.reduce((s, row, n) => s + w[n] * row[i], 0)));
      const y = affine([...h, ...r.flat()], P("output/W"), P("output/b"));
      want.u.push(...u);
      want.a.push(...a);
      want.ww.push(...ww);
      want.M.push(...M.flat());
      want.L.push(...L.flat());
      want.p.push(...prec);
      want.wr.push(...wr.flat());
      want.y.push(...y);
    }
    return want;
  };
  // The run exercises what it tests: slots get allocated in turn, links form.
  const want64 = plainLoop((v) => v);
  assert.ok(Math.max(...want64.a) > 0.5 && Math.max(...want64.L) > 0.05, "allocation and links are exercised");

  for (const [backend, tol] of BACKENDS) {
    const { outputs, trace } = await net.run({ x }, { backend });
    const want = backend === "reference" ? want64 : plainLoop(Math.fround);
    const close = (got: ArrayLike<number>, expected: number[], what: string) => assertClose(got, expected, tol, `${backend} ${what}`);
    close(trace.get("dnc/usage/u").data, want.u, "usage");
    close(trace.get("dnc/write/a").data, want.a, "allocation weighting");
    close(trace.get("dnc/write/w").data, want.ww, "write weighting");
    close(trace.get("dnc/memory/M").data, want.M, "memory");
    close(trace.get("dnc/link/L").data, want.L, "link matrix");
    close(trace.get("dnc/link/p").data, want.p, "precedence");
    close(trace.get("dnc/read/w").data, want.wr, "read weightings");
    close(outputs.y.data, want.y, "output");
  }
});

test("DNC: weightings stay in the paper's simplex (≥ 0, Σ ≤ 1); content weightings and read modes sum to 1", async () => {
  const N = 6, R = 2, T = 6;
  const net = dnc({ NInput: 2, NOutput: 2, N, W: 4, R, NController: 8, seed: 5 });
  const x = [0, 1].map((b) => Array.from({ length: T }, (_, t) => [Math.sin(t + b), Math.cos(2 * t - b)]));
  const { trace } = await net.run({ x }, { backend: "reference" });
  const rows = (path: string, n: number) => {
    const d = Array.from(trace.get(path).data);
    return Array.from({ length: d.length / n }, (_, i) => d.slice(i * n, (i + 1) * n));
  };
  const sumOf = (v: number[]) => v.reduce((a, b) => a + b, 0);
  for (const path of ["dnc/write/a", "dnc/write/w", "dnc/read/w", "dnc/link/p", "dnc/read/f", "dnc/read/b"])
    for (const w of rows(path, N)) assert.ok(w.every((v) => v >= 0) && sumOf(w) <= 1 + 1e-12, `${path}: ${w}`);
  for (const path of ["dnc/write/c", "dnc/read/c"]) for (const w of rows(path, N)) assert.ok(Math.abs(sumOf(w) - 1) < 1e-12, path);
  for (const w of rows("dnc/read/π", 3)) assert.ok(Math.abs(sumOf(w) - 1) < 1e-12, "read modes");
  // Usage stays in [0, 1]; the link matrix has a zero diagonal.
  assert.ok(Array.from(trace.get("dnc/usage/u").data).every((v) => v >= 0 && v <= 1));
  for (const L of rows("dnc/link/L", N * N)) for (let i = 0; i < N; i++) assert.equal(L[i * N + i], 0);
  // With nothing used yet, the first allocation goes to slot 0 (the stable sort's first of equals).
  assert.ok(rows("dnc/write/a", N)[0][0] > 0.999);
});

test("DNC summary: R read heads, parameters of the paper's interface (RW + 5R + 3W + 3 per controller unit, plus biases)", () => {
  const net = dnc();
  const s = net.summary({ B: 1, SeqLen: 10 });
  assert.deepEqual(s.rows.map((r) => r.name), ["x", "dnc"]);
  assert.deepEqual(s.rows[1].shape, [1, 10, 8]);
  const [NI, NO, W, R, H] = [8, 8, 8, 2, 32];
  const iface = R * W + 5 * R + 3 * W + 3;
  assert.equal(s.totalParams, (NI + R * W) * H + H + iface * (H + 1) + (H + R * W) * NO + NO);
  assert.deepEqual(dnc.meta.parents, ["ntm"]);
  assert.equal(dnc.meta.family, "memory");
});

test("DNC refuses sizes that are not whole numbers ≥ 1 (N ≥ 2), naming the option", () => {
  const bad = (o: object, name: string) => assert.throws(() => dnc(o), (e: unknown) => e instanceof ArchlabError && e.code === "bad-option" && new RegExp(`${name} of zoo\\.dnc`).test(e.message));
  bad({ R: 0 }, "R");
  bad({ N: 1 }, "N");
  bad({ W: 2.5 }, "W");
});
