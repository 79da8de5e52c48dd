/**
 * The archlab kernel: tslab's converter and executor behind a complete Jupyter protocol.
 *
 *     connection file → Channels (bind) → control: handled at once (interrupt, shutdown, kernel_info)
 *                                       → shell:   queued, one request at a time, busy … idle
 *     start: bind → answer kernel_info → TypeScript program → library in scope (scope.ts) → answer the queue
 *
 * Interrupts (SIGINT or interrupt_request) stop the running cell and cancel what it scheduled
 * (cell-scope.ts); code that never yields is stopped, or the kernel ended, by the watchdog (heartbeat.ts).
 *
 * A running cell may ask the person at the notebook for text (`input()`, stdin.ts): the kernel sends
 * input_request on stdin to the frontend that sent the cell, if that request allowed it.
 *
 * stop_on_error follows ipykernel: when a cell fails and its request asked for it (the default),
 * execute requests already received are answered "aborted"; a request sent after the error reply
 * runs normally.
 */
import { randomUUID } from "node:crypto";
// The kernel's own timers, never the gated globals that cells get (cell-scope.ts).
import { setImmediate, setInterval, setTimeout } from "node:timers";
import { jsonBundle, setPublisher, type Publisher } from "../src/display/protocol";
import { connectWidgets } from "../src/widgets/host";
import type * as TslabJupyter from "tslab/dist/jupyter";
import { CellScope } from "./cell-scope";
import { Channels, DEFAULT_CHANNEL_OPTIONS, type ChannelOptions, type RequestSocket } from "./channels";
import { comms, type CommMessage } from "./comms";
import { displayError, processExitError, thrownError, type ErrorContent } from "./errors";
import { watchHeap } from "./heap";
import { History, type HistoryRequest } from "./history";
import { IOPub } from "./iopub";
import { kernelPublisher, resultBundle, type KernelPublisher } from "./display";
import { log } from "./log";
import { isComplete } from "./is-complete";
import type * as Language from "./language";
import { cellErrors, commErrors, kernelLog, stdinErrors, wireErrors } from "./messages";
import type { CellOutcome, CellRunner } from "./runner";
import { connectStdin, StdinNotImplementedError } from "./stdin";
import { kernelInfo } from "./versions";
import { newHeader, readConnectionFile, type Message } from "./wire";

/** A request and the socket its reply goes back on. */
interface Request {
  message: Message;
  socket: RequestSocket;
  /** Set when an earlier cell failed with stop_on_error while this request waited. */
  aborted?: boolean;
}

type Handler = (request: Request) => void | Promise<void>;

/** Requests answered on the control channel, at once even while a cell runs. */
const CONTROL_REQUESTS = new Set(["interrupt_request", "shutdown_request", "kernel_info_request"]);

/** How `archlab kernel` was asked to run. */
export interface KernelOptions extends ChannelOptions {
  /** Run even when the connection file has no key (messages unsigned: anyone reaching the ports can run code). */
  allowNoKey: boolean;
}

/** Starts a kernel for `connectionFile`; resolves once the library is in scope and requests are answered. */
export async function startKernel(connectionFile: string, options: KernelOptions = { ...DEFAULT_CHANNEL_OPTIONS, allowNoKey: false }): Promise<Kernel> {
  const info = readConnectionFile(connectionFile);
  if (!info.key) {
    if (!options.allowNoKey) throw new Error(wireErrors.noKey(connectionFile));
    log(wireErrors.runningWithoutKey(connectionFile));
  }
  const kernel = new Kernel(await Channels.bind(info, options));
  await kernel.start();
  return kernel;
}

/** How long a starting kernel waits for a first request (kernel_info) before it loads TypeScript. */
const FIRST_REQUEST_WAIT_MS = 2000;
/** …and how long without a further request after it (see {@link Kernel.quietAfterFirstRequest}). */
const QUIET_MS = 500;

