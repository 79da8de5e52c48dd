/**
 * The zoo's speed targets (issue 12, "Compute"; issue 16): the Graphviz reference's ConvAutoEncoder
 * at [1, 256, 256, 3], run on the fast path with every node recorded (each block's output among
 * them), against PyTorch's forward of the same model keeping every block's output, measured in
 * this run (bench/torch_cae.py). Aim: ratio ≤ 3.
 */
import { zoo } from "../src";
import { compare, median, torchTiming, type BenchRow } from "./measure";

/** Every zoo benchmark. */
export async function benchZoo(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const side = 256;
  const cae = zoo.convAutoEncoder();
  const x = { shape: [1, side, side, 3], data: Float32Array.from({ length: side * side * 3 }, (_, i) => Math.sin(0.37 * i)) };
  log(`ConvAutoEncoder [1, ${side}, ${side}, 3]: ours (fast path, every node recorded), PyTorch`);
  let blocks = 0;
  const ours = await median(
    async () => {
      const { trace } = await cae.run({ x });
      blocks = ["enc1/pool", "enc2/pool", "enc3/pool", "dec1/relu", "dec2/relu", "dec3/relu", "y"].filter((p) => trace.get(p).data.length > 0).length;
    },
    { warmup: 1, repeats: 5 },
  );
  const torch = torchTiming("torch_cae.py", [side, 7]);
  const reference = typeof torch === "string" ? torch : torch.ms;
  return [compare(`ConvAutoEncoder forward [1, ${side}, ${side}, 3], ${blocks} block outputs recorded (of 7)`, ours, reference, 3, "ratio ≤ 3 (aim)")];
}
