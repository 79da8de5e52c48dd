/**
 * Large runs split across threads. The batch elements of a run are independent at every step, so
 * each thread computes the whole sequence for its own slice of the batch — no synchronisation
 * inside the time loop. The prologue (bias and input products over all T·B rows) is split by rows
 * first. Storage lives in SharedArrayBuffers: every thread writes its part of the same trace.
 *
 * `run()` stays synchronous: the calling thread computes the first part itself, then blocks
 * (`Atomics.wait`, in short slices so an interrupt still lands) until the workers have answered.
 * A worker that fails to start or to compute hands its part back and this thread computes it, so a
 * run never depends on the pool being healthy. Results are the same numbers as on one thread: each
 * batch element and each row goes through the same code in the same order.
 */
import { availableParallelism } from "node:os";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { evalSize, type CellDef } from "../cells/define";
import type { FloatArray } from "./arrays";
import { currentBackend, type BackendName } from "./backend";
import { nativeBlas } from "./native";
import { compileSteps, operandSize, prologue, type Slice, type Storage } from "./program";

/** Multiply–adds plus elementwise values of a whole run below which one thread is faster (thread hand-over costs ~1 ms). */
export const PARALLEL_MIN_WORK = 1 << 25;

/** Upper bound on threads per run. */
const MAX_THREADS = 8;

/**
 * Threads a run may use: `ARCHLAB_THREADS` when set (1 turns splitting off), else the machine's
 * available parallelism, at most {@link MAX_THREADS}.
 */
export function threadCount(): number {
  const set = process.env.ARCHLAB_THREADS;
  const n = set !== undefined && set !== "" ? Number(set) : availableParallelism();
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_THREADS) : 1;
}

/** How many parts a run of T steps over B batch elements is split into (1: not worth splitting). */
export function partsFor(def: CellDef, sizes: Readonly<Record<string, number>>, T: number, B: number): number {
  const threads = Math.min(threadCount(), B);
  if (threads < 2) return 1;
  let perRow = 0;
  for (const node of def.nodes) {
    const n = evalSize(node.size, sizes);
    perRow += n;
    for (const term of node.terms ?? []) if (term.kind === "matrix") perRow += n * operandSize(def, term.input, sizes);
  }
  return T * B * perRow >= PARALLEL_MIN_WORK ? threads : 1;
}

/** One piece of work for a thread. */
export type Task = { kind: "prologue"; r0: number; r1: number } | { kind: "steps"; b0: number; b1: number };

/** What a worker needs to run a task against shared storage. */
export interface Job {
  /**
   * Claim flags of the phase's tasks (shared memory) and this task's slot: whoever sets the flag
   * from 0 to 1 runs the task. The calling thread claims any task a worker has not started once its
   * own part is done, so a worker still starting up (or gone) never delays a run.
   */
  claims?: Int32Array;
  slot?: number;
  def: CellDef;
  sizes: Readonly<Record<string, number>>;
  B: number;
  T: number;
  params: Record<string, FloatArray>;
  storage: Storage;
  /** The backend whose matrix products the calling thread uses (the worker loads the same one). */
  backend: BackendName | undefined;
  /** Whether the calling thread uses the native kernels (the worker follows it). */
  native: boolean;
  task: Task;
}

/** Runs one task on this thread. */
export function runTask({ def, sizes, B, T, params, storage, task }: Job): void {
  if (task.kind === "prologue") prologue(def, sizes, params, storage, task);
  else {
    const step = compileSteps(def, sizes, B, params, storage, task, T);
    for (let t = 0; t < T; t++) step(t);
  }
}

/** A worker and the channel its answers come back on (read synchronously with `receiveMessageOnPort`). */
interface PoolWorker {
  worker: Worker;
  port: MessagePort;
  /**
   * `[0]` is bumped after each answer, so the caller can sleep in `Atomics.wait` until then; `[1]`
   * becomes 1 when the worker's thread ends (its 'exit' event cannot reach a caller that is blocked).
   */
  signal: Int32Array;
}

/**
 * The worker's first code: it flags its own end in shared memory, then loads worker.ts (through
 * tsx when the library runs from source, as in tests and benchmarks: workers do not inherit it).
 */
