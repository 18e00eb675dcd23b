// The arguments of `tdxdbg asm`, apart from the command itself: the cli's dispatcher reads them
// (to choose V8's tiering before the assembler's bundle loads) without loading the assembler.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { BuildOptions } from '../emulator/loader/buildImage';
import { GENERATIONS, type Generation } from '../emulator/tdx/generation';

export const USAGE = `usage: tdxdbg asm FILE [-I DIR]... [-D NAME[=VALUE]]... [--header FILE]... [--asm-offsets FILE]
                  [--generation ${GENERATIONS[0]}..${GENERATIONS[GENERATIONS.length - 1]}] [--base ADDRESS] [--listing] [--json]
                  [--kernel-source DIR --kernel-build DIR | --no-kernel-tree]
  A FILE inside a configured kernel tree (found by walking up, or named by --kernel-source and
  --kernel-build, the O= folder) is assembled with the tree's headers and kbuild's flags for it.`;

export interface AsmArgs {
  file: string;
  build: BuildOptions;
  listing: boolean;
  json: boolean;
}

export function parseArgs(argv: string[]): AsmArgs | string {
  const build: BuildOptions = { includePaths: [], defines: {}, headers: [] };
  let file: string | undefined;
  let listing = false;
  let json = false;
  let source: string | undefined, buildDir: string | undefined, noTree = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string): string | undefined => {
      if (a.length > flag.length && a.startsWith(flag)) return a.slice(flag.length).replace(/^=/, '');
      return argv[++i];
    };
    if (a === '--listing') listing = true;
    else if (a === '--no-kernel-tree') noTree = true;
    else if (a.startsWith('--kernel-source')) {
      source = value('--kernel-source');
      if (!source) return '--kernel-source needs the kernel source folder';
    } else if (a.startsWith('--kernel-build')) {
      buildDir = value('--kernel-build');
      if (!buildDir) return '--kernel-build needs the build folder (O=; the source folder for an in-tree build)';
    }
    else if (a === '--json') json = true;
    else if (a.startsWith('-I')) {
      const d = value('-I');
      if (!d) return '-I needs a directory';
      build.includePaths!.push(d);
    } else if (a.startsWith('-D')) {
      const d = value('-D');
      if (!d) return '-D needs NAME[=VALUE]';
      const eq = d.indexOf('=');
      build.defines![eq < 0 ? d : d.slice(0, eq)] = eq < 0 ? '1' : d.slice(eq + 1);
    } else if (a.startsWith('--header')) {
      const h = value('--header');
      if (!h) return '--header needs a file';
      build.headers!.push(h);
    } else if (a.startsWith('--asm-offsets')) {
      const h = value('--asm-offsets');
      if (!h) return '--asm-offsets needs a file';
      build.asmOffsets = h;
    } else if (a.startsWith('--generation')) {
      const g = value('--generation')?.toUpperCase();
      if (!g || !(GENERATIONS as readonly string[]).includes(g)) return `--generation must be one of ${GENERATIONS.join(', ')}`;
      build.generation = g as Generation;
    } else if (a.startsWith('--base')) {
      const b = value('--base');
      if (!b || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(b)) return `--base needs an address such as 0xffffffff81000000, not '${b ?? ''}'`;
      build.base = BigInt(b);
    } else if (a.startsWith('-') && a !== '-') return `unknown option '${a}'`;
    else if (file) return `only one FILE, got '${file}' and '${a}'`;
    else file = a;
  }
  if (!file) return 'missing FILE';
  if ((source === undefined) !== (buildDir === undefined)) return '--kernel-source and --kernel-build go together (give the source folder as both for an in-tree build)';
  if (noTree && source !== undefined) return '--no-kernel-tree contradicts --kernel-source/--kernel-build';
  if (source !== undefined && buildDir !== undefined) {
    if (!existsSync(join(source, 'Makefile'))) return `--kernel-source ${source} is not a kernel source tree (no Makefile there)`;
    if (!existsSync(buildDir)) return `--kernel-build ${buildDir} does not exist (configure the kernel there first: make O=… defconfig)`;
    build.kernelTreeFrom = { source: resolve(source), build: resolve(buildDir) };
    // A path relative to the tree names a file of the tree.
    if (!existsSync(file) && existsSync(join(source, file))) file = join(source, file);
  } else if (!noTree) build.kernelTreeFrom = 'discover';
  return { file, build, listing, json };
}

/** Entry files up to this size are assembled without V8's optimising compiler (see below). */
const NO_OPT_MAX_BYTES = 1 << 20;

/**
 * `tdxdbg asm` assembles one file and exits: for a file of kernel size (a few thousand lines,
 * up to ~50,000) the assembler's code runs a few thousand times, and optimising it costs more
 * CPU than it saves — measured by `npm run bench` (the `tdxdbg asm` figure), the one-shot run
 * takes about half the time without it, and a 50,000-line file the same. Bigger inputs keep
 * the optimiser. Only this process is affected. Called by the cli's dispatcher before the
 * assembler's bundle is loaded, so that bundle's code cache is made and read under the same flags.
 */
export function oneShotTiering(argv: string[]): void {
  const args = parseArgs(argv);
  if (typeof args === 'string') return; // a usage error: asmCommand says so
  try {
    if (statSync(args.file).size > NO_OPT_MAX_BYTES) return;
  } catch {
    return; // unreadable: buildImage reports it
  }
  setFlagsFromString('--no-opt');
  // The code cache (scripts/codeCache.cjs) writes no data V8 made before this: V8 rejects data
  // made under other flags, and the bundles loaded from now on are consumed under these.
  const g = globalThis as Record<symbol, number | undefined>;
  g[V8_FLAGS_CHANGED] = (g[V8_FLAGS_CHANGED] ?? 0) + 1;
}

/** Counts this process's changes of V8's flags; read by scripts/codeCache.cjs (the same Symbol.for key). */
const V8_FLAGS_CHANGED = Symbol.for('tdx-call-debugger.v8-flags-changed');

