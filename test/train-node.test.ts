/**
 * Training in plain Node (no kernel): a progress bar (cli-progress) on stderr, and Ctrl-C (SIGINT)
 * ending training after the current step with the weights of that step kept.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";

const CHILD = join(__dirname, "support", "train-child.ts");

function run(steps: number, { interrupt = false } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, String(steps)], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (interrupt && stdout.includes("ready")) (interrupt = false), child.kill("SIGINT");
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("training in plain Node", () => {
  test("shows a progress bar with the loss, steps/s and ETA on stderr", async () => {
    const { code, stdout, stderr } = await run(20);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout.split("\n").at(-2)!), { steps: 20, stopped: false, kept: true });
    assert.match(stderr, /train adding \[=+\] 20\/20 \| loss [\d.]+ \| [\d.]+ steps\/s \| ETA \d+s/);
  });

  test("Ctrl-C stops after the current step, keeps its weights, and the program goes on", async () => {
    const { code, stdout, stderr } = await run(1_000_000, { interrupt: true });
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout.split("\n").at(-2)!);
    assert.ok(result.steps >= 5 && result.steps < 1_000_000);
    assert.equal(result.stopped, true);
    assert.equal(result.kept, true);
  });
});
