// The V8 code cache of the dist/ bundles (scripts/codeCache.cjs, run by every dist/ stub): the
// first start writes a cold cache, a process that lives a while a warm one, later starts use
// it; data V8 rejects (corrupt, or made by another V8) is ignored and replaced; a cache folder
// that cannot be written, or "off", changes nothing but the speed; the shipped stubs run their
// bundles with the cache and behave as before (the cli's usage text, unchanged bytes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';

const ROOT = projectRoot();
const LOADER = join(ROOT, 'scripts/codeCache.cjs');

const SET_FLAGS = "require('node:v8').setFlagsFromString('--no-opt'); globalThis[Symbol.for('tdx-call-debugger.v8-flags-changed')] = 1;";

/** A bundle-like CommonJS file, a stub that runs it and prints the cache's state, in a fresh folder. */
function fixture(lingerMs = 0, flags: { before?: boolean; during?: boolean } = {}): { dir: string; stub: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-codecache-'));
  const fns = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`).join('\n');
  writeFileSync(join(dir, 'app.bundle.js'), `#!/usr/bin/env node\n${fns}\nlet s = 0; for (let i = 0; i < 200; i++) s += eval('f' + i)(i);\n` +
    `module.exports = { sum: s, dir: __dirname, file: __filename, same: require('./helper.js').x };\n` +
    (lingerMs ? `setTimeout(() => {}, ${lingerMs});\n` : '') +
    // As `tdxdbg asm` does (cli/asmArgs.ts): V8's flags changed while the process runs, and said so.
    (flags.during ? `setTimeout(() => { ${SET_FLAGS} }, 10);\n` : ''));
  writeFileSync(join(dir, 'helper.js'), 'exports.x = 42;\n');
  const stub = join(dir, 'app.js');
  writeFileSync(stub, (flags.before ? `${SET_FLAGS}\n` : '') + `const state = require(${JSON.stringify(LOADER)}).run(module, require, require('node:path').join(__dirname, 'app.bundle.js'));\n` +
    `console.log(JSON.stringify({ state, ...module.exports }));\n`);
  return { dir, stub };
}

