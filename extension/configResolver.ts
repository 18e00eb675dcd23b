// The one configuration resolver: F5 (with or without launch.json), "Debug Function at
// Cursor", the Debug and Fault matrix CodeLenses, Problems and hovers all ask it what to build
// and run for a file, so they agree. It takes the launch.json entry that debugs the function
// when there is one (else the build attributes of an entry for the same file), fills what is
// missing from the file itself (generation, the asm-offsets source and headers beside it, the
// struct argument), and makes every path absolute against the workspace folder. No VS Code
// API here (unit-tested); the emulator's loader is imported on first use.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ExecContext } from '../emulator/platform/config';
import type { Generation } from '../emulator/loader/headers/generation';
import { GENERATIONS } from '../emulator/loader/headers/generation';
import type { StructLayout } from '../emulator/loader/image';
import type { Diagnostic } from '../emulator/loader/diagnostics';
import { absolutizePaths, findCompanions, inferGeneration, substituteVariables, type FileAccess, type GenerationGuess } from '../emulator/session/resolveConfig';
import { findFunctions, functionAt } from './asmScan';
import { findKernelTree, generationOfTree } from '../emulator/loader/kbuildFlags';
import { DEBUG_TYPE } from './ids';
import { inProcess, type Builder } from './heavyWork';
import { configurationFor, type TdxDebugConfiguration } from './launchDefaults';

/** Attributes that shape the build (and so Problems and hovers): inherited from a launch.json entry of the same file. */
const BUILD_ATTRIBUTES = ['generation', 'includePaths', 'headers', 'asmOffsets', 'defines', 'context', 'toolchain', 'objects', 'kernelSource', 'kernelBuild'] as const;

export interface ResolveRequest {
  /** Absolute path of the file. */
  program: string;
  /** Its text (the editor's, saved or not). */
  text: string;
  /** The workspace folder holding it (relative paths are relative to it; else the file's folder). */
  folder?: string;
  /** The function to debug (CodeLens, command argument); else the one at `cursorLine`, else the launch.json entry's, else the first global one. */
  entry?: string;
  cursorLine?: number;
  /** The folder's launch.json configurations, as written (variables not substituted). */
  launch?: readonly unknown[];
  /** `tdx.generation` when the user set it (not its default). */
  settingGeneration?: Generation;
  /** Context guessed from the text (emulator/session's guessContext). */
  context: ExecContext;
  /** File access (tests); default: the disk. */
  fs?: FileAccess;
  /** Check the inferred generation by building (default true); hovers pass false to stay instant. */
  verify?: boolean;
  env?: Record<string, string | undefined>;
  home?: string;
}

export interface ResolvedLaunch {
  /** Ready to launch: absolute paths, `cwd`, the generation always set. */
  config: TdxDebugConfiguration & { cwd: string };
  /** `launch.json`: the entry debugging this function; `launch.json (file)`: an entry of the same file lent its build attributes; `inferred`: none. */
  origin: 'launch.json' | 'launch.json (file)' | 'inferred';
  /** The launch.json entry's name, when one was used. */
  launchName?: string;
  /** Where the generation came from. */
  generationFrom: 'launch.json' | 'setting' | 'inferred' | 'build';
  guess: GenerationGuess;
  /** What was filled in, one line each (`asmOffsets: asm-offsets.c beside the file`). */
  notes: string[];
}

const diskFs: FileAccess = { exists: (p) => existsSync(p) };

/** The tdx launch.json entries whose program is `program` (after variable substitution), in file order. */
export function launchEntriesFor(program: string, launch: readonly unknown[], vars: { folder?: string; home?: string; env?: Record<string, string | undefined> }): Record<string, unknown>[] {
  const base = vars.folder ?? dirname(program);
  const out: Record<string, unknown>[] = [];
  for (const raw of launch) {
    if (!raw || typeof raw !== 'object') continue;
    const c = raw as Record<string, unknown>;
    if (c.type !== DEBUG_TYPE || (c.request !== undefined && c.request !== 'launch')) continue;
    const sub = substituteVariables(c, { ...vars, file: program }) as Record<string, unknown>;
    // An entry without a program debugs the active file.
    const p = typeof sub.program === 'string' ? resolve(base, sub.program) : program;
    if (p === program) out.push(sub);
  }
  return out;
}

