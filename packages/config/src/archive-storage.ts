import path from 'node:path';
import { ConfigError, type EnvReader } from './env.js';

/**
 * Where the Parquet archive lives: the local folder `SIGFLOW_ARCHIVE_DIR` (the default), or an
 * S3-compatible bucket (`SIGFLOW_ARCHIVE_URL=s3://bucket/prefix`), chosen by configuration alone.
 * Each field names its variable and default.
 */
export interface ArchiveStorageConfig {
  /** The bucket and its connection; null (the default: `SIGFLOW_ARCHIVE_URL` unset) for the local folder. */
  readonly s3: S3ArchiveConfig | null;
  /**
   * Folder of the batch layer's local copies of archive files on S3 (`SIGFLOW_ARCHIVE_CACHE_DIR`,
   * default `<SIGFLOW_ARCHIVE_DIR>/_cache`); each process keeps its own under it. Unused on the
   * local folder, which DuckDB reads in place.
   */
  readonly cacheDir: string;
  /**
   * Bytes each process's cache may hold (`SIGFLOW_ARCHIVE_CACHE_BYTES`, 2 GiB); the least
   * recently used files go first. Files a job used in the last minutes stay even past it (a
   * pass needs all of its hours at once), and the cache says so in its log.
   */
  readonly cacheBytes: number;
}

/** An S3-compatible bucket holding the archive (AWS S3, GCS's S3 interoperability, MinIO, s3proxy). */
export interface S3ArchiveConfig {
  /** The bucket of `SIGFLOW_ARCHIVE_URL`. */
  readonly bucket: string;
  /** The key prefix of `SIGFLOW_ARCHIVE_URL` ('' or ending in '/'): every key of the archive starts with it. */
  readonly prefix: string;
  /** S3 endpoint (`SIGFLOW_ARCHIVE_S3_ENDPOINT`, default '': AWS S3 of the region). */
  readonly endpoint: string;
  /** Region (`SIGFLOW_ARCHIVE_S3_REGION`, us-east-1; GCS and local servers take any). */
  readonly region: string;
  /**
   * Access key id and secret (`SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID`, `SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY`);
   * null when neither is set: the AWS SDK's default chain (AWS_* variables, profile, instance or task role).
   */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
  /** Path-style addressing, `endpoint/bucket/key` (`SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE`, false; true for s3proxy and MinIO). */
  readonly forcePathStyle: boolean;
}

const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

/**
 * A bucket name as S3 allows it (3-63 of lower-case letters, digits, '.' and '-', starting and
 * ending with a letter or digit).
 */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** One segment of a key prefix: no '.' or '..', no control characters, at most 200 characters. */
const prefixSegment = /^(?!\.{1,2}$)[A-Za-z0-9._=-]{1,200}$/;

/** Bucket and prefix of an `s3://bucket/prefix` URL, or a {@link ConfigError} naming what is wrong. */
export function parseArchiveUrl(variable: string, raw: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?$/.exec(raw);
  if (!m) throw new ConfigError(variable, `expected s3://bucket or s3://bucket/prefix (no query, no credentials), got "${raw}"`);
  const bucket = m[1] as string;
  if (!bucketPattern.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(variable, `"${bucket}" is not a bucket name (3-63 of a-z, 0-9, '.', '-')`);
  }
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  const bad = segments.find((s) => !prefixSegment.test(s));
  if (bad !== undefined) throw new ConfigError(variable, `the prefix segment "${bad}" may hold only A-Z a-z 0-9 . _ = - and must not be "." or ".."`);
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/** An http(s) endpoint without credentials, path, query or fragment ('' stays ''). */
function parseEndpoint(variable: string, raw: string): string {
  if (raw === '') return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `expected an http(s) URL such as http://127.0.0.1:9000, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(variable, `expected http or https, got "${url.protocol}"`);
  if (url.username || url.password) throw new ConfigError(variable, 'must not carry credentials: use SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID and _SECRET_ACCESS_KEY');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new ConfigError(variable, `expected scheme, host and port only, got "${raw}"`);
  return url.origin;
}

function s3Credentials(r: EnvReader): S3ArchiveConfig['credentials'] {
  const accessKeyId = r.string('SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID', '');
  const secretAccessKey = r.string('SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY', '');
  if (accessKeyId === '' && secretAccessKey === '') return null;
  if (accessKeyId === '' || secretAccessKey === '') {
    throw new ConfigError('SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID', 'set both SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID and SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY, or neither (the SDK default chain)');
  }
  return { accessKeyId, secretAccessKey };
}

/** The S3 settings, read whether or not the archive is on S3 (so a stray one is named). */
function s3Settings(r: EnvReader) {
  const region = r.string('SIGFLOW_ARCHIVE_S3_REGION', '');
  if (region !== '' && !/^[a-z0-9-]{1,32}$/.test(region)) throw new ConfigError('SIGFLOW_ARCHIVE_S3_REGION', `expected a region such as eu-west-1, got "${region}"`);
  return {
    endpoint: parseEndpoint('SIGFLOW_ARCHIVE_S3_ENDPOINT', r.string('SIGFLOW_ARCHIVE_S3_ENDPOINT', '')),
    region,
    credentials: s3Credentials(r),
    forcePathStyle: r.string('SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE', '') === '' ? null : r.bool('SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE', false),
  };
}

/** Reads {@link ArchiveStorageConfig}; `dir` is `SIGFLOW_ARCHIVE_DIR`. */
export function archiveStorageConfig(r: EnvReader, dir: string): ArchiveStorageConfig {
  const url = r.string('SIGFLOW_ARCHIVE_URL', '');
  const settings = s3Settings(r);
  const cacheDir = r.string('SIGFLOW_ARCHIVE_CACHE_DIR', path.join(dir, '_cache'));
  const cacheBytes = r.int('SIGFLOW_ARCHIVE_CACHE_BYTES', DEFAULT_CACHE_BYTES, 16 * 1024 ** 2);
  if (url === '') {
    const stray = settings.endpoint !== '' || settings.region !== '' || settings.credentials !== null || settings.forcePathStyle !== null;
    if (stray) throw new ConfigError('SIGFLOW_ARCHIVE_URL', 'SIGFLOW_ARCHIVE_S3_* settings are set but the archive is the local folder: set SIGFLOW_ARCHIVE_URL=s3://bucket/prefix, or unset them');
    return { s3: null, cacheDir, cacheBytes };
  }
  const s3 = { ...parseArchiveUrl('SIGFLOW_ARCHIVE_URL', url), ...settings, region: settings.region || 'us-east-1', forcePathStyle: settings.forcePathStyle ?? false };
  return { s3, cacheDir, cacheBytes };
}
