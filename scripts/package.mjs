#!/usr/bin/env node
// `npm run package`: builds dist/ with esbuild and packages the .vsix with vsce 3.9.x (4.x needs
// Node 22), then checks the result: the bundles and the iced-x86 WebAssembly are inside, no
// sources, tests, node_modules or caches are, and the packaged debug adapter starts from the
// unpacked .vsix with no node_modules in reach (the WASM is found beside the bundle).
// Usage: node scripts/package.mjs [--out file.vsix] [--skip-build]
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { inflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Pinned here, run through npx: vsce and its ~140 MB of dependencies stay out of node_modules. */
const VSCE = '@vscode/vsce@3.9.1';
const argv = process.argv.slice(2);
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(root, opt('--out') ?? `${pkg.name}-${pkg.version}.vsix`);
const t0 = Date.now();

function fail(step, detail) {
  console.error(`[package] FAILED at "${step}": ${detail}`);
  process.exit(1);
}
function run(step, cmd, args, opts = {}) {
  // stdin closed: a vsce question (missing LICENSE, repository...) fails instead of hanging.
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000, ...opts });
  if (r.error) fail(step, `${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) fail(step, `\`${cmd} ${args.join(' ')}\` exited with ${r.status ?? r.signal}`);
}

// 1. Build the shipped bundles.
if (!argv.includes('--skip-build')) run('esbuild', process.execPath, ['scripts/build.mjs', '--dist']);
const main = pkg.main?.replace(/^\.\//, '');
if (main && !existsSync(join(root, main))) fail('build', `package.json "main" is ${pkg.main} but it was not built (is extension/extension.ts there?)`);
if (!existsSync(join(root, 'dist/iced_x86_bg.wasm'))) fail('build', 'dist/iced_x86_bg.wasm was not copied');

// 2. Package.
const vsceArgs = ['--yes', VSCE, 'package', '--no-dependencies', '--out', out];
// No public repository to rebase README links on: keep them relative (docs/ is packaged).
if (!pkg.repository) vsceArgs.push('--allow-missing-repository', '--no-rewrite-relative-links');
if (!['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(root, f)))) vsceArgs.push('--skip-license');
rmSync(out, { force: true });
run('vsce package', 'npx', vsceArgs, { env: { ...process.env, npm_config_yes: 'true', npm_config_update_notifier: 'false' } });
if (!existsSync(out)) fail('vsce package', `${out} was not written`);

// 3. What is inside.
const entries = readZip(readFileSync(out));
const names = entries.map((e) => e.name);
const expected = ['extension/package.json', 'extension/dist/iced_x86_bg.wasm'];
// Every stub scripts/build.mjs wrote, its bundle, and the cache loader they share.
for (const f of readdirSync(join(root, 'dist'))) if (f.endsWith('.js') && !f.endsWith('.bundle.js')) expected.push(`extension/dist/${f}`, ...(f === 'codeCache.js' ? [] : [`extension/dist/${f.replace(/\.js$/, '.bundle.js')}`]));
if (main) expected.push(`extension/${main}`);
const absent = expected.filter((n) => !names.includes(n));
if (absent.length) fail('contents', `missing from the .vsix: ${absent.join(', ')}`);
const forbidden = names.filter((n) =>
  /^extension\/(node_modules|test|out|emulator|debug-adapter|extension|cli|scripts|\.cache|\.ci|\.git|\.vscode)\//.test(n) ||
  /\.(ts|map|vsix)$/.test(n) || /(^|\/)\.cache\//.test(n));
if (forbidden.length) fail('contents', `should not be in the .vsix: ${forbidden.slice(0, 10).join(', ')}${forbidden.length > 10 ? ' ...' : ''}`);

// 4. The packaged adapter starts from the unpacked .vsix, far from the repository's node_modules.
if (names.includes('extension/dist/debugAdapter.js')) await checkAdapterStarts(entries);

const size = (statSync(out).size / 1024).toFixed(0);
console.log(`[package] ${out} (${size} KiB, ${names.length} files) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const n of names) console.log(`  ${n}`);

/** Unpacks the .vsix into a temporary folder and sends the adapter a DAP `initialize` over stdio. */
async function checkAdapterStarts(zipEntries) {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-vsix-'));
  try {
    for (const e of zipEntries) {
      const p = join(dir, e.name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, e.data());
    }
    const child = spawn(process.execPath, [join(dir, 'extension/dist/debugAdapter.js')], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const body = JSON.stringify({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'tdx', clientID: 'package-check', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' } });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let stdout = '', stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const ok = await new Promise((res) => {
      const timer = setTimeout(() => res(false), 15_000);
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/"command"\s*:\s*"initialize"/.test(stdout) && /"success"\s*:\s*true/.test(stdout)) { clearTimeout(timer); res(true); }
      });
      child.on('exit', () => { clearTimeout(timer); res(false); });
    });
    child.kill();
    if (!ok) fail('adapter start', `the packaged dist/debugAdapter.js gave no successful initialize response within 15 s.\nstdout: ${stdout.slice(0, 800)}\nstderr: ${stderr.slice(0, 1500)}`);
    console.log('[package] packaged debug adapter answered initialize from the unpacked .vsix');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Minimal zip reader (stored and deflated entries): enough to list and unpack a .vsix. */
function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) fail('contents', `${out} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const list = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) fail('contents', 'corrupt zip central directory');
    const method = buf.readUInt16LE(p + 10), csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    list.push({
      name,
      data() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + csize);
        return method === 0 ? raw : inflateRawSync(raw);
      },
    });
    p += 46 + nlen + xlen + clen;
  }
  return list.filter((e) => !e.name.endsWith('/'));
}
