import type { Rng } from "../data/random.js";

/**
 * PyTorch's default nn.Linear initialisation: weight and bias ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn))
 * (kaiming_uniform with a = sqrt(5) reduces to that bound).
 */
export function linearInit(out: Float32Array, fanIn: number, rng: Rng): void {
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.float() - 1) * bound;
}