/** One kernel process. */
export class Kernel {
  private readonly session = randomUUID();
  private readonly iopub: IOPub;
  private readonly publisher: KernelPublisher;
  private readonly history = new History();
  private readonly queue: Request[] = [];
  private readonly cells = new CellScope();
  private runner: CellRunner | undefined;
  private language: typeof Language | undefined;
  /** Resolves when the first request arrives (the starting kernel answers it before loading TypeScript). */
  private firstRequest!: () => void;
  private lastRequestAt = 0;
  private executionCount = 0;
  private working = false;
  private ready = false;
  /** A cell is running (its execute request is being handled). */
  private running = false;
  /** The execute request whose cell is running, and whether its frontend accepts input requests. */
  private cell: { request: Request; allowStdin: boolean; ended?: boolean } | undefined;
  /** The `input()` waiting for its input_reply. */
  private pendingInput: { resolve: (value: string) => void; reject: (error: Error) => void } | undefined;
  /** The status a cell asked `process.exit` for: the kernel ends once that cell is answered. */
  private exitStatus: number | undefined;
  private exiting: Promise<never> | undefined;
  /** Node's own `process.exit` (cells get {@link interceptExit}'s). */
  private readonly processExit = process.exit.bind(process);

  private readonly handlers: Record<string, Handler> = {
    execute_request: (r) => this.execute(r),
    kernel_info_request: (r) => this.reply(r, "kernel_info_reply", kernelInfo()),
    complete_request: (r) => this.complete(r),
    inspect_request: (r) => this.inspect(r),
    is_complete_request: (r) => this.reply(r, "is_complete_reply", isComplete(String(r.message.content.code ?? ""))),
    history_request: (r) => this.reply(r, "history_reply", { status: "ok", history: this.history.query(r.message.content as HistoryRequest) }),
    comm_info_request: (r) => this.reply(r, "comm_info_reply", { status: "ok", comms: comms.info(r.message.content.target_name as string | undefined) }),
    comm_open: (r) => this.comm(r, "open"),
    comm_msg: (r) => this.comm(r, "message"),
    comm_close: (r) => this.comm(r, "close"),
    interrupt_request: (r) => {
      this.interrupt();
      this.reply(r, "interrupt_reply", { status: "ok" });
    },
    shutdown_request: (r) => this.shutdown(r),
  };

  constructor(private readonly channels: Channels) {
    this.iopub = new IOPub(channels, this.session);
    this.publisher = kernelPublisher(this.iopub);
  }

  /**
   * Listens and answers kernel_info at once (jupyter_client asks again every second until
   * answered, and every extra request leaves a stray reply queued): TypeScript (1–2 s, during which
   * nothing is read) loads only after the first requests were answered (or after
   * {@link FIRST_REQUEST_WAIT_MS} without one). Then it puts the library in scope and answers the queue — so no cell, completion or
   * inspection runs without the library.
   */
  async start(): Promise<void> {
    const started = Date.now();
    this.routeOutputs();
    const firstRequest = new Promise<void>((resolve) => (this.firstRequest = resolve));
    void this.channels.listen(this.channels.control, (message) => {
      this.lastRequestAt = Date.now();
      this.firstRequest();
      void this.handle({ message, socket: this.channels.control });
    });
    void this.channels.listen(this.channels.shell, (message) => this.enqueue({ message, socket: this.channels.shell }));
    void this.channels.listen(this.channels.stdin, (message) => this.stdinReply(message));
    this.iopub.status("starting");
    const heartbeat = await this.channels.heartbeat;
    await this.quietAfterFirstRequest(firstRequest);
    // Loaded here, not at the top: tslab, scope.ts and language.ts load TypeScript.
    const { CellRunner } = require("./runner") as typeof import("./runner");
    const { loadPrelude } = require("./scope") as typeof import("./scope");
    const tslabJupyter = require("tslab/dist/jupyter") as typeof TslabJupyter;
    this.runner = new CellRunner(process.cwd(), this.cells);
    this.runner.settled = () => {
      this.endInput();
      return this.publisher.settled();
    };
    this.language = require("./language") as typeof Language;
    (tslabJupyter as { lastWriteDisplayData: unknown }).lastWriteDisplayData = (data: Record<string, unknown>, update: boolean) =>
      this.cells.live && this.cells.outside(() => this.iopub.publish(update ? "update_display_data" : "display_data", data));
    log(kernelLog.converterReady(Date.now() - started));
    await this.drainShell();
    const prelude = loadPrelude((name, source) => this.runner!.addModule(name, source));
    if (prelude.clashes.length > 0) log(kernelLog.clashes(prelude.clashes));
    if (prelude.problems.length > 0) log(cellErrors.startup(prelude.problems.join("\n")));
    this.runner.scope = prelude.names;
    log(kernelLog.ready(Date.now() - started, prelude.names.length));
    this.ready = true;
    heartbeat.serving();
    void this.work();
  }

