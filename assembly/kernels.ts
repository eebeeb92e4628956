// WebAssembly SIMD kernels. Every pointer is a byte offset into the shared linear memory; f32 arrays
// unless named otherwise. Each function mirrors one in src/kernels/reference.ts, which tests compare
// against. Rows of a CSR matrix are selected through `rows` (i32), so a mini-batch is a list of row
// ids and its observed entries are laid out back to back in `rows` order ("batch order").

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/**
 * a * b + c per lane. The relaxed-SIMD build (build/kernels-relaxed.wasm) fuses it into one rounding where
 * the CPU has FMA; the plain build rounds the product and the sum apart, the same on every machine.
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** out[i] = value for i < n. */
export function fill(out: usize, n: i32, value: f32): void {
  const vv = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), vv);
  for (; i < n; i++) store<f32>(at(out, i), value);
}

/**
 * Sets entries whose magnitude is below float32's smallest normal (1.17549435e-38) to zero. x86 cores take
 * tens of cycles per operation on subnormal floats, and weight decay drives some parameters and averages
 * there; trainers call this between epochs, as torch.set_flush_denormal(True) would do on every operation.
 */
export function flushSubnormals(x: usize, n: i32): void {
  const min = f32x4.splat(1.17549435e-38);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    v128.store(at(x, i), v128.and(v, f32x4.ge(f32x4.abs(v), min)));
  }
  for (; i < n; i++) if (Mathf.abs(load<f32>(at(x, i))) < 1.17549435e-38) store<f32>(at(x, i), 0);
}

/**
 * PyTorch RMSprop: g' = g + wd*p; v = alpha*v + (1-alpha)*g'^2; p -= lr * g' / (sqrt(v) + eps). With `zero`
 * set, g is zeroed as it is read: optimizer.zero_grad() fused into the step (likewise for Adam and SGD).
 */
export function rmspropStep(p: usize, g: usize, v: usize, n: i32, lr: f32, alpha: f32, eps: f32, wd: f32, zero: i32): void {
  const vwd = f32x4.splat(wd);
  const valpha = f32x4.splat(alpha);
  const vbeta = f32x4.splat(1 - alpha);
  const veps = f32x4.splat(eps);
  const vlr = f32x4.splat(lr);
  const vzero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pp = v128.load(at(p, i));
    const gg = madd(vwd, pp, v128.load(at(g, i)));
    if (zero) v128.store(at(g, i), vzero);
    const vv = madd(vbeta, f32x4.mul(gg, gg), f32x4.mul(v128.load(at(v, i)), valpha));
    v128.store(at(v, i), vv);
    const step = f32x4.div(f32x4.mul(vlr, gg), f32x4.add(f32x4.sqrt(vv), veps));
    v128.store(at(p, i), f32x4.sub(pp, step));
  }
  for (; i < n; i++) {
    const pp = load<f32>(at(p, i));
    const gg = load<f32>(at(g, i)) + wd * pp;
    if (zero) store<f32>(at(g, i), 0);
    const vv = load<f32>(at(v, i)) * alpha + (1 - alpha) * (gg * gg);
    store<f32>(at(v, i), vv);
    store<f32>(at(p, i), pp - (lr * gg) / (Mathf.sqrt(vv) + eps));
  }
}

/** One Adam step on the four floats at byte offset o (see adamStep; `zero` clears the gradient read). */
@inline function adam4(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  o: usize,
  vwd: v128,
  vb1: v128,
  vc1: v128,
  vb2: v128,
  vc2: v128,
  veps: v128,
  vstep: v128,
  vinvsq: v128,
  zero: bool,
): void {
  const pp = v128.load(p + o);
  const gg = madd(vwd, pp, v128.load(g + o));
  if (zero) v128.store(g + o, f32x4.splat(0));
  const mm = madd(gg, vc1, f32x4.mul(v128.load(m + o), vb1));
  const vv = madd(f32x4.mul(gg, gg), vc2, f32x4.mul(v128.load(v + o), vb2));
  v128.store(m + o, mm);
  v128.store(v + o, vv);
  const denom = madd(f32x4.sqrt(vv), vinvsq, veps);
  v128.store(p + o, f32x4.sub(pp, f32x4.mul(vstep, f32x4.div(mm, denom))));
}

/**
 * PyTorch Adam (L2 weight decay added to the gradient): m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2;
 * p -= lr/bc1 * m / (sqrt(v)/sqrtBc2 + eps), where bc1 = 1-b1^t and sqrtBc2 = sqrt(1-b2^t). Sixteen floats
 * (a cache line of each array) a step: with four at a time the square roots and divisions queue up.
 */
export function adamStep(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  wd: f32,
  bc1: f32,
  sqrtBc2: f32,
  zero: i32,
): void {
  const vwd = f32x4.splat(wd);
  const vb1 = f32x4.splat(beta1);
  const vc1 = f32x4.splat(1 - beta1);
  const vb2 = f32x4.splat(beta2);
  const vc2 = f32x4.splat(1 - beta2);
  const veps = f32x4.splat(eps);
  const vstep = f32x4.splat(lr / bc1);
  const vinvsq = f32x4.splat(<f32>1 / sqrtBc2);
  const z = zero != 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    adam4(p, g, m, v, o, vwd, vb1, vc1, vb2, vc2, veps, vstep, vinvsq, z);
    adam4(p, g, m, v, o + 16, vwd, vb1, vc1, vb2, vc2, veps, vstep, vinvsq, z);
    adam4(p, g, m, v, o + 32, vwd, vb1, vc1, vb2, vc2, veps, vstep, vinvsq, z);
    adam4(p, g, m, v, o + 48, vwd, vb1, vc1, vb2, vc2, veps, vstep, vinvsq, z);
  }
  for (; i + 4 <= n; i += 4) adam4(p, g, m, v, <usize>i << 2, vwd, vb1, vc1, vb2, vc2, veps, vstep, vinvsq, z);
  for (; i < n; i++) {
    const pp = load<f32>(at(p, i));
    const gg = load<f32>(at(g, i)) + wd * pp;
    if (zero) store<f32>(at(g, i), 0);
    const mm = load<f32>(at(m, i)) * beta1 + gg * (1 - beta1);
    const vv = load<f32>(at(v, i)) * beta2 + gg * gg * (1 - beta2);
    store<f32>(at(m, i), mm);
    store<f32>(at(v, i), vv);
    store<f32>(at(p, i), pp - (lr / bc1) * (mm / (Mathf.sqrt(vv) / sqrtBc2 + eps)));
  }
}

