// Real workloads (workloads.c: SHA-256, quicksort of 64-bit keys, CRC-32), built by gcc with
// -O2 -mgeneral-regs-only, each at ~1M and ~100M instructions: in the emulator (default tiered
// mode, and interpreter only), natively, under `qemu-x86_64 -singlestep` and `qemu-x86_64`,
// all in the same run. MIPS of every column use the emulator's instruction count. The ~1M
// runs are also timed as the first run of a fresh process (what a new debug session's first
// run costs: the engine has not optimised the interpreter yet). `--tiers` runs each
// configuration in a fresh process and reports, of its process CPU time, what the engine's
// other threads took (optimising generated functions, GC).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
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

/** One emulated call work(kind, n) on a fresh machine: instructions, seconds, process CPU seconds (and of it, seconds on threads other than the main one), result. */
export function emulate(exe: string, kind: number, n: number, blockThreshold?: number, warmUp?: number): { insns: number; s: number; cpuS: number; otherCpuS: number | null; blocks: number; rax: bigint } {
  const { m, work } = load(exe, blockThreshold, warmUp);
  const sp = STACK - 8n;
  m.writeBytes(sp, new Uint8Array(new BigUint64Array([TRAP]).buffer));
  m.setReg('rsp', sp); m.setReg('rdi', BigInt(kind)); m.setReg('rsi', BigInt(n)); m.setReg('rip', work);
  const th0 = threadCpu();
  const t0 = process.hrtime.bigint(), u0 = process.cpuUsage();
  for (;;) {
    const r = m.run(1_000_000); // the budget slices a debug session runs in
    if (r.kind === 'returned') break;
    if (r.kind !== 'budget') throw new Error(`workload ${KINDS[kind]} stopped: ${r.message}`);
  }
  const u = process.cpuUsage(u0);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const th1 = threadCpu();
  return { insns: m.instructionCount, s, cpuS: (u.user + u.system) / 1e6, otherCpuS: th0 && th1 ? th1.other - th0.other : null, blocks: m.blocksCompiled, rax: m.getReg('rax') };
}

/**
 * CPU seconds of this process's threads other than the main one (Linux: /proc/self/task; in
 * clock ticks of 10 ms, so only meaningful for runs of 10M instructions and more), or null.
 */
function threadCpu(): { other: number } | null {
  try {
    let other = 0;
    for (const t of readdirSync('/proc/self/task')) {
      if (t === String(process.pid)) continue;
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      other += (Number(f[11]) + Number(f[12])) / 100;
    }
    return { other };
  } catch {
    return null;
  }
}

/**
 * The same call as the first run of a fresh Node process (this file's own bundle, spawned):
 * wall and process CPU seconds, and CPU seconds on other threads. A new debug session's first
 * run is this one: nothing of the interpreter or of the generated code is optimised yet.
 */
function firstRun(exe: string, kind: number, n: number, blockThreshold?: number, warmUp?: number): { s: number; cpuS: number; otherCpuS: number | null; insns: number; blocks: number } {
  const self = fromRoot('out', 'test', 'bench', 'workloads.js');
  const t = blockThreshold === undefined ? '' : `, ${blockThreshold === Infinity ? 'Infinity' : blockThreshold}, ${warmUp ?? 0}`;
  const script = `const w = require(${JSON.stringify(self)}); const r = w.emulate(${JSON.stringify(exe)}, ${kind}, ${n}${t});` +
    ' process.stdout.write(JSON.stringify({ s: r.s, cpuS: r.cpuS, otherCpuS: r.otherCpuS, insns: r.insns, blocks: r.blocks }));';
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { s: number; cpuS: number; otherCpuS: number | null; insns: number; blocks: number };
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
  /** Blocks the default mode compiled in the run. */
  blocks: number;
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
        // Alternate which goes first: the engine may still be optimising the last run's code.
        for (const interpreted of r % 2 === 0 ? [false, true] : [true, false]) {
          const x = interpreted ? emulate(elf, kind, n, Infinity) : emulate(elf, kind, n);
          if (!interpreted) run = x;
          (interpreted ? interp : def).push(x.s); (interpreted ? interpCpu : defCpu).push(x.cpuS);
        }
      }
      // A fresh process's first run, at the size of a debugging session's run.
      const first: { s: number; cpuS: number }[][] = [[], []];
      if (target <= 2e6) for (let r = 0; r < 3; r++) for (const k of [0, 1]) first[k].push(k === 1 ? firstRun(elf, kind, n, Infinity, 0) : firstRun(elf, kind, n));
      const exe = build(kind, n, true);
      const nat = timed(exe, []);
      if (nat.status !== Number(run.rax & 0x7fn)) throw new Error(`${KINDS[kind]}: native exit ${nat.status}, emulator ${run.rax & 0x7fn}`);
      const q1 = qemu ? timed('qemu-x86_64', ['-singlestep', exe]) : null;
      const q2 = qemu ? timed('qemu-x86_64', [exe]) : null;
      const ms: Record<string, number | null> = {
        default: median(def) * 1e3, interpreter: median(interp) * 1e3,
        // Process CPU time of the same runs (includes the engine's background compilation of
        // block functions; less disturbed than wall time by other load on the machine).
        'default CPU': median(defCpu) * 1e3, 'interpreter CPU': median(interpCpu) * 1e3,
        ...(first[0].length ? {
          'default first run': median(first[0].map((x) => x.s)) * 1e3, 'default first run CPU': median(first[0].map((x) => x.cpuS)) * 1e3,
          'interpreter first run': median(first[1].map((x) => x.s)) * 1e3, 'interpreter first run CPU': median(first[1].map((x) => x.cpuS)) * 1e3,
        } : {}),
        native: nat.s * 1e3,
        'qemu -singlestep': q1 ? q1.s * 1e3 : null, qemu: q2 ? q2.s * 1e3 : null,
      };
      const mips: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(ms)) mips[k] = v === null ? null : Math.round((run.insns / (v / 1e3) / 1e6) * 10) / 10;
      for (const k of Object.keys(ms)) ms[k] = ms[k] === null ? null : Math.round(ms[k]! * 10) / 10;
      // Blocks the default mode compiled: what its CPU time beyond the interpreter's pays for.
      const row = { workload: `${KINDS[kind]} (n=${n})`, instructions: run.insns, ms, mips, blocks: run.blocks };
      rows.push(row);
      log(`workload ${row.workload.padEnd(22)} ${(run.insns / 1e6).toFixed(1).padStart(6)}M insns: ` +
        Object.entries(ms).map(([k, v]) => `${k} ${v === null ? 'n/a' : `${v} ms (${mips[k]} MIPS)`}`).join(', ') + `; default compiled ${run.blocks} blocks`);
    }
  }
  return rows;
}

