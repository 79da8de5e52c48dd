/**
 * Live widgets over the kernel's comms, through Jupyter's own client (widgets_driver.py,
 * jupyter_client) playing the frontend as @jupyter-widgets/base 6 does: the widget message
 * protocol 2.1.0 (comm_open with state, update both ways, echo_update, request_state, custom) and
 * the control comm's request_states. The real frontend drives the same in test/lab-widgets.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { python, requireTools, sandbox } from "./harness";

interface Msg {
  msg_type: string;
  content: Record<string, any>;
  metadata: Record<string, any>;
  parent: string;
}
interface Exchange {
  reply?: Record<string, any>;
  iopub: Msg[];
  msg_id: string;
}

let results: Record<string, any>;

before(() => {
  requireTools(["jupyter_client", "zmq"]);
  const box = sandbox();
  const out = join(box.root, "results.json");
  python([join(__dirname, "widgets_driver.py"), out, join(box.root, "kernel.log")], { cwd: box.workDir, env: box.env });
  results = JSON.parse(readFileSync(out, "utf8"));
});

const exchange = (name: string): Exchange => results[name];
const commMsgs = (name: string, commId?: string) =>
  exchange(name).iopub.filter((m) => m.msg_type === "comm_msg" && (commId === undefined || m.content.comm_id === commId));
const opened = (name: string) => exchange(name).iopub.filter((m) => m.msg_type === "comm_open");
/** The comm id of the widget opened in `name` whose model is `model`. */
const idOf = (name: string, model: string) => opened(name).find((m) => m.content.data.state._model_name === model)!.content.comm_id as string;
const ref = (id: string) => `IPY_MODEL_${id}`;
/** What an Output widget's update shows as text/plain. */
const shown = (m: Msg) => m.content.data.state.outputs[0].data["text/plain"] as string;

