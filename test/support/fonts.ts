/** What a font file holds, read independently of archlab: fontconfig's `fc-query` reading of its cmap. */
import { execFileSync } from "node:child_process";

/** The code points a font maps, from fontconfig's reading of its cmap (`20-7e a0-2e9 …`). */
export function charset(file: string): (cp: number) => boolean {
  const ranges = execFileSync("fc-query", ["--format", "%{charset}", file], { encoding: "utf8" })
    .trim()
    .split(/\s+/)
    .map((r) => r.split("-").map((h) => parseInt(h, 16)));
  return (cp) => ranges.some(([lo, hi = lo]) => cp >= lo && cp <= hi);
}