/** SGD with momentum (PyTorch): g' = g + wd*p; buf = mu*buf + g' (buf = g' on the first step); p -= lr*buf. */
export function sgdStep(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, wd: f32, first: i32, zero: i32): void {
  for (let i = 0; i < n; i++) {
    const pp = load<f32>(at(p, i));
    const gg = load<f32>(at(g, i)) + wd * pp;
    if (zero) store<f32>(at(g, i), 0);
    let b = gg;
    if (momentum != 0) {
      b = first ? gg : momentum * load<f32>(at(buf, i)) + gg;
      store<f32>(at(buf, i), b);
    }
    store<f32>(at(p, i), pp - lr * b);
  }
}

/** y[i] += a * x[i] over h floats, unrolled to 16 per iteration. */
@inline function axpy(y: usize, x: usize, a: f32, h: i32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 16 <= h; i += 16) {
    const p = at(y, i);
    const q = at(x, i);
    v128.store(p, madd(va, v128.load(q), v128.load(p)));
    v128.store(p, madd(va, v128.load(q, 16), v128.load(p, 16)), 16);
    v128.store(p, madd(va, v128.load(q, 32), v128.load(p, 32)), 32);
    v128.store(p, madd(va, v128.load(q, 48), v128.load(p, 48)), 48);
  }
  for (; i + 4 <= h; i += 4) {
    v128.store(at(y, i), madd(va, v128.load(at(x, i)), v128.load(at(y, i))));
  }
  for (; i < h; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + a * load<f32>(at(x, i)));
}

/** y1 += a * x1 and y2 += a * x2 together over h floats (one loop, half the overhead). */
@inline function axpy2(y1: usize, x1: usize, y2: usize, x2: usize, a: f32, h: i32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 8 <= h; i += 8) {
    const p1 = at(y1, i);
    const q1 = at(x1, i);
    const p2 = at(y2, i);
    const q2 = at(x2, i);
    v128.store(p1, madd(va, v128.load(q1), v128.load(p1)));
    v128.store(p2, madd(va, v128.load(q2), v128.load(p2)));
    v128.store(p1, madd(va, v128.load(q1, 16), v128.load(p1, 16)), 16);
    v128.store(p2, madd(va, v128.load(q2, 16), v128.load(p2, 16)), 16);
  }
  for (; i < h; i++) {
    store<f32>(at(y1, i), load<f32>(at(y1, i)) + a * load<f32>(at(x1, i)));
    store<f32>(at(y2, i), load<f32>(at(y2, i)) + a * load<f32>(at(x2, i)));
  }
}

/** Dot product of h floats, with four accumulators so the additions do not wait on each other. */
@inline function dot(x: usize, y: usize, h: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= h; i += 16) {
    const p = at(x, i);
    const q = at(y, i);
    a0 = madd(v128.load(p), v128.load(q), a0);
    a1 = madd(v128.load(p, 16), v128.load(q, 16), a1);
    a2 = madd(v128.load(p, 32), v128.load(q, 32), a2);
    a3 = madd(v128.load(p, 48), v128.load(q, 48), a3);
  }
  for (; i + 4 <= h; i += 4) a0 = madd(v128.load(at(x, i)), v128.load(at(y, i)), a0);
  const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s: f32 =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < h; i++) s += load<f32>(at(x, i)) * load<f32>(at(y, i));
  return s;
}

/** Sparse rows times dense: out[b,:] = bias + sum over k in row rows[b] of values[k] * W[indices[k], :]. */
export function sparseAffine(
  out: usize,
  rows: usize,
  nRows: i32,
  indptr: usize,
  indices: usize,
  values: usize,
  w: usize,
  bias: usize,
  h: i32,
): void {
  for (let b = 0; b < nRows; b++) {
    const o = at(out, b * h);
    memory.copy(o, bias, <usize>h << 2);
    const r = load<i32>(at(rows, b));
    const end = load<i32>(at(indptr, r + 1));
    for (let k = load<i32>(at(indptr, r)); k < end; k++) {
      axpy(o, at(w, load<i32>(at(indices, k)) * h), load<f32>(at(values, k)), h);
    }
  }
}

/**
 * Backward of sparseAffine: dW[indices[k], :] += values[k] * dOut[b,:] for columns in [colStart, colEnd)
 * only (so threads can own disjoint column ranges); dBias += dOut[b,:] when withBias is set.
 */
export function sparseAffineBackward(
  dw: usize,
  dBias: usize,
  rows: usize,
  nRows: i32,
  indptr: usize,
  indices: usize,
  values: usize,
  dOut: usize,
  h: i32,
  colStart: i32,
  colEnd: i32,
  withBias: i32,
): void {
  for (let b = 0; b < nRows; b++) {
    const d = at(dOut, b * h);
    if (withBias) axpy(dBias, d, 1, h);
    const r = load<i32>(at(rows, b));
    const end = load<i32>(at(indptr, r + 1));
    for (let k = load<i32>(at(indptr, r)); k < end; k++) {
      const j = load<i32>(at(indices, k));
      if (j < colStart || j >= colEnd) continue;
      axpy(at(dw, j * h), d, load<f32>(at(values, k)), h);
    }
  }
}

/** Dense layer, PyTorch weight layout [nOut][nIn]: out[b,o] = bias[o] + dot(inp[b,:], W[o,:]). */
export function denseAffine(out: usize, inp: usize, w: usize, bias: usize, nRows: i32, nIn: i32, nOut: i32): void {
  for (let b = 0; b < nRows; b++) {
    const x = at(inp, b * nIn);
    for (let o = 0; o < nOut; o++) {
      store<f32>(at(out, b * nOut + o), load<f32>(at(bias, o)) + dot(x, at(w, o * nIn), nIn));
    }
  }
}

