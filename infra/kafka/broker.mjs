// Runs a real Apache Kafka broker (KRaft, combined broker + controller) from the jars Maven
// fetched from Maven Central, in its own JVM: one node by default, or one node of a quorum
// (`infra/cluster/`). Node builtins only.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { copyPomDependencies, javaCommand as java, pomProperty } from '../lib/java.mjs';
import { repoRoot, varDir, portAnswers, runningPid, spawnDaemon, stopByPidFile, waitFor } from '../lib/process.mjs';

const pom = path.join(repoRoot, 'infra/kafka/pom.xml');
/** Jars are cached here once (git-ignored). */
export const libsDir = path.join(repoRoot, '.cache/kafka/libs');

function kafkaVersion() {
  return pomProperty(pom, 'kafka.version');
}

/** Copies the broker's jars (and their dependencies) into the cache, once per version. */
export function fetchKafkaJars({ log = console.error } = {}) {
  const version = kafkaVersion();
  const marker = path.join(libsDir, `.kafka-${version}`);
  if (fs.existsSync(marker)) return libsDir;
  log(`fetching Apache Kafka ${version} jars from Maven Central with Maven (once)...`);
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.mkdirSync(libsDir, { recursive: true });
  copyPomDependencies(pom, libsDir, '-DincludeScope=runtime');
  fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
  return libsDir;
}

/** A broker's files: config, data, logs and pid under one folder. */
export function brokerLayout(dir = path.join(varDir, 'kafka')) {
  return {
    dir,
    config: path.join(dir, 'server.properties'),
    log4j: path.join(dir, 'log4j.properties'),
    data: path.join(dir, 'data'),
    logs: path.join(dir, 'logs'),
    stdout: path.join(dir, 'logs', 'stdout.log'),
    pidFile: path.join(dir, 'kafka.pid'),
  };
}

/**
 * The quorum a node belongs to: its id, every voter (`id@host:port`, the controller listeners)
 * and the replication internal topics and `min.insync.replicas` get. One node by default.
 */
function quorumOf({ nodeId = 1, controllerPort, voters, replicationFactor = 1, minInsyncReplicas = 1 }) {
  const single = voters === undefined;
  return { nodeId, voters: voters ?? `1@127.0.0.1:${controllerPort}`, replicationFactor, minInsyncReplicas, sessionTimeoutMs: single ? 9_000 : 3_000 };
}

/**
 * The lines of a SASL/PLAIN listener for clients on `port`, whose users and passwords are
 * `users` (name -> password), beside the plaintext one the nodes speak among themselves.
 */