  /**
   * Waits for the first request (at most {@link FIRST_REQUEST_WAIT_MS}), then until none has come
   * for {@link QUIET_MS}: jupyter_client asks kernel_info again when the status of its first
   * request did not reach it on IOPub (a subscriber that had not joined yet), 0.2 s after the reply.
   */
  private async quietAfterFirstRequest(firstRequest: Promise<void>): Promise<void> {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    if (!(await Promise.race([firstRequest.then(() => true), sleep(FIRST_REQUEST_WAIT_MS).then(() => false)]))) return;
    while (Date.now() - this.lastRequestAt < QUIET_MS) await sleep(QUIET_MS - (Date.now() - this.lastRequestAt));
  }

  /**
   * Lets the shell listener read every message that has arrived (it cannot while code runs): a few
   * turns of the event loop, each polling the socket. (Asking ZeroMQ whether the socket is
   * readable instead would consume its edge-triggered wake-up and stall the listener.)
   */
  private async drainShell(): Promise<void> {
    for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
  }

  /**
   * Sends stdout/stderr, displays, comm messages and late errors to IOPub — except what an
   * interrupted cell still produces (cell-scope.ts), which is dropped.
   */
  private routeOutputs(): void {
    const cells = this.cells;
    const stream = (name: "stdout" | "stderr") =>
      ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
        if (cells.live) cells.outside(() => this.iopub.stream(name, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")));
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") done();
        return true;
      }) as typeof process.stdout.write;
    process.stdout.write = stream("stdout");
    process.stderr.write = stream("stderr");
    const publisher = this.publisher;
    setPublisher({
      display: (bundle, options) => void (cells.live && cells.outside(() => publisher.display(bundle, options))),
      clearOutput: (options) => void (cells.live && cells.outside(() => publisher.clearOutput(options))),
      begin: () => publisher.begin(),
    } satisfies Publisher);
    comms.connect((msgType, content, options) => cells.live && cells.outside(() => this.iopub.publish(msgType, content, options)));
    connectWidgets(comms);
    connectStdin((prompt, password) => this.requestInput(prompt, password));
    cells.gateTimers();
    process.on("SIGINT", () => this.interrupt());
    process.exit = ((code?: number | string | null) => this.interceptExit(code)) as typeof process.exit;
    exitWithParent(() => void this.exit());
    process.on("uncaughtException", (error) => {
      if (!(error instanceof ProcessExit)) process.stderr.write(kernelLog.uncaught(error));
    });
    process.on("unhandledRejection", (reason) => process.stderr.write(kernelLog.unhandledRejection(reason)));
  }

  /** Stops the running cell and everything it scheduled. */
  private interrupt(): void {
    this.cancelInput(stdinErrors.interrupted);
    this.cells.interrupt();
    this.runner?.interrupt();
  }

