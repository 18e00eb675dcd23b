#!/usr/bin/env node
// Bundles the shipped entry points into dist/ and the test files into out/.
// esbuild does not type-check: `npm run typecheck` does that separately.
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const only = args.has('--tests') ? 'tests' : args.has('--dist') ? 'dist' : 'all';

function walk(dir, pred, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pred, acc);
    else if (pred(p)) acc.push(p);
  }
  return acc;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
};

async function buildDist() {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const entries = [
    { in: 'cli/main.ts', out: 'cli' },
    { in: 'debug-adapter/main.ts', out: 'debugAdapter' },
    { in: 'extension/extension.ts', out: 'extension' },
    { in: 'extension/worker.ts', out: 'extensionWorker' },
    { in: 'debug-adapter/workerMain.ts', out: 'debugAdapterWorker' },
  ].filter((e) => existsSync(join(root, e.in)));
  // Each entry point is dist/<name>.bundle.js run by the stub dist/<name>.js through a V8 code
  // cache (scripts/codeCache.cjs): starts skip parsing and compiling the bundle. Whitespace and
  // comments go (a smaller bundle reads and compiles faster; the linked source maps keep
  // positions), and the bundle must be ASCII so the stub reads it as a one-byte string.
  await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: entries.map((e) => ({ in: e.in, out: `${e.out}.bundle` })),
    outdir: 'dist',
    external: ['vscode'],
    minifyWhitespace: true,
    charset: 'ascii',
  });
  copyFileSync(join(root, 'scripts/codeCache.cjs'), join(root, 'dist/codeCache.js'));
  for (const e of entries) {
    const bundle = `${e.out}.bundle.js`;
    if (!readFileSync(join(root, 'dist', bundle)).every((b) => b < 0x80)) throw new Error(`dist/${bundle} is not ASCII`);
    const shebang = readFileSync(join(root, e.in), 'utf8').startsWith('#!') ? '#!/usr/bin/env node\n' : '';
    const stub = join(root, 'dist', `${e.out}.js`);
    writeFileSync(stub, `${shebang}'use strict';\n// Runs ${bundle} with a V8 code cache (codeCache.js; built by scripts/build.mjs).\n` +
      `require('./codeCache.js').run(module, require, require('node:path').join(__dirname, ${JSON.stringify(bundle)}));\n`);
    if (shebang) chmodSync(stub, 0o755);
  }
  // iced-x86 reads its WebAssembly from the folder of the script that loads it:
  // the bundles load it from dist/, so the .wasm goes beside them.
  copyFileSync(join(root, 'node_modules/iced-x86/iced_x86_bg.wasm'), join(root, 'dist/iced_x86_bg.wasm'));
}

async function buildTests() {
  const files = walk(join(root, 'test'), (p) => /\.(test|bench|harness)\.ts$/.test(p) || /test[\\/]support[\\/].*\.ts$/.test(p) || /test[\\/]bench[\\/].*\.ts$/.test(p));
  const extra = walk(join(root, 'scripts'), (p) => p.endsWith('.ts'));
  const entries = [...files, ...extra].map((p) => relative(root, p));
  if (entries.length === 0) return;
  await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: entries,
    outdir: 'out',
    outbase: '.',
    external: ['iced-x86', 'vscode', '@vscode/debugadapter-testsupport'],
  });
}

if (only !== 'tests') await buildDist();
if (only !== 'dist') await buildTests();
