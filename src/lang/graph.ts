/**
 * The graph a definition builds: every tensor is a node — an op, its input nodes, its attributes,
 * its symbolic shape — named by its path through the blocks that made it (`enc/l0/f`,
 * `block2/conv`). Users never build nodes by hand: the op functions (ops.ts) and the builder calls
 * (`input`, `param`, `block`, `scan`, in build.ts) add them to the graph under construction.
 */
import { ArchlabError } from "../errors";
import type { Shape } from "./size";
import { showShape } from "./size";

/** Element type: real numbers, or whole numbers (word ids, class labels, masks given as 0/1 stay "float"). */
export type DType = "float" | "int";

/** How a parameter learns: `trainable` (by gradients), `frozen` (fixed after init: a reservoir), `constant` (a fixed given value). */
export type ParamKind = "trainable" | "frozen" | "constant";

/** One block (a named scope: a layer, a ConvBlock, a scan body) in the path of a node. */
export interface Scope {
  readonly name: string;
  /** The block's kind, shown on its folded box (`ConvBlock`, `Attention`); undefined for a plain name scope. */
  readonly kind?: string;
  readonly parent?: Scope;
  /** Whether this scope is a scan's body (its nodes run once per step). */
  readonly isScan?: boolean;
}

/** The path of a scope: `enc/l0`. */
export function scopePath(scope: Scope | undefined): string {
  const parts: string[] = [];
  for (let s = scope; s; s = s.parent) parts.unshift(s.name);
  return parts.join("/");
}

/** A symbolic tensor: one node of the graph. */
export class Tensor {
  /** @internal */
  constructor(
    /** Creation order within the whole model (a valid topological order). */
    readonly id: number,
    /** The op that computes it (a key of the op table). */
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly attrs: Readonly<Record<string, unknown>>,
    readonly shape: Shape,
    readonly dtype: DType,
    /** Its name within its scope (unique there): the symbol diagrams show. */
    readonly name: string,
    readonly scope: Scope | undefined,
  ) {}

  /** `block2/conv`: the scope path and the name. */
  get path(): string {
    const s = scopePath(this.scope);
    return s ? `${s}/${this.name}` : this.name;
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.path}: ${this.op} ${showShape(this.shape)}`;
  }
}

/** The error for a tensor of the wrong shape given to an op: names the op's node, the operand, both shapes. */
export function shapeError(op: string, operand: string, t: Tensor, expected: string, hint = ""): ArchlabError {
  return new ArchlabError(
    "shape",
    `${op}: ${operand} ${t.path} has shape ${showShape(t.shape)}; expected ${expected}.${hint ? " " + hint : ""}`,
  );
}
