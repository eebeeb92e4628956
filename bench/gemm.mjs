// The bound on Mult-VAE's speed-up over PyTorch: the dense products of one batch (500 users, 600 hidden, the
// ML-1M-shaped catalogue's 3,706 items), aerec's WebAssembly kernels against PyTorch's BLAS in the same run.
// aerec computes three of them per batch (the decoder's forward, weight and input gradients: its encoder reads
// only a user's positives); PyTorch five (the dense encoder's forward and weight gradient too). With every other
// cost taken as zero, aerec's epoch can be at most (PyTorch's five) / (aerec's three) times as fast.
//
//   node bench/gemm.mjs [--threads 2] [--items 3706] [--python python3]
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { createBackend } from "../dist/index.js";
import { machineLine, median } from "./common.mjs";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "2" },
    items: { type: "string", default: "3706" },
    python: { type: "string", default: "python3" },
    repeats: { type: "string", default: "20" },
  },
});
const [B, H, I] = [500, 600, Number(values.items)];
const threads = Number(values.threads);
const backend = createBackend("auto", threads);
const { kernels, arena } = backend;
const random = (n) => {
  const a = arena.f32(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
};
// Row-major, as Mult-VAE's network keeps them: h [B][H], W [H][I], dOut [B][I], and the transposes it makes.
const [h, hT, w, wT, out, dOut, dw, dInp] = [
  random(B * H),
  random(H * B),
  random(H * I),
  random(I * H),
  arena.f32(B * I),
  random(B * I),
  arena.f32(H * I),
  arena.f32(B * H),
];
const time = (run) => {
  for (let i = 0; i < 3; i++) run();
  const times = [];
  for (let i = 0; i < Number(values.repeats); i++) {
    const started = performance.now();
    run();
    times.push((performance.now() - started) / 1000);
  }
  return median(times);
};
// The three calls of Mult-VAE's decoder step (src/model/mult-vae.ts).
const forward = time(() => kernels.gemmAccumulate(out, h, w, B, H, I, I, H, I, 1));
const weightGradient = time(() => kernels.gemmAccumulate(dw, hT, dOut, H, B, I, I, B, I, 1));
const inputGradient = time(() => kernels.gemmAccumulate(dInp, dOut, wT, B, I, H, H, I, H, 1));
backend.close();

const peer = spawnSync(
  values.python,
  ["bench/peers/gemm.py", "--items", String(I), "--threads", String(threads), "--repeats", values.repeats],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
);
if (peer.status !== 0) throw new Error(`the PyTorch peer failed (exit ${peer.status})`);
const p = JSON.parse(peer.stdout.trim().split("\n").at(-1)).seconds;
const flops = 2 * B * H * I;
const gf = (seconds) => (flops / seconds / 1e9).toFixed(0);
const ours = forward + weightGradient + inputGradient;
const theirs = Object.values(p).reduce((a, b) => a + b, 0);
const theirsDecoder = p["decoder forward"] + p["decoder weight gradient"] + p["decoder input gradient"];

console.log(machineLine(threads));
console.log(`one batch's dense products, ${B} x ${H} x ${I} each (${(flops / 1e9).toFixed(2)} GFLOP):`);
for (const [name, seconds] of [
  ["decoder forward", forward],
  ["decoder weight gradient", weightGradient],
  ["decoder input gradient", inputGradient],
])
  console.log(`  aerec   ${name.padEnd(26)} ${(seconds * 1e3).toFixed(1)} ms  ${gf(seconds)} GFLOP/s`);
for (const [name, s] of Object.entries(p))
  console.log(`  PyTorch ${name.padEnd(26)} ${(s * 1e3).toFixed(1)} ms  ${gf(s)} GFLOP/s`);
console.log(
  `decoder alone: aerec ${(ours * 1e3).toFixed(1)} ms, PyTorch ${(theirsDecoder * 1e3).toFixed(1)} ms ` +
    `(${(theirsDecoder / ours).toFixed(2)}x)`,
);
console.log(
  `bound on the Mult-VAE epoch speed-up, everything else free: PyTorch's 5 products / aerec's 3 = ` +
    `${(theirs / ours).toFixed(2)}x (the issue's target: 1.5x)`,
);
