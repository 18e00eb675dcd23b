// The TDX catalogue is the only home of TDX numbers: no source outside its files writes a
// status, sub-function, metadata field id or a named leaf/sub-function/status constant as a
// literal; every catalogued TDG.VP.VMCALL sub-function has a VMM behaviour; the built-in headers
// define exactly what the catalogue's tags say.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  DEFAULT_TD_METADATA, SEAMCALL_LEAVES, SEAMLDR_LEAVES, TDCALL_LEAVES, TDVMCALL_STATUS_CODES, TDVMCALL_SUBFUNCTIONS, TDX_STATUS_CODES,
} from '../../emulator/tdx';
import { TDX_ABI_CONSTANTS } from '../../emulator/tdx/abiConstants';
import { VMX_EXIT_REASON_LIST } from '../../emulator/tdx/vmcalls';
import { hasBehaviour } from '../../emulator/tdx/vmmBehaviours';
import { kernelHeaderDefines } from '../../emulator/tdx/headerDefines';
import { GENERATIONS, definedIn } from '../../emulator/tdx/generation';
import { builtinHeaders } from '../../emulator/loader/headers';

const ROOT = join(__dirname, '..', '..', '..');
/** The catalogue's files: the only ones allowed to write TDX numbers. */
const CATALOGUE = new Set([
  'emulator/tdx/leaves.ts', 'emulator/tdx/statusCatalog.ts', 'emulator/tdx/vmcalls.ts', 'emulator/tdx/moduleStatusTable.ts',
  'emulator/tdx/abiConstants.ts', 'emulator/tdx/moduleConfig.ts',
]);

function* sources(dir: string): Generator<string> {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function projectSources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const top of ['emulator', 'debug-adapter', 'extension', 'cli']) {
    for (const p of sources(join(ROOT, top))) {
      const file = relative(ROOT, p).split('\\').join('/');
      if (!CATALOGUE.has(file)) out.push({ file, text: readFileSync(p, 'utf8') });
    }
  }
  return out;
}

/**
 * Values distinctive enough that a literal equal to one is a copy: every catalogued status
 * (and the kernel's alternative values), TDVMCALL status, sub-function and metadata field id
 * of at least 0x10000 that is not a single bit (bit 63 or 0x10000 alone mean many things).
 */
function distinctiveValues(): Map<bigint, string> {
  const m = new Map<bigint, string>();
  const add = (v: bigint, name: string) => {
    if (v >= 0x10000n && (v & (v - 1n)) !== 0n && !m.has(v)) m.set(v, name);
  };
  for (const c of TDX_STATUS_CODES) [c.value, ...(c.alternativeValues ?? [])].forEach((v) => add(v, c.name));
  for (const c of TDVMCALL_STATUS_CODES) add(c.value, c.name);
  for (const f of TDVMCALL_SUBFUNCTIONS) add(f.value, f.name);
  for (const f of DEFAULT_TD_METADATA) add(BigInt(f.fieldId), f.name ?? 'a metadata field id');
  return m;
}

/** Every kernel macro name the catalogue defines. */
function catalogueNames(): Set<string> {
  return new Set([
    ...[...TDCALL_LEAVES, ...SEAMCALL_LEAVES, ...SEAMLDR_LEAVES].flatMap((l) => [l.symbol, ...(l.kernelNames ?? [])]),
    ...TDVMCALL_SUBFUNCTIONS.map((f) => f.name), ...TDX_STATUS_CODES.map((c) => c.name), ...TDVMCALL_STATUS_CODES.map((c) => c.name),
    ...TDX_ABI_CONSTANTS.map((c) => c.name), ...VMX_EXIT_REASON_LIST.map((e) => e.name),
  ]);
}

const LITERAL = /\b(0x[0-9a-f][0-9a-f_]*|[0-9][0-9_]*)n?\b/gi;

