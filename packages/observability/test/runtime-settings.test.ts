import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeSettings } from '../src/runtime-settings.js';

describe('runtimeSettings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-runtime-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const manifest = (nodeArgs?: string[]) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(nodeArgs ? { name: 'x', sigflow: { nodeArgs } } : { name: 'x' }));
    return pathToFileURL(file);
  };

  it("counts a flag as in effect from the command line or NODE_OPTIONS, and names the others", () => {
    const url = manifest(['--single-threaded-gc', '--max-semi-space-size=64', '--heap-growing-percent=75']);
    expect(runtimeSettings(url, ['--single-threaded-gc'], ' --heap-growing-percent=75  --inspect ')).toEqual({
      expected: ['--single-threaded-gc', '--max-semi-space-size=64', '--heap-growing-percent=75'],
      inEffect: ['--single-threaded-gc', '--heap-growing-percent=75', '--inspect'],
      missing: ['--max-semi-space-size=64'],
    });
  });

  it('a service that declares no flags misses none', () => {
    expect(runtimeSettings(manifest(), [], '').missing).toEqual([]);
  });
});
