/**
 * Reading and writing notebooks (nbformat 4), with the checks a runner needs: a file that is not a
 * notebook gets an error saying what is wrong with it, never a crash halfway through a run.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

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

/** A file that is not a valid notebook, or a notebook that could not be written. */
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

/**
 * Writes a notebook in the layout Jupyter writes (1-space indent, sources as line lists), atomically.
 * From nbformat 4.5 on every cell needs an id: a cell without one gets a fresh one, as nbformat's
 * own `normalize` gives it.
 */
export function writeNotebook(path: string, nb: Notebook): void {
  const ids = nb.nbformat_minor >= 5;
  const cells = nb.cells.map((c) => ({ ...c, ...(ids && !c.id ? { id: randomBytes(4).toString("hex") } : {}), source: lines(text(c.source)) }));
  writeAtomically(path, JSON.stringify({ ...nb, cells }, null, 1) + "\n");
}

/**
 * Replaces `path` with `data` so that, whatever happens (a full disk, a killed process, a power
 * cut), the file is either the old one or the whole new one, never a truncated mix: writes a
 * temporary file in the same folder, flushes it to disk, then renames it over `path` (atomic on
 * one file system) and flushes the folder. The file keeps its permissions.
 *
 * Not npm's write-file-atomic (7.0.1): its synchronous write ignores a short write, so a file-size
 * limit (EFBIG) left a truncated notebook renamed over the user's (the --inplace test shows it).
 */
export function writeAtomically(path: string, data: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const mode = modeOf(path);
  const fd = openSync(temp, "wx");
  try {
    try {
      if (mode !== undefined) fchmodSync(fd, mode);
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
    throw error;
  }
  syncFolder(dirname(path));
}

/** The permission bits of an existing file (undefined for a new file: it gets the default). */
function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Flushes a folder's entries (the rename) to disk; where folders cannot be opened (Windows), skips. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
