/**
 * Reads a Graphviz SVG with a real HTML parser (parse5), independently of the DOT writer: node and
 * edge titles (Graphviz writes each node's id and each edge's `tail->head` as a `<title>`), and all
 * text.
 */
import { parseFragment } from "parse5";

type Node = { nodeName: string; attrs?: { name: string; value: string; prefix?: string }[]; childNodes?: Node[]; value?: string; content?: Node };

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const c of node.childNodes ?? []) walk(c, visit);
}

const text = (node: Node): string => {
  let out = "";
  walk(node, (n) => {
    if (n.nodeName === "#text") out += n.value;
  });
  return out;
};

const numbers = (s: string) => (s.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);

/**
 * Whether an edge's arrowhead sits at the start of its path (Graphviz's `dir=back`): the edge then
 * points from its head to its tail, as the reader sees it.
 */
function drawnBackwards(edge: Node): boolean {
  let d: string | undefined;
  let head: string | undefined;
  walk(edge, (m) => {
    if (m.nodeName === "path") d ??= m.attrs?.find((a) => a.name === "d")?.value;
    if (m.nodeName === "polygon") head ??= m.attrs?.find((a) => a.name === "points")?.value;
  });
  if (!d || !head) return false;
  const p = numbers(d);
  const h = numbers(head);
  const cx = h.filter((_, k) => k % 2 === 0).reduce((a, b) => a + b, 0) / (h.length / 2);
  const cy = h.filter((_, k) => k % 2 === 1).reduce((a, b) => a + b, 0) / (h.length / 2);
  const dist = (x: number, y: number) => Math.hypot(x - cx, y - cy);
  return dist(p[0], p[1]) < dist(p[p.length - 2], p[p.length - 1]);
}

/** Titles of the SVG's nodes and edges (each edge as the reader sees it: from its tail to its arrowhead), and all its visible text. */
export function readSvg(svg: string): { nodes: string[]; edges: [string, string][]; text: string; tooltips: string[]; nodeText: Record<string, string> } {
  const root = parseFragment(svg.replace(/<\?xml[^>]*>|<!DOCTYPE[^>]*>/g, "")) as unknown as Node;
  const nodes: string[] = [];
  const edges: [string, string][] = [];
  const tooltips: string[] = [];
  const texts: string[] = [];
  const nodeText: Record<string, string> = {};
  walk(root, (n) => {
    const cls = n.attrs?.find((a) => a.name === "class")?.value;
    const title = n.childNodes?.find((c) => c.nodeName === "title");
    if (n.nodeName === "g" && title && cls === "node") {
      nodes.push(text(title));
      const parts: string[] = [];
      walk(n, (m) => m.nodeName === "text" && parts.push(text(m)));
      nodeText[text(title)] = parts.join(" ");
    }
    if (n.nodeName === "g" && title && cls === "edge") {
      const [from, to] = text(title).split("->");
      edges.push(drawnBackwards(n) ? [to, from] : [from, to]);
    }
    const tip = n.attrs?.find((a) => a.name === "xlink:title" || (a.prefix === "xlink" && a.name === "title"));
    if (tip) tooltips.push(tip.value);
    if (n.nodeName === "text") texts.push(text(n));
  });
  return { nodes, edges, text: texts.join("\n"), tooltips, nodeText };
}
