/**
 * Rendering that once aborted the process (resvg panics), run in a child so that a regression is a
 * failed test and not a dead test runner. `node --import tsx test/support/png-child.ts <case>`
 * prints one JSON line:
 *
 *     player T   the HTML of player() over a T-step constant-input LSTM sequence
 *     view T     the HTML of view(stepper) at the last of T steps
 *     svg scale  svgToPng of the SVG on stdin: { png } (base64) or { error: { name, code, message } }
 */
import { readFileSync } from "node:fs";
import { cell, LSTM, player, svgToPng, view } from "../../src";

async function main(kind: string, arg: string): Promise<object> {
  if (kind === "svg") {
    try {
      return { png: svgToPng(readFileSync(0, "utf8"), { scale: Number(arg) }).toString("base64") };
    } catch (e) {
      const { name, message } = e as Error;
      return { error: { name, code: (e as { code?: string }).code, message } };
    }
  }
  const T = Number(arg);
  const xs = Array.from({ length: T }, () => [0.5]);
  const c = cell(LSTM, { inputSize: 1, hiddenSize: 4, seed: 1 });
  if (kind === "player") return { html: (await player(c.run(xs))).html };
  const s = c.stepper(xs);
  s.seek(T - 1);
  return { html: (await view(s).frame())["text/html"] };
}

main(process.argv[2], process.argv[3]).then((result) => process.stdout.write(JSON.stringify(result)));
