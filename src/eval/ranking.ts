export {
  evaluateRanking,
  type RankedList,
  type RankingMetrics,
  type RankingOptions,
  rankingMetrics,
} from "../model/ranking-metrics.js";
