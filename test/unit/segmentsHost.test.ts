// Segment instructions against the host CPU, in user mode: IRETQ/IRETL and LRETQ/LRETL to the
// same privilege level (every RFLAGS rule CPL 3 can see, the #GP cases), far JMP/CALL through an
// m16:32 pointer, LSS/LGS, and LAR/LSL/VERR/VERW on every selector of the host's GDT with every
// RPL. The snippets (test/fixtures/segments/snippets.S) run natively under a small C driver and,
// from the bytes gcc assembled, in the emulator at CPL 3 with a GDT rebuilt from what LAR and LSL
// report on the host. Expected values are the host's; the descriptors the host hides from CPL 3
// become empty entries (LAR/LSL/VERR/VERW then fail on both sides, as do transfers to them).
// Not here: the 64-bit far pointer (m16:64), which AMD processors read as m16:32 (SDM-based
// tests in segments.test.ts), and selector 0x78, whose limit is the CPU the process runs on.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Machine } from '../../emulator/machine';
import { CACHE_DIR, assembleWithGcc, hasTool, sectionBytes, symbols } from '../support/native';
import { fromRoot } from '../support/paths';

const FIX = fromRoot('test', 'fixtures', 'segments');
const CODE = 0x40_0000n, IO = 0x50_0000n, STACK_TOP = 0x60_0000n, LOW_TOP = 0x70_0000n, RET_STUB = 0x41_0000n;

interface Probe { sel: number[]; gdt: Map<number, { lar: bigint; larZf: boolean; lsl: bigint; lslZf: boolean }> }
interface Case { name: string; inputs: bigint[] }
interface Outcome { out: bigint[]; vector: number; error: number }

function buildDriver(): string {
  const src = [join(FIX, 'driver.c'), join(FIX, 'snippets.S')];
  const key = createHash('sha256').update(src.map((f) => readFileSync(f)).join('\0')).digest('hex').slice(0, 16);
  mkdirSync(CACHE_DIR, { recursive: true });
  const exe = join(CACHE_DIR, `segments-${key}.exe`);
  if (!existsSync(exe)) execFileSync('gcc', ['-O1', '-no-pie', '-o', exe, ...src], { stdio: 'pipe' });
  return exe;
}

function runNative(exe: string, cases: Case[]): { probe: Probe; outcomes: Outcome[] } {
  const input = cases.map((c) => `${c.name} ${c.inputs.map((v) => BigInt.asUintN(64, v).toString(16)).join(' ')}`).join('\n') + '\n';
  const lines = execFileSync(exe, { input, encoding: 'utf8' }).trim().split('\n');
  const probe: Probe = { sel: [], gdt: new Map() };
  const outcomes: Outcome[] = [];
  for (const line of lines) {
    const w = line.split(' ');
    if (w[0] === 'sel') probe.sel = w.slice(1).map((x) => parseInt(x, 16));
    else if (w[0] === 'gdt') probe.gdt.set(parseInt(w[1], 16), { lar: BigInt('0x' + w[2]), larZf: w[3] === '1', lsl: BigInt('0x' + w[4]), lslZf: w[5] === '1' });
    else {
      const v = w.map((x) => BigInt.asUintN(64, BigInt(x.startsWith('-') ? -BigInt('0x' + x.slice(1)) : BigInt('0x' + x))));
      outcomes.push({ out: v.slice(0, 8), vector: Number(BigInt.asIntN(64, v[8])), error: Number(v[9]) });
    }
  }
  return { probe, outcomes };
}

/**
 * The GDT the host shows to CPL 3: a visible descriptor from its LAR access rights (type, S, DPL,
 * P, AVL, L, D/B, G) and LSL limit (base 0: unused in 64-bit mode); every other entry empty.
 */