/**
 * Backward of denseAffine: dW[o,:] += dOut[b,o] * inp[b,:]; dBias[o] += dOut[b,o];
 * dInp[b,:] = sum_o dOut[b,o] * W[o,:] (skipped when dInp is 0).
 */
export function denseAffineBackward(
  dw: usize,
  dBias: usize,
  dInp: usize,
  dOut: usize,
  inp: usize,
  w: usize,
  nRows: i32,
  nIn: i32,
  nOut: i32,
): void {
  for (let b = 0; b < nRows; b++) {
    const x = at(inp, b * nIn);
    const dx = at(dInp, b * nIn);
    if (dInp != 0) fill(dx, nIn, 0);
    for (let o = 0; o < nOut; o++) {
      const d = load<f32>(at(dOut, b * nOut + o));
      store<f32>(at(dBias, o), load<f32>(at(dBias, o)) + d);
      axpy(at(dw, o * nIn), x, d, nIn);
      if (dInp != 0) axpy(dx, at(w, o * nIn), d, nIn);
    }
  }
}

/** Predictions at observed entries only: pred[k] = bias[j] + dot(hidden[b,:], V[j,:]), j = indices[k]. */
export function sparseOutput(
  pred: usize,
  rows: usize,
  nRows: i32,
  indptr: usize,
  indices: usize,
  hidden: usize,
  v: usize,
  bias: usize,
  h: i32,
): void {
  let q = 0;
  for (let b = 0; b < nRows; b++) {
    const x = at(hidden, b * h);
    const r = load<i32>(at(rows, b));
    const end = load<i32>(at(indptr, r + 1));
    for (let k = load<i32>(at(indptr, r)); k < end; k++) {
      const j = load<i32>(at(indices, k));
      store<f32>(at(pred, q++), load<f32>(at(bias, j)) + dot(x, at(v, j * h), h));
    }
  }
}

/**
 * Backward of sparseOutput, for output columns j in [colStart, colEnd) only (so threads can own disjoint
 * column ranges): dV[j,:] += dPred[k] * hidden[b,:]; dBias[j] += dPred[k]; dHidden[b,:] = sum_k dPred[k] *
 * V[j,:] over those columns (overwritten).
 */
export function sparseOutputBackward(
  dv: usize,
  dBias: usize,
  dHidden: usize,
  rows: usize,
  nRows: i32,
  indptr: usize,
  indices: usize,
  dPred: usize,
  hidden: usize,
  v: usize,
  h: i32,
  colStart: i32,
  colEnd: i32,
): void {
  let q = 0;
  for (let b = 0; b < nRows; b++) {
    const x = at(hidden, b * h);
    const dx = at(dHidden, b * h);
    fill(dx, h, 0);
    const r = load<i32>(at(rows, b));
    const start = load<i32>(at(indptr, r));
    const end = load<i32>(at(indptr, r + 1));
    for (let k = start; k < end; k++, q++) {
      const j = load<i32>(at(indices, k));
      if (j < colStart || j >= colEnd) continue;
      const d = load<f32>(at(dPred, q));
      store<f32>(at(dBias, j), load<f32>(at(dBias, j)) + d);
      axpy(at(dv, j * h), x, d, h);
      axpy(dx, at(v, j * h), d, h);
    }
  }
}

/**
 * Squared error at observed entries, in batch order: dPred[k] = scale * 2 * (pred[k] - target), returns
 * the sum of squared errors (f64, so that large batches do not lose precision).
 */
export function squaredError(dPred: usize, pred: usize, rows: usize, nRows: i32, indptr: usize, values: usize, scale: f32): f64 {
  let q = 0;
  let sum: f64 = 0;
  const two = scale * 2;
  for (let b = 0; b < nRows; b++) {
    const r = load<i32>(at(rows, b));
    const end = load<i32>(at(indptr, r + 1));
    for (let k = load<i32>(at(indptr, r)); k < end; k++) {
      const e = load<f32>(at(pred, q)) - load<f32>(at(values, k));
      sum += <f64>e * <f64>e;
      store<f32>(at(dPred, q++), two * e);
    }
  }
  return sum;
}

// Activation codes, shared with src/kernels/types.ts.
const IDENTITY = 0;
const SIGMOID = 1;
const TANH = 2;
const RELU = 3;
const ELU = 4;
const SELU = 5;
const SELU_SCALE: f32 = 1.0507009873554805;
const SELU_ALPHA: f32 = 1.6732632423543772;

// exp(x) per lane, as Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for exp(r),
// and 2^n put into the exponent bits. Within 2 ulp of the correctly rounded value for x in [-87.3, 88.3];
// below, x is taken as -87.3 (so no result is subnormal, which x86 handles slowly); from about 88.4 up,
// 2^n overflows to +Infinity, as exp does from 88.72.
const EXP_LO: f32 = -87.3;
const EXP_HI: f32 = 89;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

@inline function expLanes(x0: v128): v128 {
  const x1 = f32x4.min(f32x4.max(x0, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const k = f32x4.nearest(f32x4.mul(x1, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x1, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const e = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  return f32x4.mul(e, scale);
}

/** Applies activation `kind` in place (identity, sigmoid, tanh, relu, elu, selu). */
export function activate(x: usize, n: i32, kind: i32): void {
  if (kind == IDENTITY) return;
  if (kind == RELU) {
    const zero = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.max(v128.load(at(x, i)), zero));
    for (; i < n; i++) store<f32>(at(x, i), Mathf.max(load<f32>(at(x, i)), 0));
    return;
  }
  let i = 0;
  if (kind == SIGMOID) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(x, i), f32x4.div(one, f32x4.add(one, expLanes(f32x4.neg(v)))));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    let y: f32;
    if (kind == SIGMOID) y = <f32>1 / (<f32>1 + Mathf.exp(-v));
    else if (kind == TANH) y = Mathf.tanh(v);
    else if (kind == ELU) y = v > 0 ? v : Mathf.exp(v) - 1;
    else y = v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * (Mathf.exp(v) - 1);
    store<f32>(at(x, i), y);
  }
}

/** Backward of activate from its output y: dx = dy * f'(x), with f' written in terms of y (dx may be dy). */
export function activateBackward(dx: usize, dy: usize, y: usize, n: i32, kind: i32): void {
  let i = 0;
  if (kind == SIGMOID) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const s = v128.load(at(y, i));
      v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.mul(s, f32x4.sub(one, s))));
    }
  }
  for (; i < n; i++) {
    const s = load<f32>(at(y, i));
    let d: f32 = 1;
    if (kind == SIGMOID) d = s * (1 - s);
    else if (kind == TANH) d = 1 - s * s;
    else if (kind == RELU) d = s > 0 ? 1 : 0;
    else if (kind == ELU) d = s > 0 ? 1 : s + 1;
    else if (kind == SELU) d = s > 0 ? SELU_SCALE : s + SELU_SCALE * SELU_ALPHA;
    store<f32>(at(dx, i), load<f32>(at(dy, i)) * d);
  }
}

