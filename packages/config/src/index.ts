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
export { DEFAULT_EVENT_PARTITIONS } from './connections.js';
export type { SegmentsConfig, AlertsConfig } from './segments-alerts.js';
export type { SqlConfig } from './sql.js';
export type { ArchiveStorageConfig, S3ArchiveConfig } from './archive-storage.js';
export { parseArchiveUrl } from './archive-storage.js';
export type { SegmentMappings, SegmentTarget } from './segment-mapping.js';
export { ConfigError } from './env.js';
export type { Env } from './env.js';
