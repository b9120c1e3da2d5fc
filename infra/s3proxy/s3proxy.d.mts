export interface S3ProxyLayout {
  dir: string;
  config: string;
  data: string;
  stdout: string;
  pidFile: string;
}
export interface StartedS3Proxy {
  pid: number;
  port: number;
  endpoint: string;
  started: boolean;
  layout: S3ProxyLayout;
}
export declare const jarDir: string;
export declare const localS3: Readonly<{ port: number; accessKeyId: string; secretAccessKey: string; region: string }>;
export declare function fetchS3ProxyJar(options?: { log?: (line: string) => void }): string;
export declare function s3proxyLayout(dir?: string): S3ProxyLayout;
export declare function startS3Proxy(options?: {
  dir?: string;
  port?: number;
  buckets?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  heap?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}): Promise<StartedS3Proxy>;
export declare function stopS3Proxy(options?: { dir?: string; graceMs?: number }): Promise<boolean>;
/** The variables that point sigflow's archive at a bucket (a type, so it is a Record<string, string>). */
export type ArchiveEnv = {
  SIGFLOW_ARCHIVE_URL: string;
  SIGFLOW_ARCHIVE_S3_ENDPOINT: string;
  SIGFLOW_ARCHIVE_S3_REGION: string;
  SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID: string;
  SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY: string;
  SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE: string;
};
export declare function archiveEnvFor(options: { endpoint: string; bucket: string; prefix?: string; accessKeyId?: string; secretAccessKey?: string }): ArchiveEnv;
export interface ScratchS3Proxy extends StartedS3Proxy {
  stop(): Promise<void>;
  archiveEnv(bucket: string, prefix?: string): ArchiveEnv;
}
export declare function startScratchS3Proxy(options: { name: string; buckets: string[]; log?: (line: string) => void }): Promise<ScratchS3Proxy>;
export declare function isLocalEndpoint(endpoint: string): boolean;
export declare function localArchiveDefaults(env: Record<string, string | undefined>): Record<string, string>;
export declare function ensureLocalS3(
  s3: { endpoint: string; bucket: string; credentials: { accessKeyId: string; secretAccessKey: string } | null } | null,
  options?: { log?: (line: string) => void },
): Promise<{ started: boolean; endpoint?: string; pid?: number }>;