/** y[i] += a * x[i]. */
export function addScaled(y: usize, x: usize, a: f32, n: i32): void {
  axpy(y, x, a, n);
}

/** y[j] += sum over b < nRows of x[b * ld + j], for j < n (a bias gradient from a batch's deltas). */
export function addRowSums(y: usize, x: usize, nRows: i32, n: i32, ld: i32): void {
  for (let b = 0; b < nRows; b++) axpy(y, at(x, b * ld), 1, n);
}

/** x[i] *= m[i] (dropout masks). */
export function multiply(x: usize, m: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.mul(v128.load(at(x, i)), v128.load(at(m, i))));
  for (; i < n; i++) store<f32>(at(x, i), load<f32>(at(x, i)) * load<f32>(at(m, i)));
}

/** The upper two floats of v in its lower half, for promotion to f64. */
@inline function upper(v: v128): v128 {
  return f32x4.shuffle(v, v, 2, 3, 0, 1);
}

/** Dot product of f32 vectors with f64 products and sums (four accumulators, so the adds overlap). */
export function dotProduct(x: usize, y: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a0 = v128.load(at(x, i));
    const b0 = v128.load(at(y, i));
    const a1 = v128.load(at(x, i + 4));
    const b1 = v128.load(at(y, i + 4));
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(a0), f64x2.promote_low_f32x4(b0)));
    s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(upper(a0)), f64x2.promote_low_f32x4(upper(b0))));
    s2 = f64x2.add(s2, f64x2.mul(f64x2.promote_low_f32x4(a1), f64x2.promote_low_f32x4(b1)));
    s3 = f64x2.add(s3, f64x2.mul(f64x2.promote_low_f32x4(upper(a1)), f64x2.promote_low_f32x4(upper(b1))));
  }
  const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) sum += <f64>load<f32>(at(x, i)) * <f64>load<f32>(at(y, i));
  return sum;
}

/** Sum of absolute values, in f64. */
export function sumAbs(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = s0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = f32x4.abs(v128.load(at(x, i)));
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(a));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(upper(a)));
  }
  const s = f64x2.add(s0, s1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) sum += <f64>Mathf.abs(load<f32>(at(x, i)));
  return sum;
}

/** Largest absolute value (0 for n = 0); NaN when any value is NaN, as f32x4.max and f32.max propagate it. */
export function maxAbs(x: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, f32x4.abs(v128.load(at(x, i))));
  let best = Mathf.max(
    Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
    Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)),
  );
  for (; i < n; i++) best = Mathf.max(best, Mathf.abs(load<f32>(at(x, i))));
  return best;
}

/** Byte offset of the h-float row of `base` that entry e's batch row selects. */
@inline function entryRow(base: usize, rowOf: usize, e: i32, h: i32): usize {
  return at(base, load<i32>(at(rowOf, e)) * h);
}

// The column kernels take a column's entries four at a time, so that the column's weight row (or gradient
// row) is loaded, and stored, once per four batch rows instead of once per row.

/** y_k += a_k * x for k < 4 over h floats. */
@inline function scatter4(y0: usize, y1: usize, y2: usize, y3: usize, x: usize, a0: f32, a1: f32, a2: f32, a3: f32, h: i32): void {
  const v0 = f32x4.splat(a0);
  const v1 = f32x4.splat(a1);
  const v2 = f32x4.splat(a2);
  const v3 = f32x4.splat(a3);
  let i = 0;
  for (; i + 8 <= h; i += 8) {
    const p = at(x, i);
    const q0 = at(y0, i);
    const q1 = at(y1, i);
    const q2 = at(y2, i);
    const q3 = at(y3, i);
    const xa = v128.load(p);
    const xb = v128.load(p, 16);
    v128.store(q0, madd(v0, xa, v128.load(q0)));
    v128.store(q0, madd(v0, xb, v128.load(q0, 16)), 16);
    v128.store(q1, madd(v1, xa, v128.load(q1)));
    v128.store(q1, madd(v1, xb, v128.load(q1, 16)), 16);
    v128.store(q2, madd(v2, xa, v128.load(q2)));
    v128.store(q2, madd(v2, xb, v128.load(q2, 16)), 16);
    v128.store(q3, madd(v3, xa, v128.load(q3)));
    v128.store(q3, madd(v3, xb, v128.load(q3, 16)), 16);
  }
  for (; i + 4 <= h; i += 4) scatterLanes(y0, y1, y2, y3, v0, v1, v2, v3, v128.load(at(x, i)), i);
  for (; i < h; i++) scatterOne(y0, y1, y2, y3, a0, a1, a2, a3, load<f32>(at(x, i)), i);
}

/** y_k[i..i+4) += v_k * xx for k < 4. */
@inline function scatterLanes(y0: usize, y1: usize, y2: usize, y3: usize, v0: v128, v1: v128, v2: v128, v3: v128, xx: v128, i: i32): void {
  v128.store(at(y0, i), madd(v0, xx, v128.load(at(y0, i))));
  v128.store(at(y1, i), madd(v1, xx, v128.load(at(y1, i))));
  v128.store(at(y2, i), madd(v2, xx, v128.load(at(y2, i))));
  v128.store(at(y3, i), madd(v3, xx, v128.load(at(y3, i))));
}

