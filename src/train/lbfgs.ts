import { z } from "zod";
import type { Backend } from "../kernels/index.js";

/** An objective: writes the gradient at x into `grad` and returns the value. */
export type Objective = (x: Float32Array, grad: Float32Array) => number;

/** L-BFGS settings (PyTorch's torch.optim.LBFGS names and defaults). */
export const lbfgsConfigSchema = z
  .object({
    kind: z.literal("lbfgs"),
    /** Step scale: the first iteration tries lr * min(1, 1/|g|_1), later ones lr. */
    lr: z.number().finite().positive().max(1e3),
    /** Pairs of (step, gradient change) kept to approximate the inverse Hessian. */
    historySize: z.number().int().min(1).max(1000),
    /** Stop when max |g| falls below this. */
    toleranceGrad: z.number().finite().min(0),
    /** Stop when the step or the change in value falls below this. */
    toleranceChange: z.number().finite().min(0),
    /** Most objective evaluations per line search. */
    maxLineSearchEvals: z.number().int().min(1).max(1000),
    /**
     * The first iteration's step: lr * min(1, 1/|g|_1) (PyTorch's, "l1", the default) or lr / |g|_2
     * (SciPy's L-BFGS-B, "l2"), which takes far longer first steps on models with many parameters.
     */
    firstStep: z.enum(["l1", "l2"]).optional(),
  })
  .strict();
/** L-BFGS settings. */
export type LbfgsConfig = z.infer<typeof lbfgsConfigSchema>;

/** PyTorch's L-BFGS defaults, with the strong Wolfe line search. */
export function lbfgsDefaults(lr = 1): LbfgsConfig {
  return {
    kind: "lbfgs",
    lr,
    historySize: 10,
    toleranceGrad: 1e-7,
    toleranceChange: 1e-9,
    maxLineSearchEvals: 25,
  };
}

/** Why L-BFGS stopped iterating, or "continue". */
export type LbfgsStatus = "continue" | "gradient-small" | "no-progress";

/**
 * Full-batch L-BFGS with a strong-Wolfe line search (c1 1e-4, c2 0.9; bracketing, then zooming with cubic
 * interpolation), following torch.optim.LBFGS(line_search_fn="strong_wolfe"). Each `step()` is one
 * iteration and moves `x`. Vectors live in the backend's memory and the vector work runs on its kernels
 * (dot products accumulate in double precision); nothing is allocated per iteration.
 */
export class Lbfgs {
  /** The current point (a copy of the start; the objective is only ever given this or trial points). */
  readonly x: Float32Array;
  private readonly g: Float32Array;
  private readonly d: Float32Array;
  private readonly prevG: Float32Array;
  private readonly trial: Float32Array;
  private readonly trialG: Float32Array;
  /** History ring: s[k] = step, y[k] = gradient change; `order` lists slots oldest first. */
  private readonly s: Float32Array[];
  private readonly y: Float32Array[];
  private readonly rho: number[];
  private order: number[] = [];
  private readonly alpha: Float64Array;
  private f = Number.NaN;
  private t = 0;
  private gamma = 1;
  /** Step length of the last evaluated trial point, whose gradient is in trialG. */
  private lastTrial = Number.NaN;
  /** Whether `f` and `g` already hold the objective at `x` for the next first iteration. */
  private known = false;
  /** Iterations so far. */
  iterations = 0;
  /** Objective evaluations so far. */
  evaluations = 0;

  constructor(
    readonly config: LbfgsConfig,
    start: Float32Array,
    private readonly objective: Objective,
    private readonly backend: Backend,
  ) {
    const n = start.length;
    const vector = () => backend.arena.f32(n);
    this.x = vector();
    this.x.set(start);
    [this.g, this.d, this.prevG, this.trial, this.trialG] = [
      vector(),
      vector(),
      vector(),
      vector(),
      vector(),
    ];
    this.s = Array.from({ length: config.historySize }, vector);
    this.y = Array.from({ length: config.historySize }, vector);
    this.rho = new Array(config.historySize).fill(0);
    this.alpha = new Float64Array(config.historySize);
  }

