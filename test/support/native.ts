// Helpers for tests and benchmarks that use the host toolchain as the oracle: assemble with
// GNU as (through gcc), extract section bytes and symbols from the object, cache by content.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromRoot } from './paths';

export const CACHE_DIR = fromRoot('.cache', 'native');

export function hasTool(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

function cached(key: string, ext: string): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  return join(CACHE_DIR, createHash('sha256').update(key).digest('hex').slice(0, 16) + ext);
}

/** Assembles `source` (a .S file's text, run through cpp) with gcc; returns the object path. */
export function assembleWithGcc(source: string, flags: string[] = []): string {
  const obj = cached(source + flags.join(' '), '.o');
  if (existsSync(obj)) return obj;
  const src = obj.replace(/\.o$/, '.S');
  writeFileSync(src, source);
  execFileSync('gcc', ['-c', '-x', 'assembler-with-cpp', ...flags, src, '-o', obj], { stdio: 'pipe' });
  return obj;
}

/** Links a freestanding static program from `source`; returns the executable path. */
export function linkStatic(source: string, flags: string[] = []): string {
  const exe = cached('exe' + source + flags.join(' '), '.exe');
  if (existsSync(exe)) return exe;
  const src = exe.replace(/\.exe$/, '.S');
  writeFileSync(src, source);
  execFileSync('gcc', ['-nostdlib', '-static', '-no-pie', '-x', 'assembler-with-cpp', ...flags, src, '-o', exe], { stdio: 'pipe' });
  return exe;
}

/** The raw bytes of one section of an object file. */
export function sectionBytes(obj: string, section = '.text'): Uint8Array {
  const out = obj + section.replace(/[^a-z0-9]/gi, '_') + '.bin';
  execFileSync('objcopy', ['-O', 'binary', '--only-section=' + section, obj, out], { stdio: 'pipe' });
  return new Uint8Array(readFileSync(out));
}

/** Symbol values of an object or executable (`nm`), as offsets/addresses. */
export function symbols(obj: string): Map<string, bigint> {
  const text = execFileSync('nm', [obj], { encoding: 'utf8' });
  const m = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 3) m.set(parts[2], BigInt('0x' + parts[0]));
  }
  return m;
}
