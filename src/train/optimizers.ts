/**
 * Optimisers with PyTorch's update rules (torch.optim 1.13, one parameter group), gradient clipping
 * by global norm, and learning-rate schedules. Parameters and gradients are name → flat float64
 * arrays; an optimiser updates the parameters in place and keeps its state (momentum, moments) by
 * name, so one optimiser serves one set of parameters across steps.
 *
 * @example
 * const opt = adam({ lr: 1e-2 });
 * opt.step(params, grads); // params changed in place; opt.steps === 1
 */
import { errors } from "../errors";

/** name → flat values. */
export type Tensors = Record<string, Float64Array>;

/** The learning rate at each step (0 for the first step). */
export type Schedule = (step: number) => number;

/** A learning rate: fixed, or a {@link Schedule}. */
export type LearningRate = number | Schedule;

/** An optimiser: updates parameters in place from their gradients. */
export interface Optimizer {
  readonly name: string;
  /** Steps taken so far. */
  readonly steps: number;
  /** The learning rate the next step uses. */
  readonly lr: number;
  step(params: Tensors, grads: Tensors): void;
}

function positive(option: string, value: unknown, { zero = true } = {}): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!zero && value === 0))
    throw errors.badOption(option, value, zero ? "a finite number ≥ 0" : "a finite number > 0");
  return value;
}

function rateOf(option: string, lr: unknown): Schedule {
  if (typeof lr === "function") return lr as Schedule;
  const value = positive(option, lr, { zero: false });
  return () => value;
}

/** Shared bookkeeping: the step count, the rate schedule, per-parameter state made on first use. */
abstract class Base implements Optimizer {
  #steps = 0;
  #rate: Schedule;
  protected state = new Map<string, Float64Array[]>();
  constructor(
    readonly name: string,
    lr: unknown,
    private slots: number,
  ) {
    this.#rate = rateOf(`lr of ${name}`, lr);
  }
  get steps(): number {
    return this.#steps;
  }
  get lr(): number {
    return this.#rate(this.#steps);
  }
  step(params: Tensors, grads: Tensors): void {
    const lr = this.lr;
    this.#steps++;
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name];
      if (!g || g.length !== p.length) throw errors.badOption(`gradient "${name}" of ${this.name}.step`, g, `a gradient of ${p.length} numbers for every parameter`);
      let s = this.state.get(name);
      if (!s) this.state.set(name, (s = Array.from({ length: this.slots }, () => new Float64Array(p.length))));
      this.update(p, g, s, lr, this.#steps);
    }
  }
  protected abstract update(p: Float64Array, g: Float64Array, state: Float64Array[], lr: number, t: number): void;
}

/** Options of {@link sgd} (PyTorch's SGD). */
export interface SgdOptions {
  lr: LearningRate;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

class Sgd extends Base {
  constructor(private o: Required<Omit<SgdOptions, "lr">> & { lr: LearningRate }) {
    super("sgd", o.lr, 1);
  }
  protected update(p: Float64Array, g: Float64Array, [buf]: Float64Array[], lr: number, t: number): void {
    const { momentum, dampening, weightDecay, nesterov } = this.o;
    for (let k = 0; k < p.length; k++) {
      let d = g[k] + weightDecay * p[k];
      if (momentum !== 0) {
        buf[k] = t === 1 ? d : momentum * buf[k] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[k] : buf[k];
      }
      p[k] -= lr * d;
    }
  }
}

/** Stochastic gradient descent with optional momentum, dampening, weight decay, Nesterov (as torch.optim.SGD). */
export function sgd({ lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SgdOptions): Optimizer {
  positive("momentum of sgd", momentum), positive("dampening of sgd", dampening), positive("weightDecay of sgd", weightDecay);
  if (nesterov && (momentum === 0 || dampening !== 0)) throw errors.badOption("nesterov of sgd", nesterov, "false, unless momentum > 0 and dampening = 0 (as PyTorch)");
  return new Sgd({ lr, momentum, dampening, weightDecay, nesterov });
}

/** Options of {@link adam} and {@link adamW}. */
export interface AdamOptions {
  lr?: LearningRate;
  betas?: [number, number];
  eps?: number;
  /** Adam: L2 added to the gradient (default 0); AdamW: decoupled decay p ← p(1 − lr·wd) (default 0.01). */
  weightDecay?: number;
}

class Adam extends Base {
  constructor(
    name: string,
    private o: { lr: LearningRate; betas: [number, number]; eps: number; weightDecay: number; decoupled: boolean },
  ) {
    super(name, o.lr, 2);
  }
  protected update(p: Float64Array, g: Float64Array, [m, v]: Float64Array[], lr: number, t: number): void {
    const { betas: [b1, b2], eps, weightDecay, decoupled } = this.o;
    const bc1 = 1 - b1 ** t, bc2 = Math.sqrt(1 - b2 ** t);
    for (let k = 0; k < p.length; k++) {
      let d = g[k];
      if (decoupled) p[k] *= 1 - lr * weightDecay;
      else d += weightDecay * p[k];
      m[k] = b1 * m[k] + (1 - b1) * d;
      v[k] = b2 * v[k] + (1 - b2) * d * d;
      p[k] -= ((lr / bc1) * m[k]) / (Math.sqrt(v[k]) / bc2 + eps);
    }
  }
}

function adamOptions(name: string, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay }: AdamOptions, decoupled: boolean) {
  if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => typeof b !== "number" || !(b >= 0 && b < 1)))
    throw errors.badOption(`betas of ${name}`, betas, "[β1, β2], each 0 ≤ β < 1");
  return new Adam(name, { lr, betas, eps: positive(`eps of ${name}`, eps), weightDecay: positive(`weightDecay of ${name}`, weightDecay ?? (decoupled ? 0.01 : 0)), decoupled });
}

