/**
 * `npm run bench`: every benchmark of archlab, each against its reference measured in this same run.
 * Prints one table of ratios (ours / reference, lower is better) and writes bench/out/results.json.
 *
 * Benchmarks: the compute engine (bench/lstm.ts), gradients (bench/backward.ts) and, when their
 * files exist, the kernel's (bench/kernel.ts → benchKernel), the diagrams' (bench/diagram.ts →
 * benchDiagram), the plots' (bench/plot.ts → benchPlot) and the zoo's (bench/zoo.ts → benchZoo).
 *
 * `npm run bench -- backward engine` runs only the groups named (engine, backward, kernel, diagram,
 * plot, zoo); no names, every group.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../src/engine/backend";
import { nativeInfo } from "../src/engine/native";
import { benchBackward } from "./backward";
import { benchLstm } from "./lstm";
import type { BenchRow } from "./measure";

type Bench = () => Promise<BenchRow[]>;

/** The other helpers' benchmarks: file, exported function. */
const OTHERS: readonly { file: string; fn: string }[] = [
  { file: "kernel", fn: "benchKernel" },
  { file: "diagram", fn: "benchDiagram" },
  { file: "plot", fn: "benchPlot" },
  { file: "zoo", fn: "benchZoo" },
];

const log = (line: string) => console.log(`[bench] ${line}`);

/** The groups asked for on the command line (every group when none is named). */
const { positionals: asked } = parseArgs({ allowPositionals: true });
const GROUPS = ["engine", "backward", ...OTHERS.map((o) => o.file)];
const unknown = asked.find((g) => !GROUPS.includes(g));
if (unknown) {
  console.error(`[bench] unknown group "${unknown}"; the groups are ${GROUPS.join(", ")}`);
  process.exit(2);
}
const wanted = (group: string) => asked.length === 0 || asked.includes(group);

async function others(): Promise<Record<string, BenchRow[] | string>> {
  const out: Record<string, BenchRow[] | string> = {};
  for (const { file, fn } of OTHERS.filter((o) => wanted(o.file))) {
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
  const groups: Record<string, BenchRow[] | string> = {
    ...(wanted("engine") ? { engine: await benchLstm(log) } : {}),
    ...(wanted("backward") ? { backward: await benchBackward(log) } : {}),
    ...(await others()),
  };
  const table = Object.entries(groups).flatMap(([group, rows]) =>
    typeof rows === "string"
      ? [{ group, name: "", ours: "", reference: "", ratio: "", target: "", ok: rows }]
      : rows.map((r) => ({ group, name: r.name, ours: show(r.ours), reference: show(r.reference), ratio: show(r.ratio), target: r.target, ok: r.ok ? "yes" : "NO" })),
  );
  console.table(table);
  const dir = join(__dirname, "out");
  mkdirSync(dir, { recursive: true });
  const results = { date: new Date().toISOString(), node: process.version, tfjs: tf.version_core, backend, native, groups };
  // A run of some groups does not overwrite the full run's results.
  const file = join(dir, asked.length === 0 ? "results.json" : `results-${asked.join("-")}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${file} (times in ms; ratio = ours / reference)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
