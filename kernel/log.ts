/**
 * The kernel's own log. It goes to the process's real stderr, which Jupyter shows in the server's
 * log — never to a cell: while cells run, `process.stdout`/`process.stderr` are redirected to IOPub.
 */
import { writeSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

// A worker's process.stderr goes through the kernel's thread, which may be the one that is stuck.
const write = isMainThread ? process.stderr.write.bind(process.stderr) : (text: string) => writeSync(2, text);

/** Writes one line to the kernel log. */
export function log(message: string): void {
  write(`[archlab kernel] ${message}\n`);
}
