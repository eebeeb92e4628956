import type { RatingScale } from "../data/datasets.js";
import type { MovieScore, Recommender } from "../model/recommender.js";
import type { ModelHeader } from "../store/model-file.js";
import { openRecommender } from "../store/open-recommender.js";

/** One loaded model with what the routes need from it; replaced whole on reload. */
export interface ServiceState {
  header: ModelHeader;
  recommender: Recommender;
  scale: RatingScale;
  movie(movieId: number): MovieScore | null;
  search(query: { q?: string; genre?: string; page: number; pageSize: number }): {
    total: number;
    page: number;
    pageSize: number;
    items: MovieScore[];
  };
}

/** Loads a model file for serving. */
export async function openService(modelFile: string): Promise<ServiceState> {
  const { loaded, recommender } = await openRecommender(modelFile);
  const counts = recommender.ratingCounts();
  // Search lists the most rated first: that is what people look for. Described once, searched per request.
  const catalogue = Array.from(loaded.itemIds.ids)
    .map((movieId, item) => ({ item, movie: recommender.movieInfo(movieId)! }))
    .sort((a, b) => counts[b.item] - counts[a.item] || a.item - b.item)
    .map(({ movie }) => movie);
  return {
    header: loaded.header,
    recommender,
    scale: loaded.model.scale,
    movie: (movieId) => recommender.movieInfo(movieId),
    search({ q, genre, page, pageSize }) {
      const needle = q?.trim().toLowerCase() ?? "";
      const wanted = genre?.toLowerCase();
      const hits = catalogue.filter(
        (m) =>
          (!needle || m.title.toLowerCase().includes(needle)) &&
          (!wanted || m.genres.some((g) => g.toLowerCase() === wanted)),
      );
      return {
        total: hits.length,
        page,
        pageSize,
        items: hits.slice((page - 1) * pageSize, page * pageSize),
      };
    },
  };
}