/** y_k[i] += a_k * xx for k < 4. */
@inline function scatterOne(y0: usize, y1: usize, y2: usize, y3: usize, a0: f32, a1: f32, a2: f32, a3: f32, xx: f32, i: i32): void {
  store<f32>(at(y0, i), load<f32>(at(y0, i)) + a0 * xx);
  store<f32>(at(y1, i), load<f32>(at(y1, i)) + a1 * xx);
  store<f32>(at(y2, i), load<f32>(at(y2, i)) + a2 * xx);
  store<f32>(at(y3, i), load<f32>(at(y3, i)) + a3 * xx);
}

/** y += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 over h floats. */
@inline function gather4(y: usize, x0: usize, x1: usize, x2: usize, x3: usize, a0: f32, a1: f32, a2: f32, a3: f32, h: i32): void {
  const v0 = f32x4.splat(a0);
  const v1 = f32x4.splat(a1);
  const v2 = f32x4.splat(a2);
  const v3 = f32x4.splat(a3);
  let i = 0;

  for (; i + 4 <= h; i += 4) gatherLanes(y, x0, x1, x2, x3, v0, v1, v2, v3, i);
  for (; i < h; i++) gatherOne(y, x0, x1, x2, x3, a0, a1, a2, a3, i);
}

/** y[i..i+4) += sum over k < 4 of v_k * x_k[i..i+4). */
@inline function gatherLanes(y: usize, x0: usize, x1: usize, x2: usize, x3: usize, v0: v128, v1: v128, v2: v128, v3: v128, i: i32): void {
  const s01 = madd(v1, v128.load(at(x1, i)), f32x4.mul(v0, v128.load(at(x0, i))));
  const s23 = madd(v3, v128.load(at(x3, i)), f32x4.mul(v2, v128.load(at(x2, i))));
  v128.store(at(y, i), f32x4.add(v128.load(at(y, i)), f32x4.add(s01, s23)));
}

/** y[i] += sum over k < 4 of a_k * x_k[i]. */
@inline function gatherOne(y: usize, x0: usize, x1: usize, x2: usize, x3: usize, a0: f32, a1: f32, a2: f32, a3: f32, i: i32): void {
  const s = a0 * load<f32>(at(x0, i)) + a1 * load<f32>(at(x1, i)) + (a2 * load<f32>(at(x2, i)) + a3 * load<f32>(at(x3, i)));
  store<f32>(at(y, i), load<f32>(at(y, i)) + s);
}

// Results of dot4, one per row (module globals: each thread has its own instance).
let dot0: f32 = 0;
let dot1: f32 = 0;
let dot2: f32 = 0;
let dot3: f32 = 0;

/** dot_k = x_k . y for k < 4 over h floats, sharing the loads of y. */
@inline function dot4(x0: usize, x1: usize, x2: usize, x3: usize, y: usize, h: i32): void {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  let i = 0;

  for (; i + 4 <= h; i += 4) {
    const yy = v128.load(at(y, i));
    s0 = madd(v128.load(at(x0, i)), yy, s0);
    s1 = madd(v128.load(at(x1, i)), yy, s1);
    s2 = madd(v128.load(at(x2, i)), yy, s2);
    s3 = madd(v128.load(at(x3, i)), yy, s3);
  }
  dot0 = lanes(s0);
  dot1 = lanes(s1);
  dot2 = lanes(s2);
  dot3 = lanes(s3);
  for (; i < h; i++) {
    const yy = load<f32>(at(y, i));
    dot0 += load<f32>(at(x0, i)) * yy;
    dot1 += load<f32>(at(x1, i)) * yy;
    dot2 += load<f32>(at(x2, i)) * yy;
    dot3 += load<f32>(at(x3, i)) * yy;
  }
}

