// The kernel's per-CPU task globals on a gcc-built object (issue 15 "pcpu_hot/current_task set
// up"): C of our own that reads them through %gs as kernel code does (gcc's __seg_gs address
// space, -mcmodel=kernel), built by the host's gcc. Expected values are the kernel's: CPU k's
// pcpu_hot.cpu_number is k, preempt_count is PREEMPT_ENABLED (0x80000000, the inverted
// PREEMPT_NEED_RESCHED bit of arch/x86/include/asm/preempt.h), each CPU has its own current
// task, and const_pcpu_hot is pcpu_hot under another name (the kernel's linker script).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { KERNEL_FLAGS } from './helpers';

const C = `
struct task_struct;
struct hot_area { struct task_struct *current_task; int preempt_count; int cpu_number; unsigned long top_of_stack; };
extern __seg_gs struct hot_area pcpu_hot;
extern const __seg_gs struct hot_area const_pcpu_hot;
extern struct task_struct *__seg_gs current_task;
long cpu_id(void) { return pcpu_hot.cpu_number; }
long const_cpu_id(void) { return const_pcpu_hot.cpu_number; }
long preempt(void) { return (unsigned int)pcpu_hot.preempt_count; }
long same_task(void) { return pcpu_hot.current_task != 0 && pcpu_hot.current_task == current_task; }
`;

test('pcpu_hot, const_pcpu_hot and current_task through %gs: cpu_number, PREEMPT_ENABLED, one current task per CPU', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-pcpu-'));
  writeFileSync(join(dir, 'hot.c'), C);
  const run = async (entry: string, extra: Record<string, unknown> = {}) => {
    const s = await Session.create({ program: join(dir, 'hot.c'), toolchain: { compiler: 'gcc', args: ['-O2', '-g', ...KERNEL_FLAGS] }, entry, cpus: 2, ...extra }, { cwd: dir });
    const st = s.run();
    assert.equal(st.reason, 'returned', st.message);
    return { s, rax: s.machine.getReg('rax') };
  };
  const a = await run('cpu_id');
  assert.equal(a.rax, 0n, 'CPU 0 runs the entry function');
  const hot = a.s.image.undefinedData!.find((u) => u.name === 'pcpu_hot')!;
  assert.ok(hot.perCpu);
  assert.equal(hot.type, 'struct hot_area', 'sized and typed by the DWARF declaration');
  const cpuOf = (k: bigint) => new DataView(a.s.machine.readBytes(a.s.perCpu.base + k * a.s.perCpu.stride + hot.address + 12n, 4).slice().buffer).getUint32(0, true);
  assert.deepEqual([cpuOf(0n), cpuOf(1n)], [0, 1]);
  assert.equal((await run('const_cpu_id')).rax, 0n);
  assert.equal(a.s.image.undefinedData!.find((u) => u.name === 'const_pcpu_hot')?.address, hot.address, 'const_pcpu_hot is pcpu_hot');
  assert.equal((await run('preempt')).rax, 0x80000000n);
  assert.equal((await run('same_task')).rax, 1n);
  const t = await run('same_task');
  const cur = t.s.image.undefinedData!.find((u) => u.name === 'current_task')!;
  const task = (k: bigint) => new DataView(t.s.machine.readBytes(t.s.perCpu.base + k * t.s.perCpu.stride + cur.address, 8).slice().buffer).getBigUint64(0, true);
  assert.ok(task(0n) !== 0n && task(1n) !== 0n && task(0n) !== task(1n), 'each CPU has its own task');
  // "data" per CPU: CPU 0's cpu_number set to 5 is what the entry reads.
  assert.equal((await run('cpu_id', { data: { 'pcpu_hot@0': { cpu_number: 5 } } })).rax, 5n);
});
