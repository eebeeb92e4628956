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
 * The ratings people add through the service, in SQLite (WAL journal, so readers never wait on the writer
 * and a committed rating survives the process being killed). The schema is versioned and created on first
 * open. Every write is one statement in its own transaction: a rejected request stores nothing.
 */
export class RatingsDb {
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
    };
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

  /** A user's ratings, oldest first. */
  list(user: string): StoredRating[] {
    return this.statements.list.all(user);
  }

  /** Adds or changes a rating; returns it as stored. */
  put(user: string, movieId: RawId, rating: number): StoredRating {
    const updatedAt = Date.now();
    this.statements.upsert.run(user, movieId, rating, updatedAt);
    return { movieId, rating, updatedAt };
  }

  /** Removes a rating; false when there was none. */
  remove(user: string, movieId: RawId): boolean {
    return this.statements.remove.run(user, movieId).changes > 0;
  }

  /** Number of stored ratings. */
  count(): number {
    return this.statements.count.get()?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }
}
