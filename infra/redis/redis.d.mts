export interface StartedRedis {
  port: number;
  dir: string;
  pidFile: string;
  started: boolean;
}
export declare function redisAnswers(port?: number, host?: string, timeoutMs?: number): Promise<boolean>;
export declare function startRedisServer(options: { port: number; dir?: string; persistence?: boolean }): Promise<StartedRedis>;
export declare function stopRedisServer(options: { dir: string; signal?: NodeJS.Signals }): Promise<boolean>;
export declare function ensureRedis(options?: { port?: number; log?: (line: string) => void }): Promise<{ port: number; started: boolean }>;
