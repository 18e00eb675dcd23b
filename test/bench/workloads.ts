// Real workloads (workloads.c: SHA-256, quicksort of 64-bit keys, CRC-32), built by gcc with
// -O2 -mgeneral-regs-only, each at ~1M and ~100M instructions: in the emulator (default tiered
// mode, and interpreter only), natively, under `qemu-x86_64 -singlestep` and `qemu-x86_64`,
// all in the same run. MIPS of every column use the emulator's instruction count.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../emulator/machine';
import { fromRoot } from '../support/paths';
import { hasTool } from '../support/native';

const SOURCE = fromRoot('test', 'bench', 'workloads.c');
const FLAGS = ['-O2', '-mgeneral-regs-only', '-ffreestanding', '-fno-pic', '-no-pie', '-nostdlib', '-static', '-fno-stack-protector'];
export const KINDS = ['sha256', 'qsort', 'crc32'] as const;
/** Largest size each workload accepts (qsort: keys of its 1M-entry array). */
const MAX_N = [Infinity, 1 << 20, Infinity];
/** Size granularity (sha256 hashes whole 64-byte blocks). */
const UNIT = [64, 1, 1];

export function build(kind: number, n: number, native: boolean): string {
  const dir = fromRoot('out', 'bench-workloads');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, native ? `${KINDS[kind]}-${n}.exe` : 'work.elf');
  if (!existsSync(exe) || !native) {
    const defs = native ? ['-DNATIVE_MAIN', `-DKIND=${kind}`, `-DSIZE=${n}UL`] : ['-e', 'work'];
    execFileSync('gcc', [...FLAGS, ...defs, SOURCE, '-o', exe], { stdio: 'pipe' });
  }
  return exe;
}

interface Loaded { m: Machine; work: bigint }

const STACK = 0x7ff00000n, TRAP = 0x7fff0000n;

/** Loads the ELF's PT_LOAD segments with their own permissions (code rx, data rw, apart). */
function load(exe: string, blockThreshold?: number, warmUp?: number): Loaded {
  const f = readFileSync(exe);
  const m = new Machine(blockThreshold === undefined ? {} : { blockThreshold, warmUp });
  const phoff = Number(f.readBigUInt64LE(0x20)), phentsize = f.readUInt16LE(0x36), phnum = f.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (f.readUInt32LE(p) !== 1) continue;
    const flags = f.readUInt32LE(p + 4), off = Number(f.readBigUInt64LE(p + 8)), vaddr = f.readBigUInt64LE(p + 16);
    const filesz = Number(f.readBigUInt64LE(p + 32)), memsz = Number(f.readBigUInt64LE(p + 40));
    const start = vaddr & ~0xfffn, size = Number(vaddr - start) + memsz;
    m.map(start, size, `${flags & 4 ? 'r' : ''}${flags & 2 ? 'w' : ''}${flags & 1 ? 'x' : ''}`);
    if (filesz) m.writeBytes(vaddr, new Uint8Array(f.subarray(off, off + filesz)));
  }
  m.map(STACK - 0x100000n, 0x100000, 'rw');
  m.map(TRAP, 4096, 'rx');
  m.returnAddress = Number(TRAP);
  const nm = execFileSync('nm', [exe], { encoding: 'utf8' });
  const work = BigInt('0x' + (/^([0-9a-f]+) T work$/m.exec(nm)?.[1] ?? '0'));
  return { m, work };
}

/** One emulated call work(kind, n) on a fresh machine: instructions, seconds, result. */
export function emulate(exe: string, kind: number, n: number, blockThreshold?: number, warmUp?: number): { insns: number; s: number; cpuS: number; rax: bigint } {
  const { m, work } = load(exe, blockThreshold, warmUp);
  const sp = STACK - 8n;
  m.writeBytes(sp, new Uint8Array(new BigUint64Array([TRAP]).buffer));
  m.setReg('rsp', sp); m.setReg('rdi', BigInt(kind)); m.setReg('rsi', BigInt(n)); m.setReg('rip', work);
  const t0 = process.hrtime.bigint(), u0 = process.cpuUsage();
  for (;;) {
    const r = m.run(1_000_000); // the budget slices a debug session runs in
    if (r.kind === 'returned') break;
    if (r.kind !== 'budget') throw new Error(`workload ${KINDS[kind]} stopped: ${r.message}`);
  }
  const u = process.cpuUsage(u0);
  return { insns: m.instructionCount, s: Number(process.hrtime.bigint() - t0) / 1e9, cpuS: (u.user + u.system) / 1e6, rax: m.getReg('rax') };
}

function timed(cmd: string, args: string[]): { s: number; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, status: r.status };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export interface WorkloadRow {
  workload: string; instructions: number;
  /** Milliseconds of the run, and MIPS, per column (null: tool missing). */
  ms: Record<string, number | null>; mips: Record<string, number | null>;
}

