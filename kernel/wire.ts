/**
 * The Jupyter wire protocol: how a message travels as ZeroMQ frames, signed with HMAC.
 *
 *     [identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]
 *
 * `decode` verifies the signature (constant-time) and the shape of the four JSON parts and throws
 * a {@link WireError} naming what is wrong; the kernel logs and drops such messages.
 * See https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { wireErrors } from "./messages";

/** The protocol version this kernel speaks. */
export const PROTOCOL_VERSION = "5.3";

const DELIMITER = Buffer.from("<IDS|MSG>");

/** A message header (also used as the parent header of replies). */
export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [extra: string]: unknown;
}

/** A decoded message. `content` is left untyped: each handler reads the fields it needs. */
export interface Message<C = Record<string, unknown>> {
  /** ZeroMQ routing prefix: replies are sent back to these identities. */
  identities: Buffer[];
  header: Header;
  /** The header of the request this message answers, or `{}`. */
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** The connection file Jupyter writes for a kernel. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

/** A free TCP port on the loopback interface (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A connection for a kernel a client starts itself: five free loopback ports and a fresh key. */
export async function newConnectionInfo(): Promise<ConnectionInfo> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await Promise.all([0, 1, 2, 3, 4].map(freePort));
  const key = randomBytes(16).toString("hex");
  return { transport: "tcp", ip: "127.0.0.1", shell_port, iopub_port, stdin_port, control_port, hb_port, key, signature_scheme: "hmac-sha256" };
}

/** A malformed or wrongly signed message. */
export class WireError extends Error {
  override name = "WireError";
}

/** Reads and checks a connection file. */
export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(readFileSync(file, "utf8")) as Partial<ConnectionInfo>;
  for (const port of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"] as const) {
    if (typeof info[port] !== "number") throw new Error(wireErrors.connectionFile(file, `"${port}" is missing`));
  }
  return { transport: "tcp", ip: "127.0.0.1", key: "", signature_scheme: "hmac-sha256", ...info } as ConnectionInfo;
}

/** How many signatures a {@link Signer} remembers to reject replays (jupyter_client's Session keeps 2¹⁶). */
const DIGEST_HISTORY = 2 ** 16;

/** Signs and verifies frames with the connection's key (no key: no signature, as Jupyter allows). */
export class Signer {
  private readonly algorithm: string;
  /** Signatures already accepted, oldest first (a Set iterates in insertion order). */
  private readonly seen = new Set<string>();

  constructor(private readonly key: string, scheme = "hmac-sha256") {
    const match = /^hmac-([\w-]+)$/.exec(scheme);
    if (!match) throw new Error(wireErrors.scheme(scheme));
    this.algorithm = match[1];
    createHmac(this.algorithm, "probe"); // throws now on an algorithm Node does not know
  }

  /** The hex signature of the four JSON parts. */
  sign(parts: readonly (string | Buffer)[]): string {
    if (!this.key) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }

  /** True when `signature` is the right one for `parts` (constant time). */
  verify(signature: string, parts: readonly Buffer[]): boolean {
    if (!this.key) return true;
    const expected = Buffer.from(this.sign(parts));
    const actual = Buffer.from(signature);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /**
   * Records an accepted signature; false when it was seen before — a replayed message, which
   * jupyter_client's Session rejects too. Past {@link DIGEST_HISTORY} signatures the oldest tenth
   * is forgotten, as there.
   */
  fresh(signature: string): boolean {
    if (!this.key) return true;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    if (this.seen.size > DIGEST_HISTORY) {
      let forget = DIGEST_HISTORY / 10;
      for (const old of this.seen) {
        if (forget-- <= 0) break;
        this.seen.delete(old);
      }
    }
    return true;
  }
}

/** Decodes the frames of one message, or throws a {@link WireError}. */
export function decode(frames: readonly Buffer[], signer: Signer): Message {
  const at = frames.findIndex((frame) => frame.equals(DELIMITER));
  if (at < 0) throw new WireError(wireErrors.noDelimiter);
  const parts = frames.slice(at + 2, at + 6);
  if (parts.length < 4) throw new WireError(wireErrors.tooFewParts(parts.length));
  const signature = frames[at + 1].toString();
  if (!signer.verify(signature, parts)) throw new WireError(wireErrors.badSignature);
  if (!signer.fresh(signature)) throw new WireError(wireErrors.replayed);
  const [header, parent_header, metadata, content] = parts.map((part, i) => parseObject(part, PART_NAMES[i]));
  if (typeof header.msg_type !== "string" || typeof header.msg_id !== "string") {
    throw new WireError(wireErrors.badHeader);
  }
  return {
    identities: frames.slice(0, at),
    header: header as Header,
    parent_header: parent_header as Header,
    metadata,
    content,
    buffers: frames.slice(at + 6),
  };
}

const PART_NAMES = ["header", "parent_header", "metadata", "content"];

function parseObject(part: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(part.toString("utf8"));
  } catch {
    throw new WireError(wireErrors.notJson(name));
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new WireError(wireErrors.notObject(name));
  return value as Record<string, unknown>;
}

/** Encodes a message into signed frames. */
export function encode(message: Message<unknown>, signer: Signer): Buffer[] {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
    Buffer.from(JSON.stringify(part)),
  );
  return [...message.identities, DELIMITER, Buffer.from(signer.sign(parts)), ...parts, ...message.buffers];
}

const username = (() => {
  try {
    return userInfo().username;
  } catch {
    return "archlab";
  }
})();

/** A fresh header for a message of this kernel's `session`. */
export function newHeader(msgType: string, session: string): Header {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}
