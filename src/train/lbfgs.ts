/** An objective: writes the gradient at x into `grad` and returns the value. */
export type Objective = (x: Float32Array, grad: Float32Array) => number;

/** L-BFGS settings (PyTorch's torch.optim.LBFGS names and defaults). */
export interface LbfgsConfig {
  kind: "lbfgs";
  /** Step scale: the first iteration tries lr * min(1, 1/|g|_1), later ones lr. */
  lr: number;
  /** Pairs of (step, gradient change) kept to approximate the inverse Hessian. */
  historySize: number;
  /** Stop when max |g| falls below this. */
  toleranceGrad: number;
  /** Stop when the step or the change in value falls below this. */
  toleranceChange: number;
  /** Most objective evaluations per line search. */
  maxLineSearchEvals: number;
}

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

function dot(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Full-batch L-BFGS with a strong-Wolfe line search (c1 1e-4, c2 0.9; bracketing, then zooming with cubic
 * interpolation), following torch.optim.LBFGS(line_search_fn="strong_wolfe"). Each `step()` is one
 * iteration and moves `x`. History vectors are float32 to halve their memory;
 * dot products run in double precision.
 */
export class Lbfgs {
  private readonly g: Float32Array;
  private readonly d: Float32Array;
  private readonly prevG: Float32Array;
  private readonly s: Float32Array[] = [];
  private readonly y: Float32Array[] = [];
  private readonly rho: number[] = [];
  private f = Number.NaN;
  private prevF = Number.NaN;
  private t = 0;
  /** Iterations so far. */
  iterations = 0;
  /** Objective evaluations so far. */
  evaluations = 0;
  private readonly trial: Float32Array;
  private readonly trialG: Float32Array;

  /** The current point (a copy of the start; the objective is only ever given this or trial points). */
  readonly x: Float32Array;

  constructor(
    readonly config: LbfgsConfig,
    start: Float32Array,
    private readonly objective: Objective,
  ) {
    const n = start.length;
    this.x = start.slice();
    this.g = new Float32Array(n);
    this.d = new Float32Array(n);
    this.prevG = new Float32Array(n);
    this.trial = new Float32Array(n);
    this.trialG = new Float32Array(n);
  }

  /** The objective at the current parameters (after the last step). */
  get value(): number {
    return this.f;
  }

  private evaluate(x: Float32Array, grad: Float32Array): number {
    this.evaluations++;
    return this.objective(x, grad);
  }

  /** One L-BFGS iteration. */
  step(): LbfgsStatus {
    const { config, x, g, d } = this;
    if (this.iterations === 0) {
      this.f = this.evaluate(x, g);
      if (maxAbs(g) <= config.toleranceGrad) return "gradient-small";
    }
    this.iterations++;
    if (this.iterations === 1) {
      for (let i = 0; i < d.length; i++) d[i] = -g[i];
    } else {
      // Update the history with the last step (s = t*d) and gradient change (y = g - prevG).
      const sNew = new Float32Array(d.length);
      const yNew = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) {
        sNew[i] = this.t * d[i];
        yNew[i] = g[i] - this.prevG[i];
      }
      const ys = dot(yNew, sNew);
      if (ys > 1e-10) {
        if (this.s.length === config.historySize) {
          this.s.shift();
          this.y.shift();
          this.rho.shift();
        }
        this.s.push(sNew);
        this.y.push(yNew);
        this.rho.push(1 / ys);
      }
      this.twoLoop(ys > 1e-10 ? ys / dot(yNew, yNew) : this.lastGamma);
    }
    this.prevG.set(g);
    this.prevF = this.f;
    let l1 = 0;
    for (let i = 0; i < g.length; i++) l1 += Math.abs(g[i]);
    const t0 = this.iterations === 1 ? Math.min(1, 1 / l1) * config.lr : config.lr;
    const gtd = dot(g, d);
    if (gtd > -config.toleranceChange) return "no-progress";
    const { f, t } = this.strongWolfe(t0, gtd);
    this.f = f;
    this.t = t;
    for (let i = 0; i < x.length; i++) x[i] += t * d[i];
    if (t === this.lastTrial) g.set(this.trialG);
    else this.evaluate(x, g);
    if (maxAbs(g) <= config.toleranceGrad) return "gradient-small";
    if (maxAbs(d) * Math.abs(t) <= config.toleranceChange) return "no-progress";
    if (Math.abs(this.f - this.prevF) < config.toleranceChange) return "no-progress";
    return "continue";
  }

  private lastGamma = 1;

  /** d = -H g by the two-loop recursion, with H0 = gamma * I. */
  private twoLoop(gamma: number): void {
    this.lastGamma = gamma;
    const { g, d, s, y, rho } = this;
    const q = Float64Array.from(g, (v) => -v);
    const alpha = new Float64Array(s.length);
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(s[k], q);
      for (let i = 0; i < q.length; i++) q[i] -= alpha[k] * y[k][i];
    }
    for (let i = 0; i < q.length; i++) q[i] *= gamma;
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k] * dot(y[k], q);
      for (let i = 0; i < q.length; i++) q[i] += (alpha[k] - beta) * s[k][i];
    }
    for (let i = 0; i < d.length; i++) d[i] = q[i];
  }

  /** Value and gradient at x + t*d (into trialG). */
  private at(t: number): { f: number; gtd: number } {
    const { x, d, trial, trialG } = this;
    for (let i = 0; i < x.length; i++) trial[i] = x[i] + t * d[i];
    const f = this.evaluate(trial, trialG);
    this.lastTrial = t;
    return { f, gtd: dot(trialG, d) };
  }

  /** Step length of the last evaluated trial point, whose gradient is in trialG. */
  private lastTrial = Number.NaN;

  /** A step length satisfying the strong Wolfe conditions (or the best found within the budget). */
  private strongWolfe(t0: number, gtd0: number): { f: number; t: number } {
    const c1 = 1e-4;
    const c2 = 0.9;
    const f0 = this.f;
    const dNorm = maxAbs(this.d);
    let t = t0;
    let fPrev = f0;
    let gtdPrev = gtd0;
    let tPrev = 0;
    let evals = 0;
    let bracket: { lo: number; flo: number; glo: number; hi: number; fhi: number; ghi: number } | null = null;
    let cur = this.at(t);
    evals++;
    for (;;) {
      if (cur.f > f0 + c1 * t * gtd0 || (evals > 1 && cur.f >= fPrev)) {
        bracket = { lo: tPrev, flo: fPrev, glo: gtdPrev, hi: t, fhi: cur.f, ghi: cur.gtd };
        break;
      }
      if (Math.abs(cur.gtd) <= -c2 * gtd0) return { f: cur.f, t };
      if (cur.gtd >= 0) {
        bracket = { lo: t, flo: cur.f, glo: cur.gtd, hi: tPrev, fhi: fPrev, ghi: gtdPrev };
        break;
      }
      if (evals >= this.config.maxLineSearchEvals) return { f: cur.f, t };
      // Extrapolate: a cubic step between 1.01x and 10x the current one.
      const next = cubicMinimum(tPrev, fPrev, gtdPrev, t, cur.f, cur.gtd, t + 0.01 * (t - tPrev), t * 10);
      [tPrev, fPrev, gtdPrev] = [t, cur.f, cur.gtd];
      t = next;
      cur = this.at(t);
      evals++;
    }
    // Zoom inside the bracket, whose "lo" end always has the lower value.
    let { lo, flo, glo, hi, fhi, ghi } = bracket;
    if (fhi < flo) [lo, flo, glo, hi, fhi, ghi] = [hi, fhi, ghi, lo, flo, glo];
    let insufficient = false;
    while (
      evals < this.config.maxLineSearchEvals &&
      Math.abs(hi - lo) * dNorm >= this.config.toleranceChange
    ) {
      let next = cubicMinimum(lo, flo, glo, hi, fhi, ghi);
      // Keep the trial away from the bracket's ends (PyTorch's 0.1 safeguard).
      const [a, b] = [Math.min(lo, hi), Math.max(lo, hi)];
      const eps = 0.1 * (b - a);
      if (Math.min(b - next, next - a) < eps) {
        if (insufficient || next >= b || next <= a) {
          next = Math.abs(next - b) < Math.abs(next - a) ? b - eps : a + eps;
          insufficient = false;
        } else insufficient = true;
      } else insufficient = false;
      cur = this.at(next);
      evals++;
      if (cur.f > f0 + c1 * next * gtd0 || cur.f >= flo) {
        [hi, fhi, ghi] = [next, cur.f, cur.gtd];
        if (fhi < flo) [lo, flo, glo, hi, fhi, ghi] = [hi, fhi, ghi, lo, flo, glo];
      } else {
        if (Math.abs(cur.gtd) <= -c2 * gtd0) return { f: cur.f, t: next };
        if (cur.gtd * (hi - lo) >= 0) [hi, fhi, ghi] = [lo, flo, glo];
        [lo, flo, glo] = [next, cur.f, cur.gtd];
      }
    }
    return { f: flo, t: lo };
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
