import type { Backend } from "./types.js";

/** Multiply-adds from which a dense layer goes through the tiled gemmAccumulate instead of denseAffine. */
const TILED_FROM = 1 << 24;

/** out = the [cols][rows] transpose of the row-major [rows][cols] matrix a. */
export function transposeInto(out: Float32Array, a: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
}

/**
 * A dense layer (weights [nOut][nIn], PyTorch's layout) that runs large products through the tiled
 * gemmAccumulate kernel, transposing the smaller operand into scratch memory (O(n) work against the
 * product's O(n^2)); small ones stay on denseAffine and its backward, whose results the tests pin.
 */
export class DenseLayer {
  private scratch?: Float32Array;

  constructor(private readonly backend: Backend) {}

  private buffer(n: number): Float32Array {
    if (!this.scratch || this.scratch.length < n) this.scratch = this.backend.arena.f32(n);
    return this.scratch.subarray(0, n);
  }

  /** out[b,o] = bias[o] + sum_i inp[b,i] * W[o,i] (Kernels.denseAffine). */
  forward(
    out: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    nRows: number,
    nIn: number,
    nOut: number,
  ): void {
    const { kernels } = this.backend;
    if (nRows * nIn * nOut < TILED_FROM) {
      kernels.denseAffine(out, inp, w, bias, nRows, nIn, nOut);
      return;
    }
    const wT = this.buffer(nIn * nOut);
    transposeInto(wT, w, nOut, nIn);
    for (let b = 0; b < nRows; b++) out.set(bias.subarray(0, nOut), b * nOut);
    kernels.gemmAccumulate(out, inp, wT, nRows, nIn, nOut, nOut, nIn, nOut, 1);
  }

  /** dW += dOut^T inp; dBias += column sums of dOut; dInp = dOut W when given (Kernels.denseAffineBackward). */
  backward(
    dw: Float32Array,
    dBias: Float32Array,
    dInp: Float32Array | null,
    dOut: Float32Array,
    inp: Float32Array,
    w: Float32Array,
    nRows: number,
    nIn: number,
    nOut: number,
  ): void {
    const { kernels } = this.backend;
    if (nRows * nIn * nOut < TILED_FROM) {
      kernels.denseAffineBackward(dw, dBias, dInp, dOut, inp, w, nRows, nIn, nOut);
      return;
    }
    const dOutT = this.buffer(nOut * nRows);
    transposeInto(dOutT, dOut, nRows, nOut);
    kernels.gemmAccumulate(dw, dOutT, inp, nOut, nRows, nIn, nIn, nRows, nIn, 1);
    kernels.addRowSums(dBias, dOut, nRows, nOut);
    if (dInp) {
      kernels.fill(dInp, nRows * nIn, 0);
      kernels.gemmAccumulate(dInp, dOut, w, nRows, nOut, nIn, nIn, nOut, nIn, 1);
    }
  }
}
