/**
 * Training in the installed kernel, driven by Jupyter's own client (train_interrupt.py): progress is
 * one output updated in place, and interrupting the kernel stops training between steps with the
 * model holding the weights of the last finished step.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { python, requireTools, sandbox } from "./harness";

interface Msg {
  msg_type: string;
  content: Record<string, any>;
}
let results: { setup: { reply: any }; train: { iopub: Msg[] }; after: { reply: any; iopub: Msg[] } };

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  const box = sandbox();
  const out = join(box.root, "results.json");
  python([join(__dirname, "train_interrupt.py"), out, join(box.root, "kernel.log")], { cwd: box.workDir, env: box.env });
  results = JSON.parse(readFileSync(out, "utf8"));
});

describe("training in the kernel", () => {
  test("progress is one output: a display_data with a display id, then update_display_data of that id", () => {
    assert.equal(results.setup.reply.status, "ok");
    const shown = results.train.iopub.filter((m) => m.msg_type === "display_data" || m.msg_type === "update_display_data");
    assert.ok(shown.length >= 2, `progress updated while training (${shown.length} messages)`);
    assert.equal(shown[0].msg_type, "display_data");
    assert.ok(shown.slice(1).every((m) => m.msg_type === "update_display_data"), "every later message updates in place");
    assert.equal(new Set(shown.map((m) => m.content.transient.display_id)).size, 1);
    const text = shown.at(-1)!.content.data["text/plain"];
    assert.match(text, /^step \d+\/1000000 · loss [\d.e-]+ · [\d.]+ steps\/s · ETA /);
    assert.ok(shown.at(-1)!.content.data["application/vnd.vegalite.v5+json"], "the loss curve as Vega-Lite");
  });

  test("an interrupt stops training between steps; the model keeps the weights of the last finished step", () => {
    const [seen, later, same] = JSON.parse(results.after.iopub.find((m) => m.msg_type === "execute_result")!.content.data["text/plain"]);
    assert.ok(seen > 0, "steps finished before the interrupt");
    assert.equal(later, seen, "no step ran after the interrupt");
    assert.equal(same, true, "the model's weights are those recorded after the last finished step");
    console.log(`# ${seen} steps before the interrupt`);
  });
});
