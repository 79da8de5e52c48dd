/**
 * Runs cells on tslab's executor and reports what happened, structured.
 *
 * tslab's executor type-checks, transpiles and runs a cell, keeps declarations across cells and
 * reports through a `console`: `log` receives exactly the cell's last value, `error` receives the
 * thrown value (or diagnostics, as text). This module turns those into a {@link CellOutcome}:
 * the last value (a Promise is awaited, so `display(x)` as the last line shows x and no
 * `Promise { <pending> }`), or an {@link ErrorContent} — the TypeScript diagnostics are captured
 * from the converter itself, not parsed back from text.
 */
import { setImmediate, setTimeout } from "node:timers";
import { format } from "node:util";
import { createConverter, type Converter, type Diagnostic } from "tslab/dist/converter";
import { createExecutor, type ConverterSet, type Executor } from "tslab/dist/executor";
import type { CellScope } from "./cell-scope";
import { kernelWork } from "./heartbeat";
import { expandShorthands } from "./shorthand";
import { attempt, diagnosticsError, interruptedError, thrownError, type ErrorContent } from "./errors";

/** What running one cell produced. */
export type CellOutcome = { status: "ok"; hasValue: boolean; value?: unknown } | { status: "error"; error: ErrorContent };

const NO_VALUE = Symbol("no value");

/** Executes cells; one per kernel. */
export class CellRunner {
  readonly executor: Executor;
  /** The names the prelude put in scope: an unknown name's error lists those close to it. */
  scope: readonly string[] = [];
  /** Resolves once work the cells started without awaiting it is done (the kernel's displays in progress). */
  settled: () => Promise<void> = async () => {};
  private readonly converters: ConverterSet;
  private diagnostics: readonly Diagnostic[] = [];
  private thrown: unknown = NO_VALUE;
  private value: unknown = NO_VALUE;
  private printed: string[] = [];
  private interrupted = false;
  private wakeOnInterrupt: (() => void) | undefined;

  /**
   * @param rootDir where cells' relative imports resolve (the notebook's folder).
   * @param cells each cell runs in its own context of it, so an interrupt cancels what the cell scheduled.
   */
  constructor(rootDir: string, private readonly cells: CellScope) {
    this.converters = converterSet((diagnostics) => (this.diagnostics = diagnostics));
    this.converters.node; // builds the TypeScript program now, not at the first cell
    this.executor = createExecutor(rootDir, this.converters, {
      log: (value: unknown) => (this.value = value),
      error: (first: unknown, ...rest: unknown[]) => {
        // Diagnostics arrive as a format string: a failing cell's are reported from the converter,
        // those of a `//%module` cell (which does not fail) are shown as stderr.
        if (typeof first === "string" && first.startsWith("%s%d:%d")) this.printed.push(format(first, ...rest));
        else this.thrown = first;
      },
    });
  }

  /**
   * Runs `code`; resolves when the cell, a Promise it ends with, and the displays it started
   * ({@link settled}) are done and the event loop has had a turn — so rejections nobody handled
   * are reported in this cell's output, before its idle. Interruptible throughout.
   */
  async run(code: string): Promise<CellOutcome> {
    const outcome = await this.execute(code);
    try {
      await this.untilInterrupted(this.settled().then(aTurn));
    } catch {
      if (outcome.status === "ok") return { status: "error", error: interruptedError() };
    }
    return outcome;
  }

  private async execute(code: string): Promise<CellOutcome> {
    this.diagnostics = [];
    this.thrown = this.value = NO_VALUE;
    this.interrupted = false;
    this.printed = [];
    let ok: boolean;
    try {
      ok = await this.cells.run(() => this.executor.execute(code));
    } catch (internal) {
      return { status: "error", error: thrownError(internal) };
    }
    if (!ok) return { status: "error", error: this.failure(code) };
    if (this.printed.length > 0) process.stderr.write(this.printed.join("\n") + "\n");
    if (this.value === NO_VALUE) return { status: "ok", hasValue: false };
    if (!isThenable(this.value)) return { status: "ok", hasValue: true, value: this.value };
    try {
      const value = await this.untilInterrupted(this.value);
      return value === undefined || value === null ? { status: "ok", hasValue: false } : { status: "ok", hasValue: true, value };
    } catch (thrown) {
      return { status: "error", error: this.interrupted ? interruptedError() : thrownError(thrown) };
    }
  }

