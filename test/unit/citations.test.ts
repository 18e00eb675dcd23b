// Comments cite public sources (the SDM, GHCI, the TDX module's source, kernel files) or this
// repository's docs/ pages, never reference files that are not in the repository.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const ABSENT = /\b(tdx-abi\.md|tdx-module-behaviour\.md|dap-capabilities\.md|shared\/reference)\b/;

function* files(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (f === 'node_modules' || f.startsWith('.')) continue;
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mjs|md)$/.test(f)) yield p;
  }
}

test('no citation of a reference file that is not in the repository', () => {
  const hits: string[] = [];
  for (const top of ['emulator', 'debug-adapter', 'extension', 'cli', 'test', 'scripts', 'docs']) {
    for (const p of files(join(ROOT, top))) {
      const file = relative(ROOT, p).split('\\').join('/');
      if (file === 'test/unit/citations.test.ts') continue;
      readFileSync(p, 'utf8').split('\n').forEach((l, i) => { if (ABSENT.test(l)) hits.push(`${file}:${i + 1}`); });
    }
  }
  assert.deepEqual(hits, []);
});