/** Resolves what to run for a function (or the file) — see the module comment. */
export async function resolveLaunch(req: ResolveRequest): Promise<ResolvedLaunch> {
  const folder = req.folder ?? dirname(req.program);
  const entries = launchEntriesFor(req.program, req.launch ?? [], { folder: req.folder, home: req.home, env: req.env });
  const fns = findFunctions(req.text);
  const wanted = req.entry ?? (req.cursorLine !== undefined ? functionAt(fns, req.cursorLine)?.name : undefined);
  const notes: string[] = [];
  let origin: ResolvedLaunch['origin'] = 'inferred';
  let launchName: string | undefined;
  let config: Record<string, unknown>;

  const firstGlobal = (fns.find((f) => f.global) ?? fns[0])?.name;
  // An entry without `entry` debugs the first global function.
  const exact = entries.find((c) => wanted === undefined || c.entry === wanted || (c.entry === undefined && wanted === firstGlobal));
  if (exact) {
    origin = 'launch.json';
    launchName = typeof exact.name === 'string' ? exact.name : undefined;
    config = { ...exact, program: req.program };
  } else {
    const fn = (wanted !== undefined ? fns.find((f) => f.name === wanted) : undefined) ?? fns.find((f) => f.global) ?? fns[0];
    const entry = wanted ?? fn?.name;
    config = entry !== undefined
      ? { ...configurationFor(req.program, req.text, req.context, entry, fn?.line, fn?.endLine) }
      : { type: DEBUG_TYPE, request: 'launch', name: `TDX: ${req.program.split(/[\\/]/).pop()}`, program: req.program, context: req.context };
    const lender = entries[0];
    if (lender) {
      origin = 'launch.json (file)';
      launchName = typeof lender.name === 'string' ? lender.name : undefined;
      for (const k of BUILD_ATTRIBUTES) if (lender[k] !== undefined) config[k] = lender[k];
    }
  }
  const done = await completeConfig(config, { ...req, folder });
  notes.push(...done.notes);
  return { config: done.config as unknown as ResolvedLaunch['config'], origin, launchName, generationFrom: done.generationFrom, guess: done.guess, notes };
}

export interface CompleteOptions {
  /** The program's text (the editor's). */
  text: string;
  /** Base of relative paths: the workspace folder (else the file's folder). */
  folder?: string;
  settingGeneration?: Generation;
  fs?: FileAccess;
  verify?: boolean;
}

/**
 * Fills what a configuration leaves out (see the module comment): absolute paths and `cwd`,
 * the asm-offsets source and headers beside the file, and the generation (the configuration's,
 * else the `tdx.generation` setting, else inferred and, with `verify`, checked by building).
 * What the configuration says is never changed.
 */
