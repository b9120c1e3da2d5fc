#!/usr/bin/env node
// `npm run jobs -- <command>`: the ops CLI of the batch layer (see cli-commands.ts).
import { loadConfig } from '@sigflow/config';
import { runCli } from './cli-commands.js';

try {
  process.exitCode = await runCli(process.argv.slice(2), loadConfig());
} catch (err) {
  console.error(`jobs: ${(err as Error).message}`);
  process.exitCode = 1;
}
