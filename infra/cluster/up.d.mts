export declare const clusterDir: string;
export declare const clusterEnvFile: string;
export declare function readClusterEnv(): Record<string, string>;
export declare function clusterUp(options?: { log?: (line: string) => void }): Promise<Record<string, string>>;
