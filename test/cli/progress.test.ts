import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatSeconds, ProgressBar } from "../../src/cli/progress.js";

describe("formatSeconds", () => {
  it("rounds to whole seconds before splitting minutes", () => {
    expect(formatSeconds(12.34)).toBe("12.3s");
    expect(formatSeconds(59.96)).toBe("1m00s");
    expect(formatSeconds(119.6)).toBe("2m00s");
    expect(formatSeconds(125)).toBe("2m05s");
    expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe("?");
  });
});

/** A stand-in for stderr in a log (not a terminal) that keeps what is written. */
function logStream() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe("ProgressBar", () => {
  it("writes a line every plainEvery units in a log, and the last", () => {
    const { stream, lines } = logStream();
    const bar = new ProgressBar("epoch", stream, 10);
    for (let done = 1; done <= 25; done++) bar.update({ done, total: 25, fields: { loss: "0.9" } });
    expect(lines.map((l) => /^epoch +(\d+)\/25 {2}loss 0\.9/.exec(l)?.[1])).toEqual(["1", "11", "21", "25"]);
  });

  it("stays silent for quick work when asked to wait before drawing", () => {
    const { stream, lines } = logStream();
    const bar = new ProgressBar("ranking test users", stream, 1, 60);
    for (let done = 0; done <= 5; done++) bar.update({ done, total: 5 });
    expect(lines).toEqual([]);
  });
});

describe("the built CLI", () => {
  it("is executable after a build, so that npx aerec runs it", () => {
    const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
    expect(statSync(cli).mode & 0o111).toBe(0o111);
  });
});
