#!/usr/bin/env node
// Runs the bundled test files under out/test with node's test runner. The differential suite
// runs its quick subset unless TDX_DIFF_FULL=1 (set by `npm run test:full` and CI).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
function walk(dir, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    // The real-editor suite has its own command (npm run test:e2e).
    if (statSync(p).isDirectory()) { if (name !== 'e2e') walk(p, acc); }
    else if (name.endsWith('.test.js')) acc.push(p);
  }
  return acc;
}
const filter = process.argv.slice(2);
let files = walk(join(root, 'out/test'));
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) { console.error('no test files found under out/test (did the build run?)'); process.exit(1); }
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
