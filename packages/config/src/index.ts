export { loadConfig } from './config.js';
export type {
  SigflowConfig,
  KafkaConfig,
  RedisConfig,
  CollectorConfig,
  EventLimitsConfig,
  SpeedConfig,
  ArchiverConfig,
  BatchConfig,
  ApiConfig,
  Role,
} from './config.js';
export { ConfigError } from './env.js';
export type { Env } from './env.js';
