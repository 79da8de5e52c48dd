/**
 * The Vega side of charts, in the kernel process: vega-lite 5 compiles a spec, vega renders it
 * headless (no browser, no canvas) to SVG for the static fallback, and its scenegraph tells where
 * each time cursor sits, so frames can move a cursor without rendering again.
 *
 * vega and vega-lite are loaded once by ./vega-modules.
 */
import type { VegaLiteSpec } from "./spec";
import { loadVega } from "./vega-modules";

/** A spec compiled by vega-lite 5 into a Vega spec (throws vega-lite's own error on a bad spec). */
export async function compileSpec(spec: VegaLiteSpec): Promise<object> {
  const { vl } = await loadVega();
  return vl.compile(spec as never).spec;
}

/** One cursor rule in rendered pixels: x at step t is `x0 + perStep · t`; it spans y1…y2. */
export interface CursorGeometry {
  x0: number;
  perStep: number;
  y1: number;
  y2: number;
}

/** A chart rendered headless: SVG markup, size in CSS pixels, and where its cursors go. */
export interface RenderedScene {
  svg: string;
  width: number;
  height: number;
  /** The cursor param's value in `svg`. */
  t: number | null;
  cursors: CursorGeometry[];
}

/** The name prefix of cursor layers: the scenegraph walk finds them by it. */
export const CURSOR_MARK = "cursor";
/** The name of the time cursor param. */
export const CURSOR_PARAM = "t";
/** A cursor step that hides the cursor (see cursor.ts: the rule layer keeps only t ≥ 0). */
const HIDDEN = -1;

interface SceneItem {
  x?: number;
  y?: number;
  y2?: number;
  height?: number;
  items?: SceneMark[];
}
interface SceneMark {
  marktype: string;
  name?: string;
  items: SceneItem[];
}

/** Walks a vega scenegraph, adding group offsets, collecting the cursor rules' positions and counting marks. */
function walk(mark: SceneMark, ox: number, oy: number, found: { x: number; y1: number; y2: number }[]): void {
  const isCursor = mark.name?.startsWith(CURSOR_MARK) ?? false;
  for (const item of mark.items ?? []) {
    if (mark.marktype === "group") {
      const gx = ox + (item.x ?? 0);
      const gy = oy + (item.y ?? 0);
      for (const child of item.items ?? []) walk(child, gx, gy, found);
    } else if (isCursor) {
      {
        const y = item.y ?? 0;
        found.push({ x: ox + (item.x ?? 0), y1: oy + y, y2: oy + (item.y2 ?? y + (item.height ?? 0)) });
      }
    }
  }
}

/**
 * Renders a Vega-Lite spec headless to SVG. When the spec has a time cursor, it is drawn at
 * `cursorAt` (`null`: hidden — the cursor layer draws nothing for a negative step), and the cursors' pixel
 * positions are measured from the scenegraph at two steps, so callers can draw one at any step.
 */
export async function renderScene(spec: VegaLiteSpec, { cursorAt }: { cursorAt?: number | null } = {}): Promise<RenderedScene> {
  const { vega } = await loadVega();
  // No ARIA labels in the static picture: they repeat every datum (a raster's whole data URI) as text.
  const config = { ...((spec.config as object) ?? {}), aria: false };
  const view = new vega.View(vega.parse((await compileSpec({ ...spec, config })) as never), { renderer: "none", logLevel: vega.Error });
  const hasCursor = (spec.params ?? []).some((p) => p.name === CURSOR_PARAM);
  const scene = () => (view.scenegraph() as unknown as { root: SceneMark }).root;
  // toSVG translates the scene by the origin (room for axes and titles) plus the padding.
  const origin = () => {
    const [x, y] = view.origin();
    const pad = view.padding() as { left?: number; top?: number };
    return [x + (pad.left ?? 0), y + (pad.top ?? 0)];
  };
  let cursors: CursorGeometry[] = [];
  const initial = hasCursor ? (view.signal(CURSOR_PARAM) as number) : null;
  if (hasCursor) {
    const measure = async (t: number) => {
      view.signal(CURSOR_PARAM, t);
      await view.runAsync();
      const found: { x: number; y1: number; y2: number }[] = [];
      const [ox, oy] = origin();
      walk(scene(), ox, oy, found);
      return found;
    };
    const a = await measure(0);
    const b = await measure(1);
    cursors = a.map((c, i) => ({ x0: c.x, perStep: b[i].x - c.x, y1: c.y1, y2: c.y2 }));
  }
  const t = cursorAt === undefined ? initial : cursorAt;
  if (hasCursor) view.signal(CURSOR_PARAM, t ?? HIDDEN);
  await view.runAsync();
  const svg = await view.toSVG();
  const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? view.width());
  const height = Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? view.height());
  view.finalize();
  return { svg, width, height, t: hasCursor ? t : null, cursors };
}
