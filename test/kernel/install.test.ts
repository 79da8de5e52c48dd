/**
 * `archlab install` / `uninstall`: the kernel spec lands where Jupyter looks, and Jupyter's own
 * `kernelspec list` (Debian's jupyter_client) finds it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { renderLogo } from "../../kernel/logo";
import { cliText } from "../../kernel/messages";
import { kernelsDir, LOGOS } from "../../kernel/spec";
import { CLI, python, requireTools, ROOT } from "./harness";

function archlab(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [CLI, ...args], { env, encoding: "utf8" });
}

function kernelspecList(env: NodeJS.ProcessEnv): Record<string, { resource_dir: string; spec: Record<string, any> }> {
  // PYTHONNOUSERSITE: jupyter also searches ~/.local/share/jupyter (the user site), which a machine's
  // own `archlab install --user` fills; the test must see only the dirs it set up.
  return JSON.parse(python(["-m", "jupyter_client.kernelspecapp", "list", "--json"], { cwd: tmpdir(), env: { ...env, PYTHONNOUSERSITE: "1" } })).kernelspecs;
}

const fresh = () => mkdtempSync(join(tmpdir(), "archlab-install-"));

describe("archlab install", () => {
  test("--user writes kernel.json and the logos into $JUPYTER_DATA_DIR/kernels/archlab, and jupyter lists it", () => {
    requireTools(["jupyter_client"]);
    const dataDir = join(fresh(), "data");
    const env = { ...process.env, JUPYTER_DATA_DIR: dataDir, JUPYTER_PATH: "" };
    const run = archlab(["install", "--user"], env);
    assert.equal(run.status, 0, run.stderr);
    const dir = join(dataDir, "kernels", "archlab");
    assert.equal(run.stdout.trim(), cliText.installed(dir));
    const spec = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
    assert.deepEqual(spec.argv, [process.execPath, CLI, "kernel", "--connection-file", "{connection_file}"]);
    assert.equal(spec.display_name, "TypeScript (archlab)");
    assert.equal(spec.language, "typescript");
    assert.equal(spec.interrupt_mode, "signal");
    for (const logo of LOGOS) assert.ok(existsSync(join(dir, logo)), logo);

    const listed = kernelspecList(env).archlab;
    assert.equal(listed.resource_dir, dir);
    assert.equal(listed.spec.display_name, "TypeScript (archlab)");
  });

  test("--prefix DIR writes DIR/share/jupyter/kernels/archlab, found through JUPYTER_PATH", () => {
    requireTools(["jupyter_client"]);
    const prefix = fresh();
    const env = { ...process.env, JUPYTER_DATA_DIR: join(prefix, "empty"), JUPYTER_PATH: join(prefix, "share", "jupyter") };
    assert.equal(archlab(["install", "--prefix", prefix], env).status, 0);
    assert.equal(kernelspecList(env).archlab.resource_dir, join(prefix, "share", "jupyter", "kernels", "archlab"));
  });

  test("--sys-prefix uses the active environment", () => {
    const venv = fresh();
    const env = { ...process.env, VIRTUAL_ENV: venv, CONDA_PREFIX: "" };
    assert.equal(archlab(["install", "--sys-prefix"], env).status, 0);
    assert.ok(existsSync(join(venv, "share", "jupyter", "kernels", "archlab", "kernel.json")));
  });

  test("without a flag it targets the system folder, as `jupyter kernelspec install` does", () => {
    assert.equal(kernelsDir({}, {}), process.platform === "win32" ? join("C:\\ProgramData", "jupyter", "kernels") : "/usr/local/share/jupyter/kernels");
  });

  test("two locations at once are refused with a clear message", () => {
    const run = archlab(["install", "--user", "--prefix", fresh()], process.env);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--user.*cannot be used with.*--prefix/);
    assert.throws(() => kernelsDir({ user: true, sysPrefix: true }), { message: cliText.oneLocation });
  });
});

describe("archlab uninstall", () => {
  test("removes the spec, and says so when there is none", () => {
    requireTools(["jupyter_client"]);
    const dataDir = join(fresh(), "data");
    const env = { ...process.env, JUPYTER_DATA_DIR: dataDir, JUPYTER_PATH: "" };
    archlab(["install", "--user"], env);
    const removed = archlab(["uninstall", "--user"], env);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(removed.stdout.trim(), cliText.uninstalled(join(dataDir, "kernels", "archlab")));
    assert.equal(kernelspecList(env).archlab, undefined);
    const again = archlab(["uninstall", "--user"], env);
    assert.equal(again.status, 1);
    assert.equal(again.stderr.trim(), cliText.noneToUninstall([join(dataDir, "kernels")]));
  });
});

describe("the logos", () => {
  test("the committed PNGs are what the committed SVG renders to", () => {
    for (const size of [32, 64]) {
      const committed = readFileSync(join(ROOT, "kernel", `logo-${size}x${size}.png`));
      assert.equal(committed.readUInt32BE(16), size, "width");
      assert.equal(committed.readUInt32BE(20), size, "height");
      assert.ok(committed.equals(renderLogo(size)), `logo-${size}x${size}.png is stale: run node dist/kernel/logo.js`);
    }
  });
});
