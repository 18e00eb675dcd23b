// `tdxdbg run`: loads a program, calls the entry function with SysV arguments on the chosen
// platform, runs to return or stop, and prints the call trace, the stop and the final state —
// as text, or as one JSON object (`--json`). Exit 0 when the entry returned, 1 otherwise, 2 for
// bad usage.

import { readFileSync, existsSync } from 'node:fs';
import { formatDiagnostic, LoadError } from '../emulator/loader/diagnostics';
import { GENERATIONS, type Generation } from '../emulator/loader/headers/generation';
import { Session, type SessionStop } from '../emulator/session/session';
import { ConfigError, type ArgSpec, type LaunchConfig } from '../emulator/session/config';
import { parsePlatformKnob, type PlatformKnobs } from '../emulator/platform/config';
import { callInputs, callOutputs, formatCallLine } from '../emulator/platform/format';
import { parseVmmOption } from './vmmOption';
import type { VmmConfig } from '../emulator/tdx/vmm';
import type { FieldLayout } from '../emulator/loader/image';
import { GPR_NAMES } from '../emulator/cpu/cpu';
import { AbiMonitor, checkAsmOffsets } from '../emulator/matrix/abi';
import type { StubSpec } from '../emulator/platform/stubs';
import type { DataSpec } from '../emulator/session/kernelData';

export const RUN_USAGE = `usage: tdxdbg run FILE --entry SYMBOL [--context guest|host|none] [--generation G0..G5]
          [-I DIR]... [-D NAME[=VALUE]]... [--header FILE]... [--asm-offsets FILE]
          [--arg VALUE | --struct NAME:field=value,...]... [--platform key=value]...
          [--buffer SIZE[@ALIGN]]... [--object FILE]... [--before FUNCTION]...
          [--vmm OPTION]... [--fault RULE]... [--stub NAME=VALUE|NAME=JSON]... [--max-instructions N] [--call-history N]
          [--data NAME[@CPUS]=VALUE|NAME.field=VALUE|NAME=JSON]... [--cpus N]
          [--kernel-source DIR --kernel-build DIR] [--config launch.json[#name]] [--json]`;

export class UsageError extends Error {}

/** What the repeatable `run` options collect before they are merged over `--config`. */
interface RunArgLists {
  args: ArgSpec[];
  includePaths: string[]; headers: string[]; faults: string[]; objects: string[]; before: string[];
  defines: Record<string, string>;
  platform: PlatformKnobs;
  vmm: VmmConfig;
  stubs: Record<string, StubSpec>;
  data: Record<string, DataSpec>;
}

/** Parses `run`-style arguments into a launch configuration (CLI flags override `--config`). */
export function parseRunArgs(argv: string[], command = 'run'): { config: LaunchConfig; json: boolean; extra: Map<string, string> } {
  let base: Partial<LaunchConfig> = {};
  const cfg: Partial<LaunchConfig> = {};
  const lists: RunArgLists = {
    args: [], includePaths: [], headers: [], faults: [], objects: [], before: [],
    defines: {}, platform: {}, vmm: {}, stubs: {}, data: {},
  };
  const extra = new Map<string, string>();
  let json = false, file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      if (flag.length > 2 && /^-[ID]/.test(flag)) return flag.slice(2);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const name = /^-[ID]./.test(flag) ? flag.slice(0, 2) : flag;
    switch (name) {
      case '--json': json = true; break;
      case '--config': base = readConfig(value()); break;
      case '--budget': case '--expect': extra.set(name, value()); break;
      case '--progress': case '--no-progress': extra.set(name, '1'); break;
      default:
        if (applyRunOption(name, value, cfg, lists)) break;
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' (see 'tdxdbg ${command} --help')`);
        if (file) throw new UsageError(`one FILE only: got '${file}' and '${a}'`);
        file = a;
    }
  }
  return { config: mergeRunConfig(base, cfg, lists, file), json, extra };
}

