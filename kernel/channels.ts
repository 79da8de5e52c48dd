/**
 * The ZeroMQ sockets of a kernel: shell and control (requests), stdin, iopub (broadcast outputs
 * and status); the heartbeat echoes in its own process (heartbeat.ts). Receiving decodes and verifies every message; one
 * that is malformed or wrongly signed is logged and dropped, and the kernel carries on.
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

  private constructor(info: ConnectionInfo, options: ChannelOptions) {
    this.signer = new Signer(info.key, info.signature_scheme);
    for (const socket of this.all()) socket.linger = 1000;
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

  /** Signs and sends `message` now (never deferred: outputs of a busy synchronous cell still stream). */
  send(socket: zmq.Router | zmq.Publisher, message: Message<unknown>): void {
    if (socket.closed) return;
    socket.send(encode(message, this.signer)).catch((error: unknown) => log(wireErrors.sendFailed(message.header.msg_type, error)));
  }

  /** Closes every socket and stops the heartbeat process. */
  async close(): Promise<void> {
    for (const socket of this.all()) socket.close();
    await (await this.heartbeat.catch(() => undefined))?.stop();
  }

  private all(): zmq.Socket[] {
    return [this.shell, this.control, this.stdin, this.iopub];
  }
}

function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

function socketName(channels: Channels, socket: zmq.Socket): string {
  return socket === channels.shell ? "shell" : socket === channels.control ? "control" : "stdin";
}
