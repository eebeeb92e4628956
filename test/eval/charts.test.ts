import { describe, expect, it } from "vitest";
import { barPanels, lineChart, niceTicks, trainingCurve } from "../../src/eval/charts.js";

describe("charts", () => {
  it("picks round ticks that cover the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.88, 0.97)).toEqual([0.88, 0.9, 0.92, 0.94, 0.96]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it("draws a line per series with a legend and an optional marker, escaping text", () => {
    const svg = lineChart({
      title: "loss <per> epoch",
      xLabel: "epoch",
      yLabel: "RMSE",
      series: [
        {
          name: "training",
          points: [
            [1, 1.2],
            [2, 1.0],
            [3, 0.9],
          ],
        },
        {
          name: "validation",
          points: [
            [1, 1.3],
            [2, Number.NaN],
            [3, 1.0],
          ],
        },
      ],
      markers: [{ x: 2, label: "kept" }],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain("loss &lt;per&gt; epoch");
    expect(svg).toContain(">kept<");
    expect(svg).not.toContain("NaN");
  });

  it("keeps a far-off first epoch from flattening the curve, and says where it went", () => {
    const points = (first: number): [number, number][] => [
      [1, first],
      ...Array.from({ length: 9 }, (_, i): [number, number] => [i + 2, 1 - i * 0.01]),
    ];
    const ticksOf = (svg: string) =>
      [...svg.matchAll(/text-anchor="end"[^>]*>([\d.]+)</g)].map((m) => Number(m[1]));
    const spiked = lineChart({
      title: "t",
      xLabel: "epoch",
      yLabel: "RMSE",
      series: [{ name: "a", points: points(3) }],
    });
    expect(spiked).toContain("epoch 1 is off the scale: 3");
    expect(ticksOf(spiked).length).toBeGreaterThan(2);
    expect(Math.max(...ticksOf(spiked))).toBeLessThan(1.1);
    expect(spiked).toContain('clip-path="url(#plot)"');
    const smooth = lineChart({
      title: "t",
      xLabel: "epoch",
      yLabel: "RMSE",
      series: [{ name: "a", points: points(1.02) }],
    });
    expect(smooth).not.toContain("off the scale");
  });

  it("marks the kept epoch and where a staged fit moves to its next stage", () => {
    const history = Array.from({ length: 6 }, (_, i) => ({
      epoch: i + 1,
      trainLoss: 1 - i * 0.05,
      validationRmse: 1.1 - i * 0.02,
      seconds: 1,
      stage: i < 3 ? "pre-training" : "fine-tuning",
    }));
    const svg = trainingCurve(history, "staged", 5)!;
    expect(svg.match(/stroke-dasharray="4 3"/g)).toHaveLength(2);
    expect(svg).toContain(">kept<");
    expect(svg).toContain(">fine-tuning<");
    expect(svg).not.toContain(">pre-training<");
    const plain = trainingCurve(
      history.map(({ stage: _, ...e }) => e),
      "plain",
      5,
    )!;
    expect(plain.match(/stroke-dasharray="4 3"/g)).toHaveLength(1);
  });

  it("draws one bar per group in every panel, with error bars where there is spread", () => {
    const svg = barPanels({
      title: "compare",
      groups: ["a", "b"],
      panels: [
        {
          title: "RMSE",
          better: "lower",
          values: [
            { mean: 0.9, std: 0.01 },
            { mean: 0.95, std: 0 },
          ],
        },
        {
          title: "NDCG@10",
          values: [
            { mean: 0.1, std: 0.02 },
            { mean: 0.2, std: 0.01 },
          ],
        },
      ],
    });
    // Four bars and two legend swatches.
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#/g)).toHaveLength(6);
    expect(svg.match(/stroke-width="1.5"/g)).toHaveLength(3);
    expect(svg).not.toContain("NaN");
    expect(svg).toContain(">RMSE (lower is better)<");
    // Every bar reaches down to the same baseline, zero, close values or not (bars of 0.9 and 0.95).
    const bottoms = [
      ...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="#/g),
    ]
      .slice(0, 4)
      .map((m) => Number(m[1]) + Number(m[2]));
    expect(new Set(bottoms.map((b) => b.toFixed(0))).size).toBe(1);
    const heights = [...svg.matchAll(/height="([\d.]+)" fill="#/g)].map((m) => Number(m[1]));
    expect(heights[0] / heights[1]).toBeCloseTo(0.9 / 0.95, 2);
  });
});
