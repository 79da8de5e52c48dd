/**
 * A thread of the pool in parallel.ts: runs tasks against shared storage and answers each on its
 * port, then bumps the shared signal so the waiting thread wakes. It uses the native kernels when the
 * caller does, and loads the caller's TensorFlow.js backend the first time a float32 task needs it.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { selectBackend } from "./backend";
import { useNative } from "./native";
import { claim, runTask, type Answer, type Job } from "./parallel";

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

/** Definitions arrive as copies; one canonical copy each keeps the compiled-code cache warm across runs. */
const defs = new Map<string, Job["def"]>();

async function handle(job: Job & { id: number }): Promise<Answer> {
  try {
    const key = JSON.stringify(job.def);
    job.def = defs.get(key) ?? defs.set(key, job.def).get(key)!;
    useNative(job.native);
    const float32 = Object.values(job.params)[0] instanceof Float32Array;
    if (float32 && !job.native && job.backend && job.backend !== "cpu") await selectBackend({ order: [job.backend] });
    if (claim(job.claims!, job.slot!)) runTask(job);
    return { id: job.id, ok: true };
  } catch (error) {
    return { id: job.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

parentPort!.on("message", (job: Job & { id: number }) => {
  void handle(job).then((reply) => {
    port.postMessage(reply);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
