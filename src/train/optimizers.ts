import type { Backend } from "../kernels/index.js";

/** PyTorch RMSprop settings (centered and momentum are not supported). */
export interface RmspropConfig {
  kind: "rmsprop";
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
}

/** PyTorch Adam settings (L2 weight decay added to the gradient, as torch.optim.Adam does). */
export interface AdamConfig {
  kind: "adam";
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** PyTorch SGD settings (no dampening, no Nesterov). */
export interface SgdConfig {
  kind: "sgd";
  lr: number;
  momentum: number;
  weightDecay: number;
}

export type OptimizerConfig = RmspropConfig | AdamConfig | SgdConfig;

/** PyTorch's defaults for each optimizer, with the learning rate given. */
export function optimizerDefaults(
  kind: OptimizerConfig["kind"],
  lr: number,
  weightDecay = 0,
): OptimizerConfig {
  if (kind === "rmsprop") return { kind, lr, alpha: 0.99, eps: 1e-8, weightDecay };
  if (kind === "adam") return { kind, lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
  return { kind, lr, momentum: 0.9, weightDecay };
}

/** The state an optimizer keeps between steps, by name, for checkpoints. */
export type OptimizerState = Record<string, Float32Array>;

/**
 * A first-order optimizer over one flat parameter array and its gradient, with PyTorch's update rules. It
 * reads `grads` as they are: whether they are reset between steps is the trainer's choice.
 */
export class Optimizer {
  readonly state: OptimizerState;
  /** Steps taken so far. */
  steps = 0;

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
    private readonly backend: Backend,
  ) {
    const n = params.length;
    const allocate = (size: number) => backend.arena.f32(size);
    this.state =
      config.kind === "rmsprop"
        ? { squareAvg: allocate(n) }
        : config.kind === "adam"
          ? { expAvg: allocate(n), expAvgSq: allocate(n) }
          : { momentumBuffer: allocate(n) };
  }

  /**
   * Flushes subnormal values (below 1.2e-38) in the parameters and the optimizer state to zero. Called
   * between epochs: it changes no prediction and keeps x86 cores off their slow subnormal path.
   */
  flushSubnormals(): void {
    const { kernels } = this.backend;
    kernels.flushSubnormals(this.params, this.params.length);
    for (const s of Object.values(this.state)) kernels.flushSubnormals(s, s.length);
  }

  /** Applies one update to the parameters. */
  step(): void {
    const { config, params: p, grads: g, state } = this;
    const n = p.length;
    this.steps++;
    if (config.kind === "rmsprop") {
      this.backend.kernels.rmspropStep(p, g, state.squareAvg, n, config);
    } else if (config.kind === "adam") {
      this.backend.kernels.adamStep(p, g, state.expAvg, state.expAvgSq, n, { ...config, step: this.steps });
    } else {
      this.backend.kernels.sgdStep(p, g, state.momentumBuffer, n, { ...config, first: this.steps === 1 });
    }
  }
}
