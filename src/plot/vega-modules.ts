/**
 * vega and vega-lite, loaded once. They are ESM-only; this CommonJS build loads them with a dynamic
 * `import()`. Kept in its own module, referenced only by implementations, so the library's public
 * declarations do not pull vega's type graph into every notebook's TypeScript program (that made
 * every cell slower to type-check).
 */
type VegaModule = typeof import("vega");
type VegaLiteModule = typeof import("vega-lite");

let modules: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;

/** vega and vega-lite, imported once. */
export function loadVega(): Promise<{ vega: VegaModule; vl: VegaLiteModule }> {
  return (modules ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({ vega, vl })));
}
