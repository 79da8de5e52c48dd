/**
 * Reads a Graphviz SVG's geometry with a real HTML parser (parse5): each node's shape box, each
 * edge's path, and each text's ink box as resvg draws it with archlab's PNG fonts (resvg's own
 * `getBBox()`, not an estimate). Coordinates are the SVG's user units after Graphviz's translate,
 * y growing downwards, as in the viewBox.
 */
import { Resvg } from "@resvg/resvg-js";
import escapeHtml from "escape-html";
import { parseFragment } from "parse5";
import { pngFonts } from "../../src/display/image";

type Node = { nodeName: string; attrs?: { name: string; value: string }[]; childNodes?: Node[]; value?: string };

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface LaidOutText {
  text: string;
  /** The ink box resvg draws (undefined for blank text). */
  ink?: Box;
  /** The baseline's y (texts on one line share it). */
  y: number;
}

export interface Layout {
  viewBox: Box;
  /** Graph-level texts (the caption). */
  texts: LaidOutText[];
  nodes: { id: string; box: Box; texts: LaidOutText[] }[];
  /** Each edge as points sampled along its path. */
  edges: { from: string; to: string; stroke: string; points: [number, number][] }[];
}

const attr = (n: Node, name: string) => n.attrs?.find((a) => a.name === name)?.value;
const textOf = (n: Node): string => (n.nodeName === "#text" ? n.value! : (n.childNodes ?? []).map(textOf).join(""));
const all = (n: Node, name: string): Node[] => [...(n.nodeName === name ? [n] : []), ...(n.childNodes ?? []).flatMap((c) => all(c, name))];
const numbers = (s: string) => (s.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);

function boxOf(points: number[], dx: number, dy: number): Box {
  const xs = points.filter((_, k) => k % 2 === 0).map((x) => x + dx);
  const ys = points.filter((_, k) => k % 2 === 1).map((y) => y + dy);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

/** Samples a Graphviz edge path (`M x,y C x,y x,y x,y …`, cubic Béziers) at 16 points per segment. */
function sample(d: string, dx: number, dy: number): [number, number][] {
  const p = numbers(d);
  const pts: [number, number][] = [];
  for (let k = 0; k + 7 < p.length; k += 6) {
    const [x0, y0, x1, y1, x2, y2, x3, y3] = p.slice(k, k + 8);
    for (let i = 0; i <= 16; i++) {
      const t = i / 16;
      const u = 1 - t;
      pts.push([u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3 + dx, u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3 + dy]);
    }
  }
  return pts;
}

/** The geometry of a Graphviz SVG, its texts measured by resvg with the fonts `svgToPng` uses. */
export function readLayout(svg: string): Layout {
  const root = parseFragment(svg.replace(/<\?xml[^>]*>|<!DOCTYPE[^>]*>/g, "")) as unknown as Node;
  const svgEl = all(root, "svg")[0];
  const [vx, vy, vw, vh] = numbers(attr(svgEl, "viewbox") ?? attr(svgEl, "viewBox")!);
  const graph = all(svgEl, "g").find((g) => attr(g, "class") === "graph")!;
  const transform = attr(graph, "transform")!;
  const [dx, dy] = numbers(transform.match(/translate\(([^)]*)\)/)![1]);
  const fonts = pngFonts();
  const measure = (t: Node): LaidOutText => {
    const attrs = (t.attrs ?? []).map((a) => `${a.name}="${escapeHtml(a.value)}"`).join(" ");
    const alone = `<svg xmlns="http://www.w3.org/2000/svg" width="${vw}" height="${vh}" viewBox="${vx} ${vy} ${vw} ${vh}"><g transform="${transform}"><text ${attrs}>${escapeHtml(textOf(t))}</text></g></svg>`;
    const b = new Resvg(alone, { font: fonts }).getBBox();
    return { text: textOf(t), y: Number(attr(t, "y")) + dy, ink: b ? { x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height } : undefined };
  };
  const layout: Layout = { viewBox: { x0: vx, y0: vy, x1: vx + vw, y1: vy + vh }, texts: [], nodes: [], edges: [] };
  for (const child of graph.childNodes ?? []) {
    if (child.nodeName === "text") layout.texts.push(measure(child));
    if (child.nodeName !== "g") continue;
    const title = textOf(all(child, "title")[0] ?? { nodeName: "#text", value: "" });
    if (attr(child, "class") === "node") {
      const shape = all(child, "polygon")[0] ?? all(child, "path")[0];
      layout.nodes.push({ id: title, box: boxOf(numbers(attr(shape, "points") ?? attr(shape, "d")!), dx, dy), texts: all(child, "text").map(measure) });
    }
    if (attr(child, "class") === "edge") {
      const [from, to] = title.split("->");
      const path = all(child, "path")[0];
      layout.edges.push({ from, to, stroke: attr(path, "stroke") ?? "", points: sample(attr(path, "d")!, dx, dy) });
    }
  }
  return layout;
}

/** Whether `inner` lies within `outer` (with `slack` units of tolerance). */
export const inside = (inner: Box, outer: Box, slack = 0) =>
  inner.x0 >= outer.x0 - slack && inner.x1 <= outer.x1 + slack && inner.y0 >= outer.y0 - slack && inner.y1 <= outer.y1 + slack;

/** Whether two boxes overlap by more than `slack` units in both directions. */
export const overlap = (a: Box, b: Box, slack = 0) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > slack && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > slack;
