// The user's toolchain (architecture §3, second row): a `.S` or `.c` file compiled by the
// user's gcc/clang with `-c -g`, run with an argument array (never a shell), its messages
// parsed into Diagnostics (file:line:col) for the Problems view. The object then takes the ELF
// path (loadElfObjects). A missing compiler is a clear error that points at the built-in assembler.

import { spawn } from 'node:child_process';
// node:crypto is required where used: loading it costs a worker thread ~7 ms at start.
import { chmodSync, utimesSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { LoadError, type Diagnostic } from './diagnostics';

/** The launch configuration's `toolchain` attribute. */
export interface ToolchainConfig {
  /** Compiler driver, a name on PATH or a path (default `gcc`); `clang` works the same way. */
  compiler?: string;
  /** Extra arguments, after `-c -g` (so they may override, e.g. `-gdwarf-4`, `-O2`). */
  args?: string[];
  /** `-I` directories (relative ones against the workspace). */
  includePaths?: string[];
}

/** Inputs of one compilation besides the toolchain. */
export interface CompileOptions {
  /** Folder relative paths and the compiler's working directory (the workspace). */
  cwd: string;
  /** Where the object goes; default a cache folder under the system temp folder, keyed by source and arguments. */
  outDir?: string;
  /** Further `-I` directories (the launch configuration's `includePaths`), searched after the toolchain's. */
  includePaths?: string[];
  /** `-D` definitions. */
  defines?: Record<string, string>;
  /** Kill the compiler after this long (default 120 s). */
  timeoutMs?: number;
}

/** A compilation that produced an object (warnings may be present). */
export interface CompileResult {
  object: string;
  diagnostics: Diagnostic[];
  /** The argument array that ran, compiler first (for logs). */
  argv: string[];
}

/** The compiler could not be started at all (not installed, not executable). */
export class CompilerNotFoundError extends Error {
  constructor(readonly compiler: string, cause: string) {
    super(`compiler '${compiler}' could not be run (${cause}): install it or name another one in "toolchain.compiler"; ` +
      'or remove "toolchain" to use the built-in assembler, which needs nothing installed (for .S files)');
    this.name = 'CompilerNotFoundError';
  }
}

/** The argument array for one compilation (compiler first). Exported for tests and logs. */
export function compilerArgv(source: string, object: string, tc: ToolchainConfig, opts: CompileOptions): string[] {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(opts.cwd, p));
  const argv = [tc.compiler ?? 'gcc', '-c', '-g'];
  for (const p of [...(tc.includePaths ?? []), ...(opts.includePaths ?? [])]) argv.push('-I', abs(p));
  for (const [k, v] of Object.entries(opts.defines ?? {})) argv.push(`-D${k}=${v}`);
  argv.push(...(tc.args ?? []));
  argv.push('-o', object, abs(source));
  return argv;
}

/** The default object folder: one per (compiler, arguments, source), so variants do not clobber each other. */
export function defaultOutDir(source: string, tc: ToolchainConfig, opts: CompileOptions): string {
  const key = (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(JSON.stringify([resolve(opts.cwd, source), tc, opts.includePaths ?? [], opts.defines ?? {}])).digest('hex').slice(0, 16);
  return join(objectCacheRoot(), key);
}

/** Objects unused this long are pruned from the cache. */
export const OBJECT_CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** At most this many object folders are kept (the least recently used go first). */
export const OBJECT_CACHE_MAX_ENTRIES = 256;

/**
 * The object cache of this user: `<tmp>/tdxdbg-objects-<uid>`, mode 0700, owned by the user (a
 * folder someone else made, a symbolic link or a group/world-accessible one is refused), pruned
 * of old entries. Objects of one user are never read or overwritten by another.
 */
export function objectCacheRoot(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const root = join(tmpdir(), `tdxdbg-objects-${uid ?? (process.env.USERNAME ?? 'user').replace(/[^\w.-]/g, '_')}`);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`the object cache ${root} is not a directory: remove it`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`the object cache ${root} belongs to another user (uid ${st.uid}): remove it`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) chmodSync(root, 0o700);
  pruneObjectCache(root);
  return root;
}

/** Removes cache entries older than the age limit, and the oldest beyond the count limit. */
export function pruneObjectCache(root: string, now = Date.now()): number {
  let entries: { path: string; mtime: number }[];
  try {
    entries = readdirSync(root).map((n) => { const p = join(root, n); return { path: p, mtime: lstatSync(p).mtimeMs }; });
  } catch { return 0; }
  entries.sort((a, b) => b.mtime - a.mtime);
  let removed = 0;
  entries.forEach((e, i) => {
    if (i >= OBJECT_CACHE_MAX_ENTRIES || now - e.mtime > OBJECT_CACHE_MAX_AGE_MS) {
      try { rmSync(e.path, { recursive: true, force: true }); removed++; } catch { /* in use or gone */ }
    }
  });
  return removed;
}

