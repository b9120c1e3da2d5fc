// Runs S3Proxy (org.gaul:s3proxy), a real S3-compatible server, from its jar-with-dependencies
// fetched from Maven Central, in its own JVM as the Kafka broker is: the jclouds filesystem
// backend keeps each bucket as a folder under the server's data folder (under var/). The tests,
// the benches and `npm start` run the archive on S3 against it. Node builtins only.
import fs from 'node:fs';
import path from 'node:path';
import { copyPomDependencies, javaCommand, pomProperty } from '../lib/java.mjs';
import { repoRoot, varDir, freePort, portAnswers, runningPid, spawnDaemon, stopByPidFile, waitFor } from '../lib/process.mjs';

const pom = path.join(repoRoot, 'infra/s3proxy/pom.xml');
/** The jar is cached here once (git-ignored). */
export const jarDir = path.join(repoRoot, '.cache/s3proxy');

/** Where `npm start` runs it, and the access key pair the local server takes (a local test server's, no secret). */
export const localS3 = Object.freeze({ port: 7008, accessKeyId: 'sigflow-local', secretAccessKey: 'sigflow-local-secret', region: 'us-east-1' });

/** The server's jar, copied from Maven Central into the cache once per version. */
export function fetchS3ProxyJar({ log = console.error } = {}) {
  const version = pomProperty(pom, 's3proxy.version');
  const jar = path.join(jarDir, `s3proxy-${version}-jar-with-dependencies.jar`);
  if (fs.existsSync(jar)) return jar;
  log(`fetching S3Proxy ${version} from Maven Central with Maven (once)...`);
  fs.mkdirSync(jarDir, { recursive: true });
  copyPomDependencies(pom, jarDir, '-DexcludeTransitive=true');
  if (!fs.existsSync(jar)) throw new Error(`Maven did not copy ${path.basename(jar)} into ${jarDir}`);
  return jar;
}

/** A server's files: its properties, its buckets' folders, its log and pid under one folder. */
export function s3proxyLayout(dir = path.join(varDir, 's3proxy')) {
  return {
    dir,
    config: path.join(dir, 's3proxy.properties'),
    data: path.join(dir, 'data'),
    stdout: path.join(dir, 'logs', 'stdout.log'),
    pidFile: path.join(dir, 's3proxy.pid'),
  };
}

