#!/usr/bin/env node
// Bundles the real-editor test (test/e2e/*.e2e.ts and the harness) into out/test/e2e/. Kept
// apart from scripts/build.mjs on purpose: playwright-core must stay external (it reads its
// own files at run time), and `npm test` must not pick up this slow suite (*.test.js only).
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const entries = readdirSync(here).filter((f) => f.endsWith('.e2e.ts')).map((f) => `test/e2e/${f}`);
await esbuild.build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: 'out/test/e2e',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['playwright-core'],
});