export async function completeConfig(input: Record<string, unknown>, opts: CompleteOptions): Promise<{ config: Record<string, unknown> & { cwd: string }; generationFrom: ResolvedLaunch['generationFrom']; guess: GenerationGuess; notes: string[] }> {
  const fs = opts.fs ?? diskFs;
  const program = typeof input.program === 'string' ? input.program : '';
  const folder = opts.folder ?? dirname(resolve(typeof input.cwd === 'string' ? input.cwd : '.', program));
  const req = { ...opts, program: resolve(folder, program) };
  const notes: string[] = [];
  let config: Record<string, unknown> = input;
  config = absolutizePaths(config, folder, fs);

  // A .S of a configured kernel tree (found by walking up; on disk only): the built-in assembler
  // takes the tree's headers and kbuild's flags, and the tree's version names the generation.
  const tree = !opts.fs && isBuiltIn(config) ? findKernelTree(req.program) : undefined;
  if (tree) notes.push(`kernel tree: ${tree.source} (build ${tree.build}): the tree's headers and kbuild's flags for the file`);
  const treeGeneration = tree ? generationOfTree(tree.source) : undefined;

  // Companions beside the file (never in kernel-tree mode: the kernel's build has its own).
  if (config.kernelSource === undefined && config.toolchain === undefined && !tree) {
    const comp = findCompanions(req.program, req.text, fs, opts.folder);
    if (config.asmOffsets === undefined && comp.asmOffsets) {
      config.asmOffsets = comp.asmOffsets;
      notes.push(`asmOffsets: ${rel(comp.asmOffsets, folder)} (beside the file)`);
    }
    if (config.headers === undefined && comp.headers.length) {
      config.headers = comp.headers;
      notes.push(`headers: ${comp.headers.map((h) => rel(h, folder)).join(', ')} (included by the file)`);
    }
  }

  let structs: ReadonlyMap<string, StructLayout> | undefined;
  if (typeof config.asmOffsets === 'string' && config.generation === undefined && req.settingGeneration === undefined) structs = await offsetStructs(config);
  const guess = inferGeneration(req.text, structs);
  let generationFrom: ResolvedLaunch['generationFrom'];
  if (config.generation !== undefined) generationFrom = 'launch.json';
  else if (req.settingGeneration !== undefined) { config.generation = req.settingGeneration; generationFrom = 'setting'; }
  else if (treeGeneration) {
    config.generation = treeGeneration;
    generationFrom = 'inferred';
    notes.push(`generation: ${treeGeneration} (the kernel tree's version, docs/kernel-generations.md)`);
  } else {
    config.generation = guess.generation;
    generationFrom = 'inferred';
    if (req.verify !== false && isBuiltIn(config)) {
      const working = await firstBuilding(req.program, req.text, config, [...guess.candidates, ...[...GENERATIONS].reverse().filter((g) => !guess.candidates.includes(g))]);
      if (working && working !== guess.generation) {
        config.generation = working;
        generationFrom = 'build';
      }
    }
    notes.push(`generation: ${config.generation} (${generationFrom === 'build' ? `the first generation the file assembles with; the names suggested ${guess.generation}` : guess.reasons.join('; ')})`);
  }
  return { config: config as Record<string, unknown> & { cwd: string }, generationFrom, guess, notes };
}

function rel(p: string, folder: string): string {
  return p.startsWith(folder + '/') ? p.slice(folder.length + 1) : p;
}

/** Whether the built-in assembler builds the program (not the user's toolchain or the kernel's make). */
export function isBuiltIn(config: Record<string, unknown>): boolean {
  return config.toolchain === undefined && config.kernelSource === undefined && !(Array.isArray(config.objects) && config.objects.length)
    && typeof config.program === 'string' && /\.(S|s|sx)$/.test(config.program);
}

/** The build options of a configuration (the launch attributes the built-in assembler reads). */
export function buildOptionsOf(cfg: object, text?: string): {
  includePaths?: string[]; headers?: string[]; asmOffsets?: string; generation?: Generation; defines?: Record<string, string>; text?: string;
  kernelTreeFrom?: 'discover';
} {
  const config = cfg as Record<string, unknown>;
  const d = config.defines as Record<string, unknown> | undefined;
  return {
    includePaths: config.includePaths as string[] | undefined,
    headers: config.headers as string[] | undefined,
    asmOffsets: config.asmOffsets as string | undefined,
    generation: config.generation as Generation | undefined,
    defines: d ? Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v === true ? '1' : v === false ? '0' : String(v)])) : undefined,
    text,
    // As a launch builds it: a file of a configured kernel tree with the tree's flags.
    kernelTreeFrom: 'discover',
  };
}

/** Where this module's builds run: the extension sets its worker (heavyWork.ts); tests run them here. */
let builder: Builder = inProcess;
export function useBuilder(b: Builder): void {
  builder = b;
}

async function offsetStructs(config: Record<string, unknown>): Promise<ReadonlyMap<string, StructLayout> | undefined> {
  const o = buildOptionsOf(config);
  return builder.offsetStructs(config.asmOffsets as string, { includePaths: o.includePaths ?? [], defines: o.defines, generation: 'G5' });
}

