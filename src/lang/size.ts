/**
 * Size expressions: the symbolic length of one axis — `B`, `H+In`, `N*W`, `4*H`, `floor(H/2)`.
 *
 * An expression is kept in one normal form, a polynomial with integer coefficients over atoms
 * (a size name, or `floor(p/k)` of a polynomial p by a positive integer k), so equal sizes compare
 * equal however they were written: `H+In` equals `In+H`, `2*(H+1)` equals `2*H+2`. Ops compare
 * shapes with {@link sameSize} and build new sizes with {@link plus}, {@link times} and
 * {@link floorDiv}; nothing else looks inside.
 */
import { ArchlabError } from "../errors";

/** A size as users write it: a name (`"H"`), a number, an expression string (`"H+In"`), or a built {@link Size}. */
export type SizeLike = string | number | Size;

/** One monomial's atoms (sorted keys) and its coefficient. */
interface Term {
  atoms: string[];
  coef: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A symbolic axis length in normal form. Immutable. */
export class Size {
  /** @internal monomial key ("" for the constant term, "H*W" for a product) → term */
  readonly terms: ReadonlyMap<string, Term>;
  /** @internal the atoms that are floor divisions: their key → [numerator, divisor] */
  readonly floors: ReadonlyMap<string, readonly [Size, number]>;
  /** The canonical text (`H+In`, `2*H+1`, `N*W`): equal sizes have equal keys. */
  readonly key: string;

  /** @internal use {@link size} */
  constructor(terms: Map<string, Term>, floors: Map<string, readonly [Size, number]>) {
    for (const [k, t] of terms) if (t.coef === 0) terms.delete(k);
    this.terms = terms;
    this.floors = floors;
    this.key = render(terms);
  }

  /** The value when every name has a number (`{ H: 32, In: 8 }`); a named error naming the missing size otherwise. */
  eval(sizes: Readonly<Record<string, number>>, what = "a size"): number {
    let total = 0;
    for (const { atoms, coef } of this.terms.values()) {
      let v = coef;
      for (const a of atoms) v *= this.atom(a, sizes, what);
      total += v;
    }
    return total;
  }

  /** The number, when the size is a constant; else undefined. */
  get constant(): number | undefined {
    if (this.terms.size === 0) return 0;
    const only = this.terms.get("");
    return this.terms.size === 1 && only ? only.coef : undefined;
  }

  /** Every size name the expression mentions. */
  names(): string[] {
    const out = new Set<string>();
    for (const { atoms } of this.terms.values())
      for (const a of atoms) {
        const f = this.floors.get(a);
        if (f) f[0].names().forEach((n) => out.add(n));
        else out.add(a);
      }
    return [...out].sort();
  }

  toString(): string {
    return this.key;
  }

