/**
 * The teaching notebooks, as a teacher meets them: executed top to bottom on the installed archlab
 * kernel by Jupyter's own nbclient (Debian's python3-nbclient), then rendered by JupyterLab's own
 * renderers in headless Chromium, trusted and untrusted. Any error output, or any output Lab would
 * not show as meant, fails.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type * as RenderModule from "./render/render";

const ROOT = join(__dirname, "..");
const NOTEBOOKS = join(ROOT, "notebooks");
const names = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort();
const work = mkdtempSync(join(tmpdir(), "archlab-notebooks-"));
const prefix = join(work, "prefix");
const env = { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter"), JUPYTER_DATA_DIR: join(work, "data"), JUPYTER_RUNTIME_DIR: join(work, "runtime") };

/** Executes a notebook with nbclient on the archlab kernel; returns the executed notebook's path. */
function execute(name: string): string {
  const source = join(work, name);
  copyFileSync(join(NOTEBOOKS, name), source);
  const out = join(work, name.replace(/\.ipynb$/, ".executed.ipynb"));
  const script = `
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, kernel_name="archlab", timeout=600, allow_errors=True, resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
`;
  execFileSync("/usr/bin/python3", ["-c", script, source, out, work], { env, stdio: ["ignore", "inherit", "inherit"], timeout: 900_000 });
  return out;
}