  /**
   * Starts afresh from the current point, forgetting the history, with its memory kept: what a new Lbfgs
   * from here would do. With `sameObjective`, the value and gradient at the point are taken from the last
   * iteration instead of being evaluated again.
   */
  restart(sameObjective = false): void {
    this.order = [];
    this.gamma = 1;
    this.iterations = 0;
    this.known = sameObjective && Number.isFinite(this.f);
    if (!this.known) this.f = Number.NaN;
    this.lastTrial = Number.NaN;
  }

  /** The objective at the current point. */
  get value(): number {
    return this.f;
  }

  private maxAbs(a: Float32Array): number {
    return this.backend.kernels.maxAbs(a, a.length);
  }

  private dot(a: Float32Array, b: Float32Array): number {
    return this.backend.kernels.dotProduct(a, b, a.length);
  }

  /** a += c * b */
  private axpy(a: Float32Array, b: Float32Array, c: number): void {
    this.backend.kernels.addScaled(a, b, c, a.length);
  }

  private evaluate(x: Float32Array, grad: Float32Array): number {
    this.evaluations++;
    return this.objective(x, grad);
  }

  /** One L-BFGS iteration. */
  step(): LbfgsStatus {
    const { config, x, g, d } = this;
    const n = x.length;
    if (this.iterations === 0) {
      if (!this.known) this.f = this.evaluate(x, g);
      this.known = false;
      if (this.maxAbs(g) <= config.toleranceGrad) return "gradient-small";
    }
    this.iterations++;
    if (this.iterations > 1) this.remember();
    // d = -H g by the two-loop recursion, with H0 = gamma * I.
    this.backend.kernels.fill(d, n, 0);
    this.axpy(d, g, -1);
    for (let j = this.order.length - 1; j >= 0; j--) {
      const k = this.order[j];
      this.alpha[k] = this.rho[k] * this.dot(this.s[k], d);
      this.axpy(d, this.y[k], -this.alpha[k]);
    }
    if (this.gamma !== 1) {
      this.trial.set(d); // d *= gamma, as d += (gamma - 1) * d
      this.axpy(d, this.trial, this.gamma - 1);
    }
    for (const k of this.order) {
      const beta = this.rho[k] * this.dot(this.y[k], d);
      this.axpy(d, this.s[k], this.alpha[k] - beta);
    }
    this.prevG.set(g);
    const prevF = this.f;
    const t0 = this.iterations === 1 ? this.firstStep(g) : config.lr;
    const gtd = this.dot(g, d);
    if (gtd > -config.toleranceChange) return "no-progress";
    const dNorm = this.maxAbs(d);
    const { f, t } = this.strongWolfe(t0, gtd, dNorm);
    this.f = f;
    this.t = t;
    this.axpy(x, d, t);
    if (t === this.lastTrial) g.set(this.trialG);
    else this.evaluate(x, g);
    if (this.maxAbs(g) <= config.toleranceGrad) return "gradient-small";
    if (dNorm * Math.abs(t) <= config.toleranceChange) return "no-progress";
    if (Math.abs(this.f - prevF) < config.toleranceChange) return "no-progress";
    return "continue";
  }

  private firstStep(g: Float32Array): number {
    const { kernels } = this.backend;
    if (this.config.firstStep === "l2") return this.config.lr / Math.sqrt(kernels.sumSquares(g, g.length));
    return Math.min(1, 1 / kernels.sumAbs(g, g.length)) * this.config.lr;
  }

  /** Adds the last step and gradient change to the history, when the curvature is positive. */
  private remember(): void {
    const slot = this.order.length < this.config.historySize ? this.order.length : this.order[0];
    const [s, y] = [this.s[slot], this.y[slot]];
    const n = s.length;
    this.backend.kernels.fill(s, n, 0);
    this.axpy(s, this.d, this.t);
    y.set(this.g);
    this.axpy(y, this.prevG, -1);
    const ys = this.dot(y, s);
    if (ys <= 1e-10) return;
    if (this.order.length === this.config.historySize) this.order.shift();
    this.order.push(slot);
    this.rho[slot] = 1 / ys;
    this.gamma = ys / this.dot(y, y);
  }

