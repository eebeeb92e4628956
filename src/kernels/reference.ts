import {
  ACTIVATIONS,
  type Activation,
  type AdamStep,
  ALL_COLUMNS,
  type ColumnBatch,
  type ColumnRange,
  type FloatArray,
  type RmspropStep,
  type RowBatch,
  type SgdStep,
} from "./types.js";

// Plain-TypeScript twins of assembly/kernels.ts. They accept float64 arrays too, which the
// finite-difference gradient checks use. `Math.fround` is left out on purpose: with float32 arrays every
// store rounds, and with float64 arrays the checks want full precision.

/** Twin of Kernels.fill. */
export function fill(out: FloatArray, n: number, value: number): void {
  out.fill(value, 0, n);
}

/** Smallest normal float32. */
const FLT_MIN = 1.17549435e-38;

/** Twin of Kernels.flushSubnormals. */
export function flushSubnormals(x: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) if (Math.abs(x[i]) < FLT_MIN) x[i] = 0;
}

/** Twin of Kernels.rmspropStep. */
export function rmspropStep(p: FloatArray, g: FloatArray, v: FloatArray, n: number, hp: RmspropStep): void {
  const { lr, alpha, eps, weightDecay: wd } = hp;
  for (let i = 0; i < n; i++) {
    const gg = g[i] + wd * p[i];
    if (hp.zeroGrad) g[i] = 0;
    const vv = v[i] * alpha + (1 - alpha) * gg * gg;
    v[i] = vv;
    p[i] = p[i] - (lr * gg) / (Math.sqrt(vv) + eps);
  }
}

/** Twin of Kernels.adamStep. */
export function adamStep(
  p: FloatArray,
  g: FloatArray,
  m: FloatArray,
  v: FloatArray,
  n: number,
  hp: AdamStep,
): void {
  const { lr, beta1, beta2, eps, weightDecay: wd, step } = hp;
  const bc1 = 1 - beta1 ** step;
  const sqrtBc2 = Math.sqrt(1 - beta2 ** step);
  for (let i = 0; i < n; i++) {
    const gg = g[i] + wd * p[i];
    if (hp.zeroGrad) g[i] = 0;
    m[i] = m[i] * beta1 + gg * (1 - beta1);
    v[i] = v[i] * beta2 + gg * gg * (1 - beta2);
    p[i] = p[i] - (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / sqrtBc2 + eps));
  }
}

/** Twin of Kernels.sgdStep. */
export function sgdStep(p: FloatArray, g: FloatArray, buf: FloatArray, n: number, hp: SgdStep): void {
  const { lr, momentum, weightDecay: wd, first } = hp;
  for (let i = 0; i < n; i++) {
    const gg = g[i] + wd * p[i];
    if (hp.zeroGrad) g[i] = 0;
    let b = gg;
    if (momentum !== 0) {
      b = first ? gg : momentum * buf[i] + gg;
      buf[i] = b;
    }
    p[i] -= lr * b;
  }
}

/** Twin of Kernels.sparseAffine. */
export function sparseAffine(
  out: FloatArray,
  batch: RowBatch,
  w: FloatArray,
  bias: FloatArray,
  h: number,
): void {
  const { rows, nRows, indptr, indices, values } = batch;
  for (let b = 0; b < nRows; b++) {
    const o = b * h;
    for (let t = 0; t < h; t++) out[o + t] = bias[t];
    const r = rows[b];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      const base = indices[k] * h;
      const x = values[k];
      for (let t = 0; t < h; t++) out[o + t] += x * w[base + t];
    }
  }
}

