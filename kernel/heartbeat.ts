/**
 * The heartbeat: echoes every ping on its own thread, so a cell that keeps Node's event loop busy
 * (a long synchronous loop, the kernel's own start) never makes the kernel look dead to Jupyter —
 * ipykernel runs its heartbeat on a thread for the same reason.
 *
 * This file is both the starter (main thread) and the worker (when loaded by `Worker`).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { log } from "./log";
import { wireErrors } from "./messages";

/** The running heartbeat thread. */
export interface Heartbeat {
  /** Closes the socket and ends the thread (a ZeroMQ socket must not outlive its thread's exit). */
  stop(): Promise<void>;
}

/** Starts the heartbeat thread bound to `address`; resolves once it is bound. */
export function startHeartbeat(address: string): Promise<Heartbeat> {
  const worker = new Worker(__filename, { workerData: { address } });
  worker.unref();
  const stop = () =>
    new Promise<void>((resolve) => {
      worker.once("exit", () => resolve());
      worker.postMessage("stop");
    });
  return new Promise((resolve, reject) => {
    worker.once("message", () => resolve({ stop }));
    worker.once("error", (error) => {
      log(wireErrors.receiveFailed("heartbeat", error));
      reject(error);
    });
  });
}

async function echo(address: string): Promise<void> {
  const zmq = await import("zeromq");
  const socket = new zmq.Reply();
  socket.linger = 0;
  await socket.bind(address);
  parentPort!.once("message", () => {
    socket.close();
    parentPort!.close();
  });
  parentPort!.postMessage("bound");
  try {
    for await (const frames of socket) await socket.send(frames);
  } catch (error) {
    if (!socket.closed) throw error;
  }
}

if (!isMainThread && (workerData as { address?: string })?.address) void echo((workerData as { address: string }).address);
