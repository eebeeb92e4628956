import { join } from "node:path";
import { Ajv } from "ajv";
import fc from "fast-check";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildService } from "../../src/serve/app.js";
import { RatingsDb } from "../../src/serve/ratings-db.js";
import { tempDir } from "../helpers.js";
import { smallModelFile } from "./fixture.js";

// Requests generated from the service's own OpenAPI document, valid and not: every answer must be one the
// document lists for the operation, never a 5xx, and its body must match the documented schema.
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: Schema[];
  enum?: unknown[];
};
type Parameter = { in: "path" | "query"; name: string; required?: boolean; schema: Schema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};

const ADMIN = "property-admin";
let dir: string;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let db: RatingsDb;
let doc: { paths: Record<string, Record<string, Operation>> };
let movieIds: number[];
let visitor: { user: string; token: string };

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  db = new RatingsDb(join(dir, "r.db"));
  const modelFile = await smallModelFile(dir, 11);
  ({ app } = await buildService({
    modelFile,
    db,
    adminToken: ADMIN,
    maxRatings: 20,
    foldIn: { workers: 0 },
  }));
  doc = (await app.inject({ url: "/openapi.json" })).json();
  movieIds = (await app.inject({ url: "/api/movies?pageSize=30" }))
    .json()
    .items.map((m: { movieId: number }) => m.movieId);
  visitor = (await app.inject({ method: "POST", url: "/api/visitors" })).json();
});
afterAll(async () => {
  await app.close();
  await db.close();
  await cleanup();
});

/** Values that fit `schema` (roughly: enough to reach the handlers). */
function valid(schema: Schema, name = ""): fc.Arbitrary<unknown> {
  if (schema.anyOf)
    return fc.oneof(...schema.anyOf.map((s) => valid({ ...schema, anyOf: undefined, ...s }, name)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (name === "movieId")
    return fc.oneof(fc.constantFrom(...movieIds), fc.constantFrom(...movieIds).map(String));
  if (name === "user")
    return fc.constantFrom("1", "7", visitor.user, "v-0123456789abcdef0123456789abcdef", "someone");
  if (name === "rating") return fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(2.5, 0, 6));
  switch (type) {
    case "integer":
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1000) });
    case "number":
      return fc.double({ min: schema.minimum ?? -10, max: schema.maximum ?? 10, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "string":
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 20) });
    case "array":
      return fc.array(valid(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 25),
      });
    case "object": {
      const props = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      return fc.record(Object.fromEntries(props.map(([key, s]) => [key, valid(s, key)])), {
        requiredKeys: props.map(([key]) => key).filter((key) => required.has(key)),
      });
    }
    default:
      return fc.constant(null);
  }
}

/** A value of `schema` most of the time, anything at all otherwise. */
const either = (schema: Schema, name?: string) =>
  fc.oneof({ weight: 4, arbitrary: valid(schema, name) }, { weight: 1, arbitrary: fc.anything() });

const ajv = new Ajv({ strict: false, allowUnionTypes: true });

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ["get", "post", "put", "delete"].includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );

describe("the API against its OpenAPI document", () => {
  it("answers generated requests, valid and not, only as documented, never with a 5xx", async () => {
    const ops = operations().filter(
      ({ path }) => !["/docs", "/openapi.json", "/metrics"].some((p) => path.startsWith(p)),
    );
    expect(ops.length).toBeGreaterThanOrEqual(13);
    const seen = new Set<number>();
    for (const { path, method, op } of ops) {
      const params = op.parameters ?? [];
      const body = op.requestBody?.content["application/json"]?.schema;
      const request = fc.record({
        path: fc.record(
          Object.fromEntries(
            params
              .filter((p) => p.in === "path")
              .map((p) => [
                p.name,
                fc.oneof(
                  { weight: 5, arbitrary: valid(p.schema, p.name) },
                  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
                ),
              ]),
          ),
        ),
        query: fc.record(
          Object.fromEntries(
            params.filter((p) => p.in === "query").map((p) => [p.name, either(p.schema, p.name)]),
          ),
          { requiredKeys: [] },
        ),
        body: body ? either(body) : fc.constant(undefined),
        auth: fc.constantFrom<string | null>(null, ADMIN, visitor.token, "wrong"),
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const url =
            path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String(r.path[name]))) +
            (Object.keys(r.query).length > 0
              ? `?${new URLSearchParams(Object.entries(r.query).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]))}`
              : "");
          const res = await app.inject({
            method: method.toUpperCase() as InjectOptions["method"],
            url,
            ...(r.body !== undefined
              ? { payload: JSON.stringify(r.body), headers: { "content-type": "application/json" } }
              : {}),
            ...(r.auth
              ? {
                  headers: {
                    ...(r.body !== undefined ? { "content-type": "application/json" } : {}),
                    authorization: `Bearer ${r.auth}`,
                  },
                }
              : {}),
          });
          const where = `${method.toUpperCase()} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
          seen.add(res.statusCode);
          expect(res.statusCode, where).toBeLessThan(500);
          const documented = op.responses[String(res.statusCode)];
          expect(documented, `undocumented status: ${where}`).toBeDefined();
          const schema = documented.content?.["application/json"]?.schema;
          if (schema && res.headers["content-type"]?.toString().startsWith("application/json")) {
            const validate = ajv.compile(schema);
            expect(validate(res.json()), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          }
        }),
        { numRuns: 40, seed: 7 },
      );
    }
    // The generated requests reach the handlers and their refusals alike.
    for (const status of [200, 201, 204, 400, 401, 403, 404])
      expect(seen, `no ${status} seen`).toContain(status);
  });
});
