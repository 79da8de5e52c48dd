/**
 * Snapshot files, as Observable Plot keeps them: the test compares its output with the committed
 * file; on a mismatch it writes `<name>-changed.<ext>` beside it and fails. `UPDATE_SNAPSHOTS=1`
 * rewrites the snapshots instead. A missing snapshot fails too (create it with UPDATE_SNAPSHOTS=1
 * and review it before committing).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname } from "node:path";

/** Asserts that `actual` equals the snapshot at `path` (see the module doc for the workflow). */
export function matchSnapshot(path: string, actual: string): void {
  const ext = extname(path);
  const changed = `${path.slice(0, -ext.length)}-changed${ext}`;
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    rmSync(changed, { force: true });
    return;
  }
  assert.ok(existsSync(path), `Snapshot ${path} is missing: run the tests with UPDATE_SNAPSHOTS=1 to create it, then review and commit it.`);
  const expected = readFileSync(path, "utf8");
  if (expected === actual) {
    rmSync(changed, { force: true });
    return;
  }
  writeFileSync(changed, actual);
  assert.fail(`Output differs from snapshot ${path}; the new output is in ${changed}. If the change is intended, rerun with UPDATE_SNAPSHOTS=1.`);
}