/** Twin of Kernels.sparseAffineBackward. */
export function sparseAffineBackward(
  dw: FloatArray,
  dBias: FloatArray,
  batch: RowBatch,
  dOut: FloatArray,
  h: number,
  cols: ColumnRange = ALL_COLUMNS,
): void {
  const { rows, nRows, indptr, indices, values } = batch;
  for (let b = 0; b < nRows; b++) {
    const o = b * h;
    if (cols.withBias) for (let t = 0; t < h; t++) dBias[t] += dOut[o + t];
    const r = rows[b];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      if (indices[k] < cols.start || indices[k] >= cols.end) continue;
      const base = indices[k] * h;
      const x = values[k];
      for (let t = 0; t < h; t++) dw[base + t] += x * dOut[o + t];
    }
  }
}

/** Twin of Kernels.softmaxCrossEntropy. */
export function softmaxCrossEntropy(
  dz: FloatArray,
  z: FloatArray,
  b: RowBatch,
  n: number,
  scale: number,
): number {
  let total = 0;
  for (let r = 0; r < b.nRows; r++) {
    const row = b.rows[r];
    const [start, end] = [b.indptr[row], b.indptr[row + 1]];
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) max = Math.max(max, z[r * n + i]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(z[r * n + i] - max);
    const lse = max + Math.log(sum);
    let loss = 0;
    for (let q = start; q < end; q++) loss += lse - z[r * n + b.indices[q]];
    const weight = scale * (end - start);
    for (let i = 0; i < n; i++) dz[r * n + i] = weight * Math.exp(z[r * n + i] - lse);
    for (let q = start; q < end; q++) dz[r * n + b.indices[q]] -= scale;
    total += scale * loss;
  }
  return total;
}

/** Twin of Kernels.gemmAccumulate. */
export function gemmAccumulate(
  out: FloatArray,
  m: FloatArray,
  x: FloatArray,
  rows: number,
  inner: number,
  cols: number,
  ldOut: number,
  ldm: number,
  ldx: number,
  alpha: number,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let t = 0; t < inner; t++) s += m[i * ldm + t] * x[t * ldx + j];
      out[i * ldOut + j] += alpha * s;
    }
  }
}

/** Twin of Kernels.denseAffine. */
export function denseAffine(
  out: FloatArray,
  inp: FloatArray,
  w: FloatArray,
  bias: FloatArray,
  nRows: number,
  nIn: number,
  nOut: number,
): void {
  for (let b = 0; b < nRows; b++) {
    for (let o = 0; o < nOut; o++) {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += inp[b * nIn + i] * w[o * nIn + i];
      out[b * nOut + o] = bias[o] + s;
    }
  }
}

/** Twin of Kernels.denseAffineBackward. */
export function denseAffineBackward(
  dw: FloatArray,
  dBias: FloatArray,
  dInp: FloatArray | null,
  dOut: FloatArray,
  inp: FloatArray,
  w: FloatArray,
  nRows: number,
  nIn: number,
  nOut: number,
): void {
  for (let b = 0; b < nRows; b++) {
    if (dInp) dInp.fill(0, b * nIn, (b + 1) * nIn);
    for (let o = 0; o < nOut; o++) {
      const d = dOut[b * nOut + o];
      dBias[o] += d;
      for (let i = 0; i < nIn; i++) {
        dw[o * nIn + i] += d * inp[b * nIn + i];
        if (dInp) dInp[b * nIn + i] += d * w[o * nIn + i];
      }
    }
  }
}

/** Twin of Kernels.sparseOutput. */
export function sparseOutput(
  pred: FloatArray,
  batch: RowBatch,
  hidden: FloatArray,
  v: FloatArray,
  bias: FloatArray,
  h: number,
): void {
  const { rows, nRows, indptr, indices } = batch;
  let q = 0;
  for (let b = 0; b < nRows; b++) {
    const r = rows[b];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      const j = indices[k];
      let s = 0;
      for (let t = 0; t < h; t++) s += hidden[b * h + t] * v[j * h + t];
      pred[q++] = bias[j] + s;
    }
  }
}

