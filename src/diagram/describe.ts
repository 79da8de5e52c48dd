/** The `text/plain` view of a diagram: its equations and shapes as text, derived from the model. */
import { preview } from "./dot";
import type { Graph, GraphNode } from "./model";

/** One line per tensor and operation, then the notes. */
export function describe(graph: Graph, kind: string): string {
  const lines = [`${graph.caption.title} — ${kind}`];
  const tensors = graph.nodes.filter((n) => n.kind === "tensor" && n.role !== "param");
  const params = graph.nodes.filter((n) => n.role === "param");
  const live = (n: GraphNode) => (n.valueText !== undefined ? `  = ${n.valueText}` : n.values && n.values.length ? `  = ${preview(n.values, 8)}` : "");
  const mark = (s?: string) => (s && s !== "same" ? `${{ added: "+", removed: "−", changed: "~" }[s]} ` : "  ");
  for (const n of tensors) lines.push(`${mark(n.status)}${n.title} ${n.shape ?? ""}${live(n)}`);
  const members = params.flatMap((p) => p.members ?? [{ title: p.title, shape: p.shape ?? "" }]);
  if (members.length) lines.push(`  parameters: ${members.map((m) => `${m.title} ${m.shape}`).join(", ")}`);
  for (const n of graph.nodes.filter((n) => n.kind !== "tensor"))
    lines.push(`${mark(n.status)}${n.title}${n.equation !== undefined ? ` = ${n.equation}` : ""}${n.shape ? `   ${n.shape}` : ""}${live(n)}${n.change ? `   (${n.change})` : ""}`);
  for (const l of graph.caption.lines) lines.push(`  note: ${l}`);
  return lines.join("\n");
}
