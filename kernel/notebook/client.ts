/**
 * A minimal Jupyter client in Node: starts a kernel process with a fresh connection file, talks the
 * wire protocol over ZeroMQ (shell + iopub + control), executes code and collects the outputs the
 * way nbclient does (streams merged, display updates applied, clear_output honoured). It lets
 * `archlab run` execute notebooks on machines without Python or Jupyter.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { runText } from "../messages";
import { KERNEL_ARGV, KERNEL_NAME } from "../spec";
import { decode, encode, newConnectionInfo, newHeader, Signer, type ConnectionInfo, type Message } from "../wire";

/** One output in nbformat 4 shape. */
export type Output = Record<string, unknown> & { output_type: string };

/**
 * What one execution produced. `timeout` and `died` are the client's verdicts, not the kernel's:
 * the cell ran past its time, or the kernel process ended while it ran; `outputs` holds what the
 * cell had produced until then and `reason` says what happened.
 */
export interface ExecuteResult {
  status: "ok" | "error" | "aborted" | "timeout" | "died";
  executionCount: number | null;
  outputs: Output[];
  error?: { ename: string; evalue: string; traceback: string[] };
  reason?: string;
}

/**
 * How long {@link KernelClient.settle} waits with no output before it calls the kernel settled: a
 * display update that a cell set off renders in tens of milliseconds here, seconds on a busy machine.
 */
const SETTLE_QUIET_MS = 1500;

/** Node's timers hold at most 2³¹−1 ms (~24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface StartOptions {
  /** The kernel command; `{connection_file}` is replaced (default: this archlab's kernel). */
  argv?: string[];
  cwd?: string;
  /** Seconds to wait for the kernel to answer kernel_info (default 60). */
  startTimeout?: number;
}

