/** Most movies one request may ask for. */
export const MAX_K = 100;
/**
 * Most ratings one anonymous request may carry, and most a user may have stored here, by default (serve
 * --max-ratings): what bounds the cost of folding a user in.
 */
export const MAX_RATINGS = 500;

/** Longest user or movie id the API takes. */
const MAX_ID_LENGTH = 200;

/** A raw user or movie id in a body or a response: a number, or text where the data's ids are text. */
function rawIdSchema() {
  return { type: ["integer", "string"], minimum: 0, maxLength: MAX_ID_LENGTH } as const;
}

/** A movie id in a request body. */
export const movieIdBody = {
  ...rawIdSchema(),
  minLength: 1,
  description: "a movie id as the data states it",
};

/** The :movieId path parameter: a movie id as the data states it. */
export const movieIdParam = { type: "string", minLength: 1, maxLength: MAX_ID_LENGTH } as const;

/** A movie as the API shows it. */
export const movieSchema = {
  type: "object",
  properties: {
    movieId: rawIdSchema(),
    title: { type: "string" },
    year: { type: ["integer", "null"] },
    genres: { type: "array", items: { type: "string" } },
    score: { type: "number" },
    predicted: { type: ["number", "null"], description: "predicted rating on the model's scale, if known" },
  },
} as const;

/** A recommended movie: a movie with the rated movie that led to it ("because you rated ..."), or null. */
export const recommendedSchema = {
  type: "object",
  properties: {
    ...movieSchema.properties,
    because: {
      anyOf: [
        { type: "null" },
        { type: "object", properties: { movieId: rawIdSchema(), title: { type: "string" } } },
      ],
    },
  },
} as const;

/** Every 4xx and 5xx body. */
export const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
} as const;
/** The :user path parameter. */
export const userParam = {
  type: "string",
  minLength: 1,
  maxLength: MAX_ID_LENGTH,
  pattern: "^[^\\u0000-\\u001f]+$",
  description: "a user id of the model, or any visitor id (visitors need no account)",
};
/** The ?k= query parameter: how many movies. */
export const kQuery = { type: "integer", minimum: 1, maximum: MAX_K, default: 10 };
/** A rating in a request body (checked against the model's scale by the route). */
export const ratingBody = {
  type: "number",
  description: "on the model's rating scale and step (GET /api/model: scale); others are answered 400",
};

/**
 * An operation's responses for the OpenAPI document (and fast serialisation): its 2xx schemas and the error
 * body under each 4xx/5xx status it may answer.
 */
export function responses(ok: Record<number, object>, errors: number[]): Record<number, object> {
  return { ...ok, ...Object.fromEntries(errors.map((status) => [status, errorSchema])) };
}

/** A stored rating as the API shows it. */
export const storedRatingSchema = {
  type: "object",
  properties: {
    movieId: rawIdSchema(),
    rating: { type: "number" },
    updatedAt: { type: "integer", description: "milliseconds since the epoch" },
  },
} as const;

/** The rating scale of the model being served (GET /api/model), which every rating must be on. */
export const scaleSchema = {
  type: "object",
  properties: { min: { type: "number" }, max: { type: "number" }, step: { type: "number" } },
} as const;
