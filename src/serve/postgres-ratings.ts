import pg from "pg";
import type { RawId } from "../data/ratings.js";
import { newSecret, RatingsDb, type RatingsStore, SCHEMA_VERSION, type StoredRating } from "./ratings-db.js";

/** Any number, so that every replica's migration takes the same lock. */
const MIGRATION_LOCK = 4_171_923;

/**
 * The service's ratings in PostgreSQL, so that several `aerec serve` replicas share them: a rating written
 * through one is in every other's next answer. The schema is versioned as SQLite's is, created by the
 * first replica under an advisory lock. Movie ids are JSONB, so that 42 and "042" stay apart.
 */
export class PostgresRatings implements RatingsStore {
  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {}

  /** Connects to `url` (postgres://user:password@host/db) and brings its schema up to date. */
  static async open(url: string): Promise<PostgresRatings> {
    const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 10_000 });
    const where = url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
    const store = new PostgresRatings(pool, where);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end();
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await client.query("CREATE TABLE IF NOT EXISTS aerec_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      const row = await client.query<{ value: string }>(
        "SELECT value FROM aerec_meta WHERE key = 'schema_version'",
      );
      const version = row.rows.length > 0 ? Number(row.rows[0].value) : 0;
      if (version > SCHEMA_VERSION)
        throw new Error(`database schema version ${version} is newer than this aerec's (${SCHEMA_VERSION})`);
      if (version < 1) {
        await client.query(
          "CREATE TABLE aerec_ratings (user_id TEXT NOT NULL, movie_id JSONB NOT NULL, rating DOUBLE PRECISION NOT NULL, " +
            "updated_at BIGINT NOT NULL, PRIMARY KEY (user_id, movie_id))",
        );
        await client.query(
          "INSERT INTO aerec_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          [String(SCHEMA_VERSION)],
        );
      }
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async list(user: string): Promise<StoredRating[]> {
    const { rows } = await this.pool.query<{ movie_id: RawId; rating: number; updated_at: string }>(
      "SELECT movie_id, rating, updated_at FROM aerec_ratings WHERE user_id = $1 ORDER BY updated_at, movie_id",
      [user],
    );
    return rows.map((r) => ({ movieId: r.movie_id, rating: r.rating, updatedAt: Number(r.updated_at) }));
  }

  async put(user: string, movieId: RawId, rating: number): Promise<StoredRating> {
    const updatedAt = Date.now();
    await this.pool.query(
      "INSERT INTO aerec_ratings (user_id, movie_id, rating, updated_at) VALUES ($1, $2, $3, $4) " +
        "ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, updated_at = excluded.updated_at",
      [user, JSON.stringify(movieId), rating, updatedAt],
    );
    return { movieId, rating, updatedAt };
  }

  async remove(user: string, movieId: RawId): Promise<boolean> {
    const result = await this.pool.query("DELETE FROM aerec_ratings WHERE user_id = $1 AND movie_id = $2", [
      user,
      JSON.stringify(movieId),
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM aerec_ratings");
    return Number(rows[0].n);
  }

  async secret(): Promise<Buffer> {
    await this.pool.query(
      "INSERT INTO aerec_meta (key, value) VALUES ('visitor_key', $1) ON CONFLICT (key) DO NOTHING",
      [newSecret()],
    );
    const { rows } = await this.pool.query<{ value: string }>(
      "SELECT value FROM aerec_meta WHERE key = 'visitor_key'",
    );
    return Buffer.from(rows[0].value, "hex");
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The store a `--db` value names: postgres:// or postgresql:// URLs are PostgreSQL, anything else a SQLite file. */
export async function openRatingsStore(db: string): Promise<RatingsStore> {
  return /^postgres(ql)?:\/\//.test(db) ? PostgresRatings.open(db) : new RatingsDb(db);
}