/** The first generation of `order` the program assembles with (undefined: none). */
async function firstBuilding(program: string, text: string, config: Record<string, unknown>, order: Generation[]): Promise<Generation | undefined> {
  for (const g of order) {
    const r = await builder.build(program, { ...buildOptionsOf(config, text), generation: g });
    if (!r.diagnostics.some((d) => d.severity === 'error')) return g;
  }
  return undefined;
}

/** What a failed build needs, as a launch attribute to set (the quick fix writes it). */
export interface BuildFix {
  /** One sentence: which attribute fixes it and why. */
  message: string;
  /** Attributes to write into the launch.json entry. */
  attributes: Record<string, unknown>;
}

/**
 * After a failed build: the attribute that makes it assemble — another generation, or the
 * asm-offsets source beside the file — found by building; else the names that stay undefined
 * and which attributes could define them.
 */
export async function suggestFix(program: string, text: string, config: object, diagnostics: readonly Diagnostic[], fs: FileAccess = diskFs, folder?: string): Promise<BuildFix> {
  const current = config as Record<string, unknown>;
  const errorsOf = async (c: Record<string, unknown>) => (await builder.build(program, buildOptionsOf(c, text))).diagnostics.filter((d) => d.severity === 'error').length;
  const undefinedNames = [...new Set(diagnostics.map((d) => /undefined symbol '([^']+)'/.exec(d.message)?.[1]).filter((x): x is string => !!x))];
  const comp = findCompanions(program, text, fs, folder);
  if (comp.asmOffsets && current.asmOffsets !== comp.asmOffsets) {
    const c = { ...current, asmOffsets: comp.asmOffsets };
    if (await errorsOf(c) === 0) return { message: `"asmOffsets": "${rel(comp.asmOffsets, folder ?? dirname(program))}" fixes it (it defines ${undefinedNames.slice(0, 3).join(', ') || 'the names the file uses'})`, attributes: { asmOffsets: comp.asmOffsets } };
  }
  const guess = inferGeneration(text);
  for (const g of [...guess.candidates, ...[...GENERATIONS].reverse().filter((x) => !guess.candidates.includes(x))]) {
    if (g === current.generation) continue;
    if (await errorsOf({ ...current, generation: g }) === 0) return { message: `"generation": "${g}" fixes it (the file uses that kernel generation's names${undefinedNames.length ? `: ${undefinedNames.slice(0, 3).join(', ')}` : ''})`, attributes: { generation: g } };
  }
  const offsets = undefinedNames.filter((n) => /^TDX_(HYPERCALL|MODULE)_/.test(n));
  const other = undefinedNames.filter((n) => !offsets.includes(n));
  const parts: string[] = [];
  if (offsets.length) parts.push(`${offsets.slice(0, 3).join(', ')} are asm-offsets names: set "asmOffsets" to the asm-offsets.c that defines them (OFFSET(${offsets[0]}, struct, member))`);
  if (other.length) parts.push(`${other.slice(0, 3).join(', ')}: add the folder of the header that defines ${other.length > 1 ? 'them' : 'it'} to "includePaths", or define ${other.length > 1 ? 'them' : 'it'} in "defines"`);
  if (!parts.length) parts.push('no launch attribute makes it assemble: fix the errors in Problems');
  return { message: parts.join('; '), attributes: {} };
}

/** One line saying which configuration ran (the matrix document, the Debug Console). */
export function describeResolved(r: ResolvedLaunch): string {
  const c = r.config as unknown as Record<string, unknown>;
  const args = Array.isArray(c.args) ? ` args ${JSON.stringify(c.args)}` : '';
  const from = r.origin === 'launch.json' ? `launch.json "${r.launchName}"` : r.origin === 'launch.json (file)' ? `inferred, with the build attributes of launch.json "${r.launchName}"` : 'inferred from the file (no launch.json entry for this function)';
  return `${from}; context ${String(c.context ?? 'from the file')}, generation ${String(c.generation)}${args}`;
}
