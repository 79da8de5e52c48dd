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
      ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "13", "15"],
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
});

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
