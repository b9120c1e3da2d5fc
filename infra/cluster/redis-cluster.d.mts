export interface RedisAuth {
  user: string;
  password: string;
}
export declare const redisClusterPorts: number[];
export declare function redisNodeLayout(dir: string, port: number): { dir: string; config: string; log: string; pidFile: string };
export declare function redisCli(port: number, args: string[], auth: RedisAuth): string;
export declare function clusterInfo(port: number, auth: RedisAuth): Record<string, string> | undefined;
export declare function startRedisNode(dir: string, port: number, auth: RedisAuth, options?: { nodeTimeoutMs?: number }): Promise<{ port: number; started: boolean }>;
export declare function startRedisCluster(options: { dir: string; auth: RedisAuth; ports?: number[]; log?: (line: string) => void }): Promise<{ ports: number[]; started: boolean }>;
export declare function stopRedisCluster(options: { dir: string; ports?: number[] }): Promise<number>;
