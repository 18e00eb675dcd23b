#!/usr/bin/env node
// Prepares the real-editor test (test/e2e): Debian chromium, libkrb5-dev and ripgrep through
// apt, and code-server 4.100.3 installed into test/e2e/.cache/ (never a project dependency),
// following the offline recipe in shared/tools/README.md. Idempotent and quick when everything
// is present. Any step that cannot be done stops with a message naming it and exit code 1:
// the e2e test must never pass because its tools are missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, copyFileSync, rmSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Pinned: the newest code-server (VS Code 1.100.3) that runs on Node 20. */
export const CODE_SERVER_VERSION = '4.100.3';
/** The @vscode/ripgrep that code-server 4.100.3 pulls in, and the rg release it downloads. */
const RIPGREP_PKG_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep'];

const cache = join(root, 'test/e2e/.cache');
const csDir = join(cache, 'code-server');
const csBin = join(csDir, 'node_modules/.bin/code-server');
const marker = join(csDir, `.installed-${CODE_SERVER_VERSION}`);
const t0 = Date.now();

function fail(step, detail) {
  console.error(`\n[e2e-setup] FAILED at step "${step}": ${detail}`);
  console.error('[e2e-setup] the real-editor test cannot run without it; nothing was skipped.');
  process.exit(1);
}
function log(msg) { console.log(`[e2e-setup] ${msg}`); }
function run(step, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) fail(step, `${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(step, `\`${cmd} ${args.join(' ')}\` exited with ${r.status ?? r.signal}`);
}

// 1. Debian packages. dpkg-query tells which are missing; only those are installed.
function aptMissing() {
  return APT_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}
const missing = aptMissing();
if (missing.length) {
  if (process.getuid?.() !== 0) fail('apt packages', `missing ${missing.join(', ')} and not root; run: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get update', 'apt-get', ['update', '-qq'], { env });
  run('apt-get install', 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  const still = aptMissing();
  if (still.length) fail('apt packages', `still missing after apt-get install: ${still.join(', ')}`);
}
if (!existsSync('/usr/bin/chromium')) fail('chromium', '/usr/bin/chromium not found after installing Debian chromium');
if (!existsSync('/usr/bin/rg')) fail('ripgrep', '/usr/bin/rg not found after installing Debian ripgrep');

// 2. playwright-core drives the browser; it is a devDependency of the project (no browser download).
try {
  createRequire(join(root, 'package.json')).resolve('playwright-core');
} catch {
  fail('playwright-core', 'not installed in node_modules; run `npm ci` (it is a devDependency)');
}

// 3. code-server into the cache folder.
// code-server's postinstall builds native modules and fetches rg inside lib/vscode; a skipped
// or half-done postinstall only shows when the editor starts, so check its products here.
const postinstallProducts = [
  'lib/vscode/node_modules/@vscode/ripgrep/bin/rg',
  'lib/vscode/node_modules/kerberos/build/Release/kerberos.node',
  'lib/vscode/node_modules/node-pty/build/Release/pty.node',
  'lib/vscode/node_modules.asar',
].map((p) => join(csDir, 'node_modules/code-server', p));
function installedVersion() {
  if (!existsSync(csBin)) return undefined;
  // Even `--version` writes a default config on first run: keep it out of the home directory.
  const xdg = join(cache, 'xdg-setup');
  const env = { ...process.env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data') };
  const r = spawnSync(csBin, ['--version'], { encoding: 'utf8', timeout: 60_000, env });
  // Prints "4.100.3 <commit> with Code 1.100.3", possibly after log lines.
  return r.status === 0 ? /^(\d+\.\d+\.\d+) \S+ with Code/m.exec(r.stdout)?.[1] : undefined;
}
const missingProducts = () => postinstallProducts.filter((p) => !existsSync(p));
if (existsSync(marker) && missingProducts().length === 0 && installedVersion() === CODE_SERVER_VERSION) {
  log(`code-server ${CODE_SERVER_VERSION} already in ${csDir}`);
} else {
  log(`installing code-server ${CODE_SERVER_VERSION} into ${csDir} (about a minute)`);
  rmSync(csDir, { recursive: true, force: true });
  mkdirSync(csDir, { recursive: true });
  // npm 11 asks for install scripts to be approved: these two are code-server's own (its
  // postinstall installs lib/vscode and builds the native modules there) and argon2's build.
  const pkg = { name: 'e2e-code-server', private: true, allowScripts: { 'code-server': true, argon2: true } };
  writeFileSync(join(csDir, 'package.json'), JSON.stringify(pkg, null, 2));
  // @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache (under os.tmpdir())
  // already holds the release tarball: seed it with Debian's rg. A private TMPDIR keeps the
  // seed and node-gyp's scratch files inside the cache folder.
  const tmp = join(cache, 'tmp');
  const seedDir = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PKG_VERSION}`);
  const stage = join(tmp, 'rg-stage');
  mkdirSync(seedDir, { recursive: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync('/usr/bin/rg', join(stage, 'rg'));
  chmodSync(join(stage, 'rg'), 0o755);
  run('seed ripgrep cache', 'tar', ['-czf', join(seedDir, RIPGREP_ASSET), '-C', stage, 'rg']);
  const env = {
    ...process.env,
    TMPDIR: tmp,
    npm_config_yes: 'true', // a postinstall runs `npx node-gyp`
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  // node-gyp would download Node's headers; Debian's nodejs ships them under /usr/include/node.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_version.h')) env.npm_config_nodedir = '/usr';
  const args = ['install', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`];
  if (process.getuid?.() === 0) args.push('--unsafe-perm');
  run('npm install code-server', 'npm', args, { cwd: csDir, env });
  const absent = missingProducts();
  if (absent.length) fail('code-server postinstall', `the install finished but these are missing (did its postinstall run?): ${absent.join(', ')}`);
  const v = installedVersion();
  if (v !== CODE_SERVER_VERSION) fail('code-server check', `\`code-server --version\` gave ${JSON.stringify(v)}, expected ${CODE_SERVER_VERSION}`);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  rmSync(stage, { recursive: true, force: true });
}

log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: code-server ${CODE_SERVER_VERSION}, /usr/bin/chromium (${chromiumVersion()})`);

function chromiumVersion() {
  const r = spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : 'version unknown';
}
