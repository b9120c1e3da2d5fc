export interface BrokerLayout {
  dir: string;
  config: string;
  data: string;
  logs: string;
  stdout: string;
  pidFile: string;
}
export interface StartedBroker {
  pid: number;
  port: number;
  started: boolean;
  layout: BrokerLayout;
}
export declare const libsDir: string;
export declare function fetchKafkaJars(options?: { log?: (line: string) => void }): string;
export declare function brokerLayout(dir?: string): BrokerLayout;
export declare function startKafkaBroker(options?: {
  dir?: string;
  port?: number;
  controllerPort?: number;
  heap?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
  nodeId?: number;
  voters?: string;
  clusterId?: string;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  /** A second client listener on `port` that takes SASL/PLAIN from `users` (name -> password). */
  saslPlain?: { port: number; users: Record<string, string> };
  /** A third client listener on `port`, advertised as `advertisedPort` (a test's proxy in front of it). */
  proxied?: { port: number; advertisedPort: number };
}): Promise<StartedBroker>;
export declare function newKafkaClusterId(): string;
export declare function stopKafkaBroker(options?: { dir?: string; graceMs?: number; signal?: NodeJS.Signals }): Promise<boolean>;
