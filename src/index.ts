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
 */
export * from "./cells";
export * from "./engine";
export * from "./models";
export * from "./io";
export { ArchlabError } from "./errors";
export { DISPLAY, display, clearOutput, format, isDisplayable, setPublisher } from "./display/protocol";
export type { MimeBundle, Displayable, DisplayOptions, Publisher } from "./display/protocol";
