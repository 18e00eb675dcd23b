'use strict';
// Copied to dist/codeCache.js by scripts/build.mjs. Each shipped entry point of dist/ (cli.js,
// debugAdapter.js, debugAdapterWorker.js, extension.js, extensionWorker.js) is a stub that runs
// its bundle (<name>.bundle.js beside it) through run() below: the bundle is compiled with the
// V8 code cache kept from an earlier start, so the ~1.3 MB bundles are not parsed and compiled
// again on every start of the adapter, its worker or the cli (Node 20 has no
// module.enableCompileCache).
//
// The cache lives in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, %LOCALAPPDATA% on
// Windows, ~/Library/Caches on macOS)/tdx-call-debugger/v8, or in $TDX_CODE_CACHE_DIR ("off"
// or empty: no cache); never beside the bundles, so a read-only install works as it is. A cache
// file is keyed by the bundle's path, size and time and by the V8 version and architecture;
// V8 itself rejects data made by another build or other flags (VS Code's Electron, say): then
// the bundle compiles from source as without a cache and the cache is made again. Nothing
// about the cache can stop a start: every failure to read or write it is ignored.

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const os = require('node:os');
const { isAscii } = require('node:buffer');

/**
 * Counts the changes a process made to V8's flags (`tdxdbg asm` turns the optimiser off for a
 * one-shot run before it loads the assembler: cli/asmArgs.ts). V8 rejects cache data made under
 * other flags, so data made after a change is not written for a bundle consumed before it: the
 * next start would consume it under the flags of its own start, and reject it.
 */
const FLAGS_CHANGED = Symbol.for('tdx-call-debugger.v8-flags-changed');
const flagsEpoch = () => globalThis[FLAGS_CHANGED] ?? 0;

/** How long after the start the warm cache is written (a launch has compiled its functions by then). */
const WRITE_AFTER_MS = 1000;
/** A process that exits sooner writes its warm cache at exit if it ran this long. */
const WRITE_AT_EXIT_AFTER_MS = 250;

function cacheDir() {
  const env = process.env.TDX_CODE_CACHE_DIR;
  if (env !== undefined) return env === '' || env === 'off' ? undefined : env;
  let base;
  try {
    base = process.platform === 'win32' ? process.env.LOCALAPPDATA
      : process.platform === 'darwin' ? path.join(os.homedir(), 'Library', 'Caches')
        : process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  } catch {
    return undefined; // no home folder
  }
  return base ? path.join(base, 'tdx-call-debugger', 'v8') : undefined;
}

/** 64-bit FNV-1a of a string, as 16 hex digits (a file name, not a secret: node:crypto costs a worker ~7 ms to load). */
function hash(s) {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

/**
 * Runs the CommonJS bundle `file` as the module `mod` (the stub's own module, so its exports are
 * the stub's), with `req` (the stub's require: the bundle sits in the same folder).
 * Returns what happened to the cache, for tests: 'none' (no cache folder), 'warm', 'cold',
 * 'rejected' or 'absent' (these two write a cold one; all but 'warm' write a warm one later).
 */
function run(mod, req, file) {
  const buf = fs.readFileSync(file);
  // The bundles are ASCII (scripts/build.mjs checks): latin1 makes the one-byte string directly.
  let source = buf.toString(isAscii && isAscii(buf) ? 'latin1' : 'utf8');
  if (source.startsWith('#!')) source = '//' + source.slice(2);
  const dir = cacheDir();
  // Two files per bundle build: "cold", written right after the bundle's top level has run, and
  // "warm", written once a process has run a while (or exits), holding what it compiled by
  // then (a launch, a step, a cli command). A warm one is used when there is one.
  let base, prefix, cached, warm = false;
  if (dir) {
    try {
      const st = fs.statSync(file);
      prefix = `${path.basename(file, '.js')}-${hash(fs.realpathSync(file))}-`;
      base = path.join(dir, `${prefix}${hash([st.size, st.mtimeMs, process.versions.v8, process.arch].join('\0'))}`);
      try {
        cached = fs.readFileSync(`${base}.warm.bin`);
        warm = true;
      } catch {
        cached = fs.readFileSync(`${base}.bin`);
      }
    } catch {
      cached = undefined;
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: file,
    cachedData: cached,
  });
  const state = !base ? 'none' : cached === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : warm ? 'warm' : 'cold';
  const epoch = flagsEpoch();
  const write = (suffix) => {
    if (flagsEpoch() !== epoch) return;
    try {
      const data = script.createCachedData();
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const target = base + suffix;
      const tmp = `${target}.${process.pid}.${require('node:worker_threads').threadId}.tmp`;
      fs.writeFileSync(tmp, data, { mode: 0o600 });
      fs.renameSync(tmp, target);
      // The caches of earlier builds of the same bundle go.
      for (const name of fs.readdirSync(dir)) {
        const p = path.join(dir, name);
        if (name.startsWith(prefix) && name.endsWith('.bin') && !p.startsWith(base)) fs.rmSync(p, { force: true });
      }
    } catch {
      /* a cache that cannot be written is no cache */
    }
  };
  if (state !== 'none' && state !== 'warm') {
    let done = false;
    const warmUp = () => {
      if (done) return;
      done = true;
      write('.warm.bin');
    };
    setTimeout(warmUp, WRITE_AFTER_MS).unref();
    // A process that ends sooner (a cli command) leaves what it compiled if it ran long enough.
    // Date.now, not performance.now: the first read of the global `performance` loads
    // node:perf_hooks, ~2 ms of every cli start.
    const started = Date.now();
    process.once('exit', () => { if (Date.now() - started >= WRITE_AT_EXIT_AFTER_MS) warmUp(); });
  }
  const fn = script.runInThisContext();
  fn.call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  if (state === 'absent' || state === 'rejected') write('.bin');
  return state;
}

module.exports = { run, cacheDir };
