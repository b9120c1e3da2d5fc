import fs from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** The Node flags a service's measured pace depends on, and which of them this process runs without. */
export interface RuntimeSettings {
  /** `sigflow.nodeArgs` of the service's package.json: what its launchers add. */
  readonly expected: readonly string[];
  /** The flags in effect: the command line's and `NODE_OPTIONS`'s. */
  readonly inEffect: readonly string[];
  readonly missing: readonly string[];
}

/** Reads the service's flags from its package.json (`manifest`) and compares them with this process's. */
export function runtimeSettings(manifest: URL, execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): RuntimeSettings {
  const declared = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { sigflow?: { nodeArgs?: unknown } }).sigflow?.nodeArgs;
  const expected = Array.isArray(declared) ? declared.map(String) : [];
  const inEffect = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  return { expected, inEffect, missing: expected.filter((flag) => !inEffect.includes(flag)) };
}

/**
 * Says at start-up which runtime settings the service runs with: at info when they are the
 * ones its launchers give it (`npm start`, the Docker image, the benches), at warn, loudly,
 * naming each missing flag and how to start it, when it was started without them (as a
 * process manager running `node dist/main.js` does). With a registry,
 * `sigflow_runtime_flags_missing` tells the same to a scrape (a cluster's primary has none: its
 * workers inherit its flags).
 */
export function reportRuntimeSettings(logger: Logger, registry: Registry | null, manifest: URL): RuntimeSettings {
  const settings = runtimeSettings(manifest);
  if (registry) {
    new Gauge({
      name: 'sigflow_runtime_flags_missing',
      help: "Node flags of the service's package.json (sigflow.nodeArgs) this process was started without",
      // A service whose processes' metrics are summed into one scrape (the batch service's
      // worker processes inherit its flags) reports the most any of them lacks, not the sum.
      aggregator: 'max',
      registers: [registry],
    }).set(settings.missing.length);
  }
  const fields = { node: process.version, expected: settings.expected, inEffect: settings.inEffect };
  if (settings.missing.length === 0) {
    logger.info(fields, 'runtime settings in effect');
  } else {
    logger.warn(
      { ...fields, missing: settings.missing },
      `started WITHOUT the Node flags its measured pace depends on (${settings.missing.join(' ')}): start it as \`node ${settings.expected.join(' ')} dist/main.js\` or add them to NODE_OPTIONS`,
    );
  }
  return settings;
}
