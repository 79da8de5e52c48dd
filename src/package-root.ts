/** The root folder of the installed archlab package: the nearest folder above this file with a package.json (the same from src/ and dist/src/). */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export const PACKAGE_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}