/** Twin of Kernels.sparseOutputBackward. */
export function sparseOutputBackward(
  dv: FloatArray,
  dBias: FloatArray,
  dHidden: FloatArray,
  batch: RowBatch,
  dPred: FloatArray,
  hidden: FloatArray,
  v: FloatArray,
  h: number,
  cols: ColumnRange = ALL_COLUMNS,
): void {
  const { rows, nRows, indptr, indices } = batch;
  let q = 0;
  for (let b = 0; b < nRows; b++) {
    dHidden.fill(0, b * h, (b + 1) * h);
    const r = rows[b];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      const j = indices[k];
      const d = dPred[q++];
      if (j < cols.start || j >= cols.end) continue;
      dBias[j] += d;
      for (let t = 0; t < h; t++) {
        dv[j * h + t] += d * hidden[b * h + t];
        dHidden[b * h + t] += d * v[j * h + t];
      }
    }
  }
}

/** Twin of Kernels.squaredError. */
export function squaredError(dPred: FloatArray, pred: FloatArray, batch: RowBatch, scale: number): number {
  const { rows, nRows, indptr, values } = batch;
  let q = 0;
  let sum = 0;
  for (let b = 0; b < nRows; b++) {
    const r = rows[b];
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      const e = pred[q] - values[k];
      sum += e * e;
      dPred[q++] = 2 * scale * e;
    }
  }
  return sum;
}

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** Twin of Kernels.activate. */
export function activate(x: FloatArray, n: number, kind: Activation): void {
  const code = ACTIVATIONS[kind];
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (code === 1) x[i] = 1 / (1 + Math.exp(-v));
    else if (code === 2) x[i] = Math.tanh(v);
    else if (code === 3) x[i] = Math.max(v, 0);
    else if (code === 4) x[i] = v > 0 ? v : Math.expm1(v);
    else if (code === 5) x[i] = v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v);
  }
}

/** Twin of Kernels.activateBackward. */
export function activateBackward(
  dx: FloatArray,
  dy: FloatArray,
  y: FloatArray,
  n: number,
  kind: Activation,
): void {
  const code = ACTIVATIONS[kind];
  for (let i = 0; i < n; i++) {
    const s = y[i];
    let d = 1;
    if (code === 1) d = s * (1 - s);
    else if (code === 2) d = 1 - s * s;
    else if (code === 3) d = s > 0 ? 1 : 0;
    else if (code === 4) d = s > 0 ? 1 : s + 1;
    else if (code === 5) d = s > 0 ? SELU_SCALE : s + SELU_SCALE * SELU_ALPHA;
    dx[i] = dy[i] * d;
  }
}

/** Twin of Kernels.addRowSums. */
export function addRowSums(y: FloatArray, x: FloatArray, nRows: number, n: number): void {
  for (let b = 0; b < nRows; b++) for (let j = 0; j < n; j++) y[j] += x[b * n + j];
}

/** Twin of Kernels.addScaled. */
export function addScaled(y: FloatArray, x: FloatArray, a: number, n: number): void {
  for (let i = 0; i < n; i++) y[i] += a * x[i];
}

/** Twin of Kernels.multiply. */
export function multiply(x: FloatArray, m: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) x[i] *= m[i];
}

