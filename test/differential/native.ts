// Builds the generated native program with gcc (static, -no-pie: fixed code addresses), caches
// it under out/differential-native/<hash of the sources>/, runs it on the input records and
// decodes its results. The host CPU is the only source of expected values.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Case } from './builder';
import { LINK_FLAGS, generateAsm, generateDriver } from './nativeProgram';
import { NativeResult, decodeResults, encodeInputs } from './records';

const GCC_FLAGS = ['-O1', '-static', '-no-pie', '-w', ...LINK_FLAGS];
const KEEP_BUILDS = 4;

/** The repository root: the nearest folder above this script holding package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

export interface NativeRun {
  /** Path of the built executable (also where the emulator side reads code bytes from). */
  program: string;
  dir: string;
  results: NativeResult[];
  built: boolean;
  buildMs: number;
  runMs: number;
}

function pruneOldBuilds(root: string, keep: string): void {
  if (!existsSync(root)) return;
  const dirs = readdirSync(root)
    .map((name) => ({ name, path: join(root, name) }))
    .filter((d) => d.name !== keep && statSync(d.path).isDirectory())
    .sort((a, b) => statSync(b.path).mtimeMs - statSync(a.path).mtimeMs);
  for (const d of dirs.slice(KEEP_BUILDS - 1)) rmSync(d.path, { recursive: true, force: true });
}

/** Builds (or reuses) the program for `cases` and runs it. */
export function runNative(cases: readonly Case[]): NativeRun {
  const asm = generateAsm(cases);
  const driver = generateDriver();
  const key = createHash('sha256').update(GCC_FLAGS.join(' ')).update('\0').update(driver).update('\0').update(asm).digest('hex').slice(0, 16);
  const cacheRoot = join(repoRoot(), 'out', 'differential-native');
  const dir = join(cacheRoot, key);
  const program = join(dir, 'cases');
  let built = false;
  const t0 = Date.now();
  if (!existsSync(program)) {
    pruneOldBuilds(cacheRoot, key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cases.S'), asm);
    writeFileSync(join(dir, 'driver.c'), driver);
    try {
      execFileSync('gcc', [...GCC_FLAGS, '-o', program + '.tmp', join(dir, 'driver.c'), join(dir, 'cases.S')], { stdio: 'pipe', maxBuffer: 64 << 20 });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`gcc failed building the differential program in ${dir}:\n${(err.stderr?.toString() ?? err.message).slice(0, 4000)}`);
    }
    execFileSync('mv', [program + '.tmp', program]);
    built = true;
  }
  const t1 = Date.now();
  const input = join(dir, 'input.bin');
  const output = join(dir, 'output.bin');
  writeFileSync(input, encodeInputs(cases));
  try {
    execFileSync(program, [input, output], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`the native differential program failed: ${err.stderr?.toString() || err.message}`);
  }
  const results = decodeResults(readFileSync(output));
  if (results.length !== cases.length) throw new Error(`native program returned ${results.length} results for ${cases.length} cases`);
  return { program, dir, results, built, buildMs: t1 - t0, runMs: Date.now() - t1 };
}
