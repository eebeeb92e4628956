import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import type { RawId } from "../data/ratings.js";

/** The schema version this code writes; a database of a newer version is refused. */
export const SCHEMA_VERSION = 1;

/** A rating someone gave through the service. */
export interface StoredRating {
  movieId: RawId;
  rating: number;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/**
 * Where the service keeps the ratings people add: SQLite (RatingsDb, the default) or PostgreSQL
 * (PostgresRatings, for several replicas). Every write is one statement in its own transaction: a rejected
 * request stores nothing, and an acknowledged rating survives the process being killed.
 */
export interface RatingsStore {
  /** Where the ratings are, for the log (a file, or a database without its password). */
  readonly where: string;
  /** A user's ratings, oldest first. */
  list(user: string): Promise<StoredRating[]>;
  /** Adds or changes a rating; returns it as stored. */
  put(user: string, movieId: RawId, rating: number): Promise<StoredRating>;
  /** Removes a rating; false when there was none. */
  remove(user: string, movieId: RawId): Promise<boolean>;
  /** Number of stored ratings. */
  count(): Promise<number>;
  /**
   * A random 256-bit key kept with the ratings, made on first use: it signs visitors' tokens, so that
   * every replica over one database accepts them and they outlive a restart.
   */
  secret(): Promise<Buffer>;
  close(): Promise<void>;
}

/** A new secret for RatingsStore.secret, as stored (hex). */
export function newSecret(): string {
  return randomBytes(32).toString("hex");
}

/**
 * The ratings people add through the service, in SQLite (WAL journal, so readers never wait on the writer
 * and a committed rating survives the process being killed). The schema is versioned and created on first
 * open. Every write is one statement in its own transaction: a rejected request stores nothing.
 */
export class RatingsDb implements RatingsStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
    this.statements = {
      list: this.db.prepare<[string], { movieId: RawId; rating: number; updatedAt: number }>(
        "SELECT movie_id AS movieId, rating, updated_at AS updatedAt FROM ratings WHERE user = ? ORDER BY updated_at, movie_id",
      ),
      upsert: this.db.prepare(
        "INSERT INTO ratings (user, movie_id, rating, updated_at) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (user, movie_id) DO UPDATE SET rating = excluded.rating, updated_at = excluded.updated_at",
      ),
      remove: this.db.prepare("DELETE FROM ratings WHERE user = ? AND movie_id = ?"),
      count: this.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM ratings"),
      meta: this.db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      setMetaOnce: this.db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
      ),
    };
  }

  get where(): string {
    return this.file;
  }

  private migrate(): void {
    this.db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const row = this.db
      .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'")
      .get();
    const version = row ? Number(row.value) : 0;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${this.file}: database schema version ${version} is newer than this aerec's (${SCHEMA_VERSION})`,
      );
    }
    if (version < 1) {
      this.db.transaction(() => {
        // movie_id has no type affinity, so that ids are kept as given: text "042" stays text, 42 a number.
        this.db.exec(
          "CREATE TABLE ratings (user TEXT NOT NULL, movie_id BLOB NOT NULL, rating REAL NOT NULL, " +
            "updated_at INTEGER NOT NULL, PRIMARY KEY (user, movie_id)) WITHOUT ROWID",
        );
        this.db
          .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)")
          .run(String(SCHEMA_VERSION));
      })();
    }
  }

  async list(user: string): Promise<StoredRating[]> {
    return this.statements.list.all(user);
  }

  async put(user: string, movieId: RawId, rating: number): Promise<StoredRating> {
    const updatedAt = Date.now();
    this.statements.upsert.run(user, movieId, rating, updatedAt);
    return { movieId, rating, updatedAt };
  }

  async remove(user: string, movieId: RawId): Promise<boolean> {
    return this.statements.remove.run(user, movieId).changes > 0;
  }

  async count(): Promise<number> {
    return this.statements.count.get()?.n ?? 0;
  }

  async secret(): Promise<Buffer> {
    this.statements.setMetaOnce.run("visitor_key", newSecret());
    return Buffer.from(this.statements.meta.get("visitor_key")!.value, "hex");
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
