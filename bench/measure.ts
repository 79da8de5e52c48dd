/** Timing and the row every benchmark reports. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** One benchmark result: ours against a reference measured in the same run. */
export interface BenchRow {
  name: string;
  /** Our time in ms (or another measure, see `target`). */
  ours: number | string;
  /** The reference's time in ms, or why there is none. */
  reference: number | string;
  /** ours / reference (lower is better), NaN when there is no reference. */
  ratio: number;
  /** What the issue asks, e.g. "ratio ≤ 0.5". */
  target: string;
  ok: boolean;
}

/** Median wall time of `f` in ms, after `warmup` untimed calls. */
export async function median(f: () => unknown | Promise<unknown>, { warmup = 2, repeats = 7 } = {}): Promise<number> {
  for (let k = 0; k < warmup; k++) await f();
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return medianOf(times);
}

/** The median of some values (the upper one of an even count). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Debian's python, which has python3-torch (the `python3` first on PATH may be another build). */
export const PYTHON = "/usr/bin/python3";

/** A PyTorch reference script's timing (bench/torch_*.py, one JSON line: median ms, threads), or why it could not run. */
export function torchTiming(script: string, args: readonly (string | number)[]): { ms: number; threads: number } | string {
  try {
    const out = execFileSync(PYTHON, [join(__dirname, script), ...args.map(String)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 600_000,
    });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    const text = String((e as { stderr?: string }).stderr || (e as Error).message);
    return `PyTorch not available (${text.trim().split("\n").pop()}): apt-get install python3-torch libopenblas0-pthread`;
  }
}

/**
 * PyTorch's fused nn.LSTM timed inside Python (median of `repeats`), or why it could not run: the
 * forward alone, or autograd's forward and backward of mean(output²) (`mode` "backward").
 */
export function torchLstm(T: number, B: number, In: number, H: number, repeats: number, mode: "forward" | "backward" = "forward"): { ms: number; threads: number } | string {
  return torchTiming("torch_lstm.py", [T, B, In, H, repeats, mode]);
}

/** A row comparing ours with a reference: ok when `ours / reference ≤ limit`. */
export function compare(name: string, ours: number, reference: number | string, limit: number, target: string): BenchRow {
  const ratio = typeof reference === "number" ? ours / reference : NaN;
  return { name, ours, reference, ratio, target, ok: ratio <= limit };
}
