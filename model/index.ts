export * from '../contracts/alert-budget.ts';
export * from './core/artifact.ts';
export { ARCHIVE_FILE, writeArtifact } from './core/artifact-io.ts';
export { type DetectionMetrics, detectionMetrics } from './core/metrics.ts';
export {
  AnomalyModel,
  DEFAULT_MODEL_DIR,
  type LineScore,
  loadModel,
  type SessionScore,
} from './core/model.ts';
export { type TrainedModel, type TrainOptions, trainOnLines, trainOnSessions } from './core/train.ts';
export * from './features/index.ts';
export * from './serve/index.ts';
