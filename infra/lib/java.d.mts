export declare function javaCommand(): string;
export declare function pomProperty(pomFile: string, name: string): string;
export declare function copyPomDependencies(pomFile: string, outputDir: string, ...flags: string[]): void;
