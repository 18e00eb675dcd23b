// `tdxdbg asm`: assembles a kernel-style `.S` file with the built-in toolchain and prints the
// Image — a summary, a GNU-style listing (`--listing`) or JSON (`--json`). Diagnostics go to
// stderr as `file:line:col: error: …`; any error means exit code 1 and no Image output.

import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { buildImage, BuildOptions } from '../emulator/loader/buildImage';
import { formatDiagnostic } from '../emulator/loader/diagnostics';
import { formatListing } from '../emulator/loader/assembler';
import { GENERATIONS, type Generation } from '../emulator/loader/headers';
import { Image } from '../emulator/loader/image';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const USAGE = `usage: tdxdbg asm FILE [-I DIR]... [-D NAME[=VALUE]]... [--header FILE]... [--asm-offsets FILE]
                  [--generation ${GENERATIONS[0]}..${GENERATIONS[GENERATIONS.length - 1]}] [--base ADDRESS] [--listing] [--json]
                  [--kernel-source DIR --kernel-build DIR | --no-kernel-tree]
  A FILE inside a configured kernel tree (found by walking up, or named by --kernel-source and
  --kernel-build, the O= folder) is assembled with the tree's headers and kbuild's flags for it.`;

interface AsmArgs {
  file: string;
  build: BuildOptions;
  listing: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): AsmArgs | string {
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

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The `--json` shape of issue 3. */
export function imageJson(image: Image | undefined, errors: string[]): unknown {
  const sections: Record<string, { address: string; bytes: string }> = {};
  const symbols: Record<string, string> = {};
  for (const s of image?.sections ?? []) sections[s.name] = { address: hex(s.address), bytes: Buffer.from(s.bytes).toString('hex') };
  for (const s of image?.symbols ?? []) symbols[s.name] = hex(s.address);
  const exTable = (image?.exTable ?? []).map((e) => ({ insn: hex(e.insn), fixup: hex(e.fixup), type: e.type }));
  return { sections, symbols, exTable, errors };
}

function summary(image: Image): string {
  const out: string[] = [];
  for (const s of image.sections) out.push(`section ${s.name.padEnd(20)} ${hex(s.address).padStart(18)}  ${s.bytes.length} bytes  ${s.exec ? 'x' : '-'}${s.write ? 'w' : '-'}`);
  for (const s of image.symbols) out.push(`symbol  ${s.name.padEnd(28)} ${hex(s.address).padStart(18)}  ${s.binding} ${s.type}${image.undefinedSymbols.includes(s.name) ? ' (undefined: stub)' : ''}`);
  for (const e of image.exTable) out.push(`extable ${hex(e.insn)} -> ${hex(e.fixup)} type ${e.type}`);
  return out.join('\n') + '\n';
}

/** Entry files up to this size are assembled without V8's optimising compiler (see below). */
const NO_OPT_MAX_BYTES = 1 << 20;

/**
 * `tdxdbg asm` assembles one file and exits: for a file of kernel size (a few thousand lines,
 * up to ~50,000) the assembler's code runs a few thousand times, and optimising it costs more
 * CPU than it saves — measured by `npm run bench` (the `tdxdbg asm` figure), the one-shot run
 * takes about half the time without it, and a 50,000-line file the same. Bigger inputs keep
 * the optimiser. Only this process is affected.
 */
function oneShotTiering(file: string): void {
  try {
    if (statSync(file).size <= NO_OPT_MAX_BYTES) setFlagsFromString('--no-opt');
  } catch {
    /* unreadable: buildImage reports it */
  }
}

/** Runs `tdxdbg asm` with the arguments after `asm`; resolves to the exit code. */
export async function asmCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(USAGE + '\n'); return 0; }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`tdxdbg asm: ${args}\n${USAGE}\n`);
    return 2;
  }
  oneShotTiering(args.file);
  let result;
  try {
    result = await buildImage(args.file, args.build);
  } catch (e) {
    // A bug of ours, not the user's input: say so plainly, without a stack trace.
    process.stderr.write(`${args.file}: internal error: ${(e as Error).message}\n`);
    return 1;
  }
  if (result.kernelTree) {
    const k = result.kernelTree;
    process.stderr.write(`${args.file}: note: kernel tree ${k.source} (build ${k.build}): the tree's headers and the flags of ${k.sibling ? `${k.sibling} (a sibling: this file's object has no .cmd yet)` : k.cmdFile}\n`);
  }
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  if (args.json) process.stdout.write(JSON.stringify(imageJson(errors.length ? undefined : result.image, errors), null, 2) + '\n');
  if (errors.length || !result.image) return 1;
  if (args.listing) process.stdout.write(formatListing(result.listing));
  else if (!args.json) process.stdout.write(summary(result.image));
  return 0;
}
