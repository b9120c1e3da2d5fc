export interface KafkaClusterNode {
  nodeId: number;
  port: number;
  controllerPort: number;
}
export declare const kafkaClusterNodes: KafkaClusterNode[];
export declare const kafkaClusterReplication: { replicationFactor: number; minInsyncReplicas: number };
export declare function kafkaNodeDir(dir: string, nodeId: number): string;
export declare function startKafkaCluster(options: { dir: string; nodes?: KafkaClusterNode[]; heap?: string; log?: (line: string) => void }): Promise<{ brokers: string[] }>;
export declare function restartKafkaNode(options: { dir: string; nodeId: number; nodes?: KafkaClusterNode[]; heap?: string; log?: (line: string) => void }): Promise<{ pid: number; port: number; started: boolean }>;
export declare function stopKafkaCluster(options: { dir: string; nodes?: KafkaClusterNode[] }): Promise<number>;
