#!/usr/bin/env node
/**
 * Builds archlab's optional native kernels (src/engine/native/blas.c → build/Release/archlab_blas.node)
 * with node-gyp — npm's own copy, which npm puts on the path of every script — against the headers
 * of the Node.js that runs this. Runs as `npm ci`'s install step and as `npm run build:native`.
 *
 * Optional by design: where there is no C compiler or no OpenBLAS headers (Debian: libopenblas-dev,
 * which scripts/setup-system.sh installs), it says so and exits 0, and archlab computes large runs
 * with TensorFlow.js instead. ARCHLAB_NATIVE=0 skips it.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync, rmSync } = require("node:fs");
const { dirname, join } = require("node:path");

const root = join(__dirname, "..");
const say = (line) => console.log(`archlab native: ${line}`);

function main() {
  if (process.env.ARCHLAB_NATIVE === "0") return say("skipped (ARCHLAB_NATIVE=0).");
  const gyp = process.env.npm_config_node_gyp;
  const command = gyp && existsSync(gyp) ? [process.execPath, gyp] : ["node-gyp"];
  const args = ["rebuild"];
  // Node's own headers, when this Node.js has them (distribution packages do): node-gyp need not download any.
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
  const run = spawnSync(command[0], [...command.slice(1), ...args], { cwd: root, encoding: "utf8" });
  if (run.status === 0) return say("built build/Release/archlab_blas.node (OpenBLAS products, vector sigmoid/tanh).");
  rmSync(join(root, "build", "Release", "archlab_blas.node"), { force: true });
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n");
  const cause = run.error ? run.error.message : output.filter((l) => /error|not found|No such file/i.test(l)).slice(0, 3).join("\n  ") || output.slice(-3).join("\n  ");
  say("not built; large runs will use TensorFlow.js instead (slower, same results to rounding).");
  say(`  ${cause}`);
  say("  To build it: install a C compiler and OpenBLAS's headers (Debian: bash scripts/setup-system.sh), then npm run build:native.");
}

main();
