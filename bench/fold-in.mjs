#!/usr/bin/env node
// Fold-in latency: recommendations for someone new from 10 ratings, without retraining, on a saved model.
// Takes 10 of a real user's ratings at a time (200 users), times Recommender.forRatings, prints p50 / p99 /
// max in milliseconds, and the overlap@10 between each user's stored recommendations and those folded in
// from all his ratings.
//
// Usage: node bench/fold-in.mjs MODEL.safetensors [--users 200]
import { parseArgs } from "node:util";
import { openRecommender } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { users: { type: "string", default: "200" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: node bench/fold-in.mjs MODEL.safetensors");
  process.exit(2);
}
const { loaded, recommender } = await openRecommender(file);
const ratingsOf = (u) => recommender.trainingRatings(loaded.userIds.ids[u]);
const users = Math.min(Number(values.users), loaded.userIds.size);
recommender.forRatings(ratingsOf(0).slice(0, 10), 10);
const times = [];
let overlap = 0;
for (let n = 0; n < users; n++) {
  const u = Math.floor((n * loaded.userIds.size) / users);
  const all = ratingsOf(u);
  const started = performance.now();
  recommender.forRatings(all.slice(0, 10), 10);
  times.push(performance.now() - started);
  const stored = recommender.forUser(loaded.userIds.ids[u], 10).items.map((m) => m.movieId);
  overlap += recommender.forRatings(all, 10).filter((m) => stored.includes(m.movieId)).length / 10;
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
console.log(
  `${file} (${loaded.header.kind}): fold-in from 10 ratings over ${users} users: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, ` +
    `max ${times.at(-1).toFixed(2)} ms; overlap@10 with stored recommendations ${(overlap / users).toFixed(3)}`,
);
