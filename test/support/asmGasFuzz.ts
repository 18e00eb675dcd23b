// A differential fuzzer of the assembler's directives and expressions against GNU as: seeded
// random sources of data, fill, space, alignment, LEB128, .org, .rept and symbol assignments,
// with values at the edges of every field and every expression operator, are assembled by GNU
// as (run here) and by us. The sources refer to no label except in differences, so the object
// GNU as writes holds the final bytes (no relocations). For each source:
//   - GNU as makes an object  → ours makes an Image, every section byte-identical;
//   - GNU as fails            → ours fails too (an error, never an Image);
//   - never an internal error.
// The gaps refused by name (a LEB128 of a value known only after layout, a `.sleb128` below
// -2^63 in gas's 65-bit arithmetic, a size or alignment over the assembler's bounds) count as
// gaps where GNU as accepts: never as a difference in bytes, and only with their own message.
//
//   node out/test/support/asmGasFuzz.js [--seed=N] [--cases=N]    (CI: thousands of cases)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleText } from '../../emulator/loader/assembler';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { readElfSections } from '../unit/assemblerOracle';

/** xorshift32, seeded. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const EDGES = ['0', '1', '-1', '7', '8', '127', '128', '-128', '-129', '255', '256', '-255', '-256', '0x7fff', '0x8000', '65535', '65536', '-65535', '-65536', '0x7fffffff', '0x80000000', '0xffffffff', '0x100000000', '-0x80000000', '-0xffffffff', '0x7fffffffffffffff', '0x8000000000000000', '0xffffffffffffffff', '-0x8000000000000000', '3', '16', '100', '1000', '0b101', '017', "'a", '0x1f'];
const BINOPS = ['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '<', '>', '==', '!=', '<=', '>=', '&&', '||', '!', '<>'];
const DATA = ['.byte', '.word', '.short', '.value', '.2byte', '.long', '.int', '.4byte', '.quad', '.8byte'];

export interface GasFuzzCase {
  name: string;
  source: string;
}

/** One random source of `lines` statements. */
export function generate(r: () => number, lines: number): string {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const labels: string[] = [];
  let syms = 0;
  const symbols: string[] = [];
  const atom = (): string => {
    const k = int(10);
    if (k < 6) return pick(EDGES);
    if (k < 7 && labels.length >= 2) return `(${pick(labels)} - ${pick(labels)})`;
    if (k < 8 && labels.length >= 1) return `(. - ${pick(labels)})`;
    if (k < 9 && symbols.length) return pick(symbols);
    return String(int(300) - 100);
  };
  const expr = (depth = 0): string => {
    if (depth > 2 || r() < 0.45) return (r() < 0.15 ? pick(['-', '~', '!', '+']) : '') + atom();
    const op = pick(BINOPS);
    if (op === '!' ) return `!${expr(depth + 1)}`;
    const e = `${expr(depth + 1)} ${op} ${expr(depth + 1)}`;
    return r() < 0.5 ? `(${e})` : e;
  };
  const small = () => pick(['0', '1', '2', '3', '4', '5', '8', '-1', '-2', '9', '16', '(2+1)', '300', '-300']);
  const out: string[] = [];
  let rept = 0;
  for (let i = 0; i < lines; i++) {
    const k = int(21);
    if (k < 6) out.push(`\t${pick(DATA)} ${Array.from({ length: 1 + int(3) }, () => expr()).join(', ')}`);
    else if (k < 7) out.push(`\t.fill ${small()}, ${small()}, ${expr()}`);
    else if (k < 8) out.push(`\t${pick(['.skip', '.space', '.zero'])} ${small()}${r() < 0.5 ? `, ${expr()}` : ''}`);
    else if (k < 9) out.push(`\t${pick(['.balign', '.p2align', '.align'])} ${pick(['0', '1', '2', '3', '4', '8', '16', '5', '-1'])}${r() < 0.4 ? `, ${pick(['0x90', '0xcc', '0', '300', '-1'])}${r() < 0.5 ? `, ${small()}` : ''}` : ''}`);
    else if (k < 10) out.push(`\t${pick(['.uleb128', '.sleb128'])} ${expr()}`);
    else if (k < 11 && labels.length) out.push(`\t.org ${pick(labels)} + ${small()}${r() < 0.5 ? ', 0xaa' : ''}`);
    else if (k < 12 && rept === 0) {
      // Labels and symbols outside `.rept` bodies: defined once, never left undefined by a
      // `.rept 0` (an undefined symbol is a relocation in the object, a stub in our Image).
      const name = `L${labels.length}`;
      labels.push(name);
      out.push(`${name}:`);
    } else if (k < 13 && rept === 0) {
      const name = `s${syms++}`;
      out.push(r() < 0.5 ? `\t.set ${name}, ${expr()}` : `${name} = ${expr()}`);
      symbols.push(name);
    } else if (k < 14 && rept === 0) {
      out.push(`\t.rept ${small()}`);
      rept = 1 + int(3);
    } else if (k < 15) out.push(`\t${pick(['nop', 'ret', 'int3', 'pause'])}`);
    else if (k < 16) out.push(pick(['\t.data', '\t.text', '\t.section .rodata, "a"']));
    else if (k < 17) out.push(`\t.org ${small()}`);
    else if (k < 18) {
      // Conditionals on the same expressions.
      out.push(`\t${pick(['.if', '.ifne', '.ifeq', '.ifgt', '.ifge', '.iflt', '.ifle'])} ${expr()}`, `\t.byte ${expr()}`);
      if (r() < 0.5) out.push('\t.else', `\t.word ${expr()}`);
      out.push('\t.endif');
    } else if (k < 19) {
      // Instructions taking the expressions as immediates and displacements (and relaxable jumps).
      const e = expr();
      out.push(pick([`\tmovl $(${e}), %eax`, `\tmovq $(${e}), %rax`, `\tmovabsq $(${e}), %rdx`, `\taddb $(${e}), %cl`, `\tpushq $(${e})`, `\tleaq (${e})(%rax,%rbx,4), %rsi`, `\tmovw (${e})(%rbp), %dx`, `\timul $(${e}), %ecx, %edx`, `\tshl $(${e}), %r9`, `\tjmp 1f\n\t.skip ${small()}\n1:`, `\tjne ${labels.length ? pick(labels) : '1f\n1:'}`]));
    } else out.push(`\t${pick(DATA)} ${expr()}`);
    if (rept && --rept === 0) out.push('\t.endr');
  }
  if (rept) out.push('\t.endr');
  return out.join('\n') + '\n';
}