/**
 * `--tiers`: the tier thresholds against each other on every workload at about 1M, 4M, 15M
 * and 30M instructions: interpreter only; the defaults; blocks once their head has run 10k,
 * 250k, 1M or 4M instructions interpreted (Machine's blockThreshold). Each run
 * is the first of a fresh process, as a debug session's is (the median of 3, interleaved), so no
 * run inherits another's optimised code or pays for its background compilation. Printed as
 * MIPS of wall time and of process CPU time (which includes the engine's compilation of block
 * functions on other threads), and that other-thread CPU in ms.
 */
export function benchTiers(log: (s: string) => void): Record<string, Record<string, number>> {
  const elf = build(0, 0, false);
  const configs: [string, number | undefined, number | undefined][] = [
    ['interpreter', Infinity, 0], ['default', undefined, undefined], ['at 10k', 10_000, 0], ['at 250k', 250_000, 0],
    ['at 1M', 1_000_000, 0], ['at 4M', 4_000_000, 0],
  ];
  // Per workload and size: `<config>` is MIPS of CPU time (as before), `<config> wall` MIPS of
  // wall time, `<config> other-thread CPU ms` the CPU time of the engine's other threads,
  // `<config> blocks` the blocks compiled (the same in every run: it depends on counts only).
  const out: Record<string, Record<string, number>> = {};
  for (let kind = 0; kind < KINDS.length; kind++) {
    const n0 = 64 * UNIT[kind] * 8;
    const cal = emulate(elf, kind, n0, Infinity);
    for (const target of [1e6, 4e6, 15e6, 30e6]) {
      let n = Math.max(UNIT[kind], Math.round((n0 * target) / cal.insns / UNIT[kind]) * UNIT[kind]);
      n = Math.min(n, MAX_N[kind]);
      const runs: Record<string, { s: number; cpuS: number; otherCpuS: number | null; blocks: number }[]> = {};
      let insns = 0;
      for (let r = 0; r < 3; r++) {
        for (const [name, t, w] of configs) {
          const x = firstRun(elf, kind, n, t, w);
          insns = x.insns;
          (runs[name] ??= []).push(x);
        }
      }
      const row: Record<string, { mips: number; cpuMips: number; otherCpuMs: number | null; blocks: number }> = {};
      for (const [name] of configs) {
        const rs = runs[name], other = rs.map((x) => x.otherCpuS).filter((x): x is number => x !== null);
        row[name] = {
          mips: Math.round((insns / median(rs.map((x) => x.s)) / 1e6) * 10) / 10,
          cpuMips: Math.round((insns / median(rs.map((x) => x.cpuS)) / 1e6) * 10) / 10,
          otherCpuMs: other.length ? Math.round(median(other) * 1e3) : null,
          blocks: rs[0].blocks,
        };
      }
      const key = `${KINDS[kind]} ${(insns / 1e6).toFixed(1)}M`;
      const flat: Record<string, number> = {};
      for (const [name, v] of Object.entries(row)) {
        flat[name] = v.cpuMips; flat[`${name} wall`] = v.mips; flat[`${name} blocks`] = v.blocks;
        if (v.otherCpuMs !== null) flat[`${name} other-thread CPU ms`] = v.otherCpuMs;
      }
      out[key] = flat;
      log(`tiers ${key.padEnd(14)} MIPS wall/CPU (other-thread CPU ms; blocks compiled): ` +
        Object.entries(row).map(([k, v]) => `${k} ${v.mips}/${v.cpuMips} (${v.otherCpuMs ?? 'n/a'}; ${v.blocks})`).join(', '));
    }
  }
  return out;
}