describe("the teaching notebooks", () => {
  let renderer: RenderModule.Renderer;
  const executed = new Map<string, string>();

  before(async () => {
    execFileSync(process.execPath, [join(ROOT, "dist", "kernel", "cli.js"), "install", "--prefix", prefix], { env, stdio: "ignore" });
    const render: typeof RenderModule = await import("./render/render.js");
    renderer = await render.openRenderer();
  });
  after(async () => renderer?.close());

  test("there are the lessons", () => {
    assert.deepEqual(
      names.map((n) => n.slice(0, 2)),
      ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"],
    );
  });

  for (const name of names) {
    test(`${name} is committed with its outputs and no errors`, () => {
      const nb = JSON.parse(readFileSync(join(NOTEBOOKS, name), "utf8"));
      assert.equal(nb.metadata.kernelspec?.name, "archlab");
      const code = nb.cells.filter((c: any) => c.cell_type === "code");
      assert.ok(code.length > 0);
      for (const [k, c] of code.entries()) {
        assert.equal(c.execution_count, k + 1, `code cell ${k + 1} was executed, in order`);
        assert.ok(!c.outputs.some((o: any) => o.output_type === "error"), `code cell ${k + 1} has an error output`);
      }
      assert.ok(code.filter((c: any) => c.outputs.length > 0).length >= code.length / 2, "most cells show something");
    });

    test(`${name} runs top to bottom on the archlab kernel through nbclient without an error`, () => {
      const out = execute(name);
      executed.set(name, out);
      const nb = JSON.parse(readFileSync(out, "utf8"));
      const code = nb.cells.filter((c: any) => c.cell_type === "code");
      const errors = code.flatMap((c: any, k: number) =>
        c.outputs.filter((o: any) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr")).map((o: any) => `cell ${k + 1}: ${o.ename ?? "stderr"}: ${o.evalue ?? o.text}`),
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(code.map((c: any) => c.execution_count), code.map((_: unknown, k: number) => k + 1));
    });

    for (const trusted of [true, false]) {
      test(`${name} renders in JupyterLab's renderers, ${trusted ? "trusted" : "untrusted"}: every output shows what it should`, async () => {
        const path = executed.get(name);
        assert.ok(path && existsSync(path), "the notebook was executed first");
        const result = await renderer.render(path, { trusted });
        const problems = result.outputs.flatMap((o) => o.problems.map((p) => `cell ${o.cell}: ${p.check}: ${p.message}`));
        assert.deepEqual(problems, []);
        assert.ok(result.outputs.length > 0);
      });
    }
  }

  test("06-your-own-cell.ipynb shows what its text promises: the named error, and the CSV as rows", () => {
    const { shown } = cellsOf(executed.get("06-your-own-cell.ipynb"));
    assert.match(shown('name: "Broken"'), /^ArchlabError: Cell definition "Broken": add "sum" mixes sizes In \("x"\) and H/);
    const rows = shown("trace.toCSV(").split("\n");
    assert.equal(rows[0], "name,role,t,b,unit,value");
    assert.equal(rows.length, 6);
    for (const row of rows.slice(1)) assert.match(row, /^a,gate,0,0,\d,0\.\d+$/);
  });

  for (const which of ["committed", "executed"] as const)
    test(`09-training-an-lstm.ipynb (${which}) shows what its text promises: it learns the adding problem; the memory unit's input gate opens at the marks, its forget gate holds`, () => {
      const name = "09-training-an-lstm.ipynb";
      checkTrainingNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`11-reservoirs.ipynb (${which}) shows what its text promises: recurrence only in the ESN and LSM, only readouts trained; the ESN remembers, the ELM recalls only the present`, () => {
      const name = "11-reservoirs.ipynb";
      checkReservoirsNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`12-time-and-language-rnns.ipynb (${which}) shows what its text promises: the reference's shapes, one tied matrix; trained below the unigram entropy; it writes words of the page`, () => {
      const name = "12-time-and-language-rnns.ipynb";
      checkLanguageRnnNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`14-attention.ipynb (${which}) shows what its text promises: reversal learned to 90% token accuracy, the anti-diagonal alignment, GNMT's bidirectional and residual layers`, () => {
      const name = "14-attention.ipynb";
      checkAttentionNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`17-generative.ipynb (${which}) shows what its text promises: the ELBO's terms before training, the VAE's loss halved and its KL term grown, the GAN near its equilibrium with its samples on the modes`, () => {
      const name = "17-generative.ipynb";
      checkGenerativeNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`19-genealogy.ipynb (${which}) shows what its text promises: the chart inline, CapsNet's 8 215 568 parameters, flat routing with the initial transforms and sharpening routing with larger ones`, () => {
      const name = "19-genealogy.ipynb";
      checkGenealogyNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });

  for (const which of ["committed", "executed"] as const)
    test(`18-gradient-tricks.ipynb (${which}) shows what its text promises: the reversal multiplies by −λ; DANN beats source-only on every seed; DNI learns, more slowly than backprop; RAM learns where to look`, () => {
      const name = "18-gradient-tricks.ipynb";
      checkGradientTricksNotebook(cellsOf(which === "committed" ? join(NOTEBOOKS, name) : executed.get(name)));
    });
});

/** Every claim the text of notebook 18 makes, checked on the numbers it shows. */
function checkGradientTricksNotebook({ shown }: ReturnType<typeof cellsOf>) {
  // The reversal: ∂L_d/∂f is −λ = −0.5 times ∂L_d/∂R(f), element by element.
  const ratios = shown("probe.backward(").match(/ratio\s+(.*)/)![1].trim().split(/\s+/).filter((v) => v !== "—").map(Number);
  assert.ok(ratios.length > 0 && ratios.every((r) => r === -0.5), `ratios ${ratios}`);
  // DANN: per seed, the target accuracy with λ = 0.5 beats λ = 0 by 2 to 10 points; the source stays at or near 100%.
  const dann = [...shown("dannRuns.push(").matchAll(/seed (\d), λ = ([\d.]+): source accuracy ([\d.]+)%, target accuracy ([\d.]+)%/g)].map((m) => ({ seed: m[1], lambda: Number(m[2]), source: Number(m[3]), target: Number(m[4]) }));
  assert.equal(dann.length, 6);
  for (const seed of ["1", "2", "3"]) {
    const [without, withReversal] = [0, 0.5].map((l) => dann.find((d) => d.seed === seed && d.lambda === l)!);
    const gain = withReversal.target - without.target;
    assert.ok(gain >= 2 && gain <= 10, `seed ${seed}: gain ${gain} points`);
    assert.ok(withReversal.source >= 95 && without.source >= 98, `seed ${seed}: source accuracies`);
  }
  // DNI learns without true gradients across layers, but ends behind backprop.
  const dni = Object.fromEntries([...shown("trainDni(").matchAll(/^(.*): loss ([\d.]+), training accuracy ([\d.]+)%/gm)].map((m) => [m[1], { loss: Number(m[2]), accuracy: Number(m[3]) }]));
  const [bp, sg] = [dni.backprop, dni["DNI (synthetic gradients)"]];
  assert.ok(bp && sg && sg.loss < 0.66 && sg.accuracy >= 70 && bp.loss < sg.loss && bp.accuracy >= sg.accuracy, JSON.stringify(dni));
  // RAM: trained well above the untrained model and chance (25%).
  const ram = shown("zoo.trainRam(").match(/untrained ([\d.]+)%, trained ([\d.]+)%/)!;
  assert.ok(Number(ram[2]) >= 60 && Number(ram[2]) > Number(ram[1]) + 25, ram[0]);
}

/** A notebook's code cells, found by a piece of their source: what they show as text, and their outputs. */
function cellsOf(path: string | undefined) {
  assert.ok(path && existsSync(path), "the notebook was executed first");
  const code: { source: string | string[]; outputs: any[] }[] = JSON.parse(readFileSync(path, "utf8")).cells.filter((c: any) => c.cell_type === "code");
  const text = (v: string | string[]) => (Array.isArray(v) ? v.join("") : v);
  const outputs = (needle: string) => {
    const found = code.find((c) => text(c.source).includes(needle));
    assert.ok(found, `a cell with ${needle}`);
    return found.outputs;
  };
  const textOf = (found: readonly any[]) => found.map((o) => text(o.text ?? o.data?.["text/plain"] ?? "")).join("");
  const shown = (needle: string) => textOf(outputs(needle));
  /** What every cell with the needle shows, in order. */
  const every = (needle: string) => code.filter((c) => text(c.source).includes(needle)).map((c) => textOf(c.outputs));
  return { outputs, shown, every };
}

/** Every claim the text of notebook 09 makes, checked on the numbers it shows. */
function checkTrainingNotebook({ outputs, shown, every }: ReturnType<typeof cellsOf>) {
  const number = (text: string, pattern: RegExp) => {
    const m = text.match(pattern);
    assert.ok(m, `${pattern} in ${text}`);
    return Number(m[1]);
  };
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  // The live chart, as training left it: the loss hovers around 0.17 for ~200 steps, then falls below 0.01.
  const chart = outputs("await train(").find((o) => o.output_type === "display_data")?.data["application/vnd.vegalite.v5+json"];
  assert.equal(chart?.title.text, "training on adding");
  assert.match(chart.title.subtitle, /^step 600\/600 · loss \S+ · [\d.]+ steps\/s · done in /);
  const losses: { step: number; loss: number }[] = chart.data.values;
  const early = mean(losses.filter((p) => p.step > 10 && p.step <= 200).map((p) => p.loss));
  assert.ok(early > 0.12 && early < 0.22, `the first 200 steps hover around 0.17: ${early}`);
  assert.ok(mean(losses.filter((p) => p.step > 500).map((p) => p.loss)) < 0.01, "the last 100 steps are below 0.01");
  const test = shown("LOSSES.mse(");
  assert.ok(number(test, /test MSE ([\d.]+)/) < 0.01, test);
  const guess = number(test, /always answering 1: ([\d.]+)/);
  assert.ok(guess > 0.14 && guess < 0.2, test);
  // One unit's readout weight is far larger than any other's, and its last h follows the target.
  const weights = [...shown("model.head.weight").matchAll(/unit +(\d+): W = (-?[\d.]+)/g)].map((m) => ({ unit: Number(m[1]), w: Number(m[2]) }));
  assert.ok(Math.abs(weights[0].w) >= 2 * Math.abs(weights[1].w), `the first readout weight stands out: ${JSON.stringify(weights)}`);
  const memory = weights[0].unit;
  const r = shown("correlation");
  assert.match(r, new RegExp(`unit ${memory} with the target`));
  assert.ok(Math.abs(number(r, /r = (-?[\d.]+)/)) > 0.9, r);
  // Over the 500 test sequences: its input gate open at the marks and shut elsewhere, its forget gate near 1; the others do neither.
  const table = shown("function gates(");
  const [iMarks, iElsewhere, f] = table.match(new RegExp(`unit ${memory} \\(memory\\) +([\\d.]+) +([\\d.]+) +([\\d.]+)`))!.slice(1).map(Number);
  assert.ok(iMarks > 0.5 && iElsewhere < 0.2 && f >= 0.9, table);
  const [oMarks, oElsewhere, oF] = table.match(/other units \(mean\) +([\d.]+) +([\d.]+) +([\d.]+)/)!.slice(1).map(Number);
  assert.ok(Math.abs(oMarks - oElsewhere) < 0.25 && oF < 0.8, table);
  // Stepping through sequence 0: before the first mark, at it, just before the second, at it, the last step.
  const moves = every("\nat()").map((line) => {
    const m = line.match(/^'?step (\d+)( \(marked\))?: value [\d.]+, i = ([\d.]+), f = ([\d.]+), c = (-?[\d.]+)/);
    assert.ok(m, line);
    return { t: Number(m[1]), marked: !!m[2], i: Number(m[3]), f: Number(m[4]), c: Number(m[5]), line };
  });
  assert.equal(moves.length, 4);
  const [before, first, held, second] = moves;
  assert.ok(!before.marked && before.i < 0.2, `shut before the first mark: ${before.line}`);
  assert.ok(first.marked && first.t === before.t + 1 && first.i > 0.5 && Math.abs(first.c - before.c) > 0.05, `opens at the first mark and c changes: ${first.line}`);
  assert.ok(!held.marked && held.i < 0.2 && held.f > 0.9 && Math.abs(held.c - first.c) < 0.05, `f has held c since the first mark: ${held.line}`);
  assert.ok(second.marked && second.t === held.t + 1 && second.i > 0.5 && Math.abs(second.c - held.c) > 0.05, `opens at the second mark and c changes: ${second.line}`);
  const end = shown("s.seek(T - 1)");
  const [prediction, target] = [number(end, /prediction (-?[\d.]+)/), number(end, /target (-?[\d.]+)/)];
  assert.ok(Math.abs(prediction - target) < 0.1, end);
  // The heatmap of sequence 0: the memory unit's i lights up at the two marks only, its f is near 1 from the first mark on.
  const panels: any[] = outputs("await plot.heatmap(")[0].data["application/vnd.vegalite.v5+json"].vconcat;
  const row = (title: string) => panels.find((p) => p.title.startsWith(title)).layer[0].data.values.filter((v: any) => v.unit === memory).sort((p: any, q: any) => p.t - q.t).map((v: any) => v.value);
  const [i, forget] = [row("i —"), row("f —")];
  const marks = [first.t, second.t];
  const lowest = Math.min(...marks.map((t) => i[t]));
  assert.ok(lowest > 0.5 && i.every((v: number, t: number) => marks.includes(t) || v < lowest / 2), `i of unit ${memory}: ${i}`);
  assert.ok(forget.slice(first.t).every((v: number) => v >= 0.9), `f of unit ${memory}: ${forget}`);
}

/** Every claim the text of notebook 11 makes, checked on what it shows. */
function checkReservoirsNotebook({ outputs, shown }: ReturnType<typeof cellsOf>) {
  // The three diagrams side by side: red "t+1" recurrence edges — one in the ESN (h), none in the ELM, three in the LSM (v, s, r).
  const raw: string | string[] = outputs("sideBySide([esn, elm, lsm])")[0].data["text/html"];
  const html = Array.isArray(raw) ? raw.join("") : raw;
  const svgs = [...html.matchAll(/src="data:image\/svg\+xml;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], "base64").toString("utf8"));
  assert.equal(svgs.length, 3);
  assert.deepEqual(svgs.map((svg) => (svg.match(/>t\+1</g) ?? []).length), [1, 0, 3]);
  // Only the readouts' 101 parameters are trainable; 10 200, 200 and 10 200 frozen.
  const summaries = shown("m.summary(");
  assert.deepEqual([...summaries.matchAll(/Trainable params: ([\d,]+)/g)].map((m) => m[1]), ["101", "101", "101"]);
  assert.deepEqual([...summaries.matchAll(/Non-trainable params: ([\d,]+)/g)].map((m) => m[1]), ["10,200", "200", "10,200"]);
  // The capacity chart's curves (every delay 0…40) and the printed totals.
  const chart = outputs("Memory capacity: recall")[0].data["application/vnd.vegalite.v5+json"];
  const curve = (model: string) => chart.data.values.filter((v: any) => v.model === model).sort((p: any, q: any) => p.k - q.k).map((v: any) => v.r2 as number);
  const [small, large, elm] = [curve("ESN, input scale 0.1"), curve("ESN, input scale 1"), curve("ELM")];
  assert.equal(elm.length, 41);
  assert.ok(elm[0] > 0.99 && elm.slice(1).every((r: number) => r < 0.02), `the ELM recalls u[t] and nothing before it: ${elm}`);
  assert.ok(small.slice(0, 11).every((r: number) => r >= 0.99), `the small-input ESN recalls the last ten inputs almost perfectly: ${small}`);
  assert.ok(small[5] > elm[5] + 0.9 && small[40] < 0.05, `it remembers where the ELM does not, and forgets by k = 40: ${small}`);
  const printed = shown("memory capacity MC").split("\n");
  const lineOf = (start: string) => printed.find((l) => l.startsWith(start)) ?? assert.fail(`a line "${start}…" in ${printed.join("\n")}`);
  const totals = lineOf("memory capacity MC");
  const mc = (label: string) => Number(totals.match(new RegExp(`${label} ([\\d.]+)`))![1]);
  const [mcSmall, mcLarge, mcElm] = [mc("ESN, input scale 0.1"), mc("ESN, input scale 1"), mc("ELM")];
  const sum = (c: number[]) => c.slice(1).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(mcSmall - sum(small)) < 0.06 && Math.abs(mcLarge - sum(large)) < 0.06 && Math.abs(mcElm - sum(elm)) < 0.06, totals);
  assert.ok(mcSmall > 20 && mcSmall < 22 && mcSmall <= 50, `about 21, under N = 50: ${totals}`);
  assert.ok(mcLarge > 0.4 * mcSmall && mcLarge < 0.6 * mcSmall, `larger inputs: about half: ${totals}`);
  assert.ok(mcElm < 0.1, `the ELM's capacity is about 0: ${totals}`);
  const slopes = lineOf("mean tanh slope");
  const slope = (scale: string) => Number(slopes.match(new RegExp(`input scale ${scale} ([\\d.]+)`))![1]);
  assert.ok(slope("0.1") >= 0.99 && slope("1") > 0.85 && slope("1") < 0.95, `the units' mean slope: 0.99, then about 0.9: ${slopes}`);
}

/** The chart data of a cell's Vega-Lite output whose title includes `title`. */
function chartValues(found: readonly any[], title: string): any[] {
  const spec = found.map((o) => o.data?.["application/vnd.vegalite.v5+json"]).find((s) => s && String(s.title).includes(title));
  assert.ok(spec, `a chart titled "${title}…"`);
  return spec.data.values;
}

/** Every claim the text of notebook 17 makes, checked on what it shows. */
function checkGenerativeNotebook({ outputs, shown }: ReturnType<typeof cellsOf>) {
  // Before training: the reconstruction term near 784 ln 2, the KL term small.
  const first = shown("const vaeRun = await vae.run");
  const [recon, kl] = [/reconstruction ([\d.]+)/, /KL ([\d.]+)/].map((r) => Number(first.match(r)![1]));
  assert.ok(Math.abs(recon - 784 * Math.LN2) < 0.05 * 784 * Math.LN2 && kl < 5, first);
  // Training lowers the loss by more than half; the KL term grows from about 0.
  const trained = shown("optimizer.step(");
  const [from, to] = trained.match(/loss (\d+) → (\d+) nats/)!.slice(1).map(Number);
  assert.ok(from > 500 && to < 0.5 * from, trained);
  const klCurve = chartValues(outputs("optimizer.step("), "VAE training").filter((h) => h.term === "kl");
  assert.ok(klCurve[0].nats < 1 && klCurve[klCurve.length - 1].nats > 2, `KL ${klCurve[0].nats} → ${klCurve[klCurve.length - 1].nats}`);
  // The 1s and the 0s at opposite ends of the latent plane after training.
  const mus = chartValues(outputs("const encoded ="), "after training");
  const centre = (d: string) => ["z1", "z2"].map((k) => mus.filter((p) => p.digit === d).reduce((s, p) => s + p[k], 0) / mus.filter((p) => p.digit === d).length);
  const all = ["z1", "z2"].map((k) => mus.reduce((s, p) => s + p[k], 0) / mus.length);
  const spread = mus.reduce((s, p) => s + Math.hypot(p.z1 - all[0], p.z2 - all[1]), 0) / mus.length;
  assert.ok(Math.hypot(centre("0")[0] - centre("1")[0], centre("0")[1] - centre("1")[1]) > 2 * spread, "0s and 1s apart");
  assert.match(shown("const dec = zoo.vae"), /36 of 36 channels/);
  // The GAN: near the equilibrium after training, on the modes.
  const after = shown("optD.step(");
  const lossD = Number(after.match(/lossD ([\d.]+)/)![1]);
  const [dReal, dFake] = [/mean D\(x\) ([\d.]+)/, /mean D\(G\(z\)\) ([\d.]+)/].map((r) => Number(after.match(r)![1]));
  assert.ok(Math.abs(lossD - 2 * Math.LN2) < 0.15 && Math.abs(dReal - 0.5) < 0.1 && Math.abs(dFake - 0.5) < 0.1, after);
  const points = chartValues(outputs("optD.step("), "four Gaussians");
  const nearMode = (p: any) => [0, 1, 2, 3].some((k) => Math.hypot(p.x - 2 * Math.cos((k * Math.PI) / 2), p.y - 2 * Math.sin((k * Math.PI) / 2)) < 0.5);
  const share = (series: string) => points.filter((p) => p.series === series && nearMode(p)).length / points.filter((p) => p.series === series).length;
  assert.ok(share("G(z) before") === 0 && points.filter((p) => p.series === "G(z) before").every((p) => Math.hypot(p.x, p.y) < 1), "a blob near the origin before training");
  assert.ok(share("G(z) after") > 0.5, `most points on the modes after training: ${share("G(z) after")}`);
}

/** Every claim the text of notebook 19 makes, checked on what it shows. */
function checkGenealogyNotebook({ outputs, shown }: ReturnType<typeof cellsOf>) {
  const chart = outputs("zoo.genealogy()")[0].data;
  assert.match([chart["text/html"]].flat().join(""), /<img src="data:image\/svg\+xml;base64,/);
  for (const entry of ["zoo.capsNet", "zoo.vae", "zoo.gan", "zoo.ntm", "zoo.esn"]) assert.ok([chart["text/plain"]].flat().join("").includes(`${entry}:`), entry);
  assert.match(shown("caps.summary"), /Total params: 8,215,568/);
  const spreads = (text: string) => text.match(/after iterations 1, 2, 3: ([^\n]+)/)![1].split(", ").map(Number);
  const initial = spreads(shown("const initial ="));
  assert.ok(initial.every((v) => v < 1e-3), `the couplings stay at 1/10: ${initial}`);
  const scaled = spreads(shown("*= 100"));
  assert.ok(scaled[0] < 1e-3 && scaled[1] > 0.1 && scaled[2] > scaled[1], `routing sharpens: ${scaled}`);
  assert.deepEqual(outputs("*= 100").filter((o) => o.data).map((o) => [o.data["text/plain"]].flat().join("")), [1, 2, 3].map((r) => `Matrix routing${r}/c [1152 × 10]`));
}

/** Every claim the text of notebook 12 makes, checked on what it shows. */
function checkLanguageRnnNotebook({ shown }: ReturnType<typeof cellsOf>) {
  // The reference's shapes; the tied embedding counted once (1000·64 + 2 layers · (2·64² + 2·64)).
  const time = shown("timeRnn.summary(");
  for (const shape of ["[1, 7, 8]", "[1, 7, 32]", "[1, 7, 4]"]) assert.ok(time.includes(shape), `TimeRNN summary shows ${shape}: ${time}`);
  const nlp = shown("nlpRnn.summary(");
  assert.ok(nlp.includes("[1, 7, 1000]") && /Total params: 80,640/.test(nlp), nlp);
  // Untrained ≈ log₂ V; trained below the text's unigram entropy.
  const start = shown("const before = await bits()");
  const [, V, untrained, log2V, unigram] = start.match(/(\d+) characters; untrained: ([\d.]+) bits\/char \(log₂ V = ([\d.]+)\); unigram entropy of the text ([\d.]+)/)!.map(Number);
  assert.ok(V > 30 && Math.abs(untrained - log2V) < 0.3, start);
  const end = shown("const after = await bits()");
  const after = Number(end.match(/([\d.]+) after/)![1]);
  assert.ok(after < unigram - 0.5, `trained below the unigram entropy ${unigram}: ${end}`);
  // Words of the page come back: over half of the greedy text's words, over a third of the sampled text's.
  const words = shown("words of the page:");
  const [greedy, sampled] = [...words.matchAll(/(\d+) of (\d+)/g)].map(([, real, all]) => Number(real) / Number(all));
  assert.ok(greedy > 0.5 && sampled > 1 / 3, words);
  assert.match(shown("`trained to"), /^'?trained to [\d.]+ bits\/char in \d+ s/);
}

/** Every claim the text of notebook 14 makes, checked on what it shows. */
function checkAttentionNotebook({ outputs, shown }: ReturnType<typeof cellsOf>) {
  const result = shown("const trained = await testAccuracy()");
  const [, chance, trained] = result.match(/([\d.]+)% untrained, ([\d.]+)% after/)!.map(Number);
  assert.ok(chance < 30 && trained >= 90, result);
  assert.match(result, /90% first reached at step \d+, after \d+ s/);
  const greedy = shown("const decoded = await decode(");
  assert.ok(Number(greedy.match(/([\d.]+)% of tokens right/)![1]) >= 80, greedy);
  // The alignment: every target step's mean weight on its mirror-image source step is most of the weight.
  const mirror = [...shown("const onMirror").matchAll(/mean α ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.equal(mirror.length, 8);
  assert.ok(mirror.every((w) => w > 0.5), `mean α on the anti-diagonal: ${mirror}`);
  assert.ok(outputs("\"decoder/alpha\"").length > 0, "the attention matrix is plotted");
  // GNMT: the bidirectional bottom layer and residual layers in the summary.
  const gnmt = shown("gnmt.summary(");
  assert.ok(/BiLSTM/.test(gnmt) && (gnmt.match(/ResidualLSTM/g) ?? []).length >= 2, gnmt);
}
