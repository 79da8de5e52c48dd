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

/** The kernel's bound sockets. */
export class Channels {
  readonly shell = new zmq.Router();
  readonly control = new zmq.Router();
  readonly stdin = new zmq.Router();
  readonly iopub = new zmq.Publisher();
  readonly signer: Signer;
  private heartbeat: Heartbeat | undefined;

  private constructor(info: ConnectionInfo) {
    this.signer = new Signer(info.key, info.signature_scheme);
    for (const socket of this.all()) socket.linger = 1000;
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

  /** Signs and sends `message` now (never deferred: outputs of a busy synchronous cell still stream). */
  send(socket: zmq.Router | zmq.Publisher, message: Message<unknown>): void {
    if (socket.closed) return;
    socket.send(encode(message, this.signer)).catch((error: unknown) => log(wireErrors.sendFailed(message.header.msg_type, error)));
  }

  /** Closes every socket and stops the heartbeat process. */
  async close(): Promise<void> {
    for (const socket of this.all()) socket.close();
    await this.heartbeat?.stop();
  }

  private all(): zmq.Socket[] {
    return [this.shell, this.control, this.stdin, this.iopub];
  }
}

function socketName(channels: Channels, socket: zmq.Socket): string {
  return socket === channels.shell ? "shell" : socket === channels.control ? "control" : "stdin";
}