export function benchWorkloads(quick: boolean, log: (s: string) => void): WorkloadRow[] {
  const elf = build(0, 0, false);
  const qemu = hasTool('qemu-x86_64');
  const rows: WorkloadRow[] = [];
  const targets = quick ? [1e6, 10e6] : [1e6, 100e6];
  for (let kind = 0; kind < KINDS.length; kind++) {
    // Size per instruction, from a small calibration run.
    const n0 = 64 * UNIT[kind] * 8;
    const cal = emulate(elf, kind, n0, Infinity);
    for (const target of targets) {
      let n = Math.max(UNIT[kind], Math.round((n0 * target) / cal.insns / UNIT[kind]) * UNIT[kind]);
      n = Math.min(n, MAX_N[kind]);
      const reps = target <= 2e6 ? 5 : 1;
      const def: number[] = [], interp: number[] = [], defCpu: number[] = [], interpCpu: number[] = [];
      let run = emulate(elf, kind, n);
      for (let r = 0; r < reps; r++) {
        run = emulate(elf, kind, n); def.push(run.s); defCpu.push(run.cpuS);
        const ir = emulate(elf, kind, n, Infinity);
        interp.push(ir.s); interpCpu.push(ir.cpuS);
      }
      const exe = build(kind, n, true);
      const nat = timed(exe, []);
      if (nat.status !== Number(run.rax & 0x7fn)) throw new Error(`${KINDS[kind]}: native exit ${nat.status}, emulator ${run.rax & 0x7fn}`);
      const q1 = qemu ? timed('qemu-x86_64', ['-singlestep', exe]) : null;
      const q2 = qemu ? timed('qemu-x86_64', [exe]) : null;
      const ms: Record<string, number | null> = {
        default: median(def) * 1e3, interpreter: median(interp) * 1e3,
        // Process CPU time of the same runs (includes the engine's background compilation of
        // block functions; less disturbed than wall time by other load on the machine).
        'default CPU': median(defCpu) * 1e3, 'interpreter CPU': median(interpCpu) * 1e3, native: nat.s * 1e3,
        'qemu -singlestep': q1 ? q1.s * 1e3 : null, qemu: q2 ? q2.s * 1e3 : null,
      };
      const mips: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(ms)) mips[k] = v === null ? null : Math.round((run.insns / (v / 1e3) / 1e6) * 10) / 10;
      for (const k of Object.keys(ms)) ms[k] = ms[k] === null ? null : Math.round(ms[k]! * 10) / 10;
      const row = { workload: `${KINDS[kind]} (n=${n})`, instructions: run.insns, ms, mips };
      rows.push(row);
      log(`workload ${row.workload.padEnd(22)} ${(run.insns / 1e6).toFixed(1).padStart(6)}M insns: ` +
        Object.entries(ms).map(([k, v]) => `${k} ${v === null ? 'n/a' : `${v} ms (${mips[k]} MIPS)`}`).join(', '));
    }
  }
  return rows;
}

/**
 * `--tiers`: the tier thresholds against each other on every workload at 1M, 4M and 15M
 * instructions (interpreter only; the defaults; blocks from the start at 50, 200, 1000 and 5000
 * visits; the earlier default, 50 visits after 2M instructions). Process CPU time per run (the median of 3,
 * interleaved), as MIPS: less disturbed by other load on the machine than wall time, and it
 * includes the engine's background compilation of block functions.
 */
export function benchTiers(log: (s: string) => void): Record<string, Record<string, number>> {
  const elf = build(0, 0, false);
  const configs: [string, number | undefined, number | undefined][] = [
    ['interpreter', Infinity, 0], ['default', undefined, undefined], ['at 50', 50, 0], ['at 200', 200, 0], ['at 1000', 1000, 0], ['at 5000', 5000, 0], ['at 50 after 2M', 50, 2_000_000],
  ];
  const out: Record<string, Record<string, number>> = {};
  for (let kind = 0; kind < KINDS.length; kind++) {
    const n0 = 64 * UNIT[kind] * 8;
    const cal = emulate(elf, kind, n0, Infinity);
    for (const target of [1e6, 4e6, 15e6]) {
      let n = Math.max(UNIT[kind], Math.round((n0 * target) / cal.insns / UNIT[kind]) * UNIT[kind]);
      n = Math.min(n, MAX_N[kind]);
      const cpu: Record<string, number[]> = {};
      let insns = 0;
      for (let r = 0; r < 3; r++) {
        for (const [name, t, w] of configs) {
          const u0 = process.cpuUsage();
          insns = emulate(elf, kind, n, t, w).insns;
          const u = process.cpuUsage(u0);
          (cpu[name] ??= []).push((u.user + u.system) / 1e6);
        }
      }
      const row: Record<string, number> = {};
      for (const [name] of configs) row[name] = Math.round((insns / median(cpu[name]) / 1e6) * 10) / 10;
      const key = `${KINDS[kind]} ${(insns / 1e6).toFixed(1)}M`;
      out[key] = row;
      log(`tiers ${key.padEnd(14)} MIPS (CPU time): ` + Object.entries(row).map(([k, v]) => `${k} ${v}`).join(', '));
    }
  }
  return out;
}
