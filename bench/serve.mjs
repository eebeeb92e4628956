#!/usr/bin/env node
// Service benchmark: autocannon against the recommendation endpoints of `aerec serve` with an ML-100K
// model and an ML-1M-shaped one (requests per second, p50/p99 latency), then a write load during which the
// server is killed with SIGKILL and restarted: every rating that got a 2xx must be in the database after.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/serve.mjs [--duration 10] [--connections 10]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: { duration: { type: "string", default: "10" }, connections: { type: "string", default: "4" } },
});
const dir = mkdtempSync(join(tmpdir(), "aerec-serve-"));
const CLI = "dist/cli/main.js";

function train(args, file) {
  console.error(`training ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [CLI, "train", ...args, "--save", file], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (r.status !== 0) process.exit(1);
}

async function startServer(model, db, port) {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--model-file", model, "--db", db, "--port", String(port), "--quiet"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.ok) return child;
    await sleep(50);
  }
  throw new Error("the server did not start");
}

function load(url, requests) {
  return autocannon({
    url,
    connections: Number(values.connections),
    duration: Number(values.duration),
    requests,
  });
}

const rows = [];
try {
  const ml100k = join(dir, "ml100k.safetensors");
  const ml1m = join(dir, "ml1m.safetensors");
  const common = [
    "--optimizer",
    "adam",
    "--lr",
    "0.001",
    "--lambda",
    "1",
    "--patience",
    "0",
    "--validation",
    "0",
  ];
  train(
    ["--model", "autorec-i", "--dataset", "ml-100k", "--split", "u1", "--epochs", "10", ...common],
    ml100k,
  );
  train(
    ["--model", "autorec-i", "--dataset", "synthetic:ml-1m", "--epochs", "3", "--threads", "2", ...common],
    ml1m,
  );
  for (const [name, model, nUsers] of [
    ["ML-100K autorec-i", ml100k, 943],
    ["ML-1M-shaped autorec-i", ml1m, 6040],
  ]) {
    const port = 18900 + rows.length;
    const server = await startServer(model, join(dir, `${rows.length}.db`), port);
    try {
      let n = 0;
      const stored = await load(`http://127.0.0.1:${port}`, [
        {
          method: "GET",
          setupRequest: (req) => ({ ...req, path: `/api/users/${(n++ % nUsers) + 1}/recommendations?k=10` }),
        },
      ]);
      rows.push({ name, endpoint: "GET /api/users/:id/recommendations", r: stored });
      const body = JSON.stringify({
        ratings: [1, 2, 3, 4, 5, 7, 8, 9, 11, 12].map((movieId, i) => ({ movieId, rating: (i % 5) + 1 })),
        k: 10,
      });
      const anonymous = await load(`http://127.0.0.1:${port}`, [
        {
          method: "POST",
          path: "/api/recommendations",
          body,
          headers: { "content-type": "application/json" },
        },
      ]);
      rows.push({ name, endpoint: "POST /api/recommendations (10 ratings)", r: anonymous });
    } finally {
      server.kill("SIGTERM");
    }
  }

  console.log(
    `\n${values.connections} connections, ${values.duration} s each, 2 cores shared by server and load`,
  );
  console.log(
    `${"model".padEnd(24)} ${"endpoint".padEnd(40)} ${"req/s".padStart(8)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"non-2xx".padStart(8)}`,
  );
  for (const { name, endpoint, r } of rows) {
    console.log(
      `${name.padEnd(24)} ${endpoint.padEnd(40)} ${r.requests.average.toFixed(0).padStart(8)} ${String(r.latency.p50).padStart(7)} ` +
        `${String(r.latency.p99).padStart(7)} ${String(r.non2xx + r.errors).padStart(8)}`,
    );
  }

  // Durability: writes while the server is killed, then restarted.
  const db = join(dir, "kill.db");
  const port = 18990;
  let server = await startServer(ml100k, db, port);
  const acknowledged = [];
  let sent = 0;
  let failed = 0;
  let stop = false;
  const writer = async (w) => {
    for (let i = 0; !stop; i++) {
      const user = `w${w}`;
      const movieId = (i % 1682) + 1;
      const rating = (i % 5) + 1;
      sent++;
      const res = await fetch(`http://127.0.0.1:${port}/api/users/${user}/ratings/${movieId}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rating }),
      }).catch(() => null);
      if (res?.ok) acknowledged.push({ user, movieId, rating });
      else {
        failed++;
        if (!res) await sleep(5);
      }
      if (i >= 1681) break;
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  await sleep(1500);
  server.kill("SIGKILL");
  await sleep(300);
  stop = true;
  await Promise.all(writers);
  server = await startServer(ml100k, db, port);
  let missing = 0;
  const byUser = new Map();
  for (const a of acknowledged) byUser.set(`${a.user}:${a.movieId}`, a.rating);
  for (let w = 0; w < 8; w++) {
    const { ratings } = await (await fetch(`http://127.0.0.1:${port}/api/users/w${w}/ratings`)).json();
    const have = new Map(ratings.map((r) => [`w${w}:${r.movieId}`, r.rating]));
    for (const [key, rating] of byUser) if (key.startsWith(`w${w}:`) && have.get(key) !== rating) missing++;
  }
  server.kill("SIGTERM");
  console.log(
    `\nSIGKILL during writes: ${sent} sent, ${acknowledged.length} acknowledged (2xx), ${failed} failed or unanswered, ` +
      `${missing} acknowledged ratings missing after restart`,
  );
  if (missing > 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
