export { maskVariables, WILDCARD } from './mask.ts';
export {
  LOG_LEVELS,
  type LogLevel,
  levelOf,
  type ParsedLine,
  type ParseOptions,
  parseLogLine,
} from './parse.ts';
export { encodeSeedFeatures, SEED_STREAM_BUCKETS, type SeedEncodingOptions } from './seed.ts';
export { sessionIdOf } from './session.ts';
export { isClientError, type Severity, scoringLevel, severityOf } from './severity.ts';
export {
  type MinedTemplate,
  type TemplateMatch,
  TemplateMiner,
  type TemplateMinerOptions,
  type TemplateMinerState,
} from './template-miner.ts';
