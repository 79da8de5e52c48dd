/**
 * `input()`: a cell asks the person at the notebook for a line of text, as Python's `input()` does
 * in ipykernel. The kernel sends `input_request` on the stdin channel to the frontend that sent
 * the running cell; the frontend shows a text box; its `input_reply` resolves the promise.
 *
 * @example
 * const name = await input("Your name? ");
 * const secret = await input("Password: ", { password: true });
 */
import { stdinErrors } from "./messages";

/** How {@link input} asks. */
export interface InputOptions {
  /** Hide what is typed (the frontend shows dots), for passwords and tokens. */
  password?: boolean;
}

/**
 * Thrown by {@link input} when the frontend cannot answer: the running request was sent with
 * `allow_stdin: false` (nbconvert, `archlab run`, …) or no cell is running. ipykernel's name.
 */
export class StdinNotImplementedError extends Error {
  override name = "StdinNotImplementedError";
}

/** Asks the frontend (the kernel plugs its stdin channel in); resolves with the reply's value. */
type Requester = (prompt: string, password: boolean) => Promise<string>;

let requester: Requester | undefined;
/** Settles when the input asked last is answered: each request waits for the one before (one text box at a time). */
let previous: Promise<void> = Promise.resolve();

/** @internal the kernel connects its stdin channel. */
export function connectStdin(ask: Requester): void {
  requester = ask;
}

/**
 * Reads a line typed in the notebook: shows `prompt` in an input box under the running cell and
 * resolves with what was typed (without the newline). Interrupting the cell stops the wait.
 * Throws {@link StdinNotImplementedError} where nobody can type (a notebook run by `archlab run`
 * or nbconvert, or outside a running cell).
 */
export function input(prompt = "", options: InputOptions = {}): Promise<string> {
  if (!requester) return Promise.reject(new StdinNotImplementedError(stdinErrors.noKernel));
  const ask = requester;
  const turn = previous;
  let done!: () => void;
  previous = new Promise<void>((resolve) => (done = resolve));
  // `finally` returns the caller's promise: a rejection nobody awaits is still reported as unhandled.
  return turn.then(() => ask(String(prompt), options.password === true)).finally(done);
}
