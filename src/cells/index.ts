/**
 * Phase 1 — definitions. A cell is its paper's equations written once with `defineCell`; the
 * result is plain data that every other phase interprets.
 */
export { defineCell, checkDefinition, evalSize, equationOf, labeller, sizeNames, Handle } from "./define";
export type { CellDef, CellSpec, NodeDef, NodeRole, InputDef, StateDef, ParamDef, ParamInit, Term, Ops, NodeOptions, BiasSpec, Diagonal, SizeExpr } from "./define";
export { NOTATION, UNARY, GATING } from "./ops";
export type { OpKind, UnaryKind, ElementwiseKind, OpNotation } from "./ops";
export { VJP, DERIVATIVE } from "./gradients";
export type { Vjp, VjpArgs, VjpOperand } from "./gradients";
export * from "./builtins";
