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
      ["01", "02", "03", "04", "05", "06", "07", "08", "10"],
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
    const path = executed.get("06-your-own-cell.ipynb");
    assert.ok(path && existsSync(path), "the notebook was executed first");
    const code: { source: string | string[]; outputs: any[] }[] = JSON.parse(readFileSync(path, "utf8")).cells.filter((c: any) => c.cell_type === "code");
    const text = (v: string | string[]) => (Array.isArray(v) ? v.join("") : v);
    const shown = (needle: string) => {
      const found = code.find((c) => text(c.source).includes(needle));
      assert.ok(found, `a cell with ${needle}`);
      return found.outputs.map((o) => text(o.text ?? o.data?.["text/plain"] ?? "")).join("");
    };
    assert.match(shown('name: "Broken"'), /^ArchlabError: Cell definition "Broken": add "sum" mixes sizes In \("x"\) and H/);
    const rows = shown("trace.toCSV(").split("\n");
    assert.equal(rows[0], "name,role,t,b,unit,value");
    assert.equal(rows.length, 6);
    for (const row of rows.slice(1)) assert.match(row, /^a,gate,0,0,\d,0\.\d+$/);
  });
});
