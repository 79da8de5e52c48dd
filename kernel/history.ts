/**
 * This kernel's input history, answering `history_request` as IPython does for the current
 * session: `tail` (the last n cells), `range` (line numbers start..stop, stop exclusive) and
 * `search` (a glob pattern as in IPython's SQLite `GLOB`: `*`, `?`, `[…]`, case-sensitive).
 * Entries are `[session, line, input]`, or `[session, line, [input, output]]` with `output: true`.
 */

/** The session number this kernel reports (IPython also accepts 0 and negative offsets for "current"). */
export const SESSION = 1;

type Entry = [number, number, string] | [number, number, [string, string | null]];

/** The content of a `history_request`. */
export interface HistoryRequest {
  hist_access_type?: "tail" | "range" | "search";
  output?: boolean;
  raw?: boolean;
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

/** Cells run with `store_history`, numbered by execution count. */
export class History {
  private readonly inputs = new Map<number, string>();
  private readonly outputs = new Map<number, string>();

  /** Records the input of cell `line`. */
  addInput(line: number, code: string): void {
    this.inputs.set(line, code);
  }

  /** Records the text/plain result of cell `line`. */
  addOutput(line: number, text: string): void {
    this.outputs.set(line, text);
  }

  /** Answers a history request. Unknown sessions and access types give no entries. */
  query(request: HistoryRequest): Entry[] {
    const lines = [...this.inputs.keys()].sort((a, b) => a - b);
    const sessionOk = request.session === undefined || request.session <= 0 || request.session === SESSION;
    switch (request.hist_access_type ?? "range") {
      case "tail":
        return this.entries(lines.slice(-Math.max(0, request.n ?? 10)), request);
      case "range": {
        const start = request.start ?? 1;
        const stop = request.stop ?? Infinity;
        return sessionOk ? this.entries(lines.filter((line) => line >= start && line < stop), request) : [];
      }
      case "search":
        return this.entries(this.search(lines, request), request);
      default:
        return [];
    }
  }

  private search(lines: number[], request: HistoryRequest): number[] {
    const pattern = globToRegExp(request.pattern ?? "*");
    let found = lines.filter((line) => pattern.test(this.inputs.get(line)!));
    if (request.unique) {
      const seen = new Set<string>();
      found = found.reverse().filter((line) => !seen.has(this.inputs.get(line)!) && seen.add(this.inputs.get(line)!)).reverse();
    }
    return request.n ? found.slice(-request.n) : found;
  }

  private entries(lines: number[], request: HistoryRequest): Entry[] {
    return lines.map((line) => {
      const input = this.inputs.get(line)!;
      return request.output ? [SESSION, line, [input, this.outputs.get(line) ?? null]] : [SESSION, line, input];
    });
  }
}

/** SQLite GLOB semantics (what IPython's history search uses) as a RegExp over the whole input. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "[" && glob.indexOf("]", i + 2) > 0) {
      const end = glob.indexOf("]", i + 2);
      const body = glob.slice(i + 1, end);
      source += body.startsWith("^") ? `[^${escapeClass(body.slice(1))}]` : `[${escapeClass(body)}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function escapeClass(body: string): string {
  return body.replace(/[\\\]]/g, "\\$&");
}
