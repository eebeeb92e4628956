// What the benchmarks share: the line naming the machine they ran on (CPU model, caches, Node, the
// kernels' build and the threads each side used), printed beside their ratios, and the median they report.
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { createBackend } from "../dist/index.js";

/** "2 MiB (2 instances)" from lscpu as "1 MiB per core"; the raw text where it does not parse. */
function perInstance(text) {
  const m = /^([\d.]+) (\w+)(?: \((\d+) instances?\))?/.exec(text);
  if (!m) return text;
  const [size, unit, count] = [Number(m[1]), m[2], Number(m[3] ?? 1)];
  return count > 1 ? `${size / count} ${unit} per core` : `${size} ${unit}`;
}

/** lscpu's cache sizes, or null where lscpu is missing (not Linux). */
function caches() {
  try {
    const out = execFileSync("lscpu", { encoding: "utf8" });
    const field = (name) => new RegExp(`^${name}:\\s+(.+)$`, "m").exec(out)?.[1].trim();
    const [l2, l3] = [field("L2 cache"), field("L3 cache")];
    return l2 && l3 ? { l2: perInstance(l2), l3: perInstance(l3) } : null;
  } catch {
    return null;
  }
}

/** One line naming the machine, the runtime, the kernels' build and the threads. */
export function machineLine(threads) {
  const backend = createBackend("auto");
  const kernels = backend.kernels.name;
  backend.close();
  const c = caches();
  return (
    `machine: ${cpus()[0].model.trim()} (${availableParallelism()} vCPUs)` +
    `${c ? `, L2 ${c.l2}, L3 ${c.l3}` : ""}; Node ${process.version}; kernels ${kernels}; ${threads} threads each side`
  );
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
