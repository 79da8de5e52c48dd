/**
 * `npm run bench`: every benchmark of archlab, each against its reference measured in this same run.
 * Prints one table of ratios (ours / reference, lower is better) and writes bench/out/results.json.
 *
 * Benchmarks: the compute engine (bench/lstm.ts) and, when their files exist, the kernel's
 * (bench/kernel.ts → benchKernel), the diagrams' (bench/diagram.ts → benchDiagram) and the plots'
 * (bench/plot.ts → benchPlot).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../src/engine/backend";
import { nativeInfo } from "../src/engine/native";
import { benchLstm } from "./lstm";
import type { BenchRow } from "./measure";

type Bench = () => Promise<BenchRow[]>;

/** The other helpers' benchmarks: file, exported function. */
const OTHERS: readonly { file: string; fn: string }[] = [
  { file: "kernel", fn: "benchKernel" },
  { file: "diagram", fn: "benchDiagram" },
  { file: "plot", fn: "benchPlot" },
];

const log = (line: string) => console.log(`[bench] ${line}`);

async function others(): Promise<Record<string, BenchRow[] | string>> {
  const out: Record<string, BenchRow[] | string> = {};
  for (const { file, fn } of OTHERS) {
    if (!existsSync(join(__dirname, `${file}.ts`))) {
      out[file] = "not available";
      continue;
    }
    log(`${file}: ${fn}()`);
    try {
      const mod = (await import(`./${file}`)) as Record<string, Bench>;
      out[file] = typeof mod[fn] === "function" ? await mod[fn]() : `not available (bench/${file}.ts does not export ${fn})`;
    } catch (e) {
      out[file] = `failed: ${(e as Error).message.split("\n")[0]}`;
    }
  }
  return out;
}

const show = (v: number | string) => (typeof v === "number" ? (Number.isNaN(v) ? "—" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : v);

async function main() {
  const backend = await selectBackend();
  log(`tfjs backend: ${backend.name} — ${backend.reason}`);
  const native = nativeInfo();
  log(`native kernels: ${native.loaded ? "in use" : "not in use"} — ${native.detail}`);
  const groups: Record<string, BenchRow[] | string> = { engine: await benchLstm(log), ...(await others()) };
  const table = Object.entries(groups).flatMap(([group, rows]) =>
    typeof rows === "string"
      ? [{ group, name: "", ours: "", reference: "", ratio: "", target: "", ok: rows }]
      : rows.map((r) => ({ group, name: r.name, ours: show(r.ours), reference: show(r.reference), ratio: show(r.ratio), target: r.target, ok: r.ok ? "yes" : "NO" })),
  );
  console.table(table);
  const dir = join(__dirname, "out");
  mkdirSync(dir, { recursive: true });
  const results = { date: new Date().toISOString(), node: process.version, tfjs: tf.version_core, backend, native, groups };
  writeFileSync(join(dir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${join(dir, "results.json")} (times in ms; ratio = ours / reference)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