  private enqueue(request: Request): void {
    this.lastRequestAt = Date.now();
    this.firstRequest();
    // kernel_info needs nothing loaded: answered even while the kernel starts.
    if (!this.ready && request.message.header.msg_type === "kernel_info_request") void this.handle(request);
    else this.queue.push(request);
    void this.work();
  }

  /** Answers shell requests one at a time, in order. */
  private async work(): Promise<void> {
    if (this.working || !this.ready) return;
    this.working = true;
    try {
      for (let request = this.queue.shift(); request; request = this.queue.shift()) await this.handle(request);
    } finally {
      this.working = false;
    }
  }

  /** busy → the request's handler (or its abort reply) → idle. */
  private async handle(request: Request): Promise<void> {
    const { message, socket } = request;
    const msgType = message.header.msg_type;
    const replyType = msgType.replace(/_request$/, "_reply");
    const onControl = socket === this.channels.control;
    const handler = (!onControl || CONTROL_REQUESTS.has(msgType)) && Object.hasOwn(this.handlers, msgType) ? this.handlers[msgType] : undefined;
    if (!onControl) this.iopub.parent = message;
    this.iopub.status("busy", message);
    try {
      if (!handler) log(kernelLog.unknownRequest(msgType, onControl ? "control" : "shell"));
      else if (request.aborted) this.reply(request, replyType, { status: "aborted" });
      else await handler(request);
    } catch (error) {
      log(kernelLog.handlerFailed(msgType, error));
      if (msgType.endsWith("_request")) this.reply(request, replyType, { status: "error", ...thrownError(error) });
    } finally {
      this.iopub.status("idle", message);
    }
    if (this.exitStatus !== undefined && !this.running) await this.exit(this.exitStatus);
  }

  /**
   * `process.exit(n)` called by a cell (or by code it started). Ending at once would lose the cell's
   * queued outputs and leave Jupyter without a reply, so: the call throws (the rest of the cell
   * does not run) and wakes an awaiting cell; the cell's error says what happened; its reply and
   * idle are sent, every queued message is delivered, and then the process exits with n. Called
   * while no cell runs, the notice goes to the last cell's stderr.
   */
  private interceptExit(code: number | string | null | undefined): never {
    const status = Number(code ?? process.exitCode ?? 0);
    const first = this.exitStatus === undefined;
    this.exitStatus ??= Number.isInteger(status) ? status : 1;
    if (first && this.running) this.runner?.interrupt();
    else if (first) {
      process.stderr.write(`${cellErrors.processExit(this.exitStatus)}\n`);
      void this.exit(this.exitStatus);
    }
    throw new ProcessExit(cellErrors.processExit(this.exitStatus));
  }

  private reply(request: Request, msgType: string, content: Record<string, unknown>): void {
    this.iopub.flush();
    this.channels.send(request.socket, {
      identities: request.message.identities,
      header: newHeader(msgType, this.session),
      parent_header: request.message.header,
      metadata: {},
      content,
      buffers: [],
    });
  }

  private async execute(request: Request): Promise<void> {
    const content = request.message.content;
    const code = String(content.code ?? "");
    const silent = content.silent === true;
    const store = !silent && content.store_history !== false;
    if (store) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.iopub.publish("execute_input", { code, execution_count: count });
    if (store) this.history.addInput(count, code);

    let error: ErrorContent | undefined;
    this.running = true;
    this.cell = { request, allowStdin: content.allow_stdin === true };
    const stopWatching = watchHeap((use) => {
      process.stderr.write(`${cellErrors.heapNearLimit(use.usedMB, use.limitMB)}\n`);
      this.runner?.interrupt();
    });
    try {
      const outcome = await this.runner!.run(code);
      if (outcome.status === "error") error = outcome.error;
      else if (outcome.hasValue && !silent && this.exitStatus === undefined) {
        try {
          const bundle = await resultBundle(outcome.value);
          this.iopub.publish("execute_result", { execution_count: count, data: jsonBundle(bundle), metadata: {} });
          if (store) this.history.addOutput(count, bundle["text/plain"]);
        } catch (thrown) {
          error = displayError(thrown, outcome.value);
        }
      }
    } catch (internal) {
      log(kernelLog.handlerFailed("execute_request", internal));
      error = thrownError(internal);
    } finally {
      stopWatching();
      this.running = false;
      this.cell = undefined;
    }
    if (this.exitStatus !== undefined) error = processExitError(this.exitStatus);
    if (!error) {
      const expressions = await this.userExpressions(content.user_expressions);
      this.reply(request, "execute_reply", { status: "ok", execution_count: count, user_expressions: expressions, payload: [] });
      return;
    }
    if (!silent) this.iopub.publish("error", { ...error });
    if (content.stop_on_error !== false) await this.abortWaiting();
    this.reply(request, "execute_reply", { status: "error", execution_count: count, ...error });
  }

