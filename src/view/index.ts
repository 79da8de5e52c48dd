/**
 * Phase 6 — views over time: the stepper view (diagram at step t beside or above plots with their
 * cursor at t, updated in place by the kernel at every move) and the player (one self-contained
 * output that plays, steps and scrubs time in the browser). layout.ts keeps the diagram readable.
 */
export { view, StepperView } from "./stepper-view";
export type { StepperViewOptions, ViewPlot } from "./stepper-view";
export { player, Player } from "./player";
export type { PlayerOptions } from "./player";
export type { ViewDiagramOptions } from "./diagram-frames";