function gdtImage(p: Probe): Uint8Array {
  const bytes = new Uint8Array(0x100);
  const dv = new DataView(bytes.buffer);
  for (const [sel, e] of p.gdt) {
    if (!e.larZf) continue;
    const g = (e.lar & 0x800000n) !== 0n;
    const raw = Number(g ? e.lsl >> 12n : e.lsl) & 0xfffff;
    dv.setUint32(sel, raw & 0xffff, true);
    dv.setUint32(sel + 4, (Number(e.lar & 0x00f0ff00n) | (raw & 0xf0000)) >>> 0, true);
  }
  return bytes;
}

/** The three execution paths: the interpreter, the records' generic handlers, compiled blocks. */
const PATHS = [{ name: 'interpreter', opts: { blockThreshold: Infinity } }, { name: 'generic', opts: { blockThreshold: Infinity, genericHandlers: true } }, { name: 'blocks', opts: { blockThreshold: 0 } }];

function runEmulator(code: Uint8Array, entry: Map<string, bigint>, gdt: Uint8Array, p: Probe, c: Case, opts: object): Outcome {
  const m = new Machine(opts);
  m.map(CODE, (code.length + 0xfff) & ~0xfff, 'rx', 'snippets');
  m.writeBytes(CODE, code);
  m.map(RET_STUB, 0x1000, 'rx', 'return');
  m.writeBytes(RET_STUB, Uint8Array.from([0x90]));
  m.addBreakpoint(RET_STUB);
  m.map(IO, 0x1000, 'rw', 'io');
  m.map(0x58_0000n, 0x1000, 'rw', 'gdt');
  m.writeBytes(0x58_0000n, gdt);
  m.cpu.gdtrBase = 0x58_0000n;
  m.cpu.gdtrLimit = gdt.length - 1;
  m.map(STACK_TOP - 0x2000n, 0x2000, 'rw', 'stack');
  m.map(LOW_TOP - 0x1000n, 0x1000, 'rw', 'low stack');
  const inputs = [...c.inputs];
  if (c.name === 'iretl') inputs[5] = LOW_TOP;
  const io = new Uint8Array(128);
  const dv = new DataView(io.buffer);
  inputs.forEach((v, k) => dv.setBigUint64(k * 8, BigInt.asUintN(64, v), true));
  m.writeBytes(IO, io);
  const ret = new Uint8Array(8);
  new DataView(ret.buffer).setBigUint64(0, RET_STUB, true);
  m.writeBytes(STACK_TOP - 0x100n, ret);
  m.setReg('rsp', STACK_TOP - 0x100n);
  m.setReg('rdi', IO);
  m.setReg('rflags', 0x202n);
  m.setReg('rip', CODE + entry.get(`snip_${c.name}`)!);
  m.setReg('cpl', 3n);
  p.sel.forEach((s, k) => {
    const n = [1, 2, 3, 0, 4, 5][k]; // the probe's order is CS SS DS ES FS GS
    m.cpu.sel[n] = s;
    const d = new DataView(gdt.buffer).getUint32((s & ~7) + 4, true);
    m.cpu.segAttr[n] = (s & 0xfffc) === 0 ? 0 : (d >>> 8) & 0xf0ff;
  });
  m.cpu.sel[7] = 0; // LDTR: a process that never called modify_ldt has none (TI = 1 selectors fail on the host)
  const stop = m.run(10_000);
  const got = new DataView(m.readBytes(IO, 128).buffer);
  const out = Array.from({ length: 8 }, (_, k) => got.getBigUint64(64 + k * 8, true));
  if (stop.kind === 'fault') return { out: Array(8).fill(0n), vector: stop.vector ?? -2, error: stop.errorCode ?? 0 };
  assert.equal(stop.kind, 'breakpoint', `${c.name} ${c.inputs.map((v) => v.toString(16))}: ${stop.message}`);
  return { out, vector: -1, error: 0 };
}

