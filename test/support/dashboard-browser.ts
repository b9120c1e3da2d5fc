import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from '../../infra/lib/chromium.mjs';

const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium on the dashboard, collecting the page's errors. */
export interface DashboardBrowser {
  readonly page: Page;
  /** Uncaught errors and console errors of the page. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Opens the dashboard at `url` in a headless Chromium of its own profile (refreshing every second). */
export async function openDashboard(url: string, viewport = { width: 1280, height: 1400 }): Promise<DashboardBrowser> {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-chromium-'));
  const browser: BrowserContext = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: chromiumFlags, viewport });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  await page.goto(url);
  return {
    page,
    problems,
    async close() {
      await browser.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
