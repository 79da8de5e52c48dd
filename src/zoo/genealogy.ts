/**
 * The deep-architecture genealogy chart, drawn from the zoo's own metadata: one box per entry
 * (its title, `zoo.name` and year, its paper, its notebook) inside its family's cluster, the years
 * as an axis (each entry on its year's rank), and an arrow from each parent to its descendant. It is
 * a {@link Diagram}, so it displays inline like every diagram and saves to .svg, .png or .dot; every
 * text is escaped by the DOT writer.
 */
import { Diagram } from "../diagram/diagram";
import { emptyGraph, type Role } from "../diagram/model";
import { checkKeys, STYLE_KEYS, styleOf, type StyleOptions } from "../diagram/options";
import type { ZooEntry, ZooFamily, ZooMeta } from "./entry";
import * as zoo from "./index";

/** The notebook that shows each entry (file name without `.ipynb`, in notebooks/). */
export const ZOO_NOTEBOOKS: Readonly<Record<string, string>> = {
  esn: "11-reservoirs",
  elm: "11-reservoirs",
  lsm: "11-reservoirs",
  timeRnn: "12-time-and-language-rnns",
  nlpRnn: "12-time-and-language-rnns",
  ntm: "13-neural-turing-machine",
  dynamicNtm: "13-neural-turing-machine",
  dnc: "13-neural-turing-machine",
  memN2N: "13-neural-turing-machine",
  seq2seqAttention: "14-attention",
  gnmt: "14-attention",
  convAutoEncoder: "15-conv-autoencoder",
  alexnet: "16-cnn-family",
  vgg16: "16-cnn-family",
  googlenet: "16-cnn-family",
  resnet18: "16-cnn-family",
  vae: "17-generative",
  gan: "17-generative",
  dann: "18-gradient-tricks",
  dni: "18-gradient-tricks",
  ram: "18-gradient-tricks",
  capsNet: "19-genealogy",
  drcn: "19-genealogy",
  crmn: "19-genealogy",
};

/** Each family's cluster label and colour role, in the order the clusters are drawn. */
const FAMILIES: Record<ZooFamily, { label: string; role: Role }> = {
  rnn: { label: "Recurrent networks", role: "state" },
  reservoir: { label: "Reservoir computing", role: "param" },
  attention: { label: "Attention", role: "gate" },
  memory: { label: "Memory networks", role: "candidate" },
  cnn: { label: "Convolutional networks", role: "pre" },
  capsule: { label: "Capsule networks", role: "cell" },
  generative: { label: "Generative models", role: "input" },
  gradient: { label: "Gradient tricks", role: "intermediate" },
};

/** Every entry of the zoo namespace (the functions that carry `meta`), by name. */
export function zooEntries(): [string, ZooEntry<object>][] {
  return Object.entries(zoo).filter(([, v]) => typeof v === "function" && "meta" in v) as [string, ZooEntry<object>][];
}

/** The line naming an entry's notebook. */
const notebookLine = (name: string) => (ZOO_NOTEBOOKS[name] ? `notebook ${ZOO_NOTEBOOKS[name]}` : "no notebook yet");

/** Words joined into lines of at most `width` characters (a long word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Options of {@link genealogy}: the diagram style (default flow left to right, years along it). */
export type GenealogyOptions = StyleOptions;

/**
 * The genealogy chart of every zoo entry: families as clusters, years left to right, parent → child
 * arrows; each box names the entry's paper and its notebook.
 *
 * @example
 * zoo.genealogy();                          // displays inline
 * await zoo.genealogy().save("zoo.svg");
 * zoo.genealogy({ direction: "TB" }).toDot();
 */
export function genealogy(options: GenealogyOptions = {}): Diagram {
  checkKeys(options, STYLE_KEYS, "zoo.genealogy()");
  const style = styleOf(options, "LR");
  const entries = zooEntries().map(([name, e]) => ({ name, meta: e.meta as ZooMeta }));
  const names = new Set(entries.map((e) => e.name));
  const years = [...new Set(entries.map((e) => e.meta.year))].sort((a, b) => a - b);
  const graph = emptyGraph("genealogy", "Genealogy of the archlab zoo", [
    `${entries.length} architectures; families as boxes, years left to right, arrows from an architecture to its descendants.`,
  ]);
  const familyOrder = Object.keys(FAMILIES) as ZooFamily[];
  for (const f of familyOrder) if (entries.some((e) => e.meta.family === f)) graph.clusters.push({ id: `family_${f}`, label: FAMILIES[f].label, labeljust: "l" });
  // The year axis: one record per year, in order, joined by arrows.
  for (const y of years) graph.nodes.push({ id: `year_${y}`, kind: "tensor", role: "param", title: String(y) });
  years.slice(1).forEach((y, i) => graph.edges.push({ from: `year_${years[i]}`, to: `year_${y}`, kind: "weight", weight: 100 }));
  for (const { name, meta } of entries) {
    graph.nodes.push({
      id: `zoo_${name}`,
      kind: "op",
      role: FAMILIES[meta.family]?.role ?? "intermediate",
      title: meta.title,
      shape: [`zoo.${name} · ${meta.year}`, ...wrap(meta.citation, 44), notebookLine(name)].join("\n"),
      notes: [meta.citation],
      cluster: FAMILIES[meta.family] ? `family_${meta.family}` : undefined,
    });
  }
  for (const { name, meta } of entries)
    for (const p of meta.parents) if (names.has(p)) graph.edges.push({ from: `zoo_${p}`, to: `zoo_${name}`, kind: "data" });
  for (const y of years) graph.ranks.push([`year_${y}`, ...entries.filter((e) => e.meta.year === y).map((e) => `zoo_${e.name}`)]);
  const text = [
    `Genealogy of the archlab zoo: ${entries.length} architectures`,
    ...familyOrder.flatMap((f) => {
      const members = entries.filter((e) => e.meta.family === f).sort((a, b) => a.meta.year - b.meta.year);
      return members.length
        ? [
            `${FAMILIES[f].label}:`,
            ...members.map(({ name, meta }) => `  ${meta.year}  zoo.${name}: ${meta.title}${meta.parents.length ? ` (from ${meta.parents.map((p) => `zoo.${p}`).join(", ")})` : ""}; ${notebookLine(name)}`),
          ]
        : [];
    }),
  ].join("\n");
  return new Diagram(graph, text, style);
}
