#!/usr/bin/env node
// Service benchmark: autocannon against the recommendation endpoints of `aerec serve` with an ML-100K
// model and an ML-1M-shaped one (requests per second, p50/p99 latency), then a write load during which the
// server is killed with SIGKILL and restarted: every rating that got a 2xx must be in the database after
// (in SQLite, and in PostgreSQL with --postgres URL); and /health and other clients' latency while one client
// sends 1,000-rating fold-ins in a loop.
//
// Usage: MOVIELENS_DIR=../shared/data node bench/serve.mjs [--duration 10] [--connections 4] [--postgres URL]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "4" },
    postgres: { type: "string", default: process.env.AEREC_TEST_POSTGRES },
  },
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

async function startServer(model, db, port, extra = []) {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--model-file", model, "--db", db, "--port", String(port), "--quiet", ...extra],
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

function load(url, requests, connections = Number(values.connections)) {
  return autocannon({ url, connections, duration: Number(values.duration), requests });
}

/**
 * Eight writers PUT ratings (each as a visitor the server issued) while the server is killed with SIGKILL
 * and restarted; returns how many acknowledged ratings are missing after, with the counts.
 */
async function durability(model, db, port) {
  let server = await startServer(model, db, port);
  const visitors = [];
  for (let w = 0; w < 8; w++)
    visitors.push(await (await fetch(`http://127.0.0.1:${port}/api/visitors`, { method: "POST" })).json());
  const acknowledged = [];
  let sent = 0;
  let failed = 0;
  let stop = false;
  const writer = async ({ user, token }) => {
    for (let i = 0; !stop && i < 1682; i++) {
      const movieId = (i % 1682) + 1;
      const rating = (i % 5) + 1;
      sent++;
      const res = await fetch(`http://127.0.0.1:${port}/api/users/${user}/ratings/${movieId}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ rating }),
      }).catch(() => null);
      if (res?.ok) acknowledged.push({ user, movieId, rating });
      else {
        failed++;
        if (!res) await sleep(5);
      }
    }
  };
  const writers = visitors.map(writer);
  await sleep(1500);
  server.kill("SIGKILL");
  await sleep(300);
  stop = true;
  await Promise.all(writers);
  server = await startServer(model, db, port);
  let missing = 0;
  const expected = new Map(acknowledged.map((a) => [`${a.user}:${a.movieId}`, a.rating]));
  for (const { user } of visitors) {
    const { ratings } = await (await fetch(`http://127.0.0.1:${port}/api/users/${user}/ratings`)).json();
    const have = new Map(ratings.map((r) => [`${user}:${r.movieId}`, r.rating]));
    for (const [key, rating] of expected)
      if (key.startsWith(`${user}:`) && have.get(key) !== rating) missing++;
  }
  server.kill("SIGTERM");
  return { sent, acknowledged: acknowledged.length, failed, missing };
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

  // Fold-ins off the event loop: one client sends 1,000-rating fold-ins in a loop while others ask for
  // /health and for stored users' lists.
  {
    const port = 18950;
    const server = await startServer(ml1m, join(dir, "heavy.db"), port, ["--max-ratings", "1000"]);
    try {
      const heavy = JSON.stringify({
        ratings: Array.from({ length: 1000 }, (_, i) => ({ movieId: i * 3 + 1, rating: (i % 5) + 1 })),
        k: 10,
      });
      let n = 0;
      const [folds, health, others] = await Promise.all([
        load(
          `http://127.0.0.1:${port}`,
          [
            {
              method: "POST",
              path: "/api/recommendations",
              body: heavy,
              headers: { "content-type": "application/json" },
            },
          ],
          1,
        ),
        load(`http://127.0.0.1:${port}/health`, undefined, 1),
        load(
          `http://127.0.0.1:${port}`,
          [
            {
              method: "GET",
              setupRequest: (req) => ({
                ...req,
                path: `/api/users/${(n++ % 6040) + 1}/recommendations?k=10`,
              }),
            },
          ],
          2,
        ),
      ]);
      console.log(
        `\nwhile 1 client sends 1,000-rating fold-ins (${folds.requests.average.toFixed(1)}/s, p99 ${folds.latency.p99} ms, ` +
          `${folds.non2xx} non-2xx) on the ML-1M-shaped model: /health p99 ${health.latency.p99} ms ` +
          `(target < 20), 2 other clients' stored-user lists p99 ${others.latency.p99} ms (target < 50), ` +
          `${others.requests.average.toFixed(0)} req/s`,
      );
    } finally {
      server.kill("SIGTERM");
    }
  }

  // Durability: writes while the server is killed, then restarted.
  const stores = [["SQLite", join(dir, "kill.db")]];
  if (values.postgres) stores.push(["PostgreSQL", values.postgres]);
  else console.log("\n(no --postgres URL: the PostgreSQL durability run is skipped)");
  for (const [name, db] of stores) {
    const r = await durability(ml100k, db, 18990);
    console.log(
      `\nSIGKILL during writes (${name}): ${r.sent} sent, ${r.acknowledged} acknowledged (2xx), ${r.failed} failed or unanswered, ` +
        `${r.missing} acknowledged ratings missing after restart`,
    );
    if (r.missing > 0) process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
