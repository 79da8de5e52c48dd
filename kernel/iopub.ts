/**
 * IOPub: everything the kernel broadcasts — status, execute_input/result, errors, streams,
 * display data, comm messages — each tied to the request it belongs to (its parent).
 *
 * Writes to stdout/stderr are coalesced: consecutive writes become one `stream` message, sent
 * before any other output (order is kept), on the next turn of the event loop, or after 50 ms of
 * a busy synchronous cell (so its progress still shows).
 */
import type { Channels } from "./channels";
import { newHeader, type Message } from "./wire";

const FLUSH_AFTER_MS = 50;

type StreamName = "stdout" | "stderr";

/** Publishes on IOPub on behalf of the current request. */
export class IOPub {
  /** The request outputs belong to: the one being handled, or the last one (late outputs go there, as in ipykernel). */
  parent: Message | undefined;
  private pending: { name: StreamName; text: string; parent: Message | undefined; since: number } | undefined;
  private flushScheduled = false;

  constructor(private readonly channels: Channels, private readonly session: string) {}

  /** Publishes one message, after any pending stream text. */
  publish(msgType: string, content: Record<string, unknown>, options: { parent?: Message; buffers?: Buffer[]; metadata?: Record<string, unknown> } = {}): void {
    this.flush();
    this.send(msgType, content, options.parent ?? this.parent, options);
  }

  /** Publishes `execution_state` for `parent`. */
  status(state: "busy" | "idle" | "starting", parent?: Message): void {
    this.publish("status", { execution_state: state }, { parent });
  }

  /** Appends text to stdout or stderr. */
  stream(name: StreamName, text: string): void {
    if (!text) return;
    if (this.pending && (this.pending.name !== name || this.pending.parent !== this.parent)) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { name, text, parent: this.parent, since: Date.now() };
    if (Date.now() - this.pending.since >= FLUSH_AFTER_MS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Sends pending stream text now. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    this.send("stream", { name: pending.name, text: pending.text }, pending.parent, {});
  }

  private send(msgType: string, content: Record<string, unknown>, parent: Message | undefined, options: { buffers?: Buffer[]; metadata?: Record<string, unknown> }): void {
    this.channels.send(this.channels.iopub, {
      identities: [Buffer.from(msgType)],
      header: newHeader(msgType, this.session),
      parent_header: parent?.header ?? ({} as Record<string, never>),
      metadata: options.metadata ?? {},
      content,
      buffers: options.buffers ?? [],
    });
  }
}
