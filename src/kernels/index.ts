import * as reference from "./reference.js";
import type { Arena, Backend, Kernels } from "./types.js";
import { createWasmBackend, relaxedSimdAvailable, wasmSimdAvailable } from "./wasm.js";

export { KernelProfile, type ProfileEntry, profiledBackend, timed } from "./profile.js";
export {
  ACTIVATIONS,
  type Activation,
  type AdamStep,
  type Arena,
  type Backend,
  type ColumnBatch,
  type FloatArray,
  type Kernels,
  type RmspropStep,
  type RowBatch,
  type SgdStep,
} from "./types.js";

/**
 * Which kernels to run: "auto" takes the fastest this runtime has (WebAssembly relaxed SIMD, then SIMD, then
 * plain TypeScript); "wasm" the fastest WebAssembly build; "wasm-simd" the build without fused
 * multiply-adds, whose results are the same on every CPU; "reference" the plain-TypeScript twins.
 */
export type KernelChoice = "auto" | "wasm" | "wasm-simd" | "reference";

/** The --kernels choices, for the command line. */
export const KERNEL_CHOICES: readonly KernelChoice[] = ["auto", "wasm", "wasm-simd", "reference"];

const referenceKernels: Kernels = { name: "reference", ...reference };

const plainArena: Arena = {
  f32: (n) => new Float32Array(n),
  i32: (n) => new Int32Array(n),
};

/**
 * A backend for `choice`. The plain-TypeScript one runs on the calling thread only; `threads` counts the
 * calling thread.
 */
export function createBackend(choice: KernelChoice = "auto", threads = 1): Backend {
  if (choice === "reference" || (choice === "auto" && !wasmSimdAvailable())) {
    return { kernels: referenceKernels, arena: plainArena, threads: 1, close() {} };
  }
  const fused = choice !== "wasm-simd" && relaxedSimdAvailable();
  return createWasmBackend(threads, fused ? "relaxed-simd" : "simd");
}