/**
 * Compiles one source file to an object. Throws CompilerNotFoundError when the compiler does not
 * start, LoadError (with the compiler's messages as diagnostics) when it fails.
 */
export async function compileWithToolchain(source: string, tc: ToolchainConfig, opts: CompileOptions): Promise<CompileResult> {
  const outDir = opts.outDir ?? defaultOutDir(source, tc, opts);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  try { utimesSync(outDir, new Date(), new Date()); } catch { /* the cache's age is a hint */ }
  const object = join(outDir, basename(source).replace(/\.[^.]*$/, '') + '.o');
  const argv = compilerArgv(source, object, tc, opts);
  const r = await runArgv(argv, opts.cwd, opts.timeoutMs ?? 120_000);
  if (r.spawnError) throw new CompilerNotFoundError(argv[0], r.spawnError);
  const diagnostics = parseCompilerOutput(r.stderr + r.stdout, opts.cwd);
  if (r.status !== 0) {
    if (!diagnostics.some((d) => d.severity === 'error')) {
      const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 120_000} ms` : r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
      diagnostics.push({ severity: 'error', message: `${argv[0]} ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' ')}` : ''}` });
    }
    throw new LoadError(diagnostics);
  }
  try {
    statSync(object);
  } catch {
    throw new LoadError([...diagnostics, { severity: 'error', message: `${argv[0]} succeeded but wrote no object at ${object}` }]);
  }
  return { object, diagnostics, argv };
}

/** What a child process did. */
export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (ENOENT, EACCES). */
  spawnError?: string;
  timedOut: boolean;
}

/**
 * Runs an argument array (no shell) and collects its output; `onLine` sees each output line as
 * it arrives (progress forwarding).
 */
export function runArgv(argv: string[], cwd: string, timeoutMs: number, onLine?: (line: string) => void, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((done) => {
    let stdout = '', stderr = '', timedOut = false, settled = false;
    const finish = (r: RunResult) => { if (!settled) { settled = true; clearTimeout(timer); done(r); } };
    const child = spawn(argv[0], argv.slice(1), { cwd, env: env ?? { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    const feed = (which: 'out' | 'err') => {
      let partial = '';
      return (chunk: Buffer) => {
        const s = chunk.toString('utf8');
        if (which === 'out') stdout += s; else stderr += s;
        if (!onLine) return;
        const parts = (partial + s).split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) onLine(l);
      };
    };
    child.stdout.on('data', feed('out'));
    child.stderr.on('data', feed('err'));
    child.on('error', (e: NodeJS.ErrnoException) => finish({ status: null, signal: null, stdout, stderr, spawnError: e.code ?? e.message, timedOut }));
    child.on('close', (status, signal) => finish({ status, signal, stdout, stderr, timedOut }));
  });
}

const MESSAGE = /^(.+?):(\d+):(?:(\d+):)?\s*(fatal error|error|warning|note|Error|Warning|Fatal error|Info|Note):\s*(.*)$/;
const NO_PLACE = /^([^\s:]+):\s*(fatal error|error|warning|note):\s*(.*)$/;
const INCLUDED_FROM = /^(?:In file included|\s+) from (.+?):(\d+)(?::(\d+))?[,:]$/;

/**
 * gcc/clang/gas messages → Diagnostics. Understands `file:line:col: severity: text`, gas's
 * `file:line: Error: text`, located-nowhere messages (`gcc: error: …`, `cc1: warning: …`) and
 * "In file included from" chains (kept as related places); source excerpts and carets are skipped.
 */
export function parseCompilerOutput(text: string, cwd: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  let includes: { file: string; line: number; column: number }[] = [];
  const place = (f: string) => (isAbsolute(f) ? f : resolve(cwd, f));
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*[mK]/g, '').trimEnd();
    if (!line) continue;
    const inc = INCLUDED_FROM.exec(line);
    if (inc) { includes.push({ file: place(inc[1]), line: Number(inc[2]), column: Number(inc[3] ?? 1) }); continue; }
    const m = MESSAGE.exec(line);
    if (m) {
      const sev = m[4].toLowerCase();
      const severity: Diagnostic['severity'] = sev.includes('error') ? 'error' : sev === 'warning' ? 'warning' : 'note';
      const location = { file: place(m[1]), line: Number(m[2]), column: Number(m[3] ?? 1) };
      const d: Diagnostic = { severity, message: m[5], location };
      if (includes.length) d.related = includes.map((l) => ({ message: 'included from here', location: l }));
      includes = [];
      // A note belongs to the message before it (gcc's "previous declaration was here").
      const prev = out[out.length - 1];
      if (severity === 'note' && prev && prev.severity !== 'note') (prev.related ??= []).push({ message: m[5], location });
      else out.push(d);
      continue;
    }
    const n = NO_PLACE.exec(line);
    if (n && !/^\s/.test(line)) {
      const sev = n[2];
      out.push({ severity: sev.includes('error') ? 'error' : sev === 'warning' ? 'warning' : 'note', message: `${n[1]}: ${n[3]}` });
    }
  }
  return out;
}
