export { loadConfig } from './config.js';
export type {
  SigflowConfig,
  CollectorConfig,
  EventLimitsConfig,
  SpeedConfig,
  ArchiverConfig,
  BatchConfig,
  ApiConfig,
  BiddingConfig,
  Role,
  PrivacyConfig,
} from './config.js';
export type { KafkaConfig, KafkaSaslConfig, KafkaSaslMechanism, RedisConfig } from './connections.js';
export type { SegmentsConfig, AlertsConfig } from './segments-alerts.js';
export { ConfigError } from './env.js';
export type { Env } from './env.js';
