import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.js";

/** Visitor ids the service issues: "v-" and 128 random bits in hex. */
const VISITOR_ID = /^v-[0-9a-f]{32}$/;

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return m ? m[1] : null;
}

/**
 * Who may do what. Reading is open; writing a visitor's ratings needs his token (an HMAC of his
 * server-issued id under the key kept with the ratings, so every replica accepts it); writing a model
 * user's ratings, and the admin routes, need the admin token. Without an admin token the admin routes are
 * off.
 */
export class Access {
  constructor(
    private readonly key: Buffer,
    private readonly adminToken?: string,
  ) {}

  /** A new visitor: an id nobody can guess and the token his writes carry. */
  newVisitor(): { user: string; token: string } {
    const user = `v-${randomBytes(16).toString("hex")}`;
    return { user, token: this.tokenOf(user) };
  }

  private tokenOf(user: string): string {
    return createHmac("sha256", this.key).update(user).digest("base64url");
  }

  isAdmin(token: string | null): boolean {
    return this.adminToken !== undefined && token !== null && sameText(token, this.adminToken);
  }

  /** Throws 403 or 401 unless `token` is the admin token. */
  requireAdmin(token: string | null): void {
    if (this.adminToken === undefined)
      throw new HttpError(
        403,
        "the admin routes are off: start aerec serve with --admin-token (or AEREC_ADMIN_TOKEN)",
      );
    if (!this.isAdmin(token))
      throw new HttpError(401, "this route needs the admin token: send Authorization: Bearer TOKEN", {
        "www-authenticate": "Bearer",
      });
  }

  /** Throws unless `token` may change `user`'s ratings (`modelUser`: one of the model's own users). */
  requireWriter(user: string, modelUser: boolean, token: string | null): void {
    if (this.isAdmin(token)) return;
    if (modelUser)
      throw new HttpError(
        403,
        `user ${user} is one of the model's users: changing his ratings needs the admin token`,
      );
    if (!VISITOR_ID.test(user)) {
      throw new HttpError(
        403,
        `${user} is not a visitor id this service issued: get one with its token from POST /api/visitors`,
      );
    }
    if (token === null || !sameText(token, this.tokenOf(user))) {
      throw new HttpError(
        401,
        `changing ${user}'s ratings needs his token: send Authorization: Bearer TOKEN`,
        {
          "www-authenticate": "Bearer",
        },
      );
    }
  }
}
