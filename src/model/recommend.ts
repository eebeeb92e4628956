/** One recommended movie: its dense index and predicted rating. */
export interface Recommendation {
  item: number;
  score: number;
}

/**
 * The k highest `scores`, best first, skipping the items in `exclude` (e.g. those the user already rated).
 * Ties go to the lower index. k larger than the candidates returns them all.
 */
export function topK(
  scores: ArrayLike<number>,
  k: number,
  exclude: ArrayLike<number> = [],
): Recommendation[] {
  const skip = new Set<number>(Array.from(exclude));
  const out: Recommendation[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (skip.has(i)) continue;
    const score = scores[i];
    if (out.length === k && !(score > out[k - 1].score)) continue;
    let at = out.length === k ? k - 1 : out.length;
    if (out.length < k) out.push({ item: i, score });
    while (at > 0 && out[at - 1].score < score) {
      out[at] = out[at - 1];
      at--;
    }
    out[at] = { item: i, score };
  }
  return out;
}
