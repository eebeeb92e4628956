import type { RatingScale } from "../data/datasets.js";
import type { Movie } from "../data/movies.js";
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
  const { itemIds, movies } = loaded;
  const counts = loaded.model.train.byItem();
  const means = loaded.model.means.item;
  const describe = (i: number): MovieScore => {
    const movieId = itemIds.ids[i];
    const m: Movie | undefined = movies.get(movieId);
    return {
      movieId,
      title: m?.title ?? `movie ${movieId}`,
      year: m?.year ?? null,
      genres: m?.genres ?? [],
      score: Number.isNaN(means[i]) ? 0 : means[i],
    };
  };
  // Search lists the most rated first: that is what people look for.
  const byPopularity = Array.from({ length: itemIds.size }, (_, i) => i).sort(
    (a, b) => counts.indptr[b + 1] - counts.indptr[b] - (counts.indptr[a + 1] - counts.indptr[a]) || a - b,
  );
  return {
    header: loaded.header,
    recommender,
    scale: loaded.model.scale,
    movie(movieId) {
      const i = itemIds.indexOf(movieId);
      return i < 0 ? null : describe(i);
    },
    search({ q, genre, page, pageSize }) {
      const needle = q?.trim().toLowerCase() ?? "";
      const wanted = genre?.toLowerCase();
      const hits = byPopularity
        .map(describe)
        .filter(
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