  private atom(a: string, sizes: Readonly<Record<string, number>>, what: string): number {
    const f = this.floors.get(a);
    if (f) return Math.floor(f[0].eval(sizes, what) / f[1]);
    if (!Object.hasOwn(sizes, a) || !Number.isInteger(sizes[a]))
      throw new ArchlabError(
        "unbound-size",
        `${what} needs the size ${a}, which has no value. Give it with the sizes, e.g. { ${a}: 16 } (known: ${Object.keys(sizes).join(", ") || "none"}).`,
      );
    return sizes[a];
  }
}

function render(terms: ReadonlyMap<string, Term>): string {
  if (terms.size === 0) return "0";
  const sorted = [...terms.entries()].sort(([a, ta], [b, tb]) => {
    if (a === "") return 1; // the constant last: H+1
    if (b === "") return -1;
    return tb.atoms.length - ta.atoms.length || (a < b ? -1 : a > b ? 1 : 0);
  });
  let out = "";
  for (const [k, { coef }] of sorted) {
    const sign = coef < 0 ? "-" : out ? "+" : "";
    const mag = Math.abs(coef);
    const body = k === "" ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
    out += sign + body;
  }
  return out;
}

function constantSize(n: number): Size {
  return new Size(new Map([["", { atoms: [], coef: n }]]), new Map());
}

function nameSize(name: string): Size {
  return new Size(new Map([[name, { atoms: [name], coef: 1 }]]), new Map());
}

/** A size for arithmetic: numbers may be negative here (the −K of a window size), unlike a user's size. */
function operand(v: SizeLike): Size {
  return typeof v === "number" && Number.isSafeInteger(v) ? constantSize(v) : size(v);
}

function mergeFloors(a: Size, b: Size): Map<string, readonly [Size, number]> {
  return new Map([...a.floors, ...b.floors]);
}

/** a + b. */
export function plus(a: SizeLike, b: SizeLike): Size {
  const x = operand(a);
  const y = operand(b);
  const terms = new Map<string, Term>();
  for (const s of [x, y])
    for (const [k, t] of s.terms) {
      const prev = terms.get(k);
      terms.set(k, { atoms: t.atoms, coef: (prev?.coef ?? 0) + t.coef });
    }
  return new Size(terms, mergeFloors(x, y));
}

/** a − b. */
export function minus(a: SizeLike, b: SizeLike): Size {
  return plus(a, times(-1, b));
}

/** a · b. */
export function times(a: SizeLike, b: SizeLike): Size {
  const x = operand(a);
  const y = operand(b);
  const terms = new Map<string, Term>();
  for (const s of x.terms.values())
    for (const t of y.terms.values()) {
      const atoms = [...s.atoms, ...t.atoms].sort();
      const k = atoms.join("*");
      terms.set(k, { atoms, coef: (terms.get(k)?.coef ?? 0) + s.coef * t.coef });
    }
  return new Size(terms, mergeFloors(x, y));
}

/** ⌊a / k⌋ for a positive integer k: exact when k divides every coefficient, else an opaque `floor(a/k)` atom. */
export function floorDiv(a: SizeLike, k: number): Size {
  const x = size(a);
  if (!Number.isInteger(k) || k < 1) throw new ArchlabError("bad-size", `A size can only be divided by a positive integer, not ${k}.`);
  if (k === 1) return x;
  if ([...x.terms.values()].every((t) => t.coef % k === 0)) {
    const terms = new Map<string, Term>();
    for (const [key, t] of x.terms) terms.set(key, { atoms: t.atoms, coef: t.coef / k });
    return new Size(terms, new Map(x.floors));
  }
  const c = x.constant;
  if (c !== undefined) return constantSize(Math.floor(c / k));
  const key = `floor((${x.key})/${k})`;
  return new Size(new Map([[key, { atoms: [key], coef: 1 }]]), new Map([...x.floors, [key, [x, k] as const]]));
}

/** Whether two sizes are structurally equal (`H+In` and `In+H` are). */
export function sameSize(a: SizeLike, b: SizeLike): boolean {
  return size(a).key === size(b).key;
}

/** Parses `H`, `16`, `H+In`, `N*W`, `2*(H+1)`, `H-1` into a {@link Size}; a named error for anything else. */
export function size(value: SizeLike): Size {
  if (value instanceof Size) return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ArchlabError("bad-size", `A size must be a whole number ≥ 0 or a size name, not ${value}.`);
    return constantSize(value);
  }
  if (typeof value !== "string")
    throw new ArchlabError("bad-size", `A size must be a number, a size name like "H" or an expression like "H+In", not ${typeof value}.`);
  return parse(value);
}

/** A tiny recursive-descent parser: sum := product (± product)*; product := atom (* atom)*; atom := name | int | (sum). */
function parse(text: string): Size {
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|\d+|[-+*()]|\S/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ArchlabError("bad-size", `The size ${JSON.stringify(text.slice(0, 80))} is not a size expression (${why}). Write names, whole numbers, + - * and parentheses: "H+In", "4*H", "N*W".`);
  };
  const sum = (): Size => {
    let acc = product();
    while (tokens[i] === "+" || tokens[i] === "-") {
      const op = tokens[i++];
      const rhs = product();
      acc = op === "+" ? plus(acc, rhs) : minus(acc, rhs);
    }
    return acc;
  };
  const product = (): Size => {
    let acc = atom();
    while (tokens[i] === "*") {
      i++;
      acc = times(acc, atom());
    }
    return acc;
  };
  const atom = (): Size => {
    const t = tokens[i++];
    if (t === undefined) return fail("it ends too early");
    if (t === "(") {
      const inner = sum();
      if (tokens[i++] !== ")") fail("a parenthesis is not closed");
      return inner;
    }
    if (/^\d+$/.test(t)) return size(Number(t));
    if (NAME.test(t)) return nameSize(t);
    return fail(`unexpected ${JSON.stringify(t)}`);
  };
  if (tokens.length === 0) fail("it is empty");
  const out = sum();
  if (i !== tokens.length) fail(`unexpected ${JSON.stringify(tokens[i])}`);
  return out;
}

/** A shape as users write it: `["B", "N", "W"]`, `["B", 256, 256, 3]`, `["B", "H+In"]`. */
export type ShapeLike = readonly SizeLike[];

/** A symbolic shape: one {@link Size} per axis. */
export type Shape = readonly Size[];

/** Parses every axis of a shape. */
export function shapeOf(value: ShapeLike, what = "a shape"): Shape {
  if (!Array.isArray(value)) throw new ArchlabError("bad-size", `${what} must be an array of sizes like ["B", "H"], not ${typeof value}.`);
  return value.map((v) => size(v));
}

/** `[B, H+In]` for messages and diagrams. */
export function showShape(shape: Shape): string {
  return `[${shape.map((s) => s.key).join(", ")}]`;
}

/** Whether two shapes are structurally equal, axis by axis. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((s, i) => s.key === b[i].key);
}

/** The concrete shape under `sizes`. */
export function evalShape(shape: Shape, sizes: Readonly<Record<string, number>>, what?: string): number[] {
  return shape.map((s) => s.eval(sizes, what));
}
