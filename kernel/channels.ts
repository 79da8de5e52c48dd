/**
 * The ZeroMQ sockets of a kernel: shell and control (requests), stdin, iopub (broadcast outputs
 * and status); the heartbeat echoes in its own process (heartbeat.ts). Receiving decodes and verifies every message; one
 * that is malformed or wrongly signed is logged and dropped, and the kernel carries on.
 *
 * Sending goes through one ordered queue per socket ({@link SendQueue}) and no socket has a send
 * high-water mark, so a flood of outputs is delivered in full and in order, never dropped.
 */
import * as zmq from "zeromq";
import { startHeartbeat, type Heartbeat } from "./heartbeat";
import { log } from "./log";
import { wireErrors } from "./messages";
import { decode, encode, type ConnectionInfo, type Message, Signer } from "./wire";

/** A socket requests arrive on. */
export type RequestSocket = zmq.Router;

/** The kernel's bound sockets. */
export class Channels {
  readonly shell = new zmq.Router();
  readonly control = new zmq.Router();
  readonly stdin = new zmq.Router();
  readonly iopub = new zmq.Publisher();
  readonly signer: Signer;
  private heartbeat: Heartbeat | undefined;
  private readonly queues: Map<zmq.Socket, SendQueue>;

  private constructor(info: ConnectionInfo) {
    this.signer = new Signer(info.key, info.signature_scheme);
    for (const socket of this.all()) {
      socket.linger = 1000;
      // No limit on messages waiting for a slow peer: a PUB socket at its limit drops them silently.
      socket.sendHighWaterMark = 0;
    }
    this.queues = new Map(this.all().map((socket) => [socket, new SendQueue(socket)]));
  }

  /** Binds every socket to the ports of the connection file and starts the heartbeat process. */
  static async bind(info: ConnectionInfo): Promise<Channels> {
    const channels = new Channels(info);
    const address = (port: number) => (info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`);
    const [heartbeat] = await Promise.all([
      startHeartbeat(address(info.hb_port)),
      channels.shell.bind(address(info.shell_port)),
      channels.control.bind(address(info.control_port)),
      channels.stdin.bind(address(info.stdin_port)),
      channels.iopub.bind(address(info.iopub_port)),
    ]);
    channels.heartbeat = heartbeat;
    return channels;
  }

  /** Calls `onMessage` with every valid message arriving on `socket`, until the socket closes. */
  async listen(socket: RequestSocket, onMessage: (message: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let message: Message;
        try {
          message = decode(frames, this.signer);
        } catch (error) {
          log(wireErrors.dropped(socketName(this, socket), (error as Error).message));
          continue;
        }
        onMessage(message);
      }
    } catch (error) {
      if (!socket.closed) log(wireErrors.receiveFailed(socketName(this, socket), error));
    }
  }

  /** Signs `message` and sends it after everything sent earlier on `socket` (now, if nothing waits). */
  send(socket: zmq.Router | zmq.Publisher, message: Message<unknown>): void {
    this.queues.get(socket)!.push(encode(message, this.signer), message.header.msg_type);
  }

  /** Resolves once every message sent so far has been handed to ZeroMQ. */
  async flushed(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.flushed()));
  }

  /** Sends what is queued, then closes every socket and stops the heartbeat process. */
  async close(): Promise<void> {
    await this.flushed();
    for (const socket of this.all()) socket.close();
    await this.heartbeat?.stop();
  }

  private all(): (zmq.Router | zmq.Publisher)[] {
    return [this.shell, this.control, this.stdin, this.iopub];
  }
}

function socketName(channels: Channels, socket: zmq.Socket): string {
  return socket === channels.shell ? "shell" : socket === channels.control ? "control" : "stdin";
}

/**
 * The messages of one socket, sent in order. zeromq.js allows one send in progress per socket: a
 * send normally completes at once (so outputs of a busy synchronous cell still stream), but after
 * 512 immediate sends it defers one to the next turn of the event loop, and any send meanwhile
 * throws "Socket is busy writing". Messages that cannot go at once wait here and are sent one
 * after another, each when the previous has completed.
 */
export class SendQueue {
  private readonly waiting: { frames: Buffer[]; msgType: string }[] = [];
  /** The last send handed to the socket (settled means the socket is free). */
  private last: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;

  constructor(private readonly socket: zmq.Router | zmq.Publisher) {}

  push(frames: Buffer[], msgType: string): void {
    if (this.socket.closed) return;
    if (!this.draining) {
      try {
        this.last = this.socket.send(frames).catch((error: unknown) => log(wireErrors.sendFailed(msgType, error)));
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== "EBUSY") return log(wireErrors.sendFailed(msgType, error));
      }
    }
    this.waiting.push({ frames, msgType });
    this.draining ??= this.drain();
  }

  /** Resolves once every message pushed so far has been handed to ZeroMQ. */
  async flushed(): Promise<void> {
    await this.draining;
    await this.last;
  }

  private async drain(): Promise<void> {
    await this.last;
    for (let next = this.waiting.shift(); next && !this.socket.closed; next = this.waiting.shift()) {
      try {
        await this.socket.send(next.frames);
      } catch (error) {
        log(wireErrors.sendFailed(next.msgType, error));
      }
    }
    this.waiting.length = 0;
    this.draining = undefined;
  }
}
