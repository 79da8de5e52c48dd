/**
 * Phase 2 — compute and trace. `cell(def, options)` instantiates a definition; `run` records every
 * named intermediate at every step into a `Trace`; `stepper` walks through time; `backward` runs
 * reverse mode through a recorded trace (gradient trace, weight gradients), `jacobianNorms` measures
 * how gradients vanish through time. A run can override values (`interventions`); `trace.diff(other)`
 * compares two runs.
 */
export { cell, Cell } from "./cell";
export type { CellOptions, RunOptions, InitialState } from "./cell";
export { Stepper } from "./stepper";
export { Trace, TraceDiff } from "./trace";
export type { TraceEntry, At, ExportOptions, TraceDiffOptions, DiffSummary } from "./trace";
export type { Intervention, CheckedIntervention } from "./interventions";
export { backward } from "./backward";
export type { Upstream, UpstreamValue, Gradients } from "./backward";
export { jacobian, jacobianNorms, gradientNorms } from "./jacobian";
export type { JacobianOptions } from "./jacobian";
export type { DType, FloatArray, NestedInput } from "./arrays";
export type { Weights, Shape } from "./params";
// `tensorflow()` stays internal: its return type would pull tfjs-core's ~300 declaration files into
// every notebook's TypeScript program. Users who want tf import "@tensorflow/tfjs-core" themselves.
export { selectBackend, backendInfo } from "./backend";
export type { BackendInfo, BackendName, BackendAttempt, BackendOptions } from "./backend";
export { nativeInfo } from "./native";
export type { NativeInfo } from "./native";