function start(stub: string, cache: string): { state: string; sum: number; dir: string; file: string; same: number } {
  const r = spawnSync(process.execPath, [stub], { encoding: 'utf8', env: { ...process.env, TDX_CODE_CACHE_DIR: cache }, timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const expectedSum = Array.from({ length: 200 }, (_, i) => i * i + (i % 7)).reduce((a, b) => a + b, 0);

test('code cache: absent → cold written; a process that lives past the delay writes a warm one, used from then on', () => {
  const { dir, stub } = fixture(1300);
  const cache = join(dir, 'cache');
  try {
    const first = start(stub, cache);
    assert.equal(first.state, 'absent');
    assert.equal(first.sum, expectedSum);
    assert.equal(first.same, 42, 'the bundle requires relative to its own folder');
    assert.equal(first.dir, dir);
    assert.equal(first.file, join(dir, 'app.bundle.js'));
    const files = readdirSync(cache).sort();
    assert.equal(files.length, 2, files.join(', '));
    assert.match(files[0], /^app\.bundle-[0-9a-f]{16}-[0-9a-f]{16}\.bin$/);
    assert.match(files[1], /\.warm\.bin$/);
    const second = start(stub, cache);
    assert.equal(second.state, 'warm');
    assert.equal(second.sum, expectedSum);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: a short process leaves a cache the next start uses', () => {
  const { dir, stub } = fixture();
  const cache = join(dir, 'cache');
  try {
    assert.equal(start(stub, cache).state, 'absent');
    // Cold; warm too if the start took a quarter second (a loaded machine).
    assert.ok(['cold', 'warm'].includes(start(stub, cache).state));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: data V8 rejects is ignored and replaced; a rebuilt bundle drops the old cache', () => {
  const { dir, stub } = fixture();
  const cache = join(dir, 'cache');
  try {
    start(stub, cache);
    const old = readdirSync(cache);
    for (const f of old) {
      const bad = readFileSync(join(cache, f));
      for (let i = 0; i < bad.length; i += 7) bad[i] ^= 0x5a;
      writeFileSync(join(cache, f), bad);
    }
    const r = start(stub, cache);
    assert.equal(r.state, 'rejected');
    assert.equal(r.sum, expectedSum);
    assert.ok(['cold', 'warm'].includes(start(stub, cache).state), 'the rejected data was replaced');
    // Another build of the bundle (size and time change): a new key, the old files go.
    const src = readFileSync(join(dir, 'app.bundle.js'), 'utf8');
    writeFileSync(join(dir, 'app.bundle.js'), src + '\n// rebuilt\n');
    assert.equal(start(stub, cache).state, 'absent');
    const files = readdirSync(cache);
    assert.ok(files.length >= 1 && files.every((f) => !old.includes(f)), `old: ${old.join(', ')}; now: ${files.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: no data is written for a bundle read before V8\'s flags changed; a bundle read after the change keeps its cache', () => {
  // Read before: the cold data (made before the change) is written, the warm (made after) is not:
  // V8 would reject it at the next start, which reads the bundle before changing the flags again.
  const during = fixture(1300, { during: true });
  const cache = join(during.dir, 'cache');
  try {
    assert.equal(start(during.stub, cache).state, 'absent');
    assert.deepEqual(readdirSync(cache).filter((f) => f.endsWith('.warm.bin')), []);
    const again = start(during.stub, cache);
    assert.equal(again.state, 'cold', 'the cold data is accepted');
    assert.equal(again.sum, expectedSum);
  } finally {
    rmSync(during.dir, { recursive: true, force: true });
  }
  // Read after (the assembler's bundle in `tdxdbg asm`): both are written, and the next start,
  // which changes the flags first again, uses the warm one.
  const before = fixture(1300, { before: true });
  const cache2 = join(before.dir, 'cache');
  try {
    assert.equal(start(before.stub, cache2).state, 'absent');
    assert.equal(start(before.stub, cache2).state, 'warm');
  } finally {
    rmSync(before.dir, { recursive: true, force: true });
  }
});

test('code cache: "off" uses none; a folder that cannot be made changes nothing but the speed', () => {
  const { dir, stub } = fixture(1300);
  try {
    const off = start(stub, 'off');
    assert.equal(off.state, 'none');
    assert.equal(off.sum, expectedSum);
    // A path below a regular file: no folder can be made there (whoever runs the test, root included).
    writeFileSync(join(dir, 'plain'), 'x');
    const blocked = join(dir, 'plain', 'cache');
    const r = start(stub, blocked);
    assert.equal(r.state, 'absent');
    assert.equal(r.sum, expectedSum);
    assert.equal(start(stub, blocked).state, 'absent');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code cache: every shipped entry point and on-demand part of dist/ is a stub running its bundle; the cli answers as before, cached or not', () => {
  const stubs = readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js') && !f.endsWith('.bundle.js') && f !== 'codeCache.js').map((f) => f.slice(0, -3));
  for (const name of ['cli', 'cliAsm', 'cliCommands', 'debugAdapter', 'debugAdapterWorker', 'extension', 'extensionWorker', 'iced_x86']) assert.ok(stubs.includes(name), `dist/${name}.js`);
  for (const name of stubs) {
    const stub = readFileSync(join(ROOT, 'dist', `${name}.js`), 'utf8');
    assert.match(stub, new RegExp(`require\\('./codeCache\\.js'\\)\\.run\\(module, require, .*"${name}\\.bundle\\.js"`));
    const bundle = readFileSync(join(ROOT, 'dist', `${name}.bundle.js`));
    // Our bundles are ASCII (read as one-byte strings); iced-x86's file is its package's, as shipped.
    if (name !== 'iced_x86') assert.ok(bundle.every((b) => b < 0x80), `dist/${name}.bundle.js is ASCII`);
  }
  // The cli's dispatcher holds no command: `tdxdbg asm` reads the assembler's bundle alone.
  assert.ok(statSync(join(ROOT, 'dist/cli.bundle.js')).size < 16_384, 'dist/cli.bundle.js is the dispatcher only');
  assert.doesNotMatch(readFileSync(join(ROOT, 'dist/cliAsm.bundle.js'), 'latin1'), /class Session\b|iced_x86_bg\.wasm/, 'the asm bundle holds neither the emulator nor iced-x86');
  assert.ok(readFileSync(join(ROOT, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n'));
  const dir = mkdtempSync(join(tmpdir(), 'tdx-codecache-cli-'));
  try {
    const cli = (cache: string) => spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), '--help'], { encoding: 'utf8', env: { ...process.env, TDX_CODE_CACHE_DIR: cache }, timeout: 60_000 });
    const plain = cli('off');
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^usage: tdxdbg/);
    const cache = join(dir, 'cache');
    const first = cli(cache);
    assert.ok(existsSync(cache) && readdirSync(cache).some((f) => /^cli\.bundle-.*\.bin$/.test(f)), 'the cli wrote its cache');
    const second = cli(cache);
    assert.deepEqual([first.status, first.stdout, first.stderr], [plain.status, plain.stdout, plain.stderr]);
    assert.deepEqual([second.status, second.stdout, second.stderr], [plain.status, plain.stdout, plain.stderr]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