function writeConfig(layout, { port, accessKeyId, secretAccessKey }) {
  fs.mkdirSync(layout.data, { recursive: true });
  fs.writeFileSync(
    layout.config,
    [
      `s3proxy.endpoint=http://127.0.0.1:${port}`,
      // Signed requests only (SigV2 or SigV4, as AWS S3 takes), with this key pair.
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${accessKeyId}`,
      `s3proxy.credential=${secretAccessKey}`,
      // A bucket is a folder of `data`, an object a file under it.
      'jclouds.provider=filesystem',
      `jclouds.filesystem.basedir=${layout.data}`,
      '',
    ].join('\n'),
  );
}

/**
 * Makes each of `buckets` exist: on the filesystem backend a bucket is a folder of the data
 * folder, so creating the folder creates the bucket (before the server starts or while it runs).
 */
function ensureBuckets(layout, buckets) {
  for (const bucket of buckets) fs.mkdirSync(path.join(layout.data, bucket), { recursive: true });
}

/**
 * Starts S3Proxy on 127.0.0.1:`port` unless one of ours already runs in `dir`, with `buckets`
 * created; resolves once it answers. Requests must be signed with `accessKeyId`/`secretAccessKey`.
 * @returns {Promise<{pid:number, port:number, endpoint:string, started:boolean, layout:object}>}
 */
export async function startS3Proxy({
  dir,
  port = localS3.port,
  buckets = [],
  accessKeyId = localS3.accessKeyId,
  secretAccessKey = localS3.secretAccessKey,
  heap = '256m',
  timeoutMs = 90_000,
  log = console.error,
} = {}) {
  const layout = s3proxyLayout(dir);
  const endpoint = `http://127.0.0.1:${port}`;
  const existing = runningPid(layout.pidFile, 's3proxy');
  if (existing === undefined) writeConfig(layout, { port, accessKeyId, secretAccessKey });
  ensureBuckets(layout, buckets);
  if (existing !== undefined) {
    await waitFor(`S3Proxy on ${endpoint}`, () => portAnswers(port), { timeoutMs });
    return { pid: existing, port, endpoint, started: false, layout };
  }
  const jar = fetchS3ProxyJar({ log });
  const args = [`-Xmx${heap}`, '-XX:+UseSerialGC', '-Djava.awt.headless=true', '-jar', jar, '--properties', layout.config];
  const pid = spawnDaemon(javaCommand(), args, { logFile: layout.stdout, pidFile: layout.pidFile });
  log(`S3Proxy starting (pid ${pid}, ${endpoint}, data ${layout.data})`);
  await waitFor(
    `S3Proxy to answer on ${endpoint} (see ${layout.stdout})`,
    async () => {
      if (runningPid(layout.pidFile) === undefined) throw new Error(`S3Proxy exited during start-up; see ${layout.stdout}`);
      return portAnswers(port);
    },
    { timeoutMs, intervalMs: 200 },
  );
  return { pid, port, endpoint, started: true, layout };
}

/** Stops the server recorded in `dir`'s pid file; returns whether one was running. */
export function stopS3Proxy({ dir, graceMs = 10_000 } = {}) {
  return stopByPidFile(s3proxyLayout(dir).pidFile, { expect: 's3proxy', graceMs });
}

/**
 * The settings that put sigflow's archive in `bucket` (under `prefix`) of the S3Proxy at
 * `endpoint`: what a process's environment needs (`packages/config/src/archive-storage.ts`).
 */
export function archiveEnvFor({ endpoint, bucket, prefix = '', accessKeyId = localS3.accessKeyId, secretAccessKey = localS3.secretAccessKey }) {
  return {
    SIGFLOW_ARCHIVE_URL: `s3://${bucket}/${prefix}`,
    SIGFLOW_ARCHIVE_S3_ENDPOINT: endpoint,
    SIGFLOW_ARCHIVE_S3_REGION: localS3.region,
    SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID: accessKeyId,
    SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY: secretAccessKey,
    SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * An S3Proxy of its own for one test suite or bench run: a free port, its data in a new folder
 * under var/ (`s3proxy-<name>-<pid>`), `buckets` created. `stop()` ends it and removes its data;
 * call it in the suite's `afterAll` (it runs when tests fail too).
 */
export async function startScratchS3Proxy({ name, buckets, log = () => {} }) {
  const dir = path.join(varDir, `s3proxy-${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const server = await startS3Proxy({ dir, port: await freePort(), buckets, log });
  const stop = async () => {
    await stopS3Proxy({ dir });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { ...server, stop, archiveEnv: (bucket, prefix = '') => archiveEnvFor({ endpoint: server.endpoint, bucket, prefix }) };
}

/** Whether `endpoint` is an http URL of this machine (where `npm start` may run S3Proxy). */
export function isLocalEndpoint(endpoint) {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

/**
 * For `npm start` with the archive in a bucket of a local endpoint: the key pair and path-style
 * addressing the local S3Proxy takes, where the environment does not set them (variables to add).
 */
export function localArchiveDefaults(env) {
  if (!env.SIGFLOW_ARCHIVE_URL || !isLocalEndpoint(env.SIGFLOW_ARCHIVE_S3_ENDPOINT ?? '')) return {};
  const keysSet = env.SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID || env.SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY;
  return {
    ...(keysSet ? {} : { SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID: localS3.accessKeyId, SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY: localS3.secretAccessKey }),
    ...(env.SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE ? {} : { SIGFLOW_ARCHIVE_S3_FORCE_PATH_STYLE: 'true' }),
  };
}

/**
 * Starts S3Proxy (data under var/s3proxy) when the archive is in a bucket of a local endpoint
 * (`config.archive.s3`, as `@sigflow/config` reads it) and nothing answers there, with that
 * bucket and the configured key pair. Anything else (AWS S3, a server already running) is left alone.
 * @returns {Promise<{started: boolean, endpoint?: string, pid?: number}>}
 */
export async function ensureLocalS3(s3, { log = console.error } = {}) {
  if (!s3 || !isLocalEndpoint(s3.endpoint)) return { started: false };
  const port = Number(new URL(s3.endpoint).port || 80);
  if (await portAnswers(port)) return { started: false, endpoint: s3.endpoint };
  if (!s3.credentials) throw new Error('the archive is on a local S3 endpoint: set SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID and SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY (the key pair S3Proxy takes)');
  const { accessKeyId, secretAccessKey } = s3.credentials;
  return startS3Proxy({ port, buckets: [s3.bucket], accessKeyId, secretAccessKey, log });
}
