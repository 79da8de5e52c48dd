/**
 * The zoo's speed targets (issue 12, "Compute"; issue 16): the Graphviz reference's ConvAutoEncoder
 * at [1, 256, 256, 3] and ResNet-18 at [1, 224, 224, 3], run on the fast path with every node
 * recorded (each block's output among them, read back to the host; the other nodes' values stay tfjs
 * tensors until the trace is disposed), against PyTorch's forward of the same model keeping
 * every block's output, measured in this run (bench/torch_cae.py, bench/torch_resnet.py). Aim:
 * ratio ≤ 3. Where the native binding is built, convolutions of 32 output channels or more run on
 * OpenBLAS's threads instead of tfjs-wasm's single one (src/lang/fast-native.ts).
 */
import { zoo } from "../src";
import type { Model } from "../src/lang";
import { compare, median, torchTiming, type BenchRow } from "./measure";

const ROUNDS = 3;

/**
 * One model's row. The machine may be shared: ours and PyTorch are measured in alternating rounds
 * (a median each, after as many warm-up runs as PyTorch's script makes: the first runs of tfjs's
 * WebAssembly are slower while V8 optimises its functions), each keeping its best round, so a burst
 * of someone else's load does not land on one side only. `blocks` are the block outputs checked recorded.
 */
async function alternating(what: string, m: Model, side: number, blocks: readonly string[], script: string, log: (line: string) => void): Promise<BenchRow> {
  const x = { shape: [1, side, side, 3], data: Float32Array.from({ length: side * side * 3 }, (_, i) => Math.sin(0.37 * i)) };
  log(`${what} [1, ${side}, ${side}, 3]: ours (fast path, every node recorded), PyTorch; ${ROUNDS} alternating rounds`);
  let recorded = 0;
  let ours = Infinity;
  let reference: number | string = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const ms = await median(
      async () => {
        const { trace } = await m.run({ x });
        recorded = blocks.filter((p) => trace.get(p).data.length > 0).length;
        trace.dispose(); // frees the nodes not read (PyTorch's outputs are freed with its dict)
      },
      { warmup: 2, repeats: 5 },
    );
    ours = Math.min(ours, ms);
    const torch = torchTiming(script, [side, 5]);
    reference = typeof torch === "string" ? torch : typeof reference === "number" ? Math.min(reference, torch.ms) : reference;
    log(`  round ${round + 1}: ours ${ours.toFixed(0)} ms, PyTorch ${typeof reference === "number" ? reference.toFixed(0) + " ms" : reference} (best so far)`);
  }
  return compare(`${what} forward [1, ${side}, ${side}, 3], ${recorded} block outputs recorded (of ${blocks.length}); best of ${ROUNDS} alternating rounds`, ours, reference, 3, "ratio ≤ 3 (aim)");
}

/** Every zoo benchmark. */
export async function benchZoo(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const caeBlocks = ["enc1/pool", "enc2/pool", "enc3/pool", "dec1/relu", "dec2/relu", "dec3/relu", "y"];
  const resnetBlocks = [1, 2, 3, 4].flatMap((l) => [`layer${l}/0/out`, `layer${l}/1/out`]);
  return [
    await alternating("ConvAutoEncoder", zoo.convAutoEncoder(), 256, caeBlocks, "torch_cae.py", log),
    await alternating("ResNet-18", zoo.resnet18(), 224, resnetBlocks, "torch_resnet.py", log),
  ];
}