@inline function lanes(s: v128): f32 {
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

// Column-grouped kernels. A mini-batch's observed entries are regrouped by column ("column batch"):
// for u in [uStart, uEnd), column cols[u] has entries e in [start[u], start[u+1]), each with its batch row
// rowOf[e], its position qOf[e] in batch order, and its value values[e]. Each weight row W[j] is then read
// (and its gradient written) once per batch instead of once per entry, and threads own disjoint columns.

/** out[rowOf[e], :] += values[e] * W[cols[u], :] (out holds the bias, or zeros for a thread's share). */
export function encodeColumns(
  out: usize,
  cols: usize,
  start: usize,
  rowOf: usize,
  values: usize,
  uStart: i32,
  uEnd: i32,
  w: usize,
  h: i32,
): void {
  for (let u = uStart; u < uEnd; u++) {
    const row = at(w, load<i32>(at(cols, u)) * h);
    const end = load<i32>(at(start, u + 1));
    let e = load<i32>(at(start, u));
    for (; e + 4 <= end; e += 4) {
      scatter4(
        entryRow(out, rowOf, e, h),
        entryRow(out, rowOf, e + 1, h),
        entryRow(out, rowOf, e + 2, h),
        entryRow(out, rowOf, e + 3, h),
        row,
        load<f32>(at(values, e)),
        load<f32>(at(values, e + 1)),
        load<f32>(at(values, e + 2)),
        load<f32>(at(values, e + 3)),
        h,
      );
    }
    for (; e < end; e++) axpy(entryRow(out, rowOf, e, h), row, load<f32>(at(values, e)), h);
  }
}

/** dW[cols[u], :] += values[e] * dOut[rowOf[e], :], one pass over each weight row. */
export function encodeColumnsBackward(
  dw: usize,
  cols: usize,
  start: usize,
  rowOf: usize,
  values: usize,
  uStart: i32,
  uEnd: i32,
  dOut: usize,
  h: i32,
): void {
  for (let u = uStart; u < uEnd; u++) {
    const row = at(dw, load<i32>(at(cols, u)) * h);
    const end = load<i32>(at(start, u + 1));
    let e = load<i32>(at(start, u));
    for (; e + 4 <= end; e += 4) {
      gather4(
        row,
        entryRow(dOut, rowOf, e, h),
        entryRow(dOut, rowOf, e + 1, h),
        entryRow(dOut, rowOf, e + 2, h),
        entryRow(dOut, rowOf, e + 3, h),
        load<f32>(at(values, e)),
        load<f32>(at(values, e + 1)),
        load<f32>(at(values, e + 2)),
        load<f32>(at(values, e + 3)),
        h,
      );
    }
    for (; e < end; e++) axpy(row, entryRow(dOut, rowOf, e, h), load<f32>(at(values, e)), h);
  }
}

/**
 * The decoder's backward for four entries of one column in one pass over the column's rows:
 * dv += sum_k d_k x_k (gather4) and y_k += d_k v (scatter4), with v and dv loaded once per step.
 */
@inline function backward4(
  dv: usize,
  v: usize,
  x0: usize,
  x1: usize,
  x2: usize,
  x3: usize,
  y0: usize,
  y1: usize,
  y2: usize,
  y3: usize,
  a0: f32,
  a1: f32,
  a2: f32,
  a3: f32,
  h: i32,
): void {
  const v0 = f32x4.splat(a0);
  const v1 = f32x4.splat(a1);
  const v2 = f32x4.splat(a2);
  const v3 = f32x4.splat(a3);
  let i = 0;
  for (; i + 4 <= h; i += 4) {
    gatherLanes(dv, x0, x1, x2, x3, v0, v1, v2, v3, i);
    scatterLanes(y0, y1, y2, y3, v0, v1, v2, v3, v128.load(at(v, i)), i);
  }
  for (; i < h; i++) {
    gatherOne(dv, x0, x1, x2, x3, a0, a1, a2, a3, i);
    scatterOne(y0, y1, y2, y3, a0, a1, a2, a3, load<f32>(at(v, i)), i);
  }
}

// The squared error summed by settle (per instance, like dot0..dot3).
let lossSum: f64 = 0;

/**
 * Finishes entry e from its pre-activation z: stores the prediction and d(loss)/dz at its batch position,
 * adds its squared error to lossSum, and returns d(loss)/dz.
 */
@inline function settle(e: i32, z: f32, pred: usize, dPred: usize, qOf: usize, targets: usize, two: f32, kind: i32): f32 {
  let p = z;
  let slope: f32 = 1;
  if (kind == SIGMOID) {
    p = <f32>1 / (<f32>1 + Mathf.exp(-z));
    slope = p * (1 - p);
  }
  const err = p - load<f32>(at(targets, e));
  lossSum += <f64>err * <f64>err;
  const d = two * err * slope;
  const q = load<i32>(at(qOf, e));
  store<f32>(at(pred, q), p);
  store<f32>(at(dPred, q), d);
  return d;
}

/**
 * Decoder forward, squared-error loss and decoder backward in one pass over each output column j, for an
 * identity or sigmoid output (kind): pred = act(bias[j] + hidden[b,:] . V[j,:]); e = pred - target; dPred =
 * 2 * scale * e * act'(pred); dV[j,:] += dPred * hidden[b,:]; dBias[j] += dPred; dHidden[b,:] += dPred *
 * V[j,:]. Writes pred and dPred at qOf[e]; returns the sum of e^2.
 */
export function decodeColumnsLoss(
  pred: usize,
  dPred: usize,
  dv: usize,
  dBias: usize,
  dHidden: usize,
  cols: usize,
  start: usize,
  rowOf: usize,
  qOf: usize,
  targets: usize,
  uStart: i32,
  uEnd: i32,
  hidden: usize,
  v: usize,
  bias: usize,
  h: i32,
  scale: f32,
  kind: i32,
): f64 {
  lossSum = 0;
  const two: f32 = <f32>2 * scale;
  for (let u = uStart; u < uEnd; u++) {
    const j = load<i32>(at(cols, u));
    const vrow = at(v, j * h);
    const dvrow = at(dv, j * h);
    const b0 = load<f32>(at(bias, j));
    let db: f32 = 0;
    const end = load<i32>(at(start, u + 1));
    let e = load<i32>(at(start, u));
    for (; e + 4 <= end; e += 4) {
      const x0 = entryRow(hidden, rowOf, e, h);
      const x1 = entryRow(hidden, rowOf, e + 1, h);
      const x2 = entryRow(hidden, rowOf, e + 2, h);
      const x3 = entryRow(hidden, rowOf, e + 3, h);
      dot4(x0, x1, x2, x3, vrow, h);
      const d0 = settle(e, b0 + dot0, pred, dPred, qOf, targets, two, kind);
      const d1 = settle(e + 1, b0 + dot1, pred, dPred, qOf, targets, two, kind);
      const d2 = settle(e + 2, b0 + dot2, pred, dPred, qOf, targets, two, kind);
      const d3 = settle(e + 3, b0 + dot3, pred, dPred, qOf, targets, two, kind);
      db += d0 + d1 + (d2 + d3);
      backward4(
        dvrow,
        vrow,
        x0,
        x1,
        x2,
        x3,
        entryRow(dHidden, rowOf, e, h),
        entryRow(dHidden, rowOf, e + 1, h),
        entryRow(dHidden, rowOf, e + 2, h),
        entryRow(dHidden, rowOf, e + 3, h),
        d0,
        d1,
        d2,
        d3,
        h,
      );
    }
    for (; e < end; e++) {
      const x = entryRow(hidden, rowOf, e, h);
      const d = settle(e, b0 + dot(x, vrow, h), pred, dPred, qOf, targets, two, kind);
      db += d;
      axpy2(dvrow, x, entryRow(dHidden, rowOf, e, h), vrow, d, h);
    }
    store<f32>(at(dBias, j), load<f32>(at(dBias, j)) + db);
  }
  return lossSum;
}

/**
 * Dense multiply-accumulate: out[i][j] += alpha * sum_t m[i][t] * x[t][j] for i < rows, t < inner, j < cols,
 * every matrix row-major with its own leading dimension (in floats). Works in blocks of 256 inner steps by
 * 256 columns: each block of x is first copied into `panel` (256 x 256 floats of scratch) as 8-column
 * strips, [strip][t][8], so that the inner loop reads it in order from L1 and L2 instead of one cache line
 * per step; every 4 rows of m then pass over the block, 4 rows x 8 columns at a time in registers.
 */
export function gemmAccumulate(
  out: usize,
  m: usize,
  x: usize,
  rows: i32,
  inner: i32,
  cols: i32,
  ldOut: i32,
  ldm: i32,
  ldx: i32,
  alpha: f32,
  panel: usize,
): void {
  for (let t0 = 0; t0 < inner; t0 += 256) {
    const t1 = min(inner, t0 + 256);
    for (let j0 = 0; j0 < cols; j0 += 256) {
      const j1 = min(cols, j0 + 256);
      // Columns past the last whole strip go one at a time (gemmTail).
      const jStrips = j0 + ((j1 - j0) & ~7);
      packStrips(panel, x, t0, t1, j0, jStrips, ldx);
      gemmBlock(out, m, panel, rows, t0, t1 - t0, j0, jStrips, ldOut, ldm, alpha);
      for (let i = 0; i < rows; i++) gemmTail(out, m, x, i, jStrips, j1, t0, t1, ldOut, ldm, ldx, alpha);
    }
  }
}

/** Copies x[t0..t1)[j0..j1) (j1 - j0 a multiple of 8) into panel as strips of 8 columns, [strip][t][8]. */
function packStrips(panel: usize, x: usize, t0: i32, t1: i32, j0: i32, j1: i32, ldx: i32): void {
  const nt = t1 - t0;
  for (let j = j0; j < j1; j += 8) {
    const strip = at(panel, (j - j0) * nt);
    for (let t = t0; t < t1; t++) {
      const src = at(x, t * ldx + j);
      const dst = at(strip, (t - t0) * 8);
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
    }
  }
}

/** out[i][j0..j1) += alpha * m[i][t0..t0+nt) . strips, for every row i: 4 rows x 8 columns a step. */
function gemmBlock(
  out: usize,
  m: usize,
  panel: usize,
  rows: i32,
  t0: i32,
  nt: i32,
  j0: i32,
  j1: i32,
  ldOut: i32,
  ldm: i32,
  alpha: f32,
): void {
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const m0 = at(m, i * ldm + t0);
    const m1 = at(m, (i + 1) * ldm + t0);
    const m2 = at(m, (i + 2) * ldm + t0);
    const m3 = at(m, (i + 3) * ldm + t0);
    for (let j = j0; j < j1; j += 8) {
      const strip = at(panel, (j - j0) * nt);
      let c00 = f32x4.splat(0);
      let c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0);
      let c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0);
      let c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0);
      let c31 = f32x4.splat(0);
      for (let t = 0; t < nt; t++) {
        const xr = at(strip, t * 8);
        const xa = v128.load(xr);
        const xb = v128.load(xr, 16);
        const a0 = v128.load32_splat(at(m0, t));
        const a1 = v128.load32_splat(at(m1, t));
        const a2 = v128.load32_splat(at(m2, t));
        const a3 = v128.load32_splat(at(m3, t));
        c00 = madd(a0, xa, c00);
        c01 = madd(a0, xb, c01);
        c10 = madd(a1, xa, c10);
        c11 = madd(a1, xb, c11);
        c20 = madd(a2, xa, c20);
        c21 = madd(a2, xb, c21);
        c30 = madd(a3, xa, c30);
        c31 = madd(a3, xb, c31);
      }
      addScaledPair(at(out, i * ldOut + j), c00, c01, av);
      addScaledPair(at(out, (i + 1) * ldOut + j), c10, c11, av);
      addScaledPair(at(out, (i + 2) * ldOut + j), c20, c21, av);
      addScaledPair(at(out, (i + 3) * ldOut + j), c30, c31, av);
    }
  }
  for (; i < rows; i++) {
    const mi = at(m, i * ldm + t0);
    for (let j = j0; j < j1; j += 8) {
      const strip = at(panel, (j - j0) * nt);
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      for (let t = 0; t < nt; t++) {
        const xr = at(strip, t * 8);
        const a = v128.load32_splat(at(mi, t));
        c0 = madd(a, v128.load(xr), c0);
        c1 = madd(a, v128.load(xr, 16), c1);
      }
      addScaledPair(at(out, i * ldOut + j), c0, c1, av);
    }
  }
}

