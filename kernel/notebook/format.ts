/**
 * Reading and writing notebooks (nbformat 4), with the checks a runner needs: a file that is not a
 * notebook gets an error saying what is wrong with it, never a crash halfway through a run.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** A notebook cell as nbformat 4 stores it (sources may be a string or a list of lines). */
export interface Cell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Record<string, unknown>[];
  execution_count?: number | null;
  id?: string;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

/** A file that is not a valid notebook. */
export class NotebookError extends Error {
  override name = "NotebookError";
}

/** Joins a multi-line source or output string the way the Jupyter server does. */
export const text = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join("") : (s ?? ""));

/** Reads and checks a notebook file. */
export function readNotebook(path: string): Notebook {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (e) {
    throw new NotebookError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  let nb: any;
  try {
    nb = JSON.parse(raw);
  } catch (e) {
    throw new NotebookError(`${path} is not a notebook: it is not JSON (${(e as Error).message}).`);
  }
  const badCell = Array.isArray(nb?.cells)
    ? nb.cells.findIndex((c: any) => !c || !["code", "markdown", "raw"].includes(c.cell_type) || (typeof c.source !== "string" && !Array.isArray(c.source)))
    : -1;
  const problem =
    nb === null || typeof nb !== "object" || Array.isArray(nb)
      ? "its top level is not an object"
      : nb.nbformat !== 4
        ? `nbformat is ${JSON.stringify(nb.nbformat)}, expected 4 (convert it with \`jupyter nbconvert --to notebook\`)`
        : !Array.isArray(nb.cells)
          ? `"cells" is not a list`
          : badCell >= 0
            ? `cell ${badCell + 1} has no valid cell_type or source`
            : null;
  if (problem) throw new NotebookError(`${path} is not a valid notebook: ${problem}.`);
  nb.metadata ??= {};
  for (const c of nb.cells) c.metadata ??= {};
  return nb as Notebook;
}

/** Splits a string into nbformat's list-of-lines form (each line keeps its newline). */
const lines = (s: string): string[] => s.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/** Writes a notebook in the layout Jupyter writes (1-space indent, sources as line lists). */
export function writeNotebook(path: string, nb: Notebook): void {
  const cells = nb.cells.map((c) => ({ ...c, source: lines(text(c.source)) }));
  writeFileSync(path, JSON.stringify({ ...nb, cells }, null, 1) + "\n");
}
