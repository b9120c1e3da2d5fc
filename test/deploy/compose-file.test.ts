// The Docker path cannot run here (no Docker engine); what can be checked is the deployment's
// description: who the services run as, where the archive lives, the Node flags each starts
// with, the batch layer's nice, and that no secret is in it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sharedMachineEnv } from '../../infra/lib/process.mjs';
import { declaredNodeArgs, repoRoot } from '../support/services.js';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  build?: unknown;
}

// merge: compose's services share their settings through `<<: *service`.
const compose = parse(fs.readFileSync(path.join(repoRoot, 'infra/docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const dockerfile = fs.readFileSync(path.join(repoRoot, 'infra/Dockerfile'), 'utf8');
const sigflowServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
/** `${NAME:?message}`: compose refuses to start while NAME is unset. */
const required = (name: string) => new RegExp(`\\$\\{${name}:\\?[^}]*\\}`);

describe('the Docker deployment description', () => {
  it('runs every sigflow service from the one image, as the unprivileged node user', () => {
    expect(sigflowServices.map(([name]) => name).sort()).toEqual(['alerts', 'api', 'archiver', 'batch', 'bidding', 'collector', 'generator', 'speed']);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).not.toMatch(/^USER root$/m);
  });

  it('mounts the archive volume on a folder the node user owns, the one the services write to', () => {
    expect(sigflowServices).toHaveLength(8);
    for (const [name, service] of sigflowServices) {
      expect(service.volumes, name).toContain('archive:/data/archive');
      expect(service.environment?.['SIGFLOW_ARCHIVE_DIR'], name).toBe('/data/archive');
    }
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const chown = finalStage.indexOf('chown -R node:node /data');
    expect(chown).toBeGreaterThan(-1);
    expect(chown).toBeLessThan(finalStage.indexOf('USER node'));
  });

  it("starts each service with the Node flags its package.json declares (sigflow.nodeArgs), in that order, and no others", () => {
    const entries = sigflowServices.filter(([, s]) => s.command?.[0] === 'node' && /\/dist\/main\.js$/.test(s.command.at(-1) ?? ''));
    expect(entries.map(([name]) => name).sort()).toEqual(['alerts', 'api', 'archiver', 'batch', 'bidding', 'collector', 'speed']);
    for (const [name, service] of entries) {
      const entry = service.command!.at(-1)!;
      const folder = entry.slice(0, entry.indexOf('/dist/'));
      expect(service.command!.slice(1, -1), name).toEqual(declaredNodeArgs(folder));
    }
  });

  it("defaults what npm start sets for services sharing one machine as npm start does (the batch layer's nice)", () => {
    for (const [name, value] of Object.entries(sharedMachineEnv)) expect(compose.services['batch']?.environment?.[name], name).toBe(`\${${name}:-${value}}`);
  });

  it('takes every secret from the environment and refuses to start without it', () => {
    expect(sigflowServices).toHaveLength(8);
    for (const [name, service] of sigflowServices) {
      const env = service.environment ?? {};
      expect(env['SIGFLOW_REDIS_URL'], name).toMatch(required('SIGFLOW_REDIS_PASSWORD'));
      expect(env['SIGFLOW_API_KEYS'], name).toMatch(required('SIGFLOW_API_KEYS'));
      expect(env['SIGFLOW_COLLECTOR_API_KEYS'], name).toMatch(required('SIGFLOW_COLLECTOR_API_KEYS'));
    }
    const redis = compose.services['redis'] as ComposeService;
    expect(redis.command?.join(' ')).toContain('--requirepass');
    expect(redis.environment?.['SIGFLOW_REDIS_PASSWORD']).toMatch(required('SIGFLOW_REDIS_PASSWORD'));
    expect(redis.ports ?? [], 'Redis is not published on the host').toEqual([]);
    // No literal secret anywhere: every key or password value is a variable reference.
    const text = fs.readFileSync(path.join(repoRoot, 'infra/docker-compose.yml'), 'utf8');
    for (const line of text.split('\n').filter((l) => /(KEYS|PASSWORD):\s/.test(l))) expect(line, line).toMatch(/:\s\$\{/);
  });
});
