/**
 * The kernel's logos: kernel/logo-svg.svg is the source; the PNGs Jupyter's launcher shows are
 * rendered from it with resvg. Regenerate after editing the SVG:
 *
 *     npx tsc -p tsconfig.json && node dist/kernel/logo.js
 *
 * (a test checks that the committed PNGs are what the SVG renders to).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { PACKAGE_ROOT } from "../src/package-root";

/** The logo sizes Jupyter uses. */
export const LOGO_SIZES = [32, 64] as const;

/** The SVG logo, rendered as a square PNG of `size` pixels. */
export function renderLogo(size: number): Buffer {
  const svg = readFileSync(join(PACKAGE_ROOT, "kernel", "logo-svg.svg"));
  return new Resvg(svg, { fitTo: { mode: "width", value: size } }).render().asPng();
}

if (require.main === module) {
  for (const size of LOGO_SIZES) writeFileSync(join(PACKAGE_ROOT, "kernel", `logo-${size}x${size}.png`), renderLogo(size));
}
