/**
 * The heartbeat: echoes every ping in its own small process, so a cell that keeps Node's event loop
 * busy (a long synchronous loop, the kernel's own start) never makes the kernel look dead to Jupyter —
 * ipykernel runs its heartbeat on a thread for the same reason.
 *
 * A process, not a worker thread: zeromq.js aborts the whole process now and then when a worker that
 * used it exits (zeromq/zeromq.js#411; measured here, 4 of 30 shutdowns ended in SIGABRT).
 *
 * This file is both the starter (in the kernel) and the echo process (when forked with an address).
 */
import { fork, type ChildProcess } from "node:child_process";
import { log } from "./log";
import { wireErrors } from "./messages";

/** The running heartbeat process. */
export interface Heartbeat {
  /** Ends the echo process and resolves once it has exited. */
  stop(): Promise<void>;
}

const ECHO_FLAG = "--archlab-heartbeat";

/** Starts the heartbeat process bound to `address`; resolves once it is bound. */
export function startHeartbeat(address: string): Promise<Heartbeat> {
  const child = fork(__filename, [ECHO_FLAG, address], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.once("message", () => {
      detach(child);
      resolve({ stop });
    });
    child.once("error", (error) => {
      log(wireErrors.receiveFailed("heartbeat", error));
      reject(error);
    });
    child.once("exit", (code, signal) => reject(new Error(`the heartbeat process ended before binding ${address} (${signal ?? `exit code ${code}`})`)));
  });
}

/** Lets the kernel exit without waiting for the echo process (which ends when its IPC channel closes). */
function detach(child: ChildProcess): void {
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
}

async function echo(address: string): Promise<void> {
  // Jupyter interrupts by signalling the kernel's process group: an interrupt must not stop the heartbeat.
  process.on("SIGINT", () => undefined);
  const zmq = await import("zeromq");
  const socket = new zmq.Reply();
  socket.linger = 0;
  await socket.bind(address);
  const end = () => {
    socket.close();
    process.exit(0);
  };
  process.once("disconnect", end); // the kernel is gone, however it ended
  process.once("SIGTERM", end);
  process.send!("bound");
  try {
    for await (const frames of socket) await socket.send(frames);
  } catch (error) {
    if (!socket.closed) throw error;
  }
}

if (process.argv[2] === ECHO_FLAG && process.send) void echo(process.argv[3]);
