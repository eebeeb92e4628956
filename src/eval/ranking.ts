export {
  evaluateRanking,
  type RankedList,
  type RankingMetrics,
  type RankingOptions,
  rankedLists,
  rankingMetrics,
} from "../model/ranking-metrics.js";
