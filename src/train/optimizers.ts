import { z } from "zod";
import type { Backend } from "../kernels/index.js";

const rate = z.number().finite().positive().max(1e3);
const decay = z.number().finite().min(0).max(1e6);
const eps = z.number().finite().positive().max(1);

/** PyTorch RMSprop settings (centered and momentum are not supported). */
export const rmspropConfigSchema = z
  .object({ kind: z.literal("rmsprop"), lr: rate, alpha: z.number().min(0).lt(1), eps, weightDecay: decay })
  .strict();
/** PyTorch Adam settings (L2 weight decay added to the gradient, as torch.optim.Adam does). */
export const adamConfigSchema = z
  .object({
    kind: z.literal("adam"),
    lr: rate,
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    eps,
    weightDecay: decay,
  })
  .strict();
/** PyTorch SGD settings (no dampening, no Nesterov). */
export const sgdConfigSchema = z
  .object({ kind: z.literal("sgd"), lr: rate, momentum: z.number().min(0).lt(1), weightDecay: decay })
  .strict();

/** PyTorch RMSprop settings. */
export type RmspropConfig = z.infer<typeof rmspropConfigSchema>;
/** PyTorch Adam settings. */
export type AdamConfig = z.infer<typeof adamConfigSchema>;
/** PyTorch SGD settings. */
export type SgdConfig = z.infer<typeof sgdConfigSchema>;
/** Any first-order optimizer's settings. */
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

/** A stretch of the flat parameters with extra L2 decay (AutoRec's lambda on weight matrices only). */
export interface DecaySegment {
  start: number;
  end: number;
  extraDecay: number;
}

/**
 * A first-order optimizer over one flat parameter array and its gradient, with PyTorch's update rules. It
 * reads `grads` as they are: whether they are reset between steps is the trainer's choice, and `step(true)`
 * zeroes them as it reads them. `segments`, when given, cover the array and add decay where they say.
 */
export class Optimizer {
  readonly state: OptimizerState;
  /** Steps taken so far. */
  steps = 0;
  private readonly segments: DecaySegment[];

  constructor(
    readonly config: OptimizerConfig,
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
    private readonly backend: Backend,
    segments?: DecaySegment[],
  ) {
    const n = params.length;
    const allocate = (size: number) => backend.arena.f32(size);
    this.state =
      config.kind === "rmsprop"
        ? { squareAvg: allocate(n) }
        : config.kind === "adam"
          ? { expAvg: allocate(n), expAvgSq: allocate(n) }
          : { momentumBuffer: allocate(n) };
    this.segments = segments ?? [{ start: 0, end: n, extraDecay: 0 }];
  }

  /** Continues from a saved state: the step count and every state array (by name, same sizes). */
  restore(steps: number, state: OptimizerState): void {
    for (const [name, values] of Object.entries(this.state)) {
      const saved = state[name];
      if (!saved || saved.length !== values.length)
        throw new Error(`the checkpoint has no ${this.config.kind} state "${name}" of this size`);
      values.set(saved);
    }
    this.steps = steps;
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

  /** Applies one update to the parameters; with `zeroGrad`, leaves the gradient zeroed. */
  step(zeroGrad = false): void {
    const { config, state } = this;
    const { kernels } = this.backend;
    this.steps++;
    for (const { start, end, extraDecay } of this.segments) {
      const [p, g] = [this.params.subarray(start, end), this.grads.subarray(start, end)];
      const part = (a: Float32Array) => a.subarray(start, end);
      const n = end - start;
      if (config.kind === "rmsprop") {
        kernels.rmspropStep(p, g, part(state.squareAvg), n, {
          ...config,
          weightDecay: config.weightDecay + extraDecay,
          zeroGrad,
        });
      } else if (config.kind === "adam") {
        const hp = { ...config, weightDecay: config.weightDecay + extraDecay, step: this.steps, zeroGrad };
        kernels.adamStep(p, g, part(state.expAvg), part(state.expAvgSq), n, hp);
      } else {
        const hp = {
          ...config,
          weightDecay: config.weightDecay + extraDecay,
          first: this.steps === 1,
          zeroGrad,
        };
        kernels.sgdStep(p, g, part(state.momentumBuffer), n, hp);
      }
    }
  }
}
