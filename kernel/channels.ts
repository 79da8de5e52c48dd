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

/** How the kernel's sockets are set up. */
export interface ChannelOptions {
  /**
   * The largest frame accepted on shell, control and stdin, in bytes: ZeroMQ drops the connection
   * of a peer that sends a bigger one before buffering it (an unauthenticated peer could otherwise
   * make the kernel hold hundreds of MB before the signature is checked).
   */
  maxMessageSize: number;
  /** How long the kernel may stay unresponsive after an interrupt before it is ended (heartbeat.ts). */
  interruptTimeoutMs: number;
}

export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  /** 64 MiB: far above any request a frontend sends (comm buffers included), far below harm. */
  maxMessageSize: 64 * 2 ** 20,
  interruptTimeoutMs: 10_000,
};

/** The kernel's bound sockets. */
export class Channels {
  readonly shell = new zmq.Router();
  readonly control = new zmq.Router();
  readonly stdin = new zmq.Router();
  readonly iopub = new zmq.Publisher();
  readonly signer: Signer;
  /** The heartbeat process and interrupt watchdog, starting while the kernel already answers. */
  readonly heartbeat: Promise<Heartbeat>;
  private readonly queues: Map<zmq.Socket, SendQueue>;

  private constructor(info: ConnectionInfo, options: ChannelOptions) {
    this.signer = new Signer(info.key, info.signature_scheme);
    for (const socket of this.all()) {
      socket.linger = 1000;
      // No limit on messages waiting for a slow peer: a PUB socket at its limit drops them silently.
      socket.sendHighWaterMark = 0;
    }
    this.queues = new Map(this.all().map((socket) => [socket, new SendQueue(socket)]));
    for (const socket of [this.shell, this.control, this.stdin]) socket.maxMessageSize = options.maxMessageSize;
    this.heartbeat = startHeartbeat(address(info, info.hb_port), options);
    this.heartbeat.catch(() => undefined); // awaited by the kernel; not unhandled meanwhile
  }

  /**
   * Binds every socket to the ports of the connection file and starts the heartbeat process
   * (resolves without waiting for it, so requests are answered at once).
   */
  static async bind(info: ConnectionInfo, options: ChannelOptions = DEFAULT_CHANNEL_OPTIONS): Promise<Channels> {
    const channels = new Channels(info, options);
    await Promise.all([
      channels.shell.bind(address(info, info.shell_port)),
      channels.control.bind(address(info, info.control_port)),
      channels.stdin.bind(address(info, info.stdin_port)),
      channels.iopub.bind(address(info, info.iopub_port)),
    ]);
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
    await (await this.heartbeat.catch(() => undefined))?.stop();
  }

  private all(): (zmq.Router | zmq.Publisher)[] {
    return [this.shell, this.control, this.stdin, this.iopub];
  }
}

function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
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
