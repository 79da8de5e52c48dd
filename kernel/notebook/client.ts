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
import { KERNEL_ARGV, KERNEL_NAME } from "../spec";
import { decode, encode, newConnectionInfo, newHeader, Signer, type ConnectionInfo, type Message } from "../wire";

/** One output in nbformat 4 shape. */
export type Output = Record<string, unknown> & { output_type: string };

/** What one execution produced. */
export interface ExecuteResult {
  status: "ok" | "error" | "aborted";
  executionCount: number | null;
  outputs: Output[];
  error?: { ename: string; evalue: string; traceback: string[] };
}

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
  private readonly listeners = new Map<string, (m: Message) => void>();
  private readonly replies = new Map<string, (m: Message) => void>();
  /** Outputs by display id, across every cell executed so far (updates may come from later cells). */
  private readonly displays = new Map<string, Output[]>();
  private closed = false;
  private stderr = "";

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly signer: Signer,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr?.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  /** Starts a kernel and waits until it answers. */
  static async start(options: StartOptions = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "archlab-run-"));
    const info: ConnectionInfo = { ...(await newConnectionInfo()), kernel_name: KERNEL_NAME };
    const file = join(dir, "kernel.json");
    writeFileSync(file, JSON.stringify(info));
    const argv = (options.argv ?? KERNEL_ARGV).map((a) => a.replace("{connection_file}", file));
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, stdio: ["ignore", "inherit", "pipe"] });
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
    void this.pump(this.iopub, (m) => this.listeners.get(m.parent_header.msg_id as string)?.(m));
    const exited = new Promise<never>((_, reject) =>
      this.child.once("exit", (code) => reject(new Error(`The kernel exited (code ${code}) before it was ready.\n${this.stderr}`))),
    );
    const deadline = Date.now() + timeoutSeconds * 1000;
    // Ask until iopub delivers our status message: then no output of later requests can be lost.
    while (Date.now() < deadline) {
      const header = newHeader("kernel_info_request", this.session);
      const seen = new Promise<boolean>((resolve) => {
        this.listeners.set(header.msg_id, () => resolve(true));
        setTimeout(() => resolve(false), 1000);
      });
      await this.send(this.shell, header, {});
      const ok = await Promise.race([seen, exited]);
      this.listeners.delete(header.msg_id);
      if (ok) return;
    }
    throw new Error(`The kernel did not answer within ${timeoutSeconds} s.\n${this.stderr}`);
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

  /** Executes `code` and resolves when the kernel is idle again, with nbformat outputs. */
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
          case "update_display_data":
            // As nbclient does: every output shown with this display id, in any cell so far, is replaced.
            for (const o of this.displays.get(c.transient?.display_id) ?? []) Object.assign(o, { data: c.data, metadata: c.metadata ?? {} });
            break;
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
    const died = new Promise<never>((_, reject) =>
      this.child.once("exit", (code) => reject(new Error(`The kernel died (code ${code}) while running a cell.\n${this.stderr}`))),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`A cell ran longer than ${timeoutSeconds} s.`)), timeoutSeconds * 1000);
    });
    try {
      const [r] = await Promise.race([Promise.all([reply, idle]), died, timeout]);
      const c = r.content as Record<string, any>;
      return {
        status: c.status,
        executionCount: c.execution_count ?? null,
        outputs,
        ...(c.status === "error" ? { error: { ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] } } : {}),
      };
    } finally {
      clearTimeout(timer);
      this.listeners.delete(header.msg_id);
      this.replies.delete(header.msg_id);
    }
  }

  /** Asks the kernel to shut down, then closes the sockets (kills the process if it lingers). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once("exit", () => resolve())));
    await this.send(this.control, newHeader("shutdown_request", this.session), { restart: false }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
