// What the benchmarks share: the line naming the machine they ran on (CPU model, caches, Node, the
// kernels' build and the threads each side used), printed beside their ratios, the median they report, and
// how they run a side and hand the peers their ratings.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
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

/** Runs a command that prints a JSON summary last; returns the summary with the run's wall seconds. */
export function run(label, command, args) {
  console.error(`running ${label}`);
  const started = performance.now();
  const child = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (child.status !== 0) {
    console.error(`${label} failed (exit ${child.status})`);
    process.exit(1);
  }
  return {
    ...JSON.parse(child.stdout.trim().split("\n").at(-1)),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Writes ratings in the peers' format: a `nUsers nItems` line, then `user item rating` (0-based indices). */
export function writePeerRatings(ratings, file) {
  const { users, items, values: v, nUsers, nItems } = ratings;
  const lines = [`${nUsers} ${nItems}`];
  for (let k = 0; k < v.length; k++) lines.push(`${users[k]}\t${items[k]}\t${v[k]}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
}
