import { readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildService } from "../../src/serve/app.js";
import { RatingsDb } from "../../src/serve/ratings-db.js";
import { tempDir } from "../helpers.js";
import { smallModelFile } from "./fixture.js";

// The service in-process (Fastify's inject) over a real model file and a real SQLite file.
let dir: string;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let reload: () => Promise<void>;
let db: RatingsDb;
let modelFile: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  modelFile = await smallModelFile(dir, 3);
  db = new RatingsDb(join(dir, "ratings.db"));
  // A small cap on stored and anonymous ratings, so that the 80-movie catalogue can reach it.
  ({ app, reload } = await buildService({ modelFile, db, maxRatings: 12, adminToken: ADMIN }));
});
afterAll(async () => {
  await app.close();
  await db.close();
  await cleanup();
});

// The service's admin token: `call` sends it (the admin may write anyone's ratings); `anonymous` does not.
const ADMIN = "test-admin-token";

// TRACE is not among Fastify's route methods (so not in its types), but a client can send it.
type Method = "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "TRACE";
const call = (method: Method, url: string, payload?: unknown, token: string | null = ADMIN) =>
  app.inject({
    method: method as InjectOptions["method"],
    url,
    payload: payload as object,
    headers: {
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });

describe("aerec service", () => {
  it("answers health, readiness, model info and the OpenAPI document", async () => {
    expect((await call("GET", "/health")).json()).toEqual({ status: "ok" });
    expect((await call("GET", "/ready")).json()).toMatchObject({ ready: true, model: "autorec-i" });
    const model = (await call("GET", "/api/model")).json();
    expect(model).toMatchObject({
      kind: "autorec-i",
      users: 200,
      movies: 80,
      metrics: { test: { rmse: 0.9 } },
    });
    expect(model.history.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2, 3]);
    const openapi = (await call("GET", "/openapi.json")).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        "/api/movies",
        "/api/users/{user}/recommendations",
        "/api/users/{user}/ratings/{movieId}",
      ]),
    );
    expect((await call("GET", "/docs/")).statusCode).toBe(200);
    // The UI's own files, served by @fastify/static (with content-disposition pinned for Node 20).
    const css = await call("GET", "/docs/static/swagger-ui.css");
    expect([css.statusCode, css.headers["content-type"]]).toEqual([200, "text/css; charset=utf-8"]);
  });

  it("draws the training curve as an SVG chart", async () => {
    const res = await call("GET", "/api/model/curve.svg");
    expect([res.statusCode, res.headers["content-type"]]).toEqual([200, "image/svg+xml"]);
    expect(res.body.startsWith("<svg")).toBe(true);
    for (const text of [">training loss<", ">validation RMSE<", ">kept<", ">epoch<"])
      expect(res.body).toContain(text);
  });

  it("searches movies by title and genre with paging", async () => {
    const page = (await call("GET", "/api/movies?q=film%201&genre=drama&page=1&pageSize=3")).json();
    expect(page.items).toHaveLength(3);
    for (const m of page.items) {
      expect(m.title.startsWith("Film 1")).toBe(true);
      expect(m.genres).toContain("Drama");
    }
    const second = (await call("GET", "/api/movies?q=film%201&genre=drama&page=2&pageSize=3")).json();
    expect(second.total).toBe(page.total);
    expect(second.items[0].movieId).not.toBe(page.items[0].movieId);
  });

  it("gives a movie with its similar movies", async () => {
    const body = (await call("GET", "/api/movies/5?k=4")).json();
    expect(body.movie.movieId).toBe(5);
    expect(body.similar).toHaveLength(4);
  });

  it("recommends for a model user, and his new ratings change his next recommendations at once", async () => {
    const before = (await call("GET", "/api/users/7/recommendations?k=5")).json();
    expect(before).toMatchObject({ user: "7", known: true });
    expect(before.items).toHaveLength(5);
    const top = before.items[0].movieId;
    const put = await call("PUT", `/api/users/7/ratings/${top}`, { rating: 1 });
    expect(put.statusCode).toBe(200);
    const after = (await call("GET", "/api/users/7/recommendations?k=5")).json();
    expect(after.items.map((m: { movieId: number }) => m.movieId)).not.toContain(top);
    expect((await call("GET", "/api/users/7/ratings")).json().ratings).toMatchObject([
      { movieId: top, rating: 1 },
    ]);
    expect((await call("DELETE", `/api/users/7/ratings/${top}`)).statusCode).toBe(204);
    expect((await call("DELETE", `/api/users/7/ratings/${top}`)).statusCode).toBe(404);
  });

  it("serves a visitor: popular movies first, then recommendations with reasons", async () => {
    const fresh = (await call("GET", "/api/users/guest-abc/recommendations?k=3")).json();
    expect(fresh).toMatchObject({ known: false });
    for (const id of [3, 8, 13])
      expect((await call("PUT", `/api/users/guest-abc/ratings/${id}`, { rating: 5 })).statusCode).toBe(200);
    const recs = (await call("GET", "/api/users/guest-abc/recommendations?k=3")).json();
    expect(recs.known).toBe(true);
    for (const m of recs.items) {
      expect([3, 8, 13]).not.toContain(m.movieId);
      expect([3, 8, 13]).toContain(m.because.movieId);
    }
  });

  it("recommends for anonymous ratings without storing anything", async () => {
    const count = await db.count();
    const res = await call("POST", "/api/recommendations", {
      ratings: [
        { movieId: 2, rating: 5 },
        { movieId: 4, rating: 4 },
      ],
      k: 4,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: null });
    expect(res.json().items).toHaveLength(4);
    expect(await db.count()).toBe(count);
  });

  const bad: [string, Method, string, unknown, number, RegExp][] = [
    [
      "an unknown movie in a path",
      "PUT",
      "/api/users/9/ratings/9999",
      { rating: 3 },
      404,
      /unknown movie id 9999/,
    ],
    [
      "a rating off the scale",
      "PUT",
      "/api/users/9/ratings/5",
      { rating: 6 },
      400,
      /not a rating on the scale 1..5/,
    ],
    ["a wrong type", "PUT", "/api/users/9/ratings/5", { rating: "five" }, 400, /rating must be number/],
    [
      "an extra field",
      "PUT",
      "/api/users/9/ratings/5",
      { rating: 4, note: "x" },
      400,
      /must NOT have additional properties/,
    ],
    [
      "a user id with a control character",
      "GET",
      "/api/users/a%01b/recommendations",
      undefined,
      400,
      /user must match pattern/,
    ],
    [
      "a user id over 200 characters",
      "GET",
      `/api/users/${"u".repeat(201)}/recommendations`,
      undefined,
      400,
      /user must NOT have more than 200 characters/,
    ],
    ["k over the limit", "GET", "/api/users/9/recommendations?k=1000", undefined, 400, /k must be <= 100/],
    [
      "an unknown movie in a body",
      "POST",
      "/api/recommendations",
      { ratings: [{ movieId: 9999, rating: 4 }] },
      400,
      /ratings\[0\]\.movieId: unknown movie id 9999/,
    ],
    [
      "an empty ratings list",
      "POST",
      "/api/recommendations",
      { ratings: [] },
      400,
      /must NOT have fewer than 1 items/,
    ],
    [
      "a repeated movie",
      "POST",
      "/api/recommendations",
      {
        ratings: [
          { movieId: 2, rating: 4 },
          { movieId: 2, rating: 5 },
        ],
      },
      400,
      /rated twice/,
    ],
    ["an unknown route", "GET", "/api/nothing", undefined, 404, /no route GET \/api\/nothing/],
    [
      "an unknown numeric user",
      "GET",
      "/api/users/99999/recommendations",
      undefined,
      404,
      /unknown user 99999/,
    ],
    [
      "a rating by an unknown numeric user",
      "PUT",
      "/api/users/99999/ratings/5",
      { rating: 4 },
      404,
      /unknown user 99999/,
    ],
    [
      "a page size over the limit",
      "GET",
      "/api/movies?pageSize=1000",
      undefined,
      400,
      /pageSize must be <= 100/,
    ],
    ["page 0", "GET", "/api/movies?page=0", undefined, 400, /page must be >= 1/],
    [
      "a movie id the model does not know (ids may be text)",
      "GET",
      "/api/movies/abc",
      undefined,
      404,
      /unknown movie id abc/,
    ],
    [
      "a movie id in exponent form (text, not the number 10)",
      "GET",
      "/api/movies/1e1",
      undefined,
      404,
      /unknown movie id 1e1/,
    ],
    [
      "an infinite k",
      "GET",
      "/api/users/9/recommendations?k=Infinity",
      undefined,
      400,
      /k must be a whole number/,
    ],
    [
      "k past float range",
      "GET",
      "/api/users/9/recommendations?k=1e309",
      undefined,
      400,
      /k must be a whole number/,
    ],
    [
      "a fractional k",
      "GET",
      "/api/users/9/recommendations?k=2.5",
      undefined,
      400,
      /k must be a whole number/,
    ],
    [
      "an infinite page size",
      "GET",
      "/api/movies?pageSize=Infinity",
      undefined,
      400,
      /pageSize must be a whole/,
    ],
    [
      "a rating that is a boolean",
      "PUT",
      "/api/users/9/ratings/5",
      { rating: true },
      400,
      /rating must be number/,
    ],
    ["a rating in a string", "PUT", "/api/users/9/ratings/5", { rating: "2" }, 400, /rating must be number/],
    ["a rating in an array", "PUT", "/api/users/9/ratings/5", { rating: [5] }, 400, /rating must be number/],
    [
      "a rating a hair off the step",
      "PUT",
      "/api/users/9/ratings/5",
      { rating: 4.0000000001 },
      400,
      /not a rating/,
    ],
    [
      "a fractional movie id in a body",
      "POST",
      "/api/recommendations",
      { ratings: [{ movieId: 5.5, rating: 4 }] },
      400,
      /ratings\/0\/movieId must be integer,string/,
    ],
    [
      "more ratings than a request may carry",
      "POST",
      "/api/recommendations",
      { ratings: Array.from({ length: 13 }, (_, i) => ({ movieId: i + 1, rating: 4 })) },
      400,
      /ratings must NOT have more than 12 items/,
    ],
    [
      "an unsupported method",
      "TRACE",
      "/api/movies",
      undefined,
      405,
      /\/api\/movies answers GET, HEAD, not TRACE/,
    ],
    ["an unknown movie", "GET", "/api/movies/9999", undefined, 404, /unknown movie id 9999/],
    [
      "an unknown query field",
      "GET",
      "/api/movies?sort=x",
      undefined,
      400,
      /must NOT have additional properties/,
    ],
    [
      "a rating for an unknown movie",
      "DELETE",
      "/api/users/9/ratings/77",
      undefined,
      404,
      /has no stored rating for movie 77/,
    ],
  ];
  it.each(bad)(
    "answers %s with a 4xx and a message, storing nothing",
    async (_, method, url, payload, status, message) => {
      const count = await db.count();
      const res = await call(method, url, payload);
      expect(res.statusCode).toBe(status);
      expect(res.json().message).toMatch(message);
      expect(await db.count()).toBe(count);
    },
  );

  it("answers a method a path does not take with 405 and the methods it does take", async () => {
    const res = await call("PATCH", "/api/users/guest-x/ratings/5", { rating: 4 });
    expect([res.statusCode, res.headers.allow]).toEqual([405, "PUT, DELETE"]);
  });

  it("keeps at most maxRatings stored ratings per user: a new movie past them is refused, a change is not", async () => {
    const user = "guest-capped";
    for (let id = 1; id <= 12; id++)
      expect((await call("PUT", `/api/users/${user}/ratings/${id}`, { rating: 3 })).statusCode).toBe(200);
    const over = await call("PUT", `/api/users/${user}/ratings/13`, { rating: 3 });
    expect([over.statusCode, over.json().message]).toEqual([
      409,
      `user ${user} has 12 stored ratings, the most a user may have: remove one before adding another`,
    ]);
    expect((await call("PUT", `/api/users/${user}/ratings/12`, { rating: 5 })).statusCode).toBe(200);
    expect((await call("DELETE", `/api/users/${user}/ratings/1`)).statusCode).toBe(204);
    expect((await call("PUT", `/api/users/${user}/ratings/13`, { rating: 3 })).statusCode).toBe(200);
    expect(await db.list(user)).toHaveLength(12);
  });

  it("serves the page and never a file outside its folder", async () => {
    const index = await call("GET", "/");
    expect(index.statusCode).toBe(200);
    expect(index.body).toMatch(/<title>aerec/);
    expect((await call("GET", "/app.js")).statusCode).toBe(200);
    const icon = await call("GET", "/favicon.ico");
    expect([icon.statusCode, icon.rawPayload.subarray(1, 4).toString()]).toEqual([200, "PNG"]);
    expect((await call("GET", "/favicon.svg")).statusCode).toBe(200);
    for (const path of [
      "/../package.json",
      "/%2e%2e/package.json",
      "/..%2fpackage.json",
      "/%2e%2e%2f%2e%2e%2fetc/passwd",
    ]) {
      const res = await call("GET", path);
      expect(res.statusCode, path).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, path).toBeLessThan(500);
      expect(res.body).not.toMatch(/"name": "aerec"|root:/);
    }
  });

  it("refuses malformed JSON and oversized bodies", async () => {
    const malformed = await app.inject({
      method: "POST",
      url: "/api/recommendations",
      payload: "{bad",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.statusCode).toBe(400);
    const huge = JSON.stringify({
      ratings: Array.from({ length: 5000 }, (_, i) => ({ movieId: i + 1, rating: 3 })),
    });
    const big = await app.inject({
      method: "POST",
      url: "/api/recommendations",
      payload: huge,
      headers: { "content-type": "application/json" },
    });
    expect(big.statusCode).toBe(413);
  });

  it("reloads the model file with no failed request in between", async () => {
    const requests = Array.from({ length: 40 }, (_, i) =>
      call("GET", `/api/users/${(i % 50) + 1}/recommendations?k=3`),
    );
    const [results] = await Promise.all([Promise.all(requests), reload()]);
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect((await call("POST", "/api/admin/reload")).json()).toEqual({ reloaded: true, model: "autorec-i" });
  });

  it("keeps serving the old model when the file no longer loads, and says why", async () => {
    const good = await readFile(modelFile);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 5] ^= 0xff;
    await writeFile(modelFile, damaged);
    try {
      const res = await call("POST", "/api/admin/reload");
      expect(res.statusCode).toBe(409);
      expect(res.json().message).toMatch(/^the model was not reloaded, and the previous one still serves: /);
      expect(res.json().message).toContain(modelFile);
      expect((await call("GET", "/api/users/1/recommendations?k=3")).statusCode).toBe(200);
    } finally {
      await writeFile(modelFile, good);
    }
    expect((await call("POST", "/api/admin/reload")).statusCode).toBe(200);
  });
});

