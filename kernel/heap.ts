/**
 * A watch on the JavaScript heap while a cell runs.
 *
 * When V8 runs out of heap it ends the process at once, from inside the failing allocation: no
 * JavaScript runs after that (no `exit` event, no handler), and Node's "JavaScript heap out of
 * memory" goes to the kernel's stderr, which only the Jupyter server's log shows. So the cell can
 * only be told before: while it runs the heap is sampled every {@link SAMPLE_MS} ms, and past
 * {@link NEAR_LIMIT} of V8's limit the cell's output says so (once) and the cell is interrupted,
 * which frees what only it held. A cell that allocates without ever yielding to the event loop
 * cannot be sampled: V8 ends the kernel without a word in the notebook. A cell that starts past
 * the mark (earlier cells keep that much) is not stopped: it would be stopped whatever it does.
 */
import { getHeapStatistics } from "node:v8";

const SAMPLE_MS = 100;
/** The share of V8's heap limit past which a cell is warned and stopped. */
export const NEAR_LIMIT = 0.9;

/** Megabytes of heap in use and V8's limit. */
export interface HeapUse {
  usedMB: number;
  limitMB: number;
}

function heapUse(): HeapUse {
  const { used_heap_size, heap_size_limit } = getHeapStatistics();
  return { usedMB: Math.round(used_heap_size / 2 ** 20), limitMB: Math.round(heap_size_limit / 2 ** 20) };
}

/**
 * Calls `onNearLimit` once if the heap passes {@link NEAR_LIMIT} of its limit before `stop` is
 * called (not if it is past it already). Returns `stop`.
 */
export function watchHeap(onNearLimit: (use: HeapUse) => void): () => void {
  const nearLimit = (use: HeapUse) => use.usedMB >= NEAR_LIMIT * use.limitMB;
  if (nearLimit(heapUse())) return () => {};
  const timer = setInterval(() => {
    const use = heapUse();
    if (!nearLimit(use)) return;
    clearInterval(timer);
    onNearLimit(use);
  }, SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}