/** Applies one launch-configuration option to `cfg` or `lists`; false when `name` is not one. */
function applyRunOption(name: string, value: () => string, cfg: Partial<LaunchConfig>, lists: RunArgLists): boolean {
  switch (name) {
    case '--entry': cfg.entry = value(); break;
    case '--context': cfg.context = parseContextOption(value()); break;
    case '--generation': cfg.generation = parseGenerationOption(value()); break;
    case '-I': lists.includePaths.push(value()); break;
    case '-D': parseDefineOption(value(), lists.defines); break;
    case '--header': lists.headers.push(value()); break;
    case '--asm-offsets': cfg.asmOffsets = value(); break;
    case '--kernel-source': cfg.kernelSource = value(); break;
    case '--kernel-build': cfg.kernelBuild = value(); break;
    case '--arg': {
      const v = value();
      lists.args.push(/^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v);
      break;
    }
    case '--struct': lists.args.push(parseStructArg(value())); break;
    case '--platform': {
      try { parsePlatformKnob(value(), lists.platform); } catch (e) { throw new UsageError((e as Error).message); }
      break;
    }
    case '--vmm': {
      try { parseVmmOption(value(), lists.vmm); } catch (e) { throw new UsageError((e as Error).message); }
      break;
    }
    case '--fault': lists.faults.push(value()); break;
    case '--stub': parseStubOption(value(), lists.stubs); break;
    case '--data': parseDataOption(value(), lists.data); break;
    case '--cpus': {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`--cpus needs a positive integer (got '${v}')`);
      cfg.cpus = Number(v);
      break;
    }
    case '--object': lists.objects.push(value()); break;
    case '--before': lists.before.push(value()); break;
    case '--buffer': lists.args.push(parseBufferOption(value())); break;
    case '--max-instructions': cfg.maxInstructions = positiveCount('--max-instructions', value()); break;
    case '--call-history': cfg.callHistory = positiveCount('--call-history', value()); break;
    case '--seed': {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`--seed needs an integer (got '${v}')`);
      cfg.seed = Number(v);
      break;
    }
    default: return false;
  }
  return true;
}

function parseContextOption(v: string): LaunchConfig['context'] {
  if (!['guest', 'host', 'none'].includes(v)) throw new UsageError(`--context must be guest, host or none (got '${v}')`);
  return v as LaunchConfig['context'];
}

function parseGenerationOption(value: string): Generation {
  const v = value.toUpperCase();
  if (!(GENERATIONS as readonly string[]).includes(v)) throw new UsageError(`--generation must be one of ${GENERATIONS.join(', ')} (got '${v}')`);
  return v as Generation;
}

/** `-D NAME[=VALUE]` into `defines` (a bare NAME is 1). */
function parseDefineOption(v: string, defines: Record<string, string>): void {
  const k = v.indexOf('=');
  const key = k < 0 ? v : v.slice(0, k);
  if (!/^[A-Za-z_]\w*$/.test(key)) throw new UsageError(`-D '${v}': '${key}' is not a macro name`);
  defines[key] = k < 0 ? '1' : v.slice(k + 1);
}

