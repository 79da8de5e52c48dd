/**
 * Replay protection of the wire format, as jupyter_client's Session has it: a signature accepted
 * once is refused after, and the history of signatures is bounded.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { wireErrors } from "../../kernel/messages";
import { decode, encode, newHeader, Signer, WireError, type Message } from "../../kernel/wire";

const message = (code: string): Message => ({
  identities: [],
  header: newHeader("execute_request", "session-1"),
  parent_header: {},
  metadata: {},
  content: { code },
  buffers: [],
});

describe("replayed messages", () => {
  test("the same signed frames decode once; the copy is a WireError", () => {
    const signer = new Signer("secret-key");
    const frames = encode(message("1 + 1"), signer);
    assert.equal(decode(frames, signer).content.code, "1 + 1");
    assert.throws(() => decode(frames, signer), new WireError(wireErrors.replayed));
    assert.equal(decode(encode(message("1 + 1"), signer), signer).content.code, "1 + 1", "a fresh message with the same code is no replay");
  });

  test("the history is bounded: past 65 536 signatures the oldest tenth is forgotten", () => {
    const signer = new Signer("secret-key");
    for (let i = 0; i <= 2 ** 16; i++) assert.equal(signer.fresh(`sig-${i}`), true);
    assert.equal(signer.fresh("sig-0"), true, "the oldest was forgotten");
    assert.equal(signer.fresh(`sig-${2 ** 16}`), false, "the newest is remembered");
  });

  test("without a key nothing is signed, so nothing can be told apart: no replay check", () => {
    const open = new Signer("");
    const frames = encode(message("x"), open);
    decode(frames, open);
    assert.doesNotThrow(() => decode(frames, open));
  });
});