/** A small seeded generator (xorshift), so every run draws the same cases. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

function cases(): Case[] {
  const r = rng(0x5e6);
  const out: Case[] = [];
  const c = (name: string, ...v: (number | bigint)[]) => out.push({ name, inputs: [...v.map(BigInt), ...Array(8 - v.length).fill(0n)] });
  // RFLAGS images: status flags, DF, NT, AC, ID, IF, IOPL, RF, VIF, VIP, reserved bits; never TF (it would trap).
  const image = () => BigInt((r() & 0x3f7ed5) | (r() & 1 ? 0xffc00000 : 0) | 2) & ~0x100n;
  const before = () => BigInt((r() & 0x240cd5) | 0x202);
  for (let k = 0; k < 48; k++) c('iretq', 0x33, image(), 0x2b, 0, before());
  for (let k = 0; k < 12; k++) c('iretl', 0x33, image() & 0xffffffffn, 0x2b, 0, before(), 0);
  for (const cs of [0, 3, 0x10, 0x13, 0x23, 0x2b, 0x30, 0x31, 0x32, 0x3b, 0x43, 0x7b, 0x83, 0xfb]) c('iretq', cs, 0x246, 0x2b, 0, 0x202);
  for (const ss of [0, 3, 0x18, 0x1b, 0x23, 0x28, 0x29, 0x33, 0x7b, 0x83]) c('iretq', 0x33, 0x246, ss, 0, 0x202);
  c('iretq', 0x33, 0x246, 0x2b, 1, 0x202); // non-canonical RIP
  c('iretq', 0x33, 0x246, 0x2b, 0, 0x4202); // NT = 1: a task return
  for (const cs of [0x33, 0x30, 0x10, 0x2b, 0x23, 0x3b, 0x7b, 0, 0x83]) {
    c('lretq', cs);
    c('lretq16', cs);
    c('lretl', cs);
    c('ljmpl', cs);
    c('lcalll', cs);
  }
  c('lretq', 0x33, 0, 0, 1);
  for (let sel = 0; sel < 0x100; sel++) {
    if ((sel & ~7) === 0x78) continue; // its limit is the number of the CPU running the process
    if (sel >= 0x80 && r() % 8) continue;
    c('lar', sel, r() & 1 ? -1n : BigInt(r()) << 32n | BigInt(r()));
  }
  for (const sel of [0x2b, 0x28, 0x29, 0x33, 0x23, 0x18, 0x10, 0x7b, 0x83]) {
    c('lss', sel, -1n);
    c('lgs', sel, -1n);
  }
  return out;
}

test('segment instructions at CPL 3 agree with the host CPU (IRETQ/IRETL, LRET, far JMP/CALL m16:32, LSS/LGS, LAR/LSL/VERR/VERW)', { skip: !hasTool('gcc') && 'gcc is not installed' }, () => {
  const list = cases();
  const { probe, outcomes } = runNative(buildDriver(), list);
  assert.equal(outcomes.length, list.length, 'the driver answered every case');
  assert.deepEqual(probe.sel.slice(0, 2), [0x33, 0x2b], 'a 64-bit Linux user process: CS 0x33, SS 0x2b');
  const obj = assembleWithGcc(readFileSync(join(FIX, 'snippets.S'), 'utf8'));
  const code = sectionBytes(obj);
  const entry = symbols(obj);
  const gdt = gdtImage(probe);
  const bad: string[] = [];
  for (const path of PATHS) {
    list.forEach((c, k) => {
      const want = outcomes[k];
      const got = runEmulator(code, entry, gdt, probe, c, path.opts);
      if (got.vector !== want.vector || got.error !== want.error || got.out.some((v, j) => v !== want.out[j])) {
        const h = (xs: bigint[]) => xs.map((v) => v.toString(16)).join(' ');
        bad.push(`${path.name}: ${c.name} ${h(c.inputs)}\n  host:     ${h(want.out)} vector ${want.vector} error ${want.error.toString(16)}\n  emulator: ${h(got.out)} vector ${got.vector} error ${got.error.toString(16)}`);
      }
    });
  }
  assert.equal(bad.length, 0, `${bad.length} of ${list.length} × ${PATHS.length} runs differ:\n${bad.slice(0, 12).join('\n')}`);
});