/** A case's bound on our side (a small source: any more is a runaway). */
const CASE_MS = 2000;

/** The sections of interest of an object or Image (empty ones left out: gas keeps them, we may not). */
const SECTIONS = ['.text', '.data', '.rodata'];

export interface FuzzResult {
  cases: number;
  gasOk: number;
  /** Cases GNU as accepts that we refuse by name (see GAP). */
  gaps: number;
  /** Cases whose object has relocations (bytes not compared). */
  relocated: number;
  failures: string[];
}

/** The messages of the refusals by name this fuzzer may meet. */
const GAP = /^\.[us]leb128 of a value .* is not supported|is over the limit of/;

/** Runs `n` cases from `seed`; a failure names its case and shows the source. */
export function fuzzAgainstGas(seed: number, n: number): FuzzResult {
  const r = rng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-gasfuzz-'));
  const res: FuzzResult = { cases: 0, gasOk: 0, gaps: 0, relocated: 0, failures: [] };
  try {
    for (let i = 0; i < n; i++) {
      const source = generate(r, 3 + Math.floor(r() * 10));
      const name = `case${i}`;
      const f = join(dir, `${name}.s`);
      const o = join(dir, `${name}.o`);
      writeFileSync(f, source);
      const gas = spawnSync('as', ['--64', f, '-o', o], { encoding: 'utf8', timeout: 10_000 });
      res.cases++;
      // GNU as running out of memory (or time) on a huge alignment or fill says nothing about
      // us; ours must still refuse it, never make an Image of it.
      // GNU as failing inside (a division of -2^63 by -1) is no oracle either.
      if (/Internal error/.test(gas.stderr)) continue;
      if (gas.error || gas.signal || /out of memory|Killed/.test(gas.stderr)) {
        const ours = assembleText(source, `${name}.s`, { objectMode: true });
        if (ours.image) res.failures.push(`seed ${seed} case ${i}: GNU as runs out of memory or time, ours makes an Image\n--- source\n${source}`);
        continue;
      }
      const t0 = Date.now();
      const ours = assembleText(source, `${name}.s`, { objectMode: true });
      const ms = Date.now() - t0;
      if (ms > CASE_MS) res.failures.push(`seed ${seed} case ${i}: ours took ${ms} ms (bound ${CASE_MS})\n--- source\n${source}`);
      const say = (what: string) => res.failures.push(`seed ${seed} case ${i}: ${what}\n--- source\n${source}--- GNU as\n${gas.stderr}--- ours\n${ours.diagnostics.map(formatDiagnostic).join('\n')}\n`);
      const internal = ours.diagnostics.find((d) => /internal/.test(d.message));
      if (internal) {
        say('internal error');
        continue;
      }
      const gasOk = gas.status === 0 && existsSync(o);
      if (!gasOk) {
        if (ours.image) say('GNU as fails, ours makes an Image');
        continue;
      }
      res.gasOk++;
      if (!ours.image) {
        const errors = ours.diagnostics.filter((d) => d.severity === 'error');
        // A refusal by name may leave later statements errors of their own (an `.org` behind).
        if (errors.length && GAP.test(errors[0].message)) res.gaps++;
        else say('GNU as makes an object, ours fails');
        continue;
      }
      const theirs = readElfSections(readFileSync(o));
      // A symbol left undefined (its definition in a `.rept 0`, say) is a relocation in the
      // object, a stub address in our Image: the bytes are not comparable, the outcome was.
      if ([...theirs.keys()].some((k) => k.startsWith('.rela'))) {
        res.relocated++;
        continue;
      }
      for (const s of SECTIONS) {
        const a = ours.image.sections.find((x) => x.name === s)?.bytes ?? new Uint8Array(0);
        const b = theirs.get(s)?.bytes ?? new Uint8Array(0);
        if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) {
          say(`${s} differs:\n  ours ${Buffer.from(a).toString('hex')}\n  gas  ${Buffer.from(b).toString('hex')}`);
          break;
        }
      }
      rmSync(o, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

// Run as a command (not when a test bundles this file: there the test is the main module).
if (/asmGasFuzz\.js$/.test(process.argv[1] ?? '')) {
  const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const seed = Number(arg('seed') ?? (Date.now() % 1_000_000));
  const n = Number(arg('cases') ?? 2000);
  const show = arg('show');
  if (show !== undefined) {
    // One case's source, to reproduce a difference: --seed=S --show=I
    const r = rng(seed);
    let src = '';
    for (let i = 0; i <= Number(show); i++) src = generate(r, 3 + Math.floor(r() * 10));
    process.stdout.write(src);
    process.exit(0);
  }
  const t0 = Date.now();
  const r = fuzzAgainstGas(seed, n);
  console.log(`assembler against GNU as: seed ${seed}, ${r.cases} cases (${r.gasOk} GNU as accepts, ${r.gaps} of them refused by name, ${r.relocated} with relocations), ${r.failures.length} differences (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  for (const f of r.failures.slice(0, 10)) console.log(f);
  process.exitCode = r.failures.length ? 1 : 0;
}
