// Every setting the documentation names must be one something reads: a README that documents
// `SIGFLOW_BATCH_VIEW_TTL_S` while the configuration reads `SIGFLOW_BATCH_VIEW_TTL_MS` tells
// operators to set a variable that does nothing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
/** Folders that hold no documentation of this repository. */
const skipped = new Set(['node_modules', '.git', 'dist', '.turbo', '.cache', 'var', 'artifacts']);

/**
 * Variables read outside `@sigflow/config`, by scripts and test suites, and why they are not
 * configuration of a service. Each must still appear in the file named.
 */
const readElsewhere: readonly { name: string; file: string; why: string }[] = [
  { name: 'SIGFLOW_DEMO_BACKFILL_HOURS', file: 'scripts/start.mjs', why: 'demo traffic of `npm start`, not a service setting' },
  { name: 'SIGFLOW_DEMO_RATE', file: 'scripts/start.mjs', why: 'demo traffic of `npm start`' },
  { name: 'SIGFLOW_DEMO_SITE_PORT', file: 'scripts/start.mjs', why: 'port of the demo site `npm start` serves' },
  { name: 'SIGFLOW_TEST_REPORT', file: 'vitest.shared.ts', why: 'where `npm test` collects the vitest JSON reports' },
  { name: 'SIGFLOW_TEST_SEED', file: 'test/speed/speed-faults.test.ts', why: 'seed of the kill timing of the speed fault suite (test:cluster)' },
  { name: 'SIGFLOW_RELIABILITY_RUN', file: 'scripts/reliability.mjs', why: 'names a reliability run for its report table' },
  { name: 'SIGFLOW_SOAK', file: 'test/vitest.config.ts', why: 'lets vitest run the platform soak (test/reliability/soak, `npm run test:soak`)' },
  { name: 'SIGFLOW_SOAK_SECONDS', file: 'test/reliability/soak/platform-soak.test.ts', why: 'the soak\'s length' },
  { name: 'SIGFLOW_SOAK_KILL_EVERY_S', file: 'test/reliability/soak/platform-soak.test.ts', why: 'how often the soak kills a service' },
  { name: 'SIGFLOW_SOAK_CALIBRATION_EVENTS', file: 'test/reliability/soak/platform-soak.test.ts', why: 'events of the soak\'s sustained-rate measurement' },
  { name: 'SIGFLOW_SOAK_RATE', file: 'test/reliability/soak/platform-soak.test.ts', why: 'the soak\'s rate instead of half the measured one' },
  { name: 'SIGFLOW_LOAD_RATE', file: 'test/reliability/load/collector-load.test.ts', why: 'collector load test rate' },
  { name: 'SIGFLOW_LOAD_SECONDS', file: 'test/reliability/load/collector-load.test.ts', why: 'collector load test length' },
  { name: 'SIGFLOW_LOAD_RECOVERY_S', file: 'test/reliability/load/collector-load.test.ts', why: 'collector load test recovery wait' },
  { name: 'SIGFLOW_FUZZ_BODIES', file: 'test/reliability/input/collector-fuzz.test.ts', why: 'collector fuzz test size' },
  { name: 'SIGFLOW_FUZZ_SEED', file: 'test/reliability/input/collector-fuzz.test.ts', why: 'collector fuzz test seed' },
  { name: 'SIGFLOW_SERVICE_NODE_ARGS', file: 'infra/lib/process.mjs', why: 'off: launchers leave out the services\' V8 flags (the runtime A/B)' },
  { name: 'SIGFLOW_RUNTIME', file: 'scripts/runtime.mjs', why: 'current: the root scripts keep the machine\'s node (the runtime A/B)' },
  { name: 'SIGFLOW_KEEP_CLUSTER', file: 'scripts/test-cluster.mjs', why: '1: `npm run test:cluster` leaves the local cluster running' },
];

/** The variables `loadConfig` reads: it is run over an environment that records every name asked. */
function namesConfigReads(): Set<string> {
  const read = new Set<string>();
  const recorder = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get(_target, name) {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    },
  );
  loadConfig(recorder);
  return read;
}

function markdownFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skipped.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...markdownFiles(full));
    else if (entry.name.endsWith('.md')) files.push(full);
  }
  return files;
}

/** `SIGFLOW_X` names, and `SIGFLOW_RULE_*` style families, with the file and line they are on. */
function documentedNames(): { name: string; where: string }[] {
  const found: { name: string; where: string }[] = [];
  for (const file of markdownFiles(repoRoot)) {
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(/SIGFLOW_[A-Z0-9_]*(?:\*[A-Z0-9_]*)?/g)) {
          found.push({ name: m[0], where: `${path.relative(repoRoot, file)}:${i + 1}` });
        }
      });
  }
  return found;
}

/** Whether a documented name (or family, `*` for any part) is one that something reads. */
function isKnown(name: string, known: ReadonlySet<string>): boolean {
  if (!name.includes('*')) return known.has(name);
  const family = new RegExp(`^${name.replaceAll('*', '[A-Z0-9_]+')}$`);
  return [...known].some((k) => family.test(k));
}

describe('documented settings', () => {
  const configNames = namesConfigReads();
  const known = new Set([...configNames, ...readElsewhere.map((r) => r.name)]);

  it('the configuration reads the settings of every service (the recorder sees them)', () => {
    // Hand-picked from packages/config/src/config.ts, one per section.
    for (const name of ['SIGFLOW_KAFKA_BROKERS', 'SIGFLOW_REDIS_URL', 'SIGFLOW_RULE_FLOOD_THRESHOLD', 'SIGFLOW_COLLECTOR_PORT', 'SIGFLOW_SPEED_VIEW_TTL_MS', 'SIGFLOW_ARCHIVE_DIR', 'SIGFLOW_BATCH_VIEW_TTL_MS', 'SIGFLOW_API_KEYS']) {
      expect(configNames, name).toContain(name);
    }
    expect(configNames).not.toContain('SIGFLOW_BATCH_VIEW_TTL_S');
  });

  it('every SIGFLOW_ name in every Markdown file is one the configuration, a script or a suite reads', () => {
    const documented = documentedNames();
    expect(documented.length).toBeGreaterThan(20);
    const unknown = documented.filter((d) => !isKnown(d.name, known)).map((d) => `${d.where}: ${d.name}`);
    expect(unknown).toEqual([]);
  });

  it('the names read outside the configuration are still read where the list says', () => {
    for (const { name, file } of readElsewhere) {
      expect(configNames, `${name} is configuration now: drop it from the list`).not.toContain(name);
      expect(fs.readFileSync(path.join(repoRoot, file), 'utf8'), `${file} should read ${name}`).toContain(name);
    }
  });

  it('catches what it is for: a name with the wrong unit, a family nothing matches', () => {
    expect(isKnown('SIGFLOW_BATCH_VIEW_TTL_S', known)).toBe(false);
    expect(isKnown('SIGFLOW_BATCH_VIEW_TTL_MS', known)).toBe(true);
    expect(isKnown('SIGFLOW_RULE_*', known)).toBe(true);
    expect(isKnown('SIGFLOW_NOPE_*', known)).toBe(false);
  });
});