export class KernelClient {
  private readonly session = randomUUID();
  private readonly shell = new zmq.Dealer();
  private readonly control = new zmq.Dealer();
  private readonly iopub = new zmq.Subscriber();
  /**
   * IOPub handlers by parent message id. An executed cell's handler stays for the client's life, as
   * JupyterLab keeps a cell's future: what the cell causes after its idle (an output rendered
   * asynchronously) still lands in that cell.
   */
  private readonly listeners = new Map<string, (m: Message) => void>();
  private readonly replies = new Map<string, (m: Message) => void>();
  /** Outputs by display id, across every cell executed so far (updates may come from later cells). */
  private readonly displays = new Map<string, Output[]>();
  /** When the last output of any cell arrived (for {@link settle}). */
  private lastOutputAt = 0;
  /** Set once the kernel process has ended: how it ended. */
  private exit: string | undefined;
  /**
   * The one wait that the kernel's end cuts short (requests are made one at a time): a single exit
   * listener for the client's life, not one per cell.
   */
  private onExit: ((how: string) => void) | undefined;
  private closed = false;
  private stderr = "";

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly signer: Signer,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.once("exit", (code, signal) => {
      this.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      this.onExit?.(this.exit);
    });
  }

  /** What the kernel wrote to stderr last (its log), for error reports. */
  get log(): string {
    return this.stderr;
  }

  /** Resolves with how the kernel ended, if it ends before `work` settles; `work`'s value otherwise. */
  private async unlessExit<T>(work: Promise<T>): Promise<T | { exited: string }> {
    if (this.exit) return { exited: this.exit };
    try {
      return await Promise.race([work, new Promise<{ exited: string }>((resolve) => (this.onExit = (how) => resolve({ exited: how })))]);
    } finally {
      this.onExit = undefined;
    }
  }

  /** Starts a kernel and waits until it answers. */
  static async start(options: StartOptions = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "archlab-run-"));
    const info: ConnectionInfo = { ...(await newConnectionInfo()), kernel_name: KERNEL_NAME };
    const file = join(dir, "kernel.json");
    writeFileSync(file, JSON.stringify(info));
    const argv = (options.argv ?? KERNEL_ARGV).map((a) => a.replace("{connection_file}", file));
    // JPY_PARENT_PID, as Jupyter sets it: the kernel ends when this process does (Ctrl-C, a crash).
    const env = { ...process.env, JPY_PARENT_PID: String(process.pid) };
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env, stdio: ["ignore", "inherit", "pipe"] });
    const client = new KernelClient(info, new Signer(info.key, info.signature_scheme), child, dir);
    await client.connect(options.startTimeout ?? 60);
    return client;
  }

  private url(port: number) {
    return `${this.info.transport}://${this.info.ip}:${port}`;
  }

  private async connect(timeoutSeconds: number): Promise<void> {
    this.shell.connect(this.url(this.info.shell_port));
    this.control.connect(this.url(this.info.control_port));
    this.iopub.connect(this.url(this.info.iopub_port));
    this.iopub.subscribe();
    void this.pump(this.shell, (m) => this.replies.get(m.parent_header.msg_id as string)?.(m));
    void this.pump(this.control, (m) => this.replies.get(m.parent_header.msg_id as string)?.(m));
    void this.pump(this.iopub, (m) => this.onIopub(m));
    const deadline = Date.now() + timeoutSeconds * 1000;
    // Ask until iopub delivers our status message: then no output of later requests can be lost.
    while (Date.now() < deadline) {
      const header = newHeader("kernel_info_request", this.session);
      const seen = new Promise<boolean>((resolve) => {
        this.listeners.set(header.msg_id, () => resolve(true));
        setTimeout(() => resolve(false), 1000);
      });
      await this.send(this.shell, header, {});
      const ok = await this.unlessExit(seen);
      this.listeners.delete(header.msg_id);
      if (typeof ok === "object") throw new Error(runText.kernelEndedAtStart(ok.exited, this.stderr));
      if (ok) return;
    }
    throw new Error(runText.kernelSilent(timeoutSeconds, this.stderr));
  }

  /**
   * Routes an IOPub message to the request it answers. A display update applies wherever it comes
   * from (whichever request the kernel was serving when the update was sent), as JupyterLab and
   * nbclient apply it: to every output shown with that display id, in any cell so far.
   */
  private onIopub(m: Message): void {
    const c = m.content as Record<string, any>;
    if (m.header.msg_type !== "status") this.lastOutputAt = Date.now();
    if (m.header.msg_type === "update_display_data") {
      for (const o of this.displays.get(c.transient?.display_id) ?? []) Object.assign(o, { data: c.data, metadata: c.metadata ?? {} });
      return;
    }
    this.listeners.get(m.parent_header.msg_id as string)?.(m);
  }

  /**
   * Waits for what executed cells still cause after their idle (a stepper view's display update
   * renders after `s.step()` has returned): first until everything the kernel sent so far has arrived
   * (a kernel_info round trip: IOPub is ordered), then until no output has come for `quietMs`,
   * at most `maxMs` in all. Call it before saving the notebook.
   */
  async settle({ quietMs = SETTLE_QUIET_MS, maxMs = 30_000 } = {}): Promise<void> {
    const deadline = Date.now() + maxMs;
    const header = newHeader("kernel_info_request", this.session);
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<void>((resolve) => {
      this.listeners.set(header.msg_id, () => resolve());
      timer = setTimeout(resolve, maxMs);
    });
    try {
      await this.send(this.shell, header, {});
      await this.unlessExit(seen);
    } finally {
      clearTimeout(timer);
      this.listeners.delete(header.msg_id);
    }
    for (let wait = quietMs; wait > 0 && !this.exit; wait = Math.min(this.lastOutputAt + quietMs, deadline) - Date.now()) await sleep(wait);
  }

  private async pump(socket: zmq.Dealer | zmq.Subscriber, handle: (m: Message) => void) {
    try {
      for await (const frames of socket) {
        try {
          handle(decode(frames as Buffer[], this.signer));
        } catch {
          /* a message we cannot read is not ours to fail on */
        }
      }
    } catch {
      /* socket closed */
    }
  }

  private send(socket: zmq.Dealer, header: ReturnType<typeof newHeader>, content: unknown) {
    return socket.send(encode({ identities: [], header, parent_header: {}, metadata: {}, content, buffers: [] }, this.signer));
  }

  /**
   * Executes `code` and resolves when the kernel is idle again, with nbformat outputs — or, with
   * status `timeout` or `died`, with what the cell printed until it ran out of time or the kernel ended.
   */
  async execute(code: string, { stopOnError = true, timeoutSeconds = 600 }: { stopOnError?: boolean; timeoutSeconds?: number } = {}): Promise<ExecuteResult> {
    const header = newHeader("execute_request", this.session);
    const outputs: Output[] = [];
    let clearOnNext = false;
    const add = (o: Output) => {
      if (clearOnNext) {
        outputs.splice(0);
        clearOnNext = false;
      }
      const last = outputs[outputs.length - 1];
      if (o.output_type === "stream" && last?.output_type === "stream" && last.name === o.name) last.text = `${last.text}${o.text}`;
      else outputs.push(o);
    };
    const idle = new Promise<void>((resolve) => {
      this.listeners.set(header.msg_id, (m) => {
        const c = m.content as Record<string, any>;
        switch (m.header.msg_type) {
          case "status":
            if (c.execution_state === "idle") resolve();
            break;
          case "stream":
            add({ output_type: "stream", name: c.name, text: c.text });
            break;
          case "display_data":
          case "execute_result": {
            const o: Output = { output_type: m.header.msg_type, data: c.data, metadata: c.metadata ?? {} };
            if (m.header.msg_type === "execute_result") o.execution_count = c.execution_count;
            const id = c.transient?.display_id;
            if (id) this.displays.set(id, [...(this.displays.get(id) ?? []), o]);
            add(o);
            break;
          }
          case "clear_output":
            if (c.wait) clearOnNext = true;
            else outputs.splice(0);
            break;
          case "error":
            add({ output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback });
            break;
        }
      });
    });
    const reply = new Promise<Message>((resolve) => this.replies.set(header.msg_id, resolve));
    await this.send(this.shell, header, { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: stopOnError });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.min(timeoutSeconds * 1000, MAX_TIMER_MS))));
    try {
      const done = await this.unlessExit(Promise.race([Promise.all([reply, idle]), timeout]));
      if (done === "timeout") return { status: "timeout", executionCount: null, outputs, reason: runText.timedOut(timeoutSeconds) };
      if (!Array.isArray(done)) return { status: "died", executionCount: null, outputs, reason: runText.died(done.exited, this.stderr) };
      const c = done[0].content as Record<string, any>;
      return {
        status: c.status,
        executionCount: c.execution_count ?? null,
        outputs,
        ...(c.status === "error" ? { error: { ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] } } : {}),
      };
    } finally {
      clearTimeout(timer);
      this.replies.delete(header.msg_id);
    }
  }

  /** Asks the kernel to shut down, then closes the sockets (kills the process if it lingers). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => (this.exit ? resolve() : this.child.once("exit", () => resolve())));
    if (!this.exit) await this.send(this.control, newHeader("shutdown_request", this.session), { restart: false }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    this.listeners.clear();
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