const BOOT = `
const { workerData } = require("node:worker_threads");
const signal = workerData.signal;
process.on("exit", () => { Atomics.store(signal, 1, 1); Atomics.add(signal, 0, 1); Atomics.notify(signal, 0); });
if (workerData.entry.endsWith(".ts")) require("tsx/cjs");
require(workerData.entry);
`;

let pool: PoolWorker[] = [];
/** Set once a worker failed to start: later runs use one thread. */
let broken = false;

function workers(n: number): PoolWorker[] {
  while (pool.length < n) {
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(BOOT, { eval: true, workerData: { entry: require.resolve("./worker"), port: port2, signal }, transferList: [port2] });
    worker.unref();
    pool.push({ worker, port: port1, signal });
  }
  return pool.slice(0, n);
}

/** Ends the pool's threads (they are unref'd, so this is only needed to free them early). */
export async function closePool(): Promise<void> {
  const ending = pool.map((w) => w.worker.terminate());
  pool = [];
  await Promise.all(ending);
}

/** An answer from a worker to task `id`: done, or the error it met (then this thread redoes the task). */
export type Answer = { id: number; ok: true } | { id: number; ok: false; error: string };

/** Claims a task for the calling thread; false if another thread already has it. */
export const claim = (claims: Int32Array, slot: number): boolean => Atomics.compareExchange(claims, slot, 0, 1) === 0;

let nextId = 0;

/**
 * Waits for the worker's answer to task `id`; short sleeps keep the calling thread interruptible.
 * Answers to older tasks (a run interrupted while its workers were still busy) are dropped.
 */
function answer(w: PoolWorker, id: number): Answer {
  for (;;) {
    const seen = Atomics.load(w.signal, 0);
    const received = receiveMessageOnPort(w.port);
    if (received && (received.message as Answer).id === id) return received.message as Answer;
    if (received) continue;
    if (Atomics.load(w.signal, 1) === 1) {
      broken = true;
      pool = pool.filter((p) => p !== w);
      return { id, ok: false, error: "the worker thread ended" };
    }
    Atomics.wait(w.signal, 0, seen, 50);
  }
}

/** Splits `[0, n)` into `parts` contiguous ranges, as even as possible. */
export function ranges(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, k) => [Math.floor((k * n) / parts), Math.floor(((k + 1) * n) / parts)]);
}

/** Runs the prologue and then every step of `storage` (which must be shared memory) on `parts` threads. */
export function runSplit(def: CellDef, sizes: Readonly<Record<string, number>>, B: number, T: number, params: Record<string, FloatArray>, storage: Storage, parts: number): void {
  const blas = nativeBlas();
  const base = { def, sizes, B, T, params, storage, backend: currentBackend(), native: blas !== undefined };
  // Each thread already has its own part: OpenBLAS threading every product too would oversubscribe the cores.
  const blasThreads = blas?.setThreads(1);
  try {
    splitPhases(base, parts);
  } finally {
    if (blasThreads !== undefined) blas!.setThreads(blasThreads);
  }
}

/** The prologue split by rows, then the steps split by batch elements, each phase on `parts` threads. */
function splitPhases(base: Omit<Job, "task">, parts: number): void {
  const { B, T } = base;
  const phase = (tasks: Task[]) => {
    const helpers = broken ? [] : workers(tasks.length - 1);
    const claims = new Int32Array(new SharedArrayBuffer(4 * tasks.length));
    const ids = helpers.map(() => ++nextId);
    helpers.forEach((w, k) => w.worker.postMessage({ ...base, task: tasks[k + 1], id: ids[k], claims, slot: k + 1 }));
    runTask({ ...base, task: tasks[0] });
    tasks.forEach((task, k) => {
      if (k === 0) return;
      if (claim(claims, k)) runTask({ ...base, task }); // not started by its worker (or there is none): do it here
      else if (!answer(helpers[k - 1], ids[k - 1]).ok) runTask({ ...base, task });
    });
  };
  phase(ranges(T * B, parts).map(([r0, r1]) => ({ kind: "prologue", r0, r1 })));
  phase(ranges(B, parts).map(([b0, b1]) => ({ kind: "steps", b0, b1 }) satisfies Slice & Task));
}
