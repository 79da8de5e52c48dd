/** Trains in a plain Node process (no kernel) for test/train-node.test.ts: `train-child.ts STEPS`. */
import { cell, LSTM, readout, tasks, train } from "../../src";

(async () => {
  const model = readout(cell(LSTM, { inputSize: 2, hiddenSize: 4 }), { outputSize: 1 });
  let weights = "";
  const result = await train(model, tasks.adding({ length: 5 }), {
    steps: Number(process.argv[2]),
    batchSize: 4,
    onStep: ({ step }) => {
      weights = JSON.stringify(model.stateDict());
      if (step === 5) console.log("ready");
    },
  });
  console.log(JSON.stringify({ steps: result.steps, stopped: result.stopped, kept: JSON.stringify(model.stateDict()) === weights }));
})();
