/**
 * The kernel's side of the display protocol (src/display/protocol.ts): the {@link Publisher}
 * that sends `display_data` / `update_display_data` / `clear_output` — a whole multi-mime bundle in
 * one message — and the bundle of a cell's result.
 */
import { inspect } from "node:util";
import { format, jsonBundle, type DisplayOptions, type MimeBundle, type Publisher } from "../src/display/protocol";
import { cellErrors } from "./messages";
import type { IOPub } from "./iopub";

/**
 * The bundle of a cell's last value: a displayable's own bundle, else text/plain as IPython and
 * Node's REPL show values (strings quoted, so `"1"` and `1` differ) — except a string of several
 * lines (CSV, DOT, a report), shown as its lines: quoted, Node would show it as a concatenation of
 * escaped pieces (`'name,t\n' +`), which nobody can read.
 */
export async function resultBundle(value: unknown): Promise<MimeBundle> {
  if (typeof value === "string") return { "text/plain": value.includes("\n") ? value : inspect(value) };
  return format(value);
}


/** The publisher the kernel installs with `setPublisher`, and what it knows of displays in progress. */
export interface KernelPublisher extends Publisher {
  begin(): () => void;
  /** Resolves once no display is rendering (including displays started meanwhile). */
  settled(): Promise<void>;
}

/** The publisher the kernel installs with `setPublisher`. */
export function kernelPublisher(iopub: IOPub): KernelPublisher {
  const rendering = new Set<Promise<void>>();
  return {
    begin() {
      let end!: () => void;
      const done = new Promise<void>((resolve) => (end = resolve));
      rendering.add(done);
      return () => {
        rendering.delete(done);
        end();
      };
    },
    async settled() {
      while (rendering.size > 0) await Promise.all(rendering);
    },
    display(bundle: MimeBundle, { id, update, metadata }: DisplayOptions) {
      if (update && !id) throw new TypeError(cellErrors.updateWithoutId);
      iopub.publish(update ? "update_display_data" : "display_data", {
        data: jsonBundle(bundle),
        metadata: metadata ?? {},
        transient: id ? { display_id: id } : {},
      });
    },
    clearOutput({ wait }) {
      iopub.publish("clear_output", { wait });
    },
  };
}
