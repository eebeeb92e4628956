import { InvalidArgumentError, Option } from "commander";
import { type RawId, rawIdOf } from "../data/ratings.js";
import { KERNEL_CHOICES } from "../kernels/index.js";

/** Commander parser for an integer flag within [min, max]. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}`,
      );
    }
    return n;
  };
}

/** Commander parser for a user or movie id as the data state it (numbers for MovieLens, any text in general). */
export function rawIdArg(text: string): RawId {
  if (text.trim() === "") throw new InvalidArgumentError("expected an id");
  return rawIdOf(text.trim());
}

/** Commander parser for a number flag within [min, max]. */
export function numberArg(min: number, max = Number.POSITIVE_INFINITY) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a number from ${min}${Number.isFinite(max) ? ` to ${max}` : " up"}`,
      );
    }
    return n;
  };
}

/** Commander parser for a comma-separated list of positive integers, e.g. "20,10,20". */
export function intListArg(text: string): number[] {
  const list = text.split(",").map(Number);
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0)) {
    throw new InvalidArgumentError('expected positive integers separated by commas, e.g. "20,10,20"');
  }
  return list;
}

/** The --kernels option, shared by every command that runs kernels. */
export function kernelsOption(): Option {
  return new Option(
    "--kernels <kind>",
    "auto: the fastest this runtime has (WebAssembly relaxed SIMD, then SIMD, then TypeScript); wasm; " +
      "wasm-simd (no fused multiply-adds: the same results on every CPU); reference (plain TypeScript)",
  )
    .choices(KERNEL_CHOICES)
    .default("auto");
}
