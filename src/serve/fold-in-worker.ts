// A worker thread that folds people in for the service, so that a slow fold-in never holds up the event
// loop: it opens the served model file itself and answers { id, ratings, k } with { id, items } or
// { id, error }.
import { parentPort, workerData } from "node:worker_threads";
import { type MovieRating, RatingsError } from "../model/recommender.js";
import { openRecommender } from "../store/open-recommender.js";

const { modelFile, ratingModelFile, fingerprint } = workerData as {
  modelFile: string;
  ratingModelFile?: string;
  fingerprint: string;
};
const port = parentPort!;
try {
  const { loaded, recommender } = await openRecommender(modelFile, "auto", undefined, ratingModelFile);
  if (loaded.header.fingerprint !== fingerprint)
    throw new Error(`${modelFile} changed on disk while the service was loading it`);
  port.on("message", ({ id, ratings, k }: { id: number; ratings: MovieRating[]; k: number }) => {
    try {
      port.postMessage({ id, items: recommender.forRatings(ratings, k) });
    } catch (e) {
      // The ratings' fault (a repeat, an unknown movie) is the request's: a 400, not a 500.
      port.postMessage({
        id,
        error: e instanceof Error ? e.message : String(e),
        badRatings: e instanceof RatingsError,
      });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ failed: e instanceof Error ? e.message : String(e) });
}
