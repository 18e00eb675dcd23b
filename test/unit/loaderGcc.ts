// Test helpers for the loader's C-side checks: run the host gcc (argument arrays, no shell)
// and write our built-in headers to a directory so gcc can read exactly what we read.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { builtinHeaders, type Generation } from '../../emulator/loader/headers';

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write `builtinHeaders(generation)` under `dir`; returns `dir`. */
export function writeBuiltinHeaders(dir: string, generation: Generation): string {
  for (const [name, text] of builtinHeaders(generation)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** gcc's exit status, stdout and stderr. */
export function gcc(args: string[], cwd?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('gcc', args, { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run a program and return its stdout (throws on failure). */
export function run(file: string): string {
  return execFileSync(file, { encoding: 'utf8' });
}

/**
 * Compare-friendly form of preprocessor output: blank lines dropped, whitespace runs
 * collapsed, and spaces next to punctuation removed (gcc and we may space tokens differently).
 */
export function normalizePp(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim().replace(/ (?=\W)|(?<=\W) /g, ''))
    .filter((l) => l !== '');
}
