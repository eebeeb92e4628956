import * as reference from "./reference.js";
import type { Arena, Backend, Kernels } from "./types.js";
import { createWasmBackend, wasmSimdAvailable } from "./wasm.js";

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

/** Which kernels to run: the WebAssembly SIMD ones when available ("auto"), or one forced. */
export type KernelChoice = "auto" | "wasm" | "reference";

const referenceKernels: Kernels = { name: "reference", ...reference };

const plainArena: Arena = {
  f32: (n) => new Float32Array(n),
  i32: (n) => new Int32Array(n),
};

/**
 * A backend for `choice`; "auto" picks WebAssembly SIMD and falls back to plain TypeScript (which runs on the
 * calling thread only). `threads` counts the calling thread.
 */
export function createBackend(choice: KernelChoice = "auto", threads = 1): Backend {
  if (choice === "reference" || (choice === "auto" && !wasmSimdAvailable())) {
    return { kernels: referenceKernels, arena: plainArena, threads: 1, close() {} };
  }
  return createWasmBackend(threads);
}