  /**
   * Evaluates an execute request's `user_expressions` after its cell ran without error, as
   * ipykernel does: each name maps to `{status: "ok", data, metadata}` (data: the value's bundle,
   * as an execute_result's) or to the error it raised.
   */
  private async userExpressions(requested: unknown): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    if (!requested || typeof requested !== "object") return out;
    for (const [name, expression] of Object.entries(requested as Record<string, unknown>)) out[name] = await this.userExpression(String(expression));
    return out;
  }

  private async userExpression(expression: string): Promise<Record<string, unknown>> {
    let outcome: CellOutcome | undefined;
    try {
      outcome = await this.runner!.evaluate(expression);
      if (outcome.status === "error") return { status: "error", ...outcome.error };
      return { status: "ok", data: jsonBundle(await resultBundle(outcome.value)), metadata: {} };
    } catch (thrown) {
      return { status: "error", ...(outcome?.status === "ok" ? displayError(thrown, outcome.value) : thrownError(thrown)) };
    }
  }

  /**
   * Sends `input()`'s input_request on stdin to the frontend that sent the running cell (routed to
   * its identities, with its execute_request as parent) and resolves with the input_reply's value.
   */
  private requestInput(prompt: string, password: boolean): Promise<string> {
    const cell = this.cell;
    if (!cell || !this.cells.live) return Promise.reject(new StdinNotImplementedError(stdinErrors.noCell));
    if (!cell.allowStdin) return Promise.reject(new StdinNotImplementedError(stdinErrors.notAllowed));
    if (cell.ended) return Promise.reject(new Error(stdinErrors.cellEnded));
    this.iopub.flush(); // what the cell printed before shows above the input box
    return new Promise((resolve, reject) => {
      this.pendingInput = { resolve, reject };
      this.channels.send(this.channels.stdin, {
        identities: cell.request.message.identities,
        header: newHeader("input_request", this.session),
        parent_header: cell.request.message.header,
        metadata: {},
        content: { prompt, password },
        buffers: [],
      });
    });
  }

  /** An input_reply answers the waiting `input()`; anything else on stdin (or a late reply) is logged and dropped. */
  private stdinReply(message: Message): void {
    const pending = this.pendingInput;
    if (message.header.msg_type !== "input_reply" || !pending) return log(kernelLog.unexpectedStdin(message.header.msg_type));
    this.pendingInput = undefined;
    pending.resolve(String(message.content.value ?? ""));
  }

  /**
   * The running cell's code is done (the runner waits for its displays next): an `input()` still
   * waiting was not awaited, and ends now — its error is reported in the cell, before idle.
   */
  private endInput(): void {
    if (this.cell) this.cell.ended = true;
    this.cancelInput(stdinErrors.cellEnded);
  }

  /** Ends the waiting `input()` (its cell was interrupted or ended) with `reason`. */
  private cancelInput(reason: string): void {
    const pending = this.pendingInput;
    this.pendingInput = undefined;
    pending?.reject(new Error(reason));
  }

  /**
   * Marks the execute requests received so far as aborted. Runs before the error reply is sent,
   * so a request sent after the reply (nbclient's next cell) is never caught by it.
   */
  private async abortWaiting(): Promise<void> {
    await this.drainShell();
    for (const waiting of this.queue) if (waiting.message.header.msg_type === "execute_request") waiting.aborted = true;
  }

  /** tslab's completion, with each item's type (`_jupyter_types_experimental`, read by JupyterLab). */
  private complete(request: Request): void {
    const { code, cursor } = codeAndCursor(request.message.content);
    const info = this.runner!.executor.complete(code, toUtf16(code, cursor));
    const span = { start: toCodePoints(code, info.start), end: toCodePoints(code, info.end) };
    const types = this.language!.completionTypes(info, span, new Set(this.runner!.scope), this.runner!.executor.locals);
    this.reply(request, "complete_reply", {
      status: "ok",
      matches: info.candidates,
      cursor_start: span.start,
      cursor_end: span.end,
      metadata: { _jupyter_types_experimental: types },
    });
  }

  /** TypeScript's quick info: inside a call's parentheses, of the function called (language.ts). */
  private inspect(request: Request): void {
    const { code, cursor } = codeAndCursor(request.message.content);
    const positions = this.language!.inspectPositions(code, toUtf16(code, cursor));
    let info;
    for (const position of positions) if ((info = this.runner!.executor.inspect(code, position))) break;
    this.reply(request, "inspect_reply", this.language!.inspectReply(info));
  }

  private async comm(request: Request, event: "open" | "message" | "close"): Promise<void> {
    const { content, metadata, buffers } = request.message;
    const message: CommMessage = { data: (content.data ?? {}) as Record<string, unknown>, metadata, buffers };
    try {
      // A comm handler runs as its own cell: an earlier interrupted cell does not silence it.
      await this.cells.run(() =>
        event === "open" ? comms.handleOpen(content, message) : event === "message" ? comms.handleMessage(content, message) : comms.handleClose(content, message),
      );
    } catch (error) {
      const text = commErrors.handlerFailed(event, error);
      log(text);
      process.stderr.write(`${text}\n`);
    }
  }

  private shutdown(request: Request): void {
    const restart = request.message.content.restart === true;
    this.reply(request, "shutdown_reply", { status: "ok", restart });
    setImmediate(() => void this.exit());
  }

  /**
   * Delivers what is queued, closes everything and ends the process (cells may have left timers or
   * servers running). Once: a second call gets the first one's ending.
   */
  exit(status = 0): Promise<never> {
    this.exiting ??= (async () => {
      process.exitCode = status; // (the process may end on its own once the sockets are closed)
      this.iopub.flush();
      this.runner?.close();
      await this.channels.close();
      return this.processExit(status);
    })();
    return this.exiting;
  }
}

/** What `process.exit(status)` in a cell throws, so that the rest of the cell does not run. */
class ProcessExit extends Error {
  override name = "ProcessExit";
}

/** Ends the kernel when the process that started it is gone, as ipykernel's parent poller does. */
function exitWithParent(exit: () => void): void {
  const parent = process.ppid;
  if (!process.env.JPY_PARENT_PID) return; // not started by Jupyter
  setInterval(() => {
    if (process.ppid !== parent) exit();
  }, 1000).unref();
}

function codeAndCursor(content: Record<string, unknown>): { code: string; cursor: number } {
  const code = String(content.code ?? "");
  return { code, cursor: typeof content.cursor_pos === "number" ? content.cursor_pos : [...code].length };
}

/** Jupyter counts cursor positions in code points; JavaScript strings in UTF-16 units. */
function toUtf16(text: string, codePoints: number): number {
  return [...text].slice(0, codePoints).join("").length;
}

function toCodePoints(text: string, utf16: number): number {
  return [...text.slice(0, utf16)].length;
}