/** Twin of Kernels.dotProduct. */
export function dotProduct(x: FloatArray, y: FloatArray, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

/** Twin of Kernels.sumSquares. */
export function sumSquares(x: FloatArray, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

/** Twin of Kernels.sumAbs. */
export function sumAbs(x: FloatArray, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(x[i]);
  return s;
}

/** Twin of Kernels.maxAbs. */
export function maxAbs(x: FloatArray, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Twin of Kernels.encodeColumns. */
export function encodeColumns(
  out: FloatArray,
  c: ColumnBatch,
  w: FloatArray,
  h: number,
  _nRows: number,
): void {
  for (let u = 0; u < c.nUnique; u++) {
    const base = c.cols[u] * h;
    for (let e = c.start[u]; e < c.start[u + 1]; e++) {
      const o = c.rowOf[e] * h;
      for (let t = 0; t < h; t++) out[o + t] += c.values[e] * w[base + t];
    }
  }
}

/** Twin of Kernels.encodeColumnsBackward. */
export function encodeColumnsBackward(dw: FloatArray, c: ColumnBatch, dOut: FloatArray, h: number): void {
  for (let u = 0; u < c.nUnique; u++) {
    const base = c.cols[u] * h;
    for (let e = c.start[u]; e < c.start[u + 1]; e++) {
      const o = c.rowOf[e] * h;
      for (let t = 0; t < h; t++) dw[base + t] += c.values[e] * dOut[o + t];
    }
  }
}

/** Twin of Kernels.decodeColumnsLoss. */
export function decodeColumnsLoss(
  pred: FloatArray,
  dPred: FloatArray,
  dv: FloatArray,
  dBias: FloatArray,
  dHidden: FloatArray,
  c: ColumnBatch,
  hidden: FloatArray,
  v: FloatArray,
  bias: FloatArray,
  h: number,
  nRows: number,
  scale: number,
  outputActivation: "identity" | "sigmoid",
): number {
  dHidden.fill(0, 0, nRows * h);
  let sse = 0;
  for (let u = 0; u < c.nUnique; u++) {
    const j = c.cols[u];
    for (let e = c.start[u]; e < c.start[u + 1]; e++) {
      const b = c.rowOf[e];
      let p = bias[j];
      for (let t = 0; t < h; t++) p += hidden[b * h + t] * v[j * h + t];
      let slope = 1;
      if (outputActivation === "sigmoid") {
        p = 1 / (1 + Math.exp(-p));
        slope = p * (1 - p);
      }
      const err = p - c.values[e];
      sse += err * err;
      const d = 2 * scale * err * slope;
      pred[c.qOf[e]] = p;
      dPred[c.qOf[e]] = d;
      dBias[j] += d;
      for (let t = 0; t < h; t++) {
        dv[j * h + t] += d * hidden[b * h + t];
        dHidden[b * h + t] += d * v[j * h + t];
      }
    }
  }
  return sse;
}

/** Twin of Kernels.localKernel. */
export function localKernel(
  wEff: FloatArray,
  k: FloatArray,
  w: FloatArray,
  a: FloatArray,
  bT: FloatArray,
  rows: number,
  cols: number,
  d: number,
): number {
  let count = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let dist = 0;
      for (let t = 0; t < d; t++) {
        const diff = a[r * d + t] - bT[t * cols + c];
        dist += diff * diff;
      }
      const kk = Math.max(1 - dist, 0);
      k[r * cols + c] = kk;
      wEff[r * cols + c] = kk * w[r * cols + c];
      if (kk > 0) count++;
    }
  }
  return count;
}

/** Twin of Kernels.localKernelBackward. */
export function localKernelBackward(
  gW: FloatArray,
  gA: FloatArray,
  gBT: FloatArray,
  gEff: FloatArray,
  w: FloatArray,
  k: FloatArray,
  a: FloatArray,
  bT: FloatArray,
  rows: number,
  cols: number,
  d: number,
  lambda2: number,
  lambdaS: number,
): number {
  gBT.fill(0, 0, d * cols);
  let penalty = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [ge, wv, kv] = [gEff[r * cols + c], w[r * cols + c], k[r * cols + c]];
      gW[r * cols + c] = ge * kv + lambda2 * wv;
      gEff[r * cols + c] = kv > 0 ? ge * wv + lambdaS * kv : 0;
      penalty += 0.5 * lambda2 * wv * wv + 0.5 * lambdaS * kv * kv;
    }
    for (let t = 0; t < d; t++) {
      let s = 0;
      for (let c = 0; c < cols; c++) {
        const term = gEff[r * cols + c] * (a[r * d + t] - bT[t * cols + c]);
        s += term;
        gBT[t * cols + c] += 2 * term;
      }
      gA[r * d + t] = -2 * s;
    }
  }
  return penalty;
}