@inline function addScaledPair(p: usize, a: v128, b: v128, alpha: v128): void {
  v128.store(p, madd(alpha, a, v128.load(p)));
  v128.store(p, madd(alpha, b, v128.load(p, 16)), 16);
}

/** gemmBlock for one row i and columns j0..j1, one column at a time. */
function gemmTail(
  out: usize,
  m: usize,
  x: usize,
  i: i32,
  j0: i32,
  j1: i32,
  t0: i32,
  t1: i32,
  ldOut: i32,
  ldm: i32,
  ldx: i32,
  alpha: f32,
): void {
  for (let j = j0; j < j1; j++) {
    let s: f32 = 0;
    for (let t = t0; t < t1; t++) s += load<f32>(at(m, i * ldm + t)) * load<f32>(at(x, t * ldx + j));
    const p = at(out, i * ldOut + j);
    store<f32>(p, load<f32>(p) + alpha * s);
  }
}

/**
 * Multinomial log-likelihood of each row's logits against its positives, and its gradient: for row b of
 * `z` ([nRows][n]), with its positives the entries indptr[rows[b]]..indptr[rows[b]+1] of `indices`,
 * loss_b = sum over positives of (logsumexp(z_b) - z_bi) and dz_bi = scale * (softmax(z_b)_i * n_b - [i is a
 * positive]), n_b its number of positives. Returns scale * sum of loss_b. `dz` may be `z`.
 */
