/**
 * The heartbeat and the interrupt watchdog.
 *
 * The heartbeat echoes every ping in its own small process, so a cell that keeps Node's event loop
 * busy (a long synchronous loop, the kernel's own start) never makes the kernel look dead to
 * Jupyter — ipykernel runs its heartbeat on a thread for the same reason. A process, not a worker
 * thread: zeromq.js aborts the whole process now and then when a worker that used it exits
 * (zeromq/zeromq.js#411; measured here, 4 of 30 shutdowns ended in SIGABRT).
 *
 * The watchdog is a worker thread of the kernel that starts the echo process and hears from it when
 * Jupyter interrupts (a SIGINT to the kernel's process group reaches the echo process too). Node's
 * own SIGINT handling stops synchronous cell code (`breakOnSigint`), but nothing in the kernel's
 * thread can run while code that never yields holds it — `while (true) await null;` loops in the
 * microtask queue, where SIGINT is ignored and the control channel is never read. So on an
 * interrupt the watchdog asks the kernel's thread to answer; if it does not within a second, it
 * stops the running JavaScript through the inspector (`Runtime.terminateExecution`, which Node
 * survives: the kernel then handles its SIGINT and replies "Interrupted"); if the thread still does
 * not answer within `interruptTimeoutMs`, the watchdog logs why and ends the kernel, and the echo
 * process with it: a kernel that cannot serve must not look healthy, and Jupyter's restarter
 * starts a fresh one.
 *
 * This file is the starter (in the kernel), the watchdog (as a worker) and the echo process (when
 * forked with an address).
 */
import { fork } from "node:child_process";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { log } from "./log";
import { kernelLog, wireErrors } from "./messages";

/** The running heartbeat process and watchdog. */
export interface Heartbeat {
  /** Lets the watchdog act on interrupts (not while the kernel is still starting). */
  serving(): void;
  /** Ends the echo process and the watchdog; resolves once the echo process has exited. */
  stop(): Promise<void>;
}

export interface HeartbeatOptions {
  /** How long the kernel may stay unresponsive after an interrupt before it is ended. */
  interruptTimeoutMs: number;
}

/** Seconds the kernel's thread gets to answer after an interrupt before its JavaScript is stopped. */
const GRACE_MS = 1000;

/** Non-zero while the kernel's thread does its own long work (type-checking): the watchdog waits then. */
const kernelBusy = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs the kernel's own synchronous work (type-checking a cell, completing, inspecting): an
 * interrupt arriving meanwhile waits for it instead of stopping it (which would leave the kernel
 * half-way through a request, never to reply).
 */
export function kernelWork<T>(work: () => T): T {
  Atomics.add(kernelBusy, 0, 1);
  try {
    return work();
  } finally {
    Atomics.sub(kernelBusy, 0, 1);
  }
}
const ECHO_FLAG = "--archlab-heartbeat";

type ToWatchdog = { type: "serving" } | { type: "stop" } | { type: "pong"; id: number };
type FromWatchdog = { type: "bound" } | { type: "stopped" } | { type: "failed"; reason: string } | { type: "ping"; id: number };

/** Starts the watchdog and the heartbeat process bound to `address`; resolves once it is bound. */
export function startHeartbeat(address: string, options: HeartbeatOptions): Promise<Heartbeat> {
  const worker = new Worker(__filename, { workerData: { address, busy: kernelBusy, ...options }, stdout: false, stderr: false });
  const post = (message: ToWatchdog) => worker.postMessage(message);
  let stopped: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    worker.on("message", (message: FromWatchdog) => {
      if (message.type === "ping") post({ type: "pong", id: message.id });
      else if (message.type === "stopped") stopped?.();
      else if (message.type === "failed") reject(new Error(message.reason));
      else {
        worker.unref(); // the kernel may exit without waiting for the watchdog
        resolve({
          serving: () => post({ type: "serving" }),
          stop: () =>
            new Promise<void>((done) => {
              stopped = done;
              worker.once("exit", () => done());
              post({ type: "stop" });
            }),
        });
      }
    });
    worker.once("error", (error) => {
      log(wireErrors.receiveFailed("heartbeat", error));
      reject(error);
    });
  });
}

/** The worker: starts the echo process, relays interrupts, stops or ends a kernel that does not answer. */
function watchdog(address: string, busy: Int32Array, { interruptTimeoutMs }: HeartbeatOptions): void {
  const port = parentPort!;
  const send = (message: FromWatchdog) => port.postMessage(message);
  const child = fork(__filename, [ECHO_FLAG, address], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  let serving = false;
  let checking = false;
  let nextPing = 0;
  const pongs = new Map<number, () => void>();

  /** True when the kernel's thread answers within `ms`. */
  const answers = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const id = nextPing++;
      const timer = setTimeout(() => {
        pongs.delete(id);
        resolve(false);
      }, ms);
      pongs.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
      send({ type: "ping", id });
    });

  const onInterrupt = async () => {
    if (!serving || checking) return;
    checking = true;
    try {
      if (await answers(GRACE_MS)) return;
      while (Atomics.load(busy, 0) > 0) if (await answers(200)) return;
      log(kernelLog.stoppingStuckCode);
      const inspector = await import("node:inspector");
      const session = new inspector.Session();
      session.connectToMainThread();
      session.post("Runtime.terminateExecution");
      const answered = await answers(interruptTimeoutMs);
      session.disconnect();
      if (answered) return;
      log(kernelLog.endingUnresponsive(interruptTimeoutMs / 1000));
      child.kill("SIGKILL");
      process.kill(process.pid, "SIGKILL");
    } finally {
      checking = false;
    }
  };

  // A kernel stuck in code that never yields cannot notice that Jupyter is gone (kernel.ts polls
  // for that on its own thread): left alone it would spin, orphaned, for ever.
  const parent = process.ppid;
  if (process.env.JPY_PARENT_PID) {
    const poll = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(poll);
      setTimeout(() => {
        log(kernelLog.orphaned);
        process.kill(process.pid, "SIGKILL");
      }, 2000 + interruptTimeoutMs).unref();
    }, 1000);
    poll.unref();
  }

  child.on("message", (message) => {
    if (message === "bound") send({ type: "bound" });
    else if (message === "interrupted") void onInterrupt();
  });
  child.once("error", (error) => send({ type: "failed", reason: (error as Error).message }));
  child.once("exit", (code, signal) => {
    send({ type: "failed", reason: `the heartbeat process ended before binding ${address} (${signal ?? `exit code ${code}`})` });
    send({ type: "stopped" });
    process.exit(0);
  });
  port.on("message", (message: ToWatchdog) => {
    if (message.type === "pong") pongs.get(message.id)?.();
    else if (message.type === "serving") serving = true;
    else if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });
}

/** The echo process. */
async function echo(address: string): Promise<void> {
  // Jupyter interrupts by signalling the kernel's process group: the heartbeat keeps going, and tells the watchdog.
  process.on("SIGINT", () => process.send?.("interrupted"));
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
else if (!isMainThread && (workerData as { address?: string } | undefined)?.address) {
  const { address, busy, ...options } = workerData as { address: string; busy: Int32Array } & HeartbeatOptions;
  watchdog(address, busy, options);
}
