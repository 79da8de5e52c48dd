/**
 * The prelude: everything a notebook has in scope without an import (see scope.ts) — the whole
 * archlab library root, `display` and `clearOutput` among it, plus the kernel's comm registry and
 * `input()` (reads a line typed in the notebook).
 *
 * The kernel's TypeScript program imports this file (scope.ts), and through it comms.d.ts, which
 * starts with `/// <reference types="node" />`
 * (comm messages carry Buffers): so Node's types (`console`, `process`, `Buffer`) resolve from
 * archlab's own install even when the notebook sits outside any project and `@types/node` was
 * hoisted away from tslab (tslab issue 61: "Cannot find name 'console'"). A test guards this.
 */
export * from "../src/index";
export { comms } from "./comms";
export type { Comm, CommHandler, CommMessage } from "./comms";
export { input, StdinNotImplementedError } from "./stdin";
export type { InputOptions } from "./stdin";