describe("the service's timeouts", () => {
  it("answers 408 and closes a connection whose body stalls", async () => {
    const { dir: d, cleanup: done } = await tempDir();
    const file = await smallModelFile(d, 4);
    const ratings = new RatingsDb(join(d, "r.db"));
    const { app: server } = await buildService({
      modelFile: file,
      db: ratings,
      timeouts: { requestMs: 300 },
    });
    try {
      await server.listen({ port: 0, host: "127.0.0.1" });
      const { port } = server.server.address() as AddressInfo;
      const socket = connect(port, "127.0.0.1");
      let answer = "";
      socket.on("data", (b) => {
        answer += b.toString();
      });
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      // Headers that promise 100 bytes of body, then one byte and silence.
      socket.write(
        "POST /api/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      );
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await server.close();
      await ratings.close();
      await done();
    }
  });
});

describe("RatingsDb", () => {
  it("creates a versioned schema once and keeps ratings across reopening", async () => {
    const { dir: d, cleanup: done } = await tempDir();
    try {
      const file = join(d, "r.db");
      const first = new RatingsDb(file);
      await first.put("u", 1, 4);
      await first.put("u", 1, 5);
      await first.close();
      const second = new RatingsDb(file);
      expect(await second.list("u")).toMatchObject([{ movieId: 1, rating: 5 }]);
      await second.close();
    } finally {
      await done();
    }
  });
});

describe("fold-ins in worker threads", () => {
  it("answers /health while fold-ins run, and 503 with Retry-After past the queue", async () => {
    const { dir: d, cleanup: done } = await tempDir();
    const file = await smallModelFile(d, 5);
    const ratings = new RatingsDb(join(d, "r.db"));
    const { app: server } = await buildService({
      modelFile: file,
      db: ratings,
      foldIn: { workers: 1, maxQueued: 0 },
    });
    try {
      const movies = (await server.inject({ url: "/api/movies?pageSize=40" })).json().items;
      const body = {
        ratings: movies.map((m: { movieId: number }, i: number) => ({
          movieId: m.movieId,
          rating: 1 + (i % 5),
        })),
      };
      const post = () => server.inject({ method: "POST", url: "/api/recommendations", payload: body });
      const [a, b, c, health] = await Promise.all([
        post(),
        post(),
        post(),
        server.inject({ url: "/health" }),
      ]);
      expect(health.statusCode).toBe(200);
      const statuses = [a, b, c].map((r) => r.statusCode).sort();
      expect(statuses[0]).toBe(200);
      expect(statuses.at(-1)).toBe(503);
      const busy = [a, b, c].find((r) => r.statusCode === 503)!;
      expect(busy.headers["retry-after"]).toBe("1");
      expect(busy.json().message).toMatch(/^busy: /);
      // The worker's list is the in-process recommender's.
      expect(a.statusCode === 200 ? a.json() : (await post()).json()).toEqual((await post()).json());
    } finally {
      await server.close();
      await ratings.close();
      await done();
    }
  });
});

describe("access control", () => {
  it("visitors get an id and a token from the service, and only that token writes their ratings", async () => {
    const issued = await call("POST", "/api/visitors", undefined, null);
    expect(issued.statusCode).toBe(201);
    const { user, token } = issued.json();
    expect(user).toMatch(/^v-[0-9a-f]{32}$/);
    const other = (await call("POST", "/api/visitors", undefined, null)).json();
    expect(other.user).not.toBe(user);
    const url = `/api/users/${user}/ratings/5`;
    const count = await db.count();
    const none = await call("PUT", url, { rating: 4 }, null);
    expect([none.statusCode, none.headers["www-authenticate"]]).toEqual([401, "Bearer"]);
    expect(none.json().message).toMatch(/needs his token/);
    expect((await call("PUT", url, { rating: 4 }, other.token)).statusCode).toBe(401);
    expect(await db.count()).toBe(count);
    expect((await call("PUT", url, { rating: 4 }, token)).statusCode).toBe(200);
    expect((await call("DELETE", url, undefined, other.token)).statusCode).toBe(401);
    expect((await call("DELETE", url, undefined, token)).statusCode).toBe(204);
    // Ids the service did not issue cannot be written to without the admin token.
    const made = await call("PUT", "/api/users/guest-made-up/ratings/5", { rating: 4 }, token);
    expect([made.statusCode, made.json().message]).toEqual([
      403,
      "guest-made-up is not a visitor id this service issued: get one with its token from POST /api/visitors",
    ]);
  });

  it("a model user's ratings and the admin routes need the admin token", async () => {
    const { token } = (await call("POST", "/api/visitors", undefined, null)).json();
    const modelUser = await call("PUT", "/api/users/7/ratings/5", { rating: 3 }, token);
    expect(modelUser.statusCode).toBe(403);
    expect(modelUser.json().message).toMatch(
      /one of the model's users: changing his ratings needs the admin token/,
    );
    expect((await call("POST", "/api/admin/reload", undefined, null)).statusCode).toBe(401);
    expect((await call("POST", "/api/admin/reload", undefined, "wrong")).statusCode).toBe(401);
    expect((await call("POST", "/api/admin/reload", undefined, ADMIN)).statusCode).toBe(200);
  });

  it("turns the admin routes off when no admin token is set, and allows CORS only where told", async () => {
    const { dir: d, cleanup: done } = await tempDir();
    const store = new RatingsDb(join(d, "r.db"));
    const closed = await buildService({ modelFile, db: store, foldIn: { workers: 0 } });
    const open = await buildService({
      modelFile,
      db: store,
      foldIn: { workers: 0 },
      cors: ["https://shop.example"],
    });
    try {
      const reloaded = await closed.app.inject({ method: "POST", url: "/api/admin/reload" });
      expect([reloaded.statusCode, reloaded.json().message]).toEqual([
        403,
        "the admin routes are off: start aerec serve with --admin-token (or AEREC_ADMIN_TOKEN)",
      ]);
      const origin = { origin: "https://shop.example" };
      expect(
        (await closed.app.inject({ url: "/health", headers: origin })).headers["access-control-allow-origin"],
      ).toBe(undefined);
      expect(
        (await open.app.inject({ url: "/health", headers: origin })).headers["access-control-allow-origin"],
      ).toBe("https://shop.example");
      const elsewhere = { origin: "https://evil.example" };
      expect(
        (await open.app.inject({ url: "/health", headers: elsewhere })).headers[
          "access-control-allow-origin"
        ],
      ).toBe(undefined);
    } finally {
      await Promise.all([closed.app.close(), open.app.close()]);
      await store.close();
      await done();
    }
  });
});
