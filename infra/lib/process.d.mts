export declare const repoRoot: string;
export declare const varDir: string;
export declare function isAlive(pid: number): boolean;
export declare function portAnswers(port: number, host?: string, timeoutMs?: number): Promise<boolean>;
export declare function freePort(): Promise<number>;
export declare function waitFor(what: string, check: () => unknown, options?: { timeoutMs?: number; intervalMs?: number }): Promise<void>;
export declare function serviceNodeArgs(entry: string): string[];
export declare const sharedMachineEnv: Readonly<Record<string, string>>;
