import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatSeconds } from "../../src/cli/progress.js";

describe("formatSeconds", () => {
  it("rounds to whole seconds before splitting minutes", () => {
    expect(formatSeconds(12.34)).toBe("12.3s");
    expect(formatSeconds(59.96)).toBe("1m00s");
    expect(formatSeconds(119.6)).toBe("2m00s");
    expect(formatSeconds(125)).toBe("2m05s");
    expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe("?");
  });
});

describe("the built CLI", () => {
  it("is executable after a build, so that npx aerec runs it", () => {
    const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
    expect(statSync(cli).mode & 0o111).toBe(0o111);
  });
});
