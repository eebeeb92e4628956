import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildService } from "../../src/serve/app.js";
import { PostgresRatings } from "../../src/serve/postgres-ratings.js";
import { tempDir } from "../helpers.js";
import { smallModelFile } from "./fixture.js";

// A real PostgreSQL (.ci/postgres starts one and sets AEREC_TEST_POSTGRES); each run makes its own database.
const admin = process.env.AEREC_TEST_POSTGRES;
if (!admin)
  process.stderr.write("no AEREC_TEST_POSTGRES: the PostgreSQL tests are skipped (bash .ci/postgres)\n");

describe.skipIf(!admin)("ratings in PostgreSQL", () => {
  const name = `aerec_test_${randomBytes(6).toString("hex")}`;
  let url: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  const adminQuery = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name}`);
    url = admin!.replace(/\/[^/]*$/, `/${name}`);
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
    await cleanup();
  });

  it("creates its schema once even when replicas start together, and keeps ids and ratings exactly", async () => {
    const [a, b] = await Promise.all([PostgresRatings.open(url), PostgresRatings.open(url)]);
    try {
      expect(a.where).toMatch(/^postgres:\/\/aerec:\*\*\*@/);
      await a.put("v1", 42, 4);
      await a.put("v1", "042", 2);
      await b.put("v1", 42, 5);
      expect((await b.list("v1")).map((r) => [r.movieId, r.rating])).toEqual([
        ["042", 2],
        [42, 5],
      ]);
      expect(await a.remove("v1", "042")).toBe(true);
      expect(await a.remove("v1", "042")).toBe(false);
      expect(await b.count()).toBe(1);
      expect((await a.secret()).equals(await b.secret())).toBe(true);
      expect((await a.secret()).length).toBe(32);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("two services over one database: a rating written through one is in the other's next answer", async () => {
    const modelFile = await smallModelFile(dir, 8);
    const [storeA, storeB] = [await PostgresRatings.open(url), await PostgresRatings.open(url)];
    const a = (await buildService({ modelFile, db: storeA, foldIn: { workers: 0 } })).app;
    const b = (await buildService({ modelFile, db: storeB, foldIn: { workers: 0 } })).app;
    try {
      // A visitor issued by one replica writes through the other: the key is kept with the ratings.
      const { user, token } = (await b.inject({ method: "POST", url: "/api/visitors" })).json();
      const before = (await b.inject({ url: `/api/users/${user}/recommendations?k=5` })).json();
      expect(before.known).toBe(false);
      const movie = before.items[0].movieId;
      const put = await a.inject({
        method: "PUT",
        url: `/api/users/${user}/ratings/${movie}`,
        payload: { rating: 5 },
        headers: { authorization: `Bearer ${token}` },
      });
      expect(put.statusCode).toBe(200);
      const after = (await b.inject({ url: `/api/users/${user}/recommendations?k=5` })).json();
      expect(after.known).toBe(true);
      expect(after.items.map((m: { movieId: number }) => m.movieId)).not.toContain(movie);
      expect((await b.inject({ url: `/api/users/${user}/ratings` })).json().ratings).toMatchObject([
        { movieId: movie, rating: 5 },
      ]);
      expect((await b.inject({ url: "/ready" })).json().storedRatings).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it("names the database without its password when it cannot connect", async () => {
    await expect(PostgresRatings.open("postgres://aerec:secret@127.0.0.1:1/none")).rejects.toThrow(
      /^postgres:\/\/aerec:\*\*\*@127\.0\.0\.1:1\/none: /,
    );
  });
});