/** Every place in `text` where a catalogued value or a catalogue name bound to a literal is written. */
export function tdxNumbersIn(text: string, values: Map<bigint, string>, names: Set<string>): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(LITERAL)) {
      const v = BigInt(m[1].replace(/_/g, ''));
      if (values.has(v)) hits.push(`line ${i + 1}: ${m[0]} is ${values.get(v)}`);
    }
    // `const TDVMCALL_MAP_GPA = 0x10001n`, `['TDH_SYS_INIT', 33]`, `EXIT_REASON_HLT: 12` (code, not comments)
    const code = /^\s*(\*|\/\*|\/\/)/.test(line) ? '' : line.replace(/\/\/.*$/, '');
    for (const m of code.matchAll(/\b([A-Z][A-Z0-9_]+)\b(?:\s*(?::\s*[\w<>[\] ]+)?\s*[=:]|['"]\s*,)\s*['"]?(0x[0-9a-f_]+|[0-9][0-9_]*)n?\b/g)) {
      if (names.has(m[1])) hits.push(`line ${i + 1}: ${m[1]} written as ${m[2]}`);
    }
  });
  return hits;
}

test('no TDX number is written outside the catalogue', () => {
  const values = distinctiveValues();
  const names = catalogueNames();
  const hits = projectSources().flatMap(({ file, text }) => tdxNumbersIn(text, values, names).map((h) => `${file} ${h}`));
  assert.deepEqual(hits, []);
});

test('the scan finds a re-declared TDX number (it can fail)', () => {
  const values = distinctiveValues();
  const names = catalogueNames();
  assert.equal(tdxNumbersIn('const TDVMCALL_MAP_GPA = 0x10001n;', values, names).length, 2);
  assert.equal(tdxNumbersIn('const EXIT_REASON_HLT = 12n;', values, names).length, 1);
  assert.equal(tdxNumbersIn("  ['TDH_SYS_INIT', 33],", values, names).length, 1);
  assert.equal(tdxNumbersIn('if (rax === 0xC000_0100_0000_0000n) return;', values, names).length, 1);
  assert.deepEqual(tdxNumbersIn('const mask = 0xffff_ffffn; const x = 1n << 63n;', values, names), []);
});

test('every catalogued TDG.VP.VMCALL sub-function has a VMM behaviour', () => {
  assert.deepEqual(TDVMCALL_SUBFUNCTIONS.filter((f) => !hasBehaviour(f)).map((f) => f.name), []);
});

test('the built-in headers define what the catalogue tags say, per generation', () => {
  for (const g of GENERATIONS) {
    const h = builtinHeaders(g);
    const text = [h.get('asm/tdx.h'), h.get('asm/shared/tdx.h'), h.get('uapi/asm/vmx.h'), ...(g === 'G5' ? [h.get('asm/shared/tdx_errno.h')] : [])].join('\n');
    for (const f of TDVMCALL_SUBFUNCTIONS) {
      for (const d of f.headers ?? []) {
        const has = new RegExp(`^#define ${d.name ?? f.name} `, 'm').test(text);
        assert.equal(has, definedIn(d, g), `${g}: ${f.name} in ${d.header}`);
      }
    }
    // Spot checks quoted from the kernel: Linux 6.1 (G1) has TDX_GET_INFO 1 and no GET_QUOTE;
    // Linux 6.12 (G4) has TDG_VP_INFO 1 and TDVMCALL_GET_QUOTE 0x10002.
    if (g === 'G1') {
      assert.match(text, /^#define TDX_GET_INFO 1$/m);
      assert.doesNotMatch(text, /TDVMCALL_GET_QUOTE/);
    }
    if (g === 'G4') {
      assert.match(text, /^#define TDG_VP_INFO 1$/m);
      assert.match(text, /^#define TDVMCALL_GET_QUOTE 0x10002$/m);
      assert.match(text, /^#define TDH_SYS_INIT 33$/m);
    }
  }
  assert.ok(kernelHeaderDefines('uapi/asm/vmx.h', 'G0').some(([n, v]) => n === 'EXIT_REASON_EPT_VIOLATION' && v === '48'));
});
