// A local 3-node Apache Kafka (KRaft, each node broker + controller) from the same Maven jars
// as the single broker, on ports apart from 9092/9093. Node builtins only.
import fs from 'node:fs';
import path from 'node:path';
import { newKafkaClusterId, startKafkaBroker, stopKafkaBroker } from '../kafka/broker.mjs';

/** The nodes: id, client port, controller port. */
export const kafkaClusterNodes = [
  { nodeId: 1, port: 19092, controllerPort: 19192 },
  { nodeId: 2, port: 19093, controllerPort: 19193 },
  { nodeId: 3, port: 19094, controllerPort: 19194 },
];

/** Replicas of every topic, and how many must have a write before it is acknowledged (acks=all). */
export const kafkaClusterReplication = { replicationFactor: 3, minInsyncReplicas: 2 };

/** The folder of node `nodeId` under the cluster's `dir`. */
export function kafkaNodeDir(dir, nodeId) {
  return path.join(dir, `kafka-${nodeId}`);
}

/**
 * Starts the three nodes at once (each waits for the controller quorum), formatted with one
 * cluster id the first time; nodes of ours that already run are used as they are.
 */
export async function startKafkaCluster({ dir, nodes = kafkaClusterNodes, heap = '512m', log = console.error }) {
  const idFile = path.join(dir, 'kafka-cluster-id');
  if (!fs.existsSync(idFile)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(idFile, `${newKafkaClusterId()}\n`);
  }
  const started = await Promise.all(nodes.map((n) => startKafkaNode({ dir, node: n, nodes, heap, log })));
  return { brokers: nodes.map((n) => `127.0.0.1:${n.port}`), nodes: started };
}

/** Starts one node of the quorum (formatted with the cluster's id) unless it runs. */
function startKafkaNode({ dir, node, nodes, heap, log }) {
  const clusterId = fs.readFileSync(path.join(dir, 'kafka-cluster-id'), 'utf8').trim();
  const voters = nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',');
  return startKafkaBroker({
    dir: kafkaNodeDir(dir, node.nodeId),
    port: node.port,
    controllerPort: node.controllerPort,
    heap,
    nodeId: node.nodeId,
    voters,
    clusterId,
    ...kafkaClusterReplication,
    timeoutMs: 120_000,
    log,
  });
}

/** Starts one node of the cluster again (after a fault test killed it). */
export async function restartKafkaNode({ dir, nodeId, nodes = kafkaClusterNodes, heap = '512m', log = console.error }) {
  const node = nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw new Error(`no Kafka node ${nodeId} in the cluster`);
  return startKafkaNode({ dir, node, nodes, heap, log });
}

/** Stops the nodes recorded under `dir`; returns how many ran. */
export async function stopKafkaCluster({ dir, nodes = kafkaClusterNodes }) {
  const stopped = await Promise.all(nodes.map((n) => stopKafkaBroker({ dir: kafkaNodeDir(dir, n.nodeId) })));
  return stopped.filter(Boolean).length;
}
