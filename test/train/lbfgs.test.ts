import { describe, expect, it } from "vitest";
import { createBackend } from "../../src/kernels/index.js";
import { cubicMinimum, Lbfgs, lbfgsDefaults } from "../../src/train/lbfgs.js";

/** Rosenbrock in n dimensions: sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, minimum 0 at all ones. */
function rosenbrock(x: Float32Array, g: Float32Array): number {
  g.fill(0);
  let f = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * a * x[i] - 2 * b;
    g[i + 1] += 200 * a;
  }
  return f;
}

describe.each(["reference", "wasm"] as const)(
  "L-BFGS with a strong Wolfe line search (%s kernels)",
  (kernels) => {
    it("minimises the 2-D Rosenbrock function from (-1.5, 2)", () => {
      const opt = new Lbfgs(lbfgsDefaults(), Float32Array.of(-1.5, 2), rosenbrock, createBackend(kernels));
      let status = "continue";
      while (status === "continue" && opt.iterations < 200) status = opt.step();
      expect(opt.x[0]).toBeCloseTo(1, 3);
      expect(opt.x[1]).toBeCloseTo(1, 3);
      expect(opt.value).toBeLessThan(1e-6);
      expect(opt.iterations).toBeLessThan(60);
    });

    it("minimises a 10-D Rosenbrock function and never increases the value", () => {
      const opt = new Lbfgs(
        lbfgsDefaults(),
        new Float32Array(10).fill(-1),
        rosenbrock,
        createBackend(kernels),
      );
      let previous = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 200; i++) {
        const status = opt.step();
        expect(opt.value).toBeLessThanOrEqual(previous);
        previous = opt.value;
        if (status !== "continue") break;
      }
      expect(opt.value).toBeLessThan(1e-5);
    });

    it("restarts on the same objective without evaluating the point again, on the same path", () => {
      const run = (sameObjective: boolean) => {
        const opt = new Lbfgs(lbfgsDefaults(), Float32Array.of(-1.5, 2), rosenbrock, createBackend(kernels));
        for (let epoch = 0; epoch < 4; epoch++) {
          opt.restart(sameObjective);
          for (let i = 0; i < 5; i++) opt.step();
        }
        return { x: Array.from(opt.x), value: opt.value, evaluations: opt.evaluations };
      };
      const [fresh, kept] = [run(false), run(true)];
      expect(kept.x).toEqual(fresh.x);
      expect(kept.value).toBe(fresh.value);
      expect(kept.evaluations).toBe(fresh.evaluations - 3);
    });

    it("cubicMinimum finds a cubic's minimiser and falls back to the middle", () => {
      // f(x) = (x - 1)^2 sampled at 0 and 3: a quadratic is a cubic; its minimiser is 1.
      expect(cubicMinimum(0, 1, -2, 3, 4, 4)).toBeCloseTo(1, 10);
      expect(cubicMinimum(3, 4, 4, 0, 1, -2)).toBeCloseTo(1, 10);
      expect(cubicMinimum(0, 0, 5, 1, 4.5, 5)).toBe(0.5);
    });
  },
);