describe("widgets over comms (jupyter_client as the widget frontend)", () => {
  test("scrub(stepper) opens one jupyter.widget comm per model, protocol 2.1.0, controls 2.0.0, and displays the box", () => {
    const models = opened("scrub").map((m) => m.content.data.state._model_name).sort();
    assert.deepEqual(models, ["HBoxModel", "IntSliderModel", "LinkModel", "OutputModel", "PlayModel", "VBoxModel"]);
    for (const m of opened("scrub")) {
      assert.equal(m.content.target_name, "jupyter.widget");
      assert.deepEqual(m.metadata, { version: "2.1.0" }, "the protocol version goes in the comm_open's metadata");
      assert.deepEqual(m.content.data.buffer_paths, []);
      const state = m.content.data.state;
      const module = state._model_name === "OutputModel" ? ["@jupyter-widgets/output", "1.0.0"] : ["@jupyter-widgets/controls", "2.0.0"];
      assert.deepEqual([state._model_module, state._model_module_version], module);
    }
    const [slider, play, link, box, row, output] = ["IntSliderModel", "PlayModel", "LinkModel", "VBoxModel", "HBoxModel", "OutputModel"].map((model) => idOf("scrub", model));
    const state = (id: string) => opened("scrub").find((m) => m.content.comm_id === id)!.content.data.state;
    assert.deepEqual([state(slider).min, state(slider).max, state(slider).value], [0, 5, 0], "a slider over the 6 steps, at step 0");
    assert.deepEqual(state(link).source, [ref(play), "value"]);
    assert.deepEqual(state(link).target, [ref(slider), "value"]);
    assert.equal(state(link)._view_name, null, "a link is a model without a view");
    assert.deepEqual(state(row).children, [ref(play), ref(slider)]);
    assert.deepEqual(state(box).children, [ref(row), ref(output)]);
    const result = exchange("scrub").iopub.find((m) => m.msg_type === "execute_result")!;
    assert.deepEqual(result.content.data["application/vnd.jupyter.widget-view+json"], { model_id: box, version_major: 2, version_minor: 0 });
    assert.match(result.content.data["text/plain"], /live widget/);
    const first = commMsgs("scrub", output);
    assert.equal(first.length, 1);
    assert.match(shown(first[0]), /^LSTM: step t = 0 of 0…5/);
    assert.match(first[0].content.data.state.outputs[0].data["text/html"], /archlab-stepper/);
  });

  test("an update from the frontend moves the kernel's stepper: echo_update to the sender, then the view at that step", () => {
    const slider = results.slider as string;
    const output = idOf("scrub", "OutputModel");
    const move = exchange("move");
    assert.deepEqual(
      move.iopub.map((m) => `${m.msg_type}${m.msg_type === "status" ? `:${m.content.execution_state}` : ""}`),
      ["status:busy", "comm_msg", "comm_msg", "status:idle"],
      "busy and idle bracket it (the frontend's message throttle waits for that idle)",
    );
    assert.ok(move.iopub.every((m) => m.parent === move.msg_id), "every message answers the frontend's comm_msg");
    assert.deepEqual(commMsgs("move", slider)[0].content.data, { method: "echo_update", state: { value: 3 }, buffer_paths: [] });
    assert.match(shown(commMsgs("move", output)[0]), /^LSTM: step t = 3 of 0…5/);
    assert.equal(exchange("t_after_move").iopub.find((m) => m.msg_type === "execute_result")!.content.data["text/plain"], "3", "s.t in the next cell");
  });

  test("a change made in the kernel goes to the frontend as an update, and recomputes", () => {
    const slider = results.slider as string;
    assert.deepEqual(commMsgs("kernel_set", slider).map((m) => m.content.data), [{ method: "update", state: { value: 1 }, buffer_paths: [] }]);
    assert.match(shown(commMsgs("kernel_set", idOf("scrub", "OutputModel"))[0]), /^LSTM: step t = 1 of/);
    assert.equal(exchange("kernel_set").iopub.find((m) => m.msg_type === "execute_result")!.content.data["text/plain"], "1");
  });

  test("a kernel-side value out of range is a named error, and the slider stays where it was", () => {
    const error = exchange("bad_value").iopub.find((m) => m.msg_type === "error")!;
    assert.equal(error.content.ename, "ArchlabError");
    assert.match(error.content.evalue, /IntSlider value = 99 is not valid: expected a whole number from min to max \(0…5\)/);
    assert.deepEqual(commMsgs("bad_value"), [], "nothing sent to the frontend");
    assert.equal(commMsgs("request_state", results.slider)[0].content.data.state.value, 1);
  });

  test("request_state is answered with the whole state, as it is now", () => {
    const [reply] = commMsgs("request_state", results.slider);
    assert.equal(reply.content.data.method, "update");
    const state = reply.content.data.state;
    assert.deepEqual([state._model_name, state._view_name, state.value, state.min, state.max, state.description], ["IntSliderModel", "IntSliderView", 1, 0, 5, "t"]);
  });

  test("the control comm answers request_states with every open widget; a widget the frontend closed is gone", () => {
    assert.deepEqual(commMsgs("control_open"), [], "opening the control comm is silent (it is not closed as an unknown target)");
    const [reply] = commMsgs("request_states");
    assert.equal(reply.content.data.method, "update_states");
    const states = reply.content.data.states as Record<string, { model_name: string; model_module: string; state: Record<string, unknown> }>;
    const ids = opened("scrub").map((m) => m.content.comm_id as string);
    assert.deepEqual(Object.keys(states).sort(), [...ids].sort());
    assert.equal(states[results.slider].model_name, "IntSliderModel");
    assert.equal(states[results.slider].state.value, 1);
    const [after] = commMsgs("request_states_after_close");
    assert.ok(!(results.slider in after.content.data.states), "the closed slider is not reported");
    assert.ok(idOf("scrub", "PlayModel") in after.content.data.states);
  });

  test("custom messages reach onCustom handlers, and send() answers with a custom message", () => {
    assert.deepEqual(commMsgs("custom").map((m) => m.content.data), [{ method: "custom", content: { got: { ping: 1 } } }]);
  });

  test("a drop-down and a slider choose the gate and step of an intervention; the kernel recomputes the run", () => {
    const output = idOf("gate_setup", "OutputModel");
    const dropdown = opened("gate_setup").find((m) => m.content.data.state._model_name === "DropdownModel")!.content.data.state;
    assert.deepEqual([dropdown._options_labels, dropdown.index], [["i", "f", "o"], 1]);
    const [reference, plain, gate, at] = JSON.parse(exchange("reference").iopub.find((m) => m.msg_type === "execute_result")!.content.data["text/plain"].replace(/'/g, '"'));
    assert.deepEqual([gate, at], ["i", 2], "the kernel-side values follow the frontend");
    assert.equal(shown(commMsgs("choose_t", output)[0]), reference, "the output equals a run with i held at 1 at t = 2, computed in a cell");
    assert.notEqual(reference, plain, "and that intervention changes h");
    assert.deepEqual(commMsgs("choose_gate", idOf("gate_setup", "DropdownModel"))[0].content.data, { method: "echo_update", state: { index: 0 }, buffer_paths: [] });
  });
});