  /** Value and directional derivative at x + t*d (gradient into trialG). */
  private at(t: number): { f: number; gtd: number } {
    const { x, d, trial, trialG } = this;
    trial.set(x);
    this.axpy(trial, d, t);
    const f = this.evaluate(trial, trialG);
    this.lastTrial = t;
    return { f, gtd: this.dot(trialG, d) };
  }

  /**
   * A step length satisfying the strong Wolfe conditions, or the best point found within the budget of
   * maxLineSearchEvals evaluations after the first (PyTorch's counting).
   */
  private strongWolfe(t0: number, gtd0: number, dNorm: number): { f: number; t: number } {
    const c1 = 1e-4;
    const c2 = 0.9;
    const { maxLineSearchEvals: maxLs, toleranceChange } = this.config;
    const f0 = this.f;
    let t = t0;
    let [tPrev, fPrev, gtdPrev] = [0, f0, gtd0];
    let cur = this.at(t);
    let lsIter = 0;
    // Bracketing: extrapolate until the interval [tPrev, t] must hold an acceptable step.
    let bracket: [number, number, number][] | null = null;
    while (lsIter < maxLs) {
      if (cur.f > f0 + c1 * t * gtd0 || (lsIter > 1 && cur.f >= fPrev) || cur.gtd >= 0) {
        bracket = [
          [tPrev, fPrev, gtdPrev],
          [t, cur.f, cur.gtd],
        ];
        break;
      }
      if (Math.abs(cur.gtd) <= -c2 * gtd0) return { f: cur.f, t };
      const next = cubicMinimum(tPrev, fPrev, gtdPrev, t, cur.f, cur.gtd, t + 0.01 * (t - tPrev), t * 10);
      [tPrev, fPrev, gtdPrev] = [t, cur.f, cur.gtd];
      t = next;
      cur = this.at(t);
      lsIter++;
    }
    bracket ??= [
      [0, f0, gtd0],
      [t, cur.f, cur.gtd],
    ];
    // Zoom: shrink the bracket; `low` is the end with the lower value.
    let low = bracket[0][1] <= bracket[1][1] ? 0 : 1;
    let insufficient = false;
    while (lsIter < maxLs) {
      const [[a, fa, ga], [b, fb, gb]] = bracket;
      if (Math.abs(b - a) * dNorm < toleranceChange) break;
      let next = cubicMinimum(a, fa, ga, b, fb, gb);
      // Keep the trial away from the bracket's ends (PyTorch's 0.1 safeguard).
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      const eps = 0.1 * (hi - lo);
      if (Math.min(hi - next, next - lo) < eps) {
        if (insufficient || next >= hi || next <= lo) {
          next = Math.abs(next - hi) < Math.abs(next - lo) ? hi - eps : lo + eps;
          insufficient = false;
        } else insufficient = true;
      } else insufficient = false;
      cur = this.at(next);
      lsIter++;
      const high = 1 - low;
      if (cur.f > f0 + c1 * next * gtd0 || cur.f >= bracket[low][1]) {
        bracket[high] = [next, cur.f, cur.gtd];
        low = bracket[0][1] <= bracket[1][1] ? 0 : 1;
      } else {
        if (Math.abs(cur.gtd) <= -c2 * gtd0) return { f: cur.f, t: next };
        if (cur.gtd * (bracket[high][0] - bracket[low][0]) >= 0) bracket[high] = bracket[low];
        bracket[low] = [next, cur.f, cur.gtd];
      }
    }
    return { f: bracket[low][1], t: bracket[low][0] };
  }
}

/**
 * Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi] (default: between x1
 * and x2); the middle of the bounds when the cubic has no real minimiser.
 */
export function cubicMinimum(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  lo = Math.min(x1, x2),
  hi = Math.max(x1, x2),
): number {
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const sq = d1 * d1 - g1 * g2;
  if (sq >= 0) {
    const d2 = Math.sign(x2 - x1) * Math.sqrt(sq);
    const x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    if (Number.isFinite(x)) return Math.min(Math.max(x, lo), hi);
  }
  return (lo + hi) / 2;
}