function saslPlainListener({ port, users }) {
  const credentials = Object.entries(users).map(([name, password]) => `user_${name}="${password}"`).join(' ');
  return {
    listener: `,SASL_PLAINTEXT://127.0.0.1:${port}`,
    protocol: ',SASL_PLAINTEXT:SASL_PLAINTEXT',
    lines: [
      'sasl.enabled.mechanisms=PLAIN',
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${credentials};`,
    ],
  };
}

/**
 * A listener whose advertised address is another port (a test's fault-injecting proxy in front
 * of it): clients that bootstrap there are told to reach the broker through the proxy too.
 */
function proxiedListener({ port, advertisedPort }) {
  return { listener: `,PROXIED://127.0.0.1:${port}`, advertised: `,PROXIED://127.0.0.1:${advertisedPort}`, protocol: ',PROXIED:PLAINTEXT' };
}

function writeConfig(layout, { port, controllerPort, quorum, saslPlain, proxied }) {
  fs.mkdirSync(layout.logs, { recursive: true });
  const rf = quorum.replicationFactor;
  const sasl = saslPlain ? saslPlainListener(saslPlain) : { listener: '', protocol: '', lines: [] };
  const proxy = proxied ? proxiedListener(proxied) : { listener: '', advertised: '', protocol: '' };
  fs.writeFileSync(
    layout.config,
    [
      'process.roles=broker,controller',
      `node.id=${quorum.nodeId}`,
      `controller.quorum.voters=${quorum.voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${sasl.listener}${proxy.listener}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${sasl.listener}${proxy.advertised}`,
      'controller.listener.names=CONTROLLER',
      `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${sasl.protocol}${proxy.protocol}`,
      'inter.broker.listener.name=PLAINTEXT',
      ...sasl.lines,
      `log.dirs=${layout.data}`,
      'num.partitions=4',
      // Internal topics get as many replicas as the quorum has nodes (one on a single node).
      `offsets.topic.replication.factor=${rf}`,
      'offsets.topic.num.partitions=10',
      `transaction.state.log.replication.factor=${rf}`,
      `transaction.state.log.min.isr=${quorum.minInsyncReplicas}`,
      `default.replication.factor=${rf}`,
      `min.insync.replicas=${quorum.minInsyncReplicas}`,
      // Consumer groups start at once instead of waiting 3 s for more members.
      'group.initial.rebalance.delay.ms=0',
      // A node killed outright is fenced (its partitions get new leaders) after this long
      // without a heartbeat (Kafka's default: 9 s).
      `broker.session.timeout.ms=${quorum.sessionTimeoutMs}`,
      'broker.heartbeat.interval.ms=500',
      // Topics are created explicitly (with their partition counts) by the project.
      'auto.create.topics.enable=false',
      'delete.topic.enable=true',
      'log.retention.hours=168',
      'num.network.threads=2',
      'num.io.threads=4',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    layout.log4j,
    [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.RollingFileAppender',
      `log4j.appender.file.File=${path.join(layout.logs, 'server.log')}`,
      'log4j.appender.file.MaxFileSize=20MB',
      'log4j.appender.file.MaxBackupIndex=2',
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.state.change.logger=WARN',
      'log4j.logger.org.apache.kafka.controller=WARN',
      '',
    ].join('\n'),
  );
}

function classpath() {
  return `${libsDir}/*`;
}

function jvmArgs(layout, heap) {
  return [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${layout.log4j}`,
    `-Dkafka.logs.dir=${layout.logs}`,
    '-cp',
    classpath(),
  ];
}

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 without padding; like Kafka's own
 * Uuid.randomUuid, never one starting with '-', which the tool's argument parser takes for a flag.
 * The nodes of one quorum are formatted with the same id.
 */
export function newKafkaClusterId() {
  let clusterId;
  do clusterId = crypto.randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  return clusterId;
}

/** Formats the KRaft storage unless it is formatted already. */
function formatStorage(layout, clusterId = newKafkaClusterId()) {
  if (fs.existsSync(path.join(layout.data, 'meta.properties'))) return;
  execFileSync(
    java(),
    [...jvmArgs(layout, '128m'), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', layout.config, '--ignore-formatted'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/**
 * Starts a broker unless one of ours already runs in `dir`. Resolves once it logged that it
 * started and its port answers. A node of a quorum names its `nodeId`, the `voters`, the
 * quorum's `clusterId` (its storage is formatted with it), `replicationFactor` and
 * `minInsyncReplicas`; without them it is a single node. `saslPlain` (`{ port, users }`) adds a
 * listener for clients that authenticate with SASL/PLAIN (tests of the clients' security).
 * @returns {{pid:number, port:number, started:boolean, layout:object}}
 */
export async function startKafkaBroker({
  dir,
  port = 9092,
  controllerPort = 9093,
  heap = '512m',
  timeoutMs = 90_000,
  log = console.error,
  nodeId,
  voters,
  clusterId,
  replicationFactor,
  minInsyncReplicas,
  saslPlain,
  proxied,
} = {}) {
  const layout = brokerLayout(dir);
  const existing = runningPid(layout.pidFile, 'kafka.Kafka');
  if (existing !== undefined) {
    await waitFor(`Kafka on 127.0.0.1:${port}`, () => portAnswers(port), { timeoutMs });
    return { pid: existing, port, started: false, layout };
  }
  fetchKafkaJars({ log });
  writeConfig(layout, { port, controllerPort, saslPlain, proxied, quorum: quorumOf({ nodeId, controllerPort, voters, replicationFactor, minInsyncReplicas }) });
  formatStorage(layout, clusterId);
  const serverLog = path.join(layout.logs, 'server.log');
  const logStart = fs.existsSync(serverLog) ? fs.statSync(serverLog).size : 0;
  const pid = spawnDaemon(java(), [...jvmArgs(layout, heap), 'kafka.Kafka', layout.config], {
    logFile: layout.stdout,
    pidFile: layout.pidFile,
  });
  log(`Kafka broker${nodeId === undefined ? '' : ` ${nodeId}`} starting (pid ${pid}, 127.0.0.1:${port}, logs ${layout.logs})`);
  await waitFor(
    `Kafka broker to start (see ${serverLog})`,
    async () => {
      if (runningPid(layout.pidFile) === undefined) {
        throw new Error(`Kafka exited during start-up; see ${layout.stdout} and ${serverLog}`);
      }
      let text = '';
      try {
        const fd = fs.openSync(serverLog, 'r');
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.max(0, size - logStart));
        fs.readSync(fd, buf, 0, buf.length, logStart);
        fs.closeSync(fd);
        text = buf.toString('utf8');
      } catch {
        return false;
      }
      return text.includes('Kafka Server started') && (await portAnswers(port));
    },
    { timeoutMs, intervalMs: 250 },
  );
  return { pid, port, started: true, layout };
}

/** Stops the broker recorded in `dir`'s pid file; returns whether one was running. */
export function stopKafkaBroker({ dir, graceMs = 30_000, signal = 'SIGTERM' } = {}) {
  return stopByPidFile(brokerLayout(dir).pidFile, { expect: 'kafka.Kafka', graceMs, signal });
}