  /**
   * Evaluates one of an execute request's `user_expressions` after its cell, as ipykernel does:
   * an expression (a statement is a syntax error), run in the cells' scope, its value not awaited.
   * The value is wrapped so that `undefined` and `null` are values too (a cell's are not shown).
   */
  async evaluate(expression: string): Promise<CellOutcome> {
    const outcome = await this.run(`({ value: (${expression}\n) })`);
    if (outcome.status === "error") return outcome;
    return { status: "ok", hasValue: true, value: (outcome.value as { value: unknown }).value };
  }

  /** Adds a virtual module to the TypeScript program (tslab's `//%module`); returns its diagnostics. */
  addModule(name: string, source: string): readonly Diagnostic[] {
    return this.converters.node.addModule(name, source);
  }

  /** Stops a running asynchronous cell (a synchronous one is stopped by SIGINT itself). */
  interrupt(): void {
    this.interrupted = true;
    this.executor.interrupt();
    this.wakeOnInterrupt?.();
  }

  /** Releases the TypeScript watchers. */
  close(): void {
    this.executor.close();
  }

  private failure(code: string): ErrorContent {
    if (this.diagnostics.length > 0) return diagnosticsError(this.diagnostics, code, this.scope);
    if (isInterruption(this.thrown) || this.interrupted) return interruptedError();
    return thrownError(this.thrown === NO_VALUE ? new Error("cell failed") : this.thrown);
  }

  private untilInterrupted<T>(promise: PromiseLike<T>): Promise<T> {
    const interrupted = new Promise<never>((_, reject) => (this.wakeOnInterrupt = () => reject(new Error("interrupted"))));
    return Promise.race([promise, interrupted]).finally(() => (this.wakeOnInterrupt = undefined));
  }
}

/** Node's error for a synchronous script stopped by SIGINT (`breakOnSigint`), and tslab's async one. */
function isInterruption(thrown: unknown): boolean {
  const error = thrown as { code?: string; message?: string } | null;
  return attempt(() => error?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" || error?.message === "Interrupted asynchronously", false);
}

/** Lets timers due now and the checks after them run (Node reports unhandled rejections after each callback). */
async function aTurn(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise(setImmediate);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>)?.then === "function";
}

/** tslab's converters (built lazily, as tslab does), reporting each cell's diagnostics. */
function converterSet(onDiagnostics: (diagnostics: readonly Diagnostic[]) => void): ConverterSet {
  let node: Converter | undefined;
  let browser: Converter | undefined;
  // Type-checking is the kernel's own work: an interrupt waits for it (heartbeat.ts).
  // Shorthands naming an earlier cell's declarations are written out first (shorthand.ts).
  const reporting = (converter: Converter): Converter => ({
    ...converter,
    convert(prevDecl, src) {
      const result = kernelWork(() => {
        const cell = expandShorthands(src, prevDecl);
        const converted = converter.convert(prevDecl, cell.code);
        return { ...converted, diagnostics: cell.diagnostics(converted.diagnostics) };
      });
      onDiagnostics(result.diagnostics);
      return result;
    },
    complete: (...args) => kernelWork(() => converter.complete(...args)),
    inspect: (...args) => kernelWork(() => converter.inspect(...args)),
    addModule: (...args) => kernelWork(() => converter.addModule(...args)),
  });
  return {
    get node() {
      return (node ??= reporting(createConverter({ isJS: false, isBrowser: false })));
    },
    get browser() {
      return (browser ??= reporting(createConverter({ isJS: false, isBrowser: true })));
    },
    close() {
      node?.close();
      browser?.close();
    },
  };
}
