/**
 * Which cell the running code belongs to, so an interrupt stops the cell's work and not just the
 * wait for it.
 *
 * A timer, interval or immediate scheduled from a cell's code (a cell frame is on the stack, or
 * one of the cell's own timer callbacks is running) belongs to the cell that is current. Once that
 * cell is interrupted its timers no longer fire (an interval is cleared), so an async loop
 * (`for (;;) { await sleep(10); … }`) stops at its next wait and is garbage; and what it still
 * prints or displays is dropped, so no output of an interrupted cell lands in a later cell.
 * Timers the kernel schedules (no cell frame on the stack, or inside {@link CellScope.outside})
 * are never touched. Code that never yields to the event loop (`while (true) {}`,
 * `while (true) await null;`) is stopped by the watchdog (heartbeat.ts), not here.
 *
 * Not AsyncLocalStorage: on Node 20 it turns on async hooks, and stopping a microtask loop through
 * the inspector (the watchdog) then aborts Node (`Assertion failed: (env_->execution_async_id()) == (0)`).
 */
import { promisify } from "node:util";

interface Cell {
  interrupted: boolean;
}

/** vm scripts without a filename (tslab runs cells so) show up in stacks as this. */
const CELL_FILE = "evalmachine.<anonymous>";

/** The cells of one kernel. */
export class CellScope {
  private current: Cell | undefined;
  /** The cell whose timer callback is running. */
  private active: Cell | undefined;
  private kernelDepth = 0;

  /** Runs `start` (a cell, or a comm handler) as the current cell: what it schedules belongs to it. */
  run<T>(start: () => T): T {
    this.current = { interrupted: false };
    return start();
  }

  /** Marks the current cell interrupted: its scheduled work is cancelled, its late output dropped. */
  interrupt(): void {
    if (this.current) this.current.interrupted = true;
  }

  /** False while code of an interrupted cell runs. */
  get live(): boolean {
    return !(this.active ?? this.current)?.interrupted;
  }

  /** Runs kernel code (sending outputs, scheduling a flush) as the kernel's: never cancelled. */
  outside<T>(action: () => T): T {
    this.kernelDepth++;
    try {
      return action();
    } finally {
      this.kernelDepth--;
    }
  }

  /** Replaces the global timer functions with ones that skip callbacks of interrupted cells. */
  gateTimers(): void {
    const scope = this;
    const gate = <F extends (callback: (...args: any[]) => void, ...rest: any[]) => any>(original: F, clear?: (handle: ReturnType<F>) => void): F => {
      const gated = function (this: unknown, callback: (...args: any[]) => void, ...rest: any[]) {
        const owner = typeof callback === "function" ? scope.owner() : undefined;
        if (!owner) return original.call(this, callback, ...rest);
        const handle = original.call(
          this,
          function (this: unknown, ...args: any[]) {
            if (owner.interrupted) return clear?.(handle);
            const before = scope.active;
            scope.active = owner;
            try {
              return callback.apply(this, args);
            } finally {
              scope.active = before;
            }
          },
          ...rest,
        );
        return handle;
      } as F;
      // util.promisify(setTimeout) and friends keep working.
      Object.defineProperty(gated, promisify.custom, { value: (original as any)[promisify.custom] });
      return gated;
    };
    globalThis.setTimeout = gate(globalThis.setTimeout);
    globalThis.setInterval = gate(globalThis.setInterval, globalThis.clearInterval);
    globalThis.setImmediate = gate(globalThis.setImmediate);
  }

  /** The cell that schedules a timer now, if it is a cell's code that does. */
  private owner(): Cell | undefined {
    if (this.kernelDepth > 0 || !this.current) return undefined;
    return this.active ?? (calledFromCell() ? this.current : undefined);
  }
}

/** True when a cell's code is on the stack (async frames included). */
function calledFromCell(): boolean {
  const { stackTraceLimit, prepareStackTrace } = Error;
  Error.stackTraceLimit = 100;
  Error.prepareStackTrace = (_, frames) => frames.some((frame) => frame.getFileName() === CELL_FILE);
  try {
    const probe: { stack?: unknown } = {};
    Error.captureStackTrace(probe, calledFromCell);
    return probe.stack === true;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    Error.prepareStackTrace = prepareStackTrace;
  }
}
