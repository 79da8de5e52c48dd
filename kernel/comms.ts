/// <reference types="node" preserve="true" />
// The directive above is kept in comms.d.ts (TypeScript ≥ 5.5 emits reference directives only when
// marked `preserve`): cells import this file through the prelude, and so get Node's types (tslab issue 61).
/**
 * Comms: a bidirectional channel between a frontend (a widget, an extension) and code in the
 * kernel. Cells register targets on {@link comms}; a frontend's `comm_open` for that target calls
 * the handler with the new {@link Comm}. Cells may also open comms themselves.
 *
 * @example
 * comms.registerTarget("echo", (comm, open) => {
 *   comm.onMsg((msg) => comm.send({ echo: msg.data }));
 * });
 */
import { randomUUID } from "node:crypto";
import { log } from "./log";
import { commErrors } from "./messages";

/** The payload of a comm message. */
export interface CommMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  buffers: Buffer[];
}

/** Called when a frontend opens a comm for a registered target. */
export type CommHandler = (comm: Comm, open: CommMessage) => void | Promise<void>;

/** What a comm message carries besides its content: the message's own metadata (as ipykernel sends it) and binary buffers. */
type SendOptions = { metadata?: Record<string, unknown>; buffers?: Buffer[] };

/** Sends a comm message to the frontends (the kernel plugs its IOPub in). */
type Transport = (msgType: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>, options: SendOptions) => void;

/** One open comm. */
export class Comm {
  private messageHandlers: ((msg: CommMessage) => void | Promise<void>)[] = [];
  private closeHandlers: ((msg: CommMessage) => void | Promise<void>)[] = [];
  private isClosed = false;

  /** @internal created by {@link CommRegistry} */
  constructor(readonly id: string, readonly targetName: string, private readonly registry: CommRegistry) {}

  /** True once either side closed the comm. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Calls `handler` with every message the frontend sends on this comm. */
  onMsg(handler: (msg: CommMessage) => void | Promise<void>): void {
    this.messageHandlers.push(handler);
  }

  /** Calls `handler` when the frontend closes this comm. */
  onClose(handler: (msg: CommMessage) => void | Promise<void>): void {
    this.closeHandlers.push(handler);
  }

  /** Sends `data` to the frontend. */
  send(data: Record<string, unknown> = {}, options: SendOptions = {}): void {
    if (this.isClosed) throw new Error(commErrors.sendOnClosed(this.id));
    this.registry.transmit("comm_msg", { comm_id: this.id, data }, options);
  }

  /** Closes the comm from the kernel side. */
  close(data: Record<string, unknown> = {}): void {
    if (this.isClosed) return;
    this.registry.transmit("comm_close", { comm_id: this.id, data }, {});
    this.registry.forget(this.id);
    this.isClosed = true;
  }

  /** @internal the frontend sent a message */
  async received(msg: CommMessage): Promise<void> {
    for (const handler of this.messageHandlers) await handler(msg);
  }

  /** @internal the frontend closed the comm */
  async closedByFrontend(msg: CommMessage): Promise<void> {
    this.isClosed = true;
    for (const handler of this.closeHandlers) await handler(msg);
  }
}

/** The comm targets and open comms of this kernel. */
export class CommRegistry {
  private readonly targets = new Map<string, CommHandler>();
  private readonly byId = new Map<string, Comm>();
  private transport: Transport | undefined;

  /** Calls `handler` for every `comm_open` a frontend sends for `targetName` (replacing a previous one). */
  registerTarget(targetName: string, handler: CommHandler): void {
    this.targets.set(targetName, handler);
  }

  /** Stops accepting comms for `targetName`. */
  unregisterTarget(targetName: string): void {
    this.targets.delete(targetName);
  }

  /** Opens a comm from the kernel to a target the frontend registered. */
  open(targetName: string, data: Record<string, unknown> = {}, options: SendOptions = {}): Comm {
    const comm = new Comm(randomUUID(), targetName, this);
    this.byId.set(comm.id, comm);
    this.transmit("comm_open", { comm_id: comm.id, target_name: targetName, data }, options);
    return comm;
  }

  /** The open comms, optionally of one target: the content of a `comm_info_reply`. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const comm of this.byId.values()) {
      if (targetName === undefined || comm.targetName === targetName) out[comm.id] = { target_name: comm.targetName };
    }
    return out;
  }

  /** @internal the kernel plugs its IOPub in */
  connect(transport: Transport): void {
    this.transport = transport;
  }

  /** @internal */
  transmit(msgType: Parameters<Transport>[0], content: Record<string, unknown>, options: SendOptions): void {
    if (!this.transport) throw new Error(commErrors.noKernel);
    this.transport(msgType, content, options);
  }

  /** @internal */
  forget(id: string): void {
    this.byId.delete(id);
  }

  /** @internal a frontend's `comm_open`: runs the target's handler, or closes the comm if there is none. */
  async handleOpen(content: Record<string, unknown>, msg: CommMessage): Promise<void> {
    const id = String(content.comm_id);
    const targetName = String(content.target_name);
    const handler = this.targets.get(targetName);
    const comm = new Comm(id, targetName, this);
    if (!handler) {
      log(commErrors.noTarget(targetName));
      comm.close();
      return;
    }
    this.byId.set(id, comm);
    try {
      await handler(comm, msg);
    } catch (error) {
      comm.close();
      throw error;
    }
  }

  /** @internal a frontend's `comm_msg` */
  async handleMessage(content: Record<string, unknown>, msg: CommMessage): Promise<void> {
    const comm = this.byId.get(String(content.comm_id));
    if (!comm) return log(commErrors.unknownComm(String(content.comm_id)));
    await comm.received(msg);
  }

  /** @internal a frontend's `comm_close` */
  async handleClose(content: Record<string, unknown>, msg: CommMessage): Promise<void> {
    const id = String(content.comm_id);
    const comm = this.byId.get(id);
    if (!comm) return log(commErrors.unknownComm(id));
    this.byId.delete(id);
    await comm.closedByFrontend(msg);
  }
}

/** The kernel's comm registry, in scope in every notebook. */
export const comms = new CommRegistry();