export function softmaxCrossEntropy(
  dz: usize,
  z: usize,
  rows: usize,
  nRows: i32,
  indptr: usize,
  indices: usize,
  n: i32,
  scale: f32,
): f64 {
  let total: f64 = 0;
  for (let b = 0; b < nRows; b++) {
    const zr = at(z, b * n);
    const dr = at(dz, b * n);
    const r = load<i32>(at(rows, b));
    const start = load<i32>(at(indptr, r));
    const end = load<i32>(at(indptr, r + 1));
    let max = -Infinity as f32;
    for (let i = 0; i < n; i++) max = Mathf.max(max, load<f32>(at(zr, i)));
    let sum: f32 = 0;
    for (let i = 0; i < n; i++) sum += Mathf.exp(load<f32>(at(zr, i)) - max);
    const lse = max + Mathf.log(sum);
    let loss: f32 = 0;
    for (let q = start; q < end; q++) loss += lse - load<f32>(at(zr, load<i32>(at(indices, q))));
    const weight = scale * <f32>(end - start);
    for (let i = 0; i < n; i++) store<f32>(at(dr, i), weight * Mathf.exp(load<f32>(at(zr, i)) - lse));
    for (let q = start; q < end; q++) {
      const p = at(dr, load<i32>(at(indices, q)));
      store<f32>(p, load<f32>(p) - scale);
    }
    total += <f64>(scale * loss);
  }
  return total;
}

/**
 * GLocal-K's local kernel (Muller et al. 2018) over a weight matrix w [rows][cols]: k[r][c] =
 * max(0, 1 - |a_r - b_c|^2) with a [rows][d] and bT [d][cols] (the column embeddings stored dimension by
 * dimension, so that four columns share a vector), and wEff = w * k. Returns how many k are above 0.
 */
export function localKernel(wEff: usize, k: usize, w: usize, a: usize, bT: usize, rows: i32, cols: i32, d: i32): i32 {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  let count = i32x4.splat(0);
  let tail = 0;
  for (let r = 0; r < rows; r++) {
    const ar = at(a, r * d);
    const row = r * cols;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      let dist = zero;
      for (let t = 0; t < d; t++) {
        const diff = f32x4.sub(f32x4.splat(load<f32>(at(ar, t))), v128.load(at(bT, t * cols + c)));
        dist = madd(diff, diff, dist);
      }
      const kv = f32x4.max(f32x4.sub(one, dist), zero);
      v128.store(at(k, row + c), kv);
      v128.store(at(wEff, row + c), f32x4.mul(kv, v128.load(at(w, row + c))));
      count = i32x4.sub(count, f32x4.gt(kv, zero));
    }
    for (; c < cols; c++) {
      let dist: f32 = 0;
      for (let t = 0; t < d; t++) {
        const diff = load<f32>(at(ar, t)) - load<f32>(at(bT, t * cols + c));
        dist += diff * diff;
      }
      const kk = Mathf.max(1 - dist, 0);
      store<f32>(at(k, row + c), kk);
      store<f32>(at(wEff, row + c), kk * load<f32>(at(w, row + c)));
      if (kk > 0) tail++;
    }
  }
  return (
    i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) +
    i32x4.extract_lane(count, 3) + tail
  );
}

/**
 * The local kernel's backward pass with its penalties (lambda2/2 |w|^2 + lambdaS/2 |k|^2, returned), from
 * gEff = dLoss/dwEff: gW = gEff * k + lambda2 * w; gk = gEff * w + lambdaS * k where k > 0, else 0;
 * gA[r] = -2 sum_c gk[r][c] (a_r - b_c); gBT[.][c] = 2 sum_r gk[r][c] (a_r - b_c). Writes gW, gA and gBT;
 * gEff is overwritten with gk.
 */
export function localKernelBackward(
  gW: usize, gA: usize, gBT: usize, gEff: usize, w: usize, k: usize, a: usize, bT: usize,
  rows: i32, cols: i32, d: i32, lambda2: f32, lambdaS: f32,
): f64 {
  const zero = f32x4.splat(0);
  const l2 = f32x4.splat(lambda2);
  const ls = f32x4.splat(lambdaS);
  const two = f32x4.splat(2);
  fill(gBT, d * cols, 0);
  let penalty: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let sw = zero;
    let sk = zero;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const ge = v128.load(at(gEff, row + c));
      const wv = v128.load(at(w, row + c));
      const kv = v128.load(at(k, row + c));
      v128.store(at(gW, row + c), madd(l2, wv, f32x4.mul(ge, kv)));
      v128.store(at(gEff, row + c), v128.and(madd(ls, kv, f32x4.mul(ge, wv)), f32x4.gt(kv, zero)));
      sw = madd(wv, wv, sw);
      sk = madd(kv, kv, sk);
    }
    let tw: f32 = 0;
    let tk: f32 = 0;
    for (; c < cols; c++) {
      const ge = load<f32>(at(gEff, row + c));
      const wv = load<f32>(at(w, row + c));
      const kv = load<f32>(at(k, row + c));
      store<f32>(at(gW, row + c), ge * kv + lambda2 * wv);
      store<f32>(at(gEff, row + c), kv > 0 ? ge * wv + lambdaS * kv : 0);
      tw += wv * wv;
      tk += kv * kv;
    }
    penalty += 0.5 * <f64>lambda2 * (<f64>lanes(sw) + <f64>tw) + 0.5 * <f64>lambdaS * (<f64>lanes(sk) + <f64>tk);
    for (let t = 0; t < d; t++) {
      const art = load<f32>(at(a, r * d + t));
      const av = f32x4.splat(art);
      let acc = zero;
      c = 0;
      for (; c + 4 <= cols; c += 4) {
        const term = f32x4.mul(v128.load(at(gEff, row + c)), f32x4.sub(av, v128.load(at(bT, t * cols + c))));
        acc = f32x4.add(acc, term);
        const gb = at(gBT, t * cols + c);
        v128.store(gb, madd(two, term, v128.load(gb)));
      }
      let s: f32 = lanes(acc);
      for (; c < cols; c++) {
        const term = load<f32>(at(gEff, row + c)) * (art - load<f32>(at(bT, t * cols + c)));
        s += term;
        store<f32>(at(gBT, t * cols + c), load<f32>(at(gBT, t * cols + c)) + 2 * term);
      }
      store<f32>(at(gA, r * d + t), -2 * s);
    }
  }
  return penalty;
}
