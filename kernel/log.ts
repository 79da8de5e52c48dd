/**
 * The kernel's own log. It goes to the process's real stderr, which Jupyter shows in the server's
 * log — never to a cell: while cells run, `process.stdout`/`process.stderr` are redirected to IOPub.
 */
const write = process.stderr.write.bind(process.stderr);

/** Writes one line to the kernel log. */
export function log(message: string): void {
  write(`[archlab kernel] ${message}\n`);
}
