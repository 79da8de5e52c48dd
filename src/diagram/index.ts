/**
 * Phase 5 — diagrams (beside plots: both are views of a definition and its trace). Graphviz diagrams generated from the cell definition that computes, so they
 * cannot disagree with the math: the folded cell (every gate, its equation and shape), the cell
 * unrolled in time (stacked, bidirectional, DB-LSTM), live values from a trace at step t, and the
 * diff of two cells. Laid out by real Graphviz in-process; every diagram is a display object.
 *
 *     definition ─► model (folded / compact / unrolled / diff) ─► DOT ─► Graphviz ─► SVG ─► PNG
 */
export { diagram } from "./folded-diagram";
export type { DiagramOptions } from "./folded-diagram";
export { Diagram, SAVE_FORMATS } from "./diagram";
export type { Graph, GraphNode, GraphEdge, Cluster, Role, Status, EdgeKind } from "./model";
export type { Detail } from "./folded";
export type { FlowDirection } from "./dot";
export type { StyleOptions } from "./options";
export { THEMES } from "./theme";
export type { Theme, ThemeName } from "./theme";
export { dotString, htmlText } from "./escape";
export type { CellSource } from "./source";
export { unrolled } from "./unrolled";
export type { UnrolledOptions } from "./unrolled";
export type { StackDescription, UnrollSource } from "./stack";
export { diff, DiffDiagram } from "./diff";
export type { DiffOptions, Changes } from "./diff";