/** `--stub NAME=VALUE|NAME=JSON` into `stubs`. */
function parseStubOption(v: string, stubs: Record<string, StubSpec>): void {
  const k = v.indexOf('=');
  if (k <= 0) throw new UsageError(`--stub '${v}': expected NAME=VALUE`);
  const body = v.slice(k + 1);
  stubs[v.slice(0, k)] = /^\s*\{/.test(body) ? parseJson(body, `--stub ${v.slice(0, k)}`) as StubSpec : body;
}

/** `--data NAME=VALUE|NAME.field=VALUE|NAME=JSON` into `data` (fields of one NAME accumulate). */
function parseDataOption(v: string, data: Record<string, DataSpec>): void {
  const k = v.indexOf('=');
  if (k <= 0) throw new UsageError(`--data '${v}': expected NAME=VALUE, NAME.field=VALUE or NAME=JSON`);
  const key = v.slice(0, k), body = v.slice(k + 1);
  const dot = key.indexOf('.');
  if (dot > 0) {
    const sym = key.slice(0, dot);
    const prev = data[sym];
    const init = typeof prev === 'object' && !Array.isArray(prev) ? prev : {};
    data[sym] = { ...init, [key.slice(dot + 1)]: body };
  } else data[key] = /^\s*[[{]/.test(body) ? parseJson(body, `--data ${key}`) as DataSpec : body;
}

/** `--buffer SIZE[@ALIGN]` → a buffer argument. */
function parseBufferOption(v: string): ArgSpec {
  const m = /^(\d+|0x[0-9a-f]+)(?:@(\d+|0x[0-9a-f]+))?$/i.exec(v);
  if (!m) throw new UsageError(`--buffer '${v}': expected SIZE or SIZE@ALIGN (e.g. 1024@1024)`);
  return { buffer: Number(m[1]), ...(m[2] ? { align: Number(m[2]) } : {}) };
}

function positiveCount(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new UsageError(`${flag} needs a positive integer (got '${v}')`);
  return Number(v);
}

/** The command line over `--config`: scalars replace, lists append, maps merge key by key. */
function mergeRunConfig(base: Partial<LaunchConfig>, cfg: Partial<LaunchConfig>, lists: RunArgLists, file: string | undefined): LaunchConfig {
  const config: LaunchConfig = { ...base, ...cfg, program: file ?? base.program ?? '' } as LaunchConfig;
  if (!config.program) throw new UsageError('no FILE given');
  const { args, includePaths, headers, faults, defines, platform, vmm, stubs, data, objects, before } = lists;
  if (args.length) config.args = args;
  if (includePaths.length) config.includePaths = [...(base.includePaths ?? []), ...includePaths];
  if (headers.length) config.headers = [...(base.headers ?? []), ...headers];
  if (faults.length) config.faults = [...(base.faults ?? []), ...faults];
  if (Object.keys(defines).length) config.defines = { ...(base.defines ?? {}), ...defines };
  if (Object.keys(platform).length) config.platform = { ...(base.platform ?? {}), ...platform };
  if (Object.keys(vmm).length) config.vmm = { ...(base.vmm ?? {}), ...vmm };
  if (Object.keys(stubs).length) config.stubs = { ...(base.stubs ?? {}), ...stubs };
  if (Object.keys(data).length) config.data = { ...(base.data ?? {}), ...data };
  if (objects.length) config.objects = [...(base.objects ?? []), ...objects];
  if (before.length) config.before = [...(base.before ?? []), ...before];
  return config;
}

function parseJson(text: string, what: string): unknown {
  try { return JSON.parse(text); } catch (e) { throw new UsageError(`${what}: not valid JSON (${(e as Error).message})`); }
}

/** `NAME:field=value,field=value` → a struct argument. */
function parseStructArg(text: string): ArgSpec {
  const m = /^(?:struct\s+)?([A-Za-z_]\w*)(?::(.*))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--struct '${text}': expected NAME:field=value,...`);
  const init: Record<string, string> = {};
  for (const part of (m[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const k = part.indexOf('=');
    if (k <= 0) throw new UsageError(`--struct '${text}': '${part}' is not field=value`);
    init[part.slice(0, k).trim()] = part.slice(k + 1).trim();
  }
  return { struct: m[1], init };
}

/** Reads a launch configuration, or a VS Code launch.json and its first `tdx` configuration (or `#name`). */
function readConfig(spec: string): Partial<LaunchConfig> {
  const [path, name] = spec.split('#');
  if (!existsSync(path)) throw new UsageError(`--config: no such file '${path}'`);
  let json: unknown;
  try {
    // launch.json allows comments and trailing commas.
    const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:"'])\/\/.*$/gm, '$1').replace(/,(\s*[}\]])/g, '$1');
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  const obj = json as { configurations?: Record<string, unknown>[] } & Record<string, unknown>;
  if (Array.isArray(obj.configurations)) {
    const list = obj.configurations.filter((c) => c.type === 'tdx');
    const pick = name ? list.find((c) => c.name === name) : list[0];
    if (!pick) throw new UsageError(`--config ${path}: no configuration of type "tdx"${name ? ` named '${name}'` : ''}`);
    const { type: _t, request: _r, name: _n, ...rest } = pick;
    return rest as Partial<LaunchConfig>;
  }
  const { type: _t, request: _r, name: _n, ...rest } = obj;
  return rest as Partial<LaunchConfig>;
}

const hex = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

/** Fields of a struct argument as `name → 0x…` (nested members with dotted names). */
export function structValues(s: Session, layout: { fields: FieldLayout[] }, address: bigint, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of layout.fields) {
    const name = prefix + (f.name || '');
    if (f.fields) { Object.assign(out, structValues(s, { fields: f.fields }, address, f.name ? `${name}.` : prefix)); continue; }
    const size = Math.min(f.size, 8);
    let v = 0n;
    const bytes = s.machine.readBytes(address + BigInt(f.offset), size);
    for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[b]);
    if (f.bitWidth !== undefined) v = (v >> BigInt(f.bitOffset ?? 0)) & ((1n << BigInt(f.bitWidth)) - 1n);
    out[name] = hex(v);
  }
  return out;
}

/** The JSON object of `run --json`. */
export function runJson(s: Session, stop: SessionStop): unknown {
  const registers: Record<string, string> = {};
  for (const r of [...GPR_NAMES, 'rip', 'rflags']) registers[r] = hex(s.machine.getReg(r));
  const structs: Record<string, Record<string, string>> = {};
  for (const a of s.structArgs) structs[a.name] = structValues(s, a.layout, a.address);
  return {
    stop: { reason: stop.reason, ...(stop.vector !== undefined ? { vector: stop.vector } : {}), message: stop.message, address: hex(stop.address) },
    registers,
    structs,
    calls: s.calls.map((c) => ({
      seq: c.seq, insn: c.insn, leaf: c.leaf ?? `leaf ${c.leafNumber}`, ...(c.subfunction ? { subfunction: c.subfunction } : {}),
      site: c.site ?? hex(c.address),
      ...(c.status !== undefined ? { status: hex(c.status), statusName: c.statusName ?? null } : {}),
      ...(c.vmcallStatus !== undefined ? { r10: hex(c.vmcallStatus), r10Name: c.vmcallStatusName ?? null } : {}),
      ...(c.fault ? { fault: c.fault } : {}),
      ...(c.faultDetail ?? c.detail ? { detail: c.faultDetail ?? c.detail } : {}),
      injected: c.injected,
      ...(c.hypercallNr !== undefined ? { hypercallNr: hex(c.hypercallNr) } : {}),
      ...(c.vmmAdded ? { vmmAdded: { gpa: hex(c.vmmAdded.gpa), size: c.vmmAdded.size } } : {}),
      inputs: callInputs(c).map((r) => ({ reg: r.reg, role: r.role, value: hex(r.value) })),
      outputs: callOutputs(c).map((r) => ({ reg: r.reg, role: r.role, value: hex(r.value) })),
    })),
    ...(s.platform.calls.dropped ? { callsDropped: { count: s.platform.calls.dropped, byTitle: Object.fromEntries(s.platform.calls.droppedCounts().map((d) => [d.key, d.count])) } } : {}),
    output: s.notes.filter((n) => n.kind === 'log' || n.kind === 'fixup' || n.kind === 'stub').map((n) => (n.kind === 'fixup' ? n.message : n.kind === 'log' ? `[${n.level}] ${n.text}` : `${n.name}: ${n.text}`)),
    instructions: s.machine.instructionCount,
  };
}

/** The text report of `run`. */
export function runText(s: Session, stop: SessionStop): string {
  const lines: string[] = [];
  lines.push(`${s.context} context, entry ${s.describe(s.entry.address)}`);
  const dropped = s.platform.calls.dropped;
  if (dropped) lines.push(`  ${dropped} older calls dropped (the ${s.calls.length} most recent are kept; --call-history keeps more): ${s.platform.calls.droppedCounts().map((d) => `${d.count} × ${d.key}`).join(', ')}`);
  for (const c of s.calls) lines.push('  ' + formatCallLine(c));
  for (const n of s.notes) {
    if (n.kind === 'fixup') lines.push(`  ${n.message}`);
    if (n.kind === 'log') lines.push(`  printk [${n.level}] ${n.text}`);
    if (n.kind === 'stub') lines.push(`  ${n.name}: ${n.text}`);
  }
  lines.push(`stop: ${stop.reason} — ${stop.message} (${s.machine.instructionCount} instructions)`);
  const regs = [...GPR_NAMES, 'rip', 'rflags'].map((r) => `${r.padStart(6)}=${hex(s.machine.getReg(r)).padEnd(18)}`);
  for (let k = 0; k < regs.length; k += 3) lines.push('  ' + regs.slice(k, k + 3).join(' ').trimEnd());
  for (const a of s.structArgs) {
    lines.push(`${a.name}: struct ${a.layout.name} @ ${hex(a.address)}`);
    const v = structValues(s, a.layout, a.address);
    const cells = Object.entries(v).map(([k, x]) => `${k}=${x}`);
    for (let k = 0; k < cells.length; k += 4) lines.push('  ' + cells.slice(k, k + 4).join('  '));
  }
  return lines.join('\n');
}

/** Loads a session, printing a one-line error for bad configuration and diagnostics for a bad program. */
export async function loadSession(config: LaunchConfig): Promise<Session | number> {
  try {
    return await Session.create(config);
  } catch (e) {
    if (e instanceof ConfigError) { process.stderr.write(`tdxdbg: ${e.message}\n`); return 2; }
    if (e instanceof LoadError) {
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      return 1;
    }
    throw e;
  }
}

export async function runCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(RUN_USAGE + '\n'); return 0; }
  let parsed;
  try { parsed = parseRunArgs(argv); } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tdxdbg run: ${e.message}\n${RUN_USAGE}\n`); return 2; }
    throw e;
  }
  const s = await loadSession(parsed.config);
  if (typeof s === 'number') return s;
  // One run, watched by the ABI checks (emulator/matrix/abi.ts): the callee-saved registers
  // start with recognisable values, as a caller's would be, and are checked at the return.
  const mon = new AbiMonitor(s);
  mon.plant();
  mon.begin();
  const stop = mon.run();
  mon.end();
  const report = parsed.json ? runJson(s, stop) : runText(s, stop);
  const abi = [...checkAsmOffsets(s), ...mon.findings].map((f) => ({ check: f.check, message: f.message }));
  process.stdout.write((parsed.json ? JSON.stringify({ ...(report as object), abi }, null, 2)
    : `${report as string}\nABI checks: ${abi.length ? abi.map((f) => `\n  [${f.check}] ${f.message}`).join('') : 'no findings'}`) + '\n');
  return stop.reason === 'returned' ? 0 : 1;
}
