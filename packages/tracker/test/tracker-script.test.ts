import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrackerScript, startDemoSite, trackerSnippet, type DemoSite } from '../src/node/index.js';

const built = new URL('../dist/sigflow.js', import.meta.url);

describe('the built tracker', () => {
  it('is one dependency-free script of at most 6 KB gzipped', () => {
    const source = readFileSync(built);
    const gzipped = gzipSync(source, { level: 9 }).length;
    console.log(`sigflow.js: ${source.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThanOrEqual(6 * 1024);
    const text = source.toString('utf8');
    // One IIFE: no module syntax, no require, nothing loaded at run time.
    expect(text).not.toMatch(/\bimport\s*[({"'*]|\bexport\s|\brequire\(/);
    expect(text).toMatch(/^\/\* sigflow web tracker \*\/\n"use strict";\(\(\)=>\{/);
    expect(text.trimEnd().endsWith('})();')).toBe(true);
  });

  it('is what loadTrackerScript serves, with its gzip and a strong ETag of its bytes', () => {
    const script = loadTrackerScript();
    expect(script.body.equals(readFileSync(built))).toBe(true);
    expect(gzipSync(script.body, { level: 9 }).equals(script.gzip)).toBe(true);
    expect(script.etag).toMatch(/^"[\w-]{27}"$/);
    expect(loadTrackerScript().etag).toBe(script.etag);
  });
});

describe('the demo site', () => {
  let site: DemoSite;
  beforeAll(async () => {
    site = await startDemoSite({ port: 0, collectorUrl: 'http://127.0.0.1:7001/', siteKey: 'pk "demo"', snippet: { 'flush-ms': '500' } });
  });
  afterAll(async () => site?.close());

  it('serves the landing page with the snippet: script from the collector, site key, DNT switch, settings', async () => {
    const res = await fetch(`${site.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(
      '<script src="http://127.0.0.1:7001/sdk/sigflow.js" data-collector="http://127.0.0.1:7001" data-site="pk &quot;demo&quot;" data-respect-dnt data-flush-ms="500" defer></script>',
    );
    expect(html).toContain('<html lang="en" data-sigflow-page="landing">');
    expect(trackerSnippet({ collectorUrl: 'https://c.example', siteKey: 'k' })).toBe(
      '<script src="https://c.example/sdk/sigflow.js" data-collector="https://c.example" data-site="k" data-respect-dnt defer></script>',
    );
  });

  it('serves the thank-you page and nothing else', async () => {
    expect((await fetch(`${site.url}/thanks`)).status).toBe(200);
    expect((await fetch(`${site.url}/../package.json`)).status).toBe(404);
    expect((await fetch(`${site.url}/landing.html`)).status).toBe(404);
    expect((await fetch(`${site.url}/`, { method: 'POST' })).status).toBe(404);
  });
});
