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
    { in: 'cli/asm.ts', out: 'cliAsm' },
    { in: 'cli/commands.ts', out: 'cliCommands' },
    { in: 'debug-adapter/main.ts', out: 'debugAdapter' },
    { in: 'extension/extension.ts', out: 'extension' },
    { in: 'extension/worker.ts', out: 'extensionWorker' },
    { in: 'debug-adapter/workerMain.ts', out: 'debugAdapterWorker' },
  ].filter((e) => existsSync(join(root, e.in)));
  // Each entry point is dist/<name>.bundle.js run by the stub dist/<name>.js through a V8 code
  // cache (scripts/codeCache.cjs): starts skip parsing and compiling the bundle. Whitespace and
  // comments go (a smaller bundle reads and compiles faster; the linked source maps keep
  // positions), and the bundle must be ASCII so the stub reads it as a one-byte string.
  //
  // What a bundle loads only sometimes is a bundle of its own, required at run time from dist/:
  // the cli's commands (main.ts imports './asm' and './commands': `tdxdbg asm` then reads and
  // compiles the assembler alone), and iced-x86 (~0.9 MB of JavaScript, and ~65 ms to compile
  // its WebAssembly when first required: `tdxdbg asm` needs it only for forms its own encoder
  // lacks). Each is a stub dist/<name>.js running dist/<name>.bundle.js through the cache.
  const apart = {
    name: 'bundles-apart',
    setup(b) {
      b.onResolve({ filter: /^iced-x86$/ }, () => ({ path: './iced_x86.js', external: true }));
      // import() of an external stays import(), which a vm.Script cannot run: the import is of
      // a small module whose require() of the stub is the external.
      b.onResolve({ filter: /^\.\/(asm|commands)$/ }, (a) =>
        a.importer === join(root, 'cli/main.ts') ? { path: a.path === './asm' ? './cliAsm.js' : './cliCommands.js', namespace: 'apart' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'apart' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
      b.onResolve({ filter: /^\.\/cli(Asm|Commands)\.js$/, namespace: 'apart' }, (a) => ({ path: a.path, external: true }));
    },
  };
  await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: entries.map((e) => ({ in: e.in, out: `${e.out}.bundle` })),
    outdir: 'dist',
    external: ['vscode'],
    plugins: [apart],
    minifyWhitespace: true,
    charset: 'ascii',
  });
  copyFileSync(join(root, 'scripts/codeCache.cjs'), join(root, 'dist/codeCache.js'));
  // iced-x86's own file, unchanged (its name is the bundle's; it is UTF-8, which the cache reads as such).
  copyFileSync(join(root, 'node_modules/iced-x86/iced_x86.js'), join(root, 'dist/iced_x86.bundle.js'));
  for (const e of [...entries, { out: 'iced_x86' }]) {
    const bundle = `${e.out}.bundle.js`;
    if (e.in && !readFileSync(join(root, 'dist', bundle)).every((b) => b < 0x80)) throw new Error(`dist/${bundle} is not ASCII`);
    const shebang = e.in && readFileSync(join(root, e.in), 'utf8').startsWith('#!') ? '#!/usr/bin/env node\n' : '';
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