/** Adam (Kingma & Ba 2015) as torch.optim.Adam; default lr 1e-3. */
export const adam = (options: AdamOptions = {}): Optimizer => adamOptions("adam", options, false);
/** AdamW (Loshchilov & Hutter 2019), decoupled weight decay, as torch.optim.AdamW; default lr 1e-3, weightDecay 0.01. */
export const adamW = (options: AdamOptions = {}): Optimizer => adamOptions("adamW", options, true);

/** Options of {@link rmsprop} (PyTorch's RMSprop). */
export interface RmspropOptions {
  lr?: LearningRate;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

class Rmsprop extends Base {
  constructor(private o: Required<Omit<RmspropOptions, "lr">> & { lr: LearningRate }) {
    super("rmsprop", o.lr, 3);
  }
  protected update(p: Float64Array, g: Float64Array, [sq, avg, buf]: Float64Array[], lr: number): void {
    const { alpha, eps, weightDecay, momentum, centered } = this.o;
    for (let k = 0; k < p.length; k++) {
      const d = g[k] + weightDecay * p[k];
      sq[k] = alpha * sq[k] + (1 - alpha) * d * d;
      let mean = sq[k];
      if (centered) (avg[k] = alpha * avg[k] + (1 - alpha) * d), (mean -= avg[k] * avg[k]);
      const step = d / (Math.sqrt(mean) + eps);
      if (momentum > 0) p[k] -= lr * (buf[k] = momentum * buf[k] + step);
      else p[k] -= lr * step;
    }
  }
}

/** RMSprop (Hinton's lecture 6e) as torch.optim.RMSprop; default lr 1e-2, alpha 0.99. */
export function rmsprop({ lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false }: RmspropOptions = {}): Optimizer {
  positive("alpha of rmsprop", alpha), positive("eps of rmsprop", eps), positive("weightDecay of rmsprop", weightDecay), positive("momentum of rmsprop", momentum);
  return new Rmsprop({ lr, alpha, eps, weightDecay, momentum, centered });
}

/**
 * Scales all gradients together so their global L2 norm is at most `maxNorm` (torch.nn.utils.
 * clip_grad_norm_: factor maxNorm / (norm + 1e-6) when below 1). Returns the norm before clipping.
 *
 * @example
 * clipGradNorm({ w: Float64Array.of(3, 4) }, 1); // 5; w is now ≈ [0.6, 0.8]
 */
export function clipGradNorm(grads: Tensors, maxNorm: number): number {
  positive("clip (largest gradient norm)", maxNorm, { zero: false });
  let sum = 0;
  for (const g of Object.values(grads)) for (const v of g) sum += v * v;
  const norm = Math.sqrt(sum);
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) for (const g of Object.values(grads)) for (let k = 0; k < g.length; k++) g[k] *= factor;
  return norm;
}

/**
 * Learning-rate schedules: functions of the step (0 first), as PyTorch's schedulers give them.
 *
 * @example
 * adam({ lr: schedules.warmup({ lr: 1e-2, steps: 50, then: schedules.cosine({ lr: 1e-2, steps: 450 }) }) });
 */
export const schedules = {
  /** `lr · gamma^⌊step / stepSize⌋` (StepLR). */
  step({ lr, stepSize, gamma = 0.1 }: { lr: number; stepSize: number; gamma?: number }): Schedule {
    positive("lr of schedules.step", lr), positive("stepSize of schedules.step", stepSize, { zero: false });
    return (t) => lr * gamma ** Math.floor(t / stepSize);
  },
  /** Cosine from `lr` down to `min` over `steps`, then `min` (CosineAnnealingLR for t ≤ steps). */
  cosine({ lr, steps, min = 0 }: { lr: number; steps: number; min?: number }): Schedule {
    positive("lr of schedules.cosine", lr), positive("steps of schedules.cosine", steps, { zero: false });
    return (t) => min + ((lr - min) * (1 + Math.cos((Math.PI * Math.min(t, steps)) / steps))) / 2;
  },
  /**
   * Linear warmup from `start·lr` to `lr` over `steps` (LinearLR), then `lr`, or the schedule `then`
   * counted from the end of the warmup.
   */
  warmup({ lr, steps, start = 0, then }: { lr: number; steps: number; start?: number; then?: Schedule }): Schedule {
    positive("lr of schedules.warmup", lr), positive("steps of schedules.warmup", steps, { zero: false });
    return (t) => (t < steps ? lr * (start + ((1 - start) * t) / steps) : then ? then(t - steps) : lr);
  },
};
