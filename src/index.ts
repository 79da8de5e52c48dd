/**
 * archlab — explore neural-network architectures from one definition.
 *
 * Pipeline (one folder a phase):
 *
 *     cells/    definitions: a cell is its paper's equations, written once as data
 *     engine/   compute + trace: step a cell through a sequence, record every intermediate
 *     io/       weights in and out in each framework's layout (PyTorch, Keras/tfjs, ONNX)
 *     diagram/  Graphviz diagrams generated from the definition (folded, unrolled, live values)
 *     plot/     Vega-Lite views of a trace
 *     display/  the Jupyter display protocol every presentational object implements
 *     train/    losses, optimisers, seeded toy tasks and a training loop with live progress
 *     widgets/  live controls (slider, play, drop-down) that drive the kernel from the notebook
 */
export * from "./cells";
export * from "./engine";
export * from "./models";
export * from "./io";
export * from "./train";
export { diagram, unrolled, diff, Diagram, DiffDiagram, THEMES, SAVE_FORMATS } from "./diagram";
export type { DiagramOptions, UnrolledOptions, DiffOptions, Changes, StackDescription, UnrollSource, CellSource, Detail, FlowDirection, ThemeName } from "./diagram";
export { escapeHtml, imageBundle, dataUri } from "./display/html";
export type { ImageBundleInput } from "./display/html";
export { svgToPng } from "./display/image";
export type { PngOptions } from "./display/image";
export { ArchlabError } from "./errors";
export { DISPLAY, display, clearOutput, format, isDisplayable, setPublisher } from "./display/protocol";
export type { MimeBundle, Displayable, DisplayOptions, Publisher } from "./display/protocol";
export { plot, Chart, DEFAULT_BUDGET } from "./plot";
export type { ChartInfo, HeatmapOptions, LinesOptions, SaturationOptions, CompareOptions, CompareKind, SelectOptions, BudgetOptions, OverBudget, CursorOptions, VegaLiteSpec, TensorPlotOptions } from "./plot";
export { view, StepperView, player, Player } from "./view";
export type { StepperViewOptions, ViewPlot, PlayerOptions, ViewDiagramOptions } from "./view";
export * as nn from "./lang";
export * as zoo from "./zoo";
export * as widgets from "./widgets";
export { modelDiagram } from "./diagram/graph";
export type { ModelDiagramOptions } from "./diagram/graph";
// The one format table: how models, summaries and traces display (display/registry.ts).
import "./formats";
