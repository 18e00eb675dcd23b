// The real Linux 6.12 TDX C objects (built by scripts/kernel-objects.sh 6.12 from Debian's
// linux-source-6.12: guest arch/x86/coco/tdx, host arch/x86/virt/vmx/tdx), run with nothing
// hand-written but launch attributes (issue 15). Expected values come from the kernel source
// (what each function computes) and the TDX module ABI (TDG.MR.REPORT takes the physical
// addresses of a 1024-aligned TDREPORT and a 64-aligned REPORTDATA). Skipped when the objects
// have not been built, unless TDX_KERNEL_TEST=1 asks for them (then a missing setup fails).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { ConfigError } from '../../emulator/session/config';
import { fromRoot } from '../support/paths';
import { runKernelDapCase, type KernelDapCase } from './kernelDap';

const CACHE = process.env.TDX_KERNEL_CACHE ?? fromRoot('.cache/kernel');
const BUILD = join(CACHE, 'build-6.12');
const GUEST = join(BUILD, 'arch/x86/coco/tdx');
const HOST = join(BUILD, 'arch/x86/virt/vmx/tdx');
const OBJECTS = [join(GUEST, 'tdcall.o'), join(GUEST, 'tdx.o'), join(GUEST, 'tdx-shared.o'), join(HOST, 'seamcall.o'), join(HOST, 'tdx.o')];
const REQUIRED = process.env.TDX_KERNEL_TEST === '1';
const ready = OBJECTS.every((o) => existsSync(o));
const skip = !ready && !REQUIRED ? `no 6.12 kernel objects in ${BUILD} (run scripts/kernel-objects.sh 6.12, or set TDX_KERNEL_TEST=1 to require them)` : false;
const needSetup = () => { if (!ready) assert.fail(`TDX_KERNEL_TEST=1 but the 6.12 objects are missing in ${BUILD}: run scripts/kernel-objects.sh 6.12`); };

/** PAGE_OFFSET of x86-64 with 4-level paging: __pa(x) = x - PAGE_OFFSET for the direct map. */
const PAGE_OFFSET = 0xffff888000000000n;
/** X86_FEATURE_TDX_HOST_PLATFORM is ( 7*32+ 7) in 6.12's cpufeatures.h: word 7, bit 7. */
const TDX_HOST_PLATFORM = { 'x86_capability[7]': '0x80' };

/**
 * tdx_enable with nothing hand-written but launch attributes: one memory region for
 * for_each_mem_pfn_range (pfn 0x100..0x40000, 1 MiB to 1 GiB: __next_mem_pfn_range(&idx, nid,
 * &start, &end, &nid) answers it, then idx = -1), the global KeyID tdx_init() reads at boot from
 * the KeyID partitioning MSR (32, the model's first private KeyID), and the global metadata tdx.h
 * names (MD_FIELD_ID_MAX_TDMRS … PAMT_1G_ENTRY_SIZE: 64 TDMRs, 16 reserved areas, 16-byte PAMT entries).
 */
const TDX_ENABLE = {
  entry: 'tdx_enable', before: ['tdx_cpu_enable'],
  data: { tdx_global_keyid: 32 },
  tdxModule: { sysMetadata: [[0x9100000100000008n, 64], [0x9100000100000009n, 16], [0x9100000100000010n, 16], [0x9100000100000011n, 16], [0x9100000100000012n, 16]].map(([f, v]) => ({ fieldId: `0x${f.toString(16)}`, value: Number(v) })) },
  stubs: {
    __next_mem_pfn_range: { sequence: [
      { write: [{ arg: 0, size: 4, value: 0 }, { arg: 2, value: '0x100' }, { arg: 3, value: '0x40000' }, { arg: 4, size: 4, value: 0 }] },
      { write: [{ arg: 0, size: 4, value: -1 }] },
    ] },
  },
};

const u64 = (s: Session, a: bigint) => new DataView(s.machine.readBytes(a, 8).slice().buffer).getBigUint64(0, true);

test('6.12 tdx_mcall_get_report0: page_offset_base is data (never stub code), RCX = __pa of the 1024-aligned buffer, 0 returned', { skip }, async () => {
  needSetup();
  const s = await Session.create({
    program: join(GUEST, 'tdx.o'), objects: [join(GUEST, 'tdcall.o')], entry: 'tdx_mcall_get_report0',
    args: [{ buffer: 64, align: 64, init: [...Array(64).keys()] }, { buffer: 1024, align: 1024 }],
  });
  assert.equal(s.context, 'guest');
  for (const name of ['page_offset_base', 'phys_base', 'boot_cpu_data']) {
    assert.ok(!s.image.undefinedSymbols.includes(name), `${name} is not a stub`);
    const d = s.image.undefinedData?.find((u) => u.name === name);
    assert.ok(d, `${name} has storage`);
    assert.equal(d.sizedBy, 'dwarf');
    const sec = s.image.sections.find((x) => d.address >= x.address && d.address < x.address + BigInt(x.bytes.length));
    assert.ok(sec && !sec.exec, `${name} is on a non-executable page`);
  }
  assert.equal(s.image.undefinedData?.find((u) => u.name === 'page_offset_base')?.size, 8, 'unsigned long');
  assert.equal(s.image.undefinedData?.find((u) => u.name === 'boot_cpu_data')?.type, 'struct cpuinfo_x86');
  assert.ok(s.notes.some((n) => n.kind === 'stub' && /undefined data symbol boot_cpu_data/.test(n.name) && /the emulated CPU .*TDX_GUEST/.test(n.text)));
  assert.ok(s.notes.some((n) => n.kind === 'stub' && /undefined data symbol cc_vendor/.test(n.name) && /zero-filled — give it a value with "data"/.test(n.text)));
  const reportdata = s.machine.getReg('rdi'), tdreport = s.machine.getReg('rsi');
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax') & 0xffffffffn, 0n, 'tdx_mcall_get_report0 returns 0');
  assert.equal(s.calls.length, 1);
  const c = s.calls[0];
  assert.equal(c.leaf, 'TDG.MR.REPORT');
  assert.equal(c.before.RCX, tdreport - PAGE_OFFSET, 'RCX = virt_to_phys(tdreport)');
  assert.equal(c.before.RCX % 1024n, 0n);
  assert.equal(c.before.RDX, reportdata - PAGE_OFFSET, 'RDX = virt_to_phys(reportdata)');
  assert.equal(c.before.R8, 0n, 'TDREPORT_SUBTYPE_0');
  // The module wrote the report back: REPORTDATA is at offset 128 of REPORTMACSTRUCT.
  assert.deepEqual([...s.machine.readBytes(tdreport + 128n, 64)], [...Array(64).keys()]);
});

test('6.12 tdx_cpu_enable: TDH.SYS.INIT then TDH.SYS.LP.INIT, 0, the per-CPU tdx_lp_initialized set through %gs', { skip }, async () => {
  needSetup();
  const s = await Session.create({
    program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], entry: 'tdx_cpu_enable', data: { boot_cpu_data: TDX_HOST_PLATFORM },
  });
  assert.equal(s.context, 'host');
  const flag = s.image.symbols.find((x) => x.name === 'tdx_lp_initialized');
  assert.ok(flag && flag.section === '.data..percpu');
  assert.ok(flag.address < 0x10000n, 'per-CPU symbols are zero-based, as the kernel links .data..percpu');
  const gs = s.machine.getReg('gs_base');
  assert.equal(s.machine.readBytes(gs + flag.address, 1)[0], 0);
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax') & 0xffffffffn, 0n);
  assert.deepEqual(s.calls.map((c) => c.leaf), ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT']);
  assert.equal(s.machine.readBytes(gs + flag.address, 1)[0], 1, '__this_cpu_write(tdx_lp_initialized, true)');
  // Without the feature bit the kernel returns -ENODEV before any SEAMCALL: a BIOS that did not enable TDX, or the bit cleared with "data".
  for (const off of [{ platform: { tdxBios: false } }, { data: { boot_cpu_data: { 'x86_capability[7]': 0 } } }]) {
    const n = await Session.create({ program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], entry: 'tdx_cpu_enable', ...off });
    assert.equal(n.run().reason, 'returned');
    assert.equal(BigInt.asIntN(32, n.machine.getReg('rax') & 0xffffffffn), -19n, `-ENODEV with ${JSON.stringify(off)}`);
    assert.equal(n.calls.length, 0);
  }
});

/** A feature's (word, bit) as the Debian 6.12 tree's cpufeatures.h defines it. */
function featureBit(name: string): [number, number] {
  const h = readFileSync(join(CACHE, 'linux-source-6.12/arch/x86/include/asm/cpufeatures.h'), 'utf8');
  const m = new RegExp(`#define X86_FEATURE_${name}\\s+\\(\\s*(\\d+)\\*32\\+\\s*(\\d+)\\)`).exec(h);
  assert.ok(m, `cpufeatures.h defines X86_FEATURE_${name}`);
  return [Number(m[1]), Number(m[2])];
}

test('6.12 boot_cpu_data follows the configured platform: TDX_HOST_PLATFORM on a host whose BIOS enabled TDX, TDX_GUEST and HYPERVISOR in a TD; tdx_cpu_enable runs with no "data"', { skip }, async () => {
  needSetup();
  const capBit = (s: Session, name: string) => {
    const u = s.image.undefinedData!.find((x) => x.name === 'boot_cpu_data')!;
    const layout = s.image.structs.get('cpuinfo_x86')!;
    const caps = layout.fields.flatMap((f) => (f.name === '' && f.fields ? f.fields : [f])).find((f) => f.name === 'x86_capability')!;
    const [word, bit] = featureBit(name);
    return (new DataView(s.machine.readBytes(u.address + BigInt(caps.offset + word * 4), 4).slice().buffer).getUint32(0, true) >>> bit) & 1;
  };
  const host = await Session.create({ program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], entry: 'tdx_cpu_enable' });
  assert.equal(capBit(host, 'TDX_HOST_PLATFORM'), 1);
  assert.ok(host.notes.some((n) => n.kind === 'stub' && /boot_cpu_data/.test(n.name) && /TDX_HOST_PLATFORM/.test(n.text)), 'named in the console');
  // The x86_phys_bits the kernel reads from CPUID 0x80000008 EAX[7:0] (SDM Vol. 2A CPUID) of the emulated CPU.
  const u = host.image.undefinedData!.find((x) => x.name === 'boot_cpu_data')!;
  const phys = host.image.structs.get('cpuinfo_x86')!.fields.find((f) => f.name === 'x86_phys_bits')!;
  assert.equal(host.machine.readBytes(u.address + BigInt(phys.offset), 1)[0], host.machine.cpuid(0x80000008, 0)[0] & 0xff);
  assert.equal(host.run().reason, 'returned');
  assert.equal(host.machine.getReg('rax') & 0xffffffffn, 0n);
  assert.deepEqual(host.calls.map((c) => c.leaf), ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT']);
  const guest = await Session.create({ program: join(GUEST, 'tdx.o'), objects: [join(GUEST, 'tdcall.o'), join(GUEST, 'tdx-shared.o')], entry: 'tdx_halt' });
  assert.equal(capBit(guest, 'TDX_GUEST'), 1);
  assert.equal(capBit(guest, 'HYPERVISOR'), 1);
  assert.equal(capBit(guest, 'TDX_HOST_PLATFORM'), 0);
});

test('6.12 host objects: two CPUs get their own per-CPU copies and __per_cpu_offset', { skip }, async () => {
  needSetup();
  const s = await Session.create({ program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], entry: 'tdx_cpu_enable', cpus: 2, data: { boot_cpu_data: TDX_HOST_PLATFORM } });
  const off = s.image.undefinedData?.find((u) => u.name === '__per_cpu_offset');
  assert.ok(off);
  assert.equal(u64(s, off.address), s.perCpu.base);
  assert.equal(u64(s, off.address + 8n), s.perCpu.base + s.perCpu.stride);
  const flag = s.image.symbols.find((x) => x.name === 'tdx_lp_initialized')!;
  assert.equal(s.run().reason, 'returned');
  assert.equal(s.machine.readBytes(s.perCpu.base + flag.address, 1)[0], 1, 'CPU 0 ran it');
  assert.equal(s.machine.readBytes(s.perCpu.base + s.perCpu.stride + flag.address, 1)[0], 0, 'CPU 1 did not');
});

test('6.12 bad input: a data value of the wrong size, a struct field that does not exist, a function given as data, an out-parameter to unmapped memory', { skip }, async () => {
  needSetup();
  const base = { program: join(GUEST, 'tdx.o'), objects: [join(GUEST, 'tdcall.o')], entry: 'tdx_mcall_get_report0', args: [{ buffer: 64 }, { buffer: 1024, align: 1024 }] };
  await assert.rejects(Session.create({ ...base, data: { cc_vendor: '0x100000000' } }), (e: unknown) => e instanceof ConfigError && /"data\.cc_vendor".*does not fit cc_vendor's 4 bytes/.test(e.message));
  await assert.rejects(Session.create({ ...base, data: { boot_cpu_data: 1 } }), (e: unknown) => e instanceof ConfigError && /boot_cpu_data is 328 bytes/.test(e.message));
  await assert.rejects(Session.create({ ...base, data: { boot_cpu_data: { nosuch: 1 } } }), (e: unknown) => e instanceof ConfigError && /"data\.boot_cpu_data\.nosuch" is not a field of cpuinfo_x86/.test(e.message));
  await assert.rejects(Session.create({ ...base, data: { __tdcall: 1, __tdcall_ret: 1 }, objects: [] }), (e: unknown) => e instanceof ConfigError && /"data\.__tdcall".*calls \(a function/.test(e.message));
  const s = await Session.create({ ...base, objects: [], stubs: { __tdcall: { write: [{ arg: 1, offset: 0x100000, value: 1 }] } } });
  const st = s.run();
  assert.equal(st.reason, 'stub-stop');
  assert.match(st.message, /__tdcall: out-parameter write \(stubs\.__tdcall\.write\[0\]: 8 bytes through RSI = 0x[0-9a-f]+ \+ 1048576\) failed/);
});

test('generation from the objects: a 6.12 object is G4 (no G5-only `version`), a 6.1 one G1, with no "generation" attribute', { skip }, async () => {
  needSetup();
  const s = await Session.create({ program: join(GUEST, 'tdcall.o'), entry: '__tdcall' });
  assert.equal(s.config.generation, 'G4');
  const args = s.image.structs.get('tdx_module_args');
  assert.ok(args);
  assert.ok(!args.fields.some((f) => f.name === 'version'), 'the 6.12 tdx_module_args has no version field');
  const old = join(CACHE, 'build-6.1/arch/x86/coco/tdx/tdcall.o');
  if (existsSync(old)) {
    const g1 = await Session.create({ program: old, entry: '__tdx_hypercall', args: [{ struct: 'tdx_hypercall_args', init: { r11: 10 } }, 1] });
    assert.equal(g1.config.generation, 'G1');
    assert.equal(g1.structArgs[0].layout.size, 48);
  }
});

test('headers work for an ELF program: the user\'s struct becomes an overlay of an assembly object', { skip }, async () => {
  needSetup();
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tdx-hdr-'));
  const h = join(dir, 'overlay.h');
  writeFileSync(h, 'struct my_overlay { unsigned long long rcx; unsigned int flags; unsigned long long rdx; };\n');
  const s = await Session.create({ program: join(GUEST, 'tdcall.o'), entry: '__tdcall', headers: [h], args: [0, { struct: 'my_overlay', init: { rcx: 1 } }] });
  const l = s.structArgs[0].layout;
  assert.equal(l.name, 'my_overlay');
  assert.deepEqual(l.fields.map((f) => [f.name, f.offset, f.size]), [['rcx', 0, 8], ['flags', 8, 4], ['rdx', 16, 8]], 'SysV layout (gcc puts rdx at 16)');
  await assert.rejects(Session.create({ program: join(GUEST, 'tdcall.o'), entry: '__tdcall', headers: [join(dir, 'missing.h')] }), /"headers\[0\]" names a file that does not exist/);
});

test('6.12 in the debug adapter: a breakpoint on a C line of the guest tdx.c and of the host tdx.c (tdx_mcall_get_report0, tdx_cpu_enable, tdx_enable), the undefined data named in the console', { skip }, async () => {
  needSetup();
  const SRC = join(CACHE, 'linux-source-6.12');
  const tree = { kernelSource: SRC, kernelBuild: BUILD, cwd: CACHE };
  const cases: KernelDapCase[] = [
    { file: join(SRC, 'arch/x86/coco/tdx/tdx.c'), needle: 'ret = __tdcall(TDG_MR_REPORT, &args);', console: /undefined data symbol page_offset_base: 8 bytes/, config: {
      ...tree, program: 'arch/x86/coco/tdx/tdx.c', objects: ['arch/x86/coco/tdx/tdcall.S'], entry: 'tdx_mcall_get_report0', args: [{ buffer: 64, align: 64 }, { buffer: 1024, align: 1024 }],
    } },
    { file: join(SRC, 'arch/x86/virt/vmx/tdx/tdx.c'), needle: '__this_cpu_write(tdx_lp_initialized, true);', console: /undefined data symbol boot_cpu_data: 328 bytes.*TDX_HOST_PLATFORM/, config: {
      ...tree, program: 'arch/x86/virt/vmx/tdx/tdx.c', objects: ['arch/x86/virt/vmx/tdx/seamcall.S'], entry: 'tdx_cpu_enable',
    } },
    // seamcall.o comes from the build tree (tdx_enable reaches __seamcall).
    { file: join(SRC, 'arch/x86/virt/vmx/tdx/tdx.c'), needle: 'ret = config_tdx_module(&tdx_tdmr_list, tdx_global_keyid);', console: /undefined data symbol page_offset_base/, config: {
      ...tree, program: 'arch/x86/virt/vmx/tdx/tdx.c', ...TDX_ENABLE,
    } },
    // A WARN_ONCE in the adapter: the breakpoint is on the WARN line, the #UD of its ud2 is the kernel's warning, the run goes on.
    { file: join(SRC, 'arch/x86/coco/tdx/tdx.c'), needle: 'WARN_ONCE(1, "HLT instruction emulation failed\\n");', returns: '0x[0-9a-f]+',
      after: new RegExp(`WARNING: at arch/x86/coco/tdx/tdx\\.c:${sourceLine('arch/x86/coco/tdx/tdx.c', 'WARN_ONCE(1, "HLT instruction emulation failed')} tdx_halt\\+`), config: {
        ...tree, program: 'arch/x86/coco/tdx/tdx.c', entry: 'tdx_halt', faults: ['tdvmcall:HLT=r10:TDVMCALL_STATUS_RETRY'],
      } },
  ];
  for (const c of cases) await runKernelDapCase(c);
});

test('6.12 linking from the build tree loads only what the run reaches: tdx_mcall_get_report0 links tdcall.o, not tdx-shared.o; tdx_halt links tdx-shared.o, which links tdcall.o', { skip }, async () => {
  needSetup();
  const SRC = join(CACHE, 'linux-source-6.12');
  const progress: string[] = [];
  const s = await Session.create({
    program: 'arch/x86/coco/tdx/tdx.c', kernelSource: SRC, kernelBuild: BUILD, entry: 'tdx_mcall_get_report0',
    args: [{ buffer: 64, align: 64 }, { buffer: 1024, align: 1024 }],
  }, { cwd: CACHE, onProgress: (l) => progress.push(l) });
  const shown = () => progress.join('\n');
  assert.ok(!s.image.undefinedSymbols.includes('__tdcall'), '__tdcall comes from the tree, not a stub');
  assert.ok(s.image.undefinedSymbols.includes('tdx_accept_memory'), 'tdx-shared.o is not reached from tdx_mcall_get_report0: its symbols stay stubs');
  assert.ok(progress.some((l) => /^linking arch\/x86\/coco\/tdx\/tdcall\.o from the build tree: it defines __tdcall, which tdx_mcall_get_report0 reaches$/.test(l)), shown());
  assert.ok(!progress.some((l) => /^linking arch\/x86\/coco\/tdx\/tdx-shared\.o/.test(l)), shown());
  assert.ok(progress.some((l) => /^build tree: indexed \d+ objects of arch\/x86\/coco\/tdx in \d+ ms/.test(l)), shown());
  assert.ok(progress.some((l) => /^build tree: linked 1 of \d+ objects the run can reach in \d+ ms \(not reached, not loaded: .*arch\/x86\/coco\/tdx\/tdx-shared\.o/.test(l)), shown());
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax') & 0xffffffffn, 0n);
  assert.deepEqual(s.calls.map((c) => c.leaf), ['TDG.MR.REPORT']);
  // Were the run to reach a left-out symbol anyway (a path the walk cannot see), the stop names the tree's object.
  s.machine.setReg('rip', s.image.symbols.find((x) => x.name === 'tdx_accept_memory')!.address);
  const left = s.run();
  assert.equal(left.reason, 'undefined-symbol');
  assert.match(left.message, /call to undefined symbol 'tdx_accept_memory': arch\/x86\/coco\/tdx\/tdx-shared\.o of the build tree defines it, but the link left it out/);
  // tdx_halt → __tdx_hypercall (tdx-shared.c) → __tdcall_saved_ret (tdcall.S): two objects, reached one through the other.
  progress.length = 0;
  const h = await Session.create({ program: 'arch/x86/coco/tdx/tdx.c', kernelSource: SRC, kernelBuild: BUILD, entry: 'tdx_halt' }, { cwd: CACHE, onProgress: (l) => progress.push(l) });
  assert.ok(progress.some((l) => /^build tree: indexed 2 objects of arch\/x86\/coco\/tdx in \d+ ms \(2 unchanged since the last launch\)$/.test(l)), `the index is kept while the objects do not change: ${shown()}`);
  assert.ok(progress.some((l) => /^linking arch\/x86\/coco\/tdx\/tdx-shared\.o from the build tree: it defines __tdx_hypercall, which \w+ reaches$/.test(l)), shown());
  assert.ok(progress.some((l) => /^linking arch\/x86\/coco\/tdx\/tdcall\.o from the build tree: it defines __tdcall\w*, which \w+ reaches$/.test(l)), shown());
  const hs = h.run();
  assert.equal(hs.reason, 'returned', hs.message);
  assert.deepEqual(h.calls.map((c) => [c.leaf, c.before.R11]), [['TDG.VP.VMCALL', 12n]], 'EXIT_REASON_HLT');
  // A stub the configuration gives wins over the tree's definition: tdx-shared.o is not loaded, no TDCALL is made.
  progress.length = 0;
  const stubbed = await Session.create({ program: 'arch/x86/coco/tdx/tdx.c', kernelSource: SRC, kernelBuild: BUILD, entry: 'tdx_halt', stubs: { __tdx_hypercall: 0 } }, { cwd: CACHE, onProgress: (l) => progress.push(l) });
  assert.ok(stubbed.image.undefinedSymbols.includes('__tdx_hypercall'), shown());
  assert.ok(!progress.some((l) => /^linking /.test(l)), shown());
  assert.equal(stubbed.run().reason, 'returned');
  assert.equal(stubbed.calls.length, 0);
  const off = await Session.create({ program: 'arch/x86/coco/tdx/tdx.c', kernelSource: SRC, kernelBuild: BUILD, entry: 'tdx_mcall_get_report0', linkTree: false }, { cwd: CACHE });
  assert.ok(off.image.undefinedSymbols.includes('__tdcall'), 'linkTree: false keeps the stub');
});

test('6.12 tdx_enable: the whole module initialisation to 0, with stubs only for the memory map (for_each_mem_pfn_range) and launch attributes', { skip }, async () => {
  needSetup();
  const s = await Session.create({ program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], ...TDX_ENABLE });
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax') & 0xffffffffn, 0n, 'tdx_enable returns 0');
  const leaves = s.calls.map((c) => c.leaf);
  const distinct = leaves.filter((l, k) => l !== leaves[k - 1]);
  assert.deepEqual(distinct, ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT', 'TDH.SYS.RD', 'TDH.SYS.CONFIG', 'TDH.SYS.KEY.CONFIG', 'TDH.SYS.TDMR.INIT']);
  assert.equal(leaves.filter((l) => l === 'TDH.SYS.RD').length, 5);
  const config = s.calls.find((c) => c.leaf === 'TDH.SYS.CONFIG')!;
  assert.equal(config.before.RDX, 1n, 'one TDMR covers 1 MiB..1 GiB');
  assert.equal(config.before.R8, 32n, 'the global KeyID');
  // The TDMR list the kernel keeps (tdx_tdmr_list.tdmrs, its first member): one 512-aligned TDMR_INFO, base 0, size 1 GiB.
  const list = s.image.symbols.find((x) => x.name === 'tdx_tdmr_list')!;
  const tdmr = u64(s, list.address);
  assert.equal((tdmr - PAGE_OFFSET) % 512n, 0n);
  assert.equal(u64(s, tdmr), 0n, 'TDMR base');
  assert.equal(u64(s, tdmr + 8n), 1n << 30n, 'TDMR size: 1 GiB');
  // PAMT: 262144 4K entries + 512 2M entries + 1 1G entry, 16 bytes each, each part rounded up to 4 KiB: 4096 + 8 + 4 KB.
  assert.ok(s.notes.some((n) => n.kind === 'log' && /4108 KB allocated for PAMT/.test(n.text)));
  assert.ok(s.notes.some((n) => n.kind === 'log' && /module initialized/.test(n.text)));
});

/** The line of `needle` in a file of the Debian 6.12 tree (what __LINE__ gives the kernel's WARN in its __bug_table entry). */
function sourceLine(rel: string, needle: string): number {
  const lines = readFileSync(join(CACHE, 'linux-source-6.12', rel), 'utf8').split('\n');
  const k = lines.findIndex((l) => l.includes(needle));
  assert.ok(k >= 0, `${rel} holds ${needle}`);
  return k + 1;
}

test('6.12 WARN_ONCE on the real guest tdx.o: a failing TDG.VP.VMCALL<HLT> makes tdx_halt warn with its message and tdx.c line, then return', { skip }, async () => {
  needSetup();
  const line = sourceLine('arch/x86/coco/tdx/tdx.c', 'WARN_ONCE(1, "HLT instruction emulation failed\\n");');
  const s = await Session.create({
    program: join(GUEST, 'tdx.o'), objects: [join(GUEST, 'tdcall.o'), join(GUEST, 'tdx-shared.o')], entry: 'tdx_halt',
    faults: ['tdvmcall:HLT=r10:TDVMCALL_STATUS_RETRY'],
  });
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.deepEqual(s.calls.map((c) => [c.leaf, c.subfunctionNumber]), [['TDG.VP.VMCALL', 12n]], 'one TDG.VP.VMCALL<Instruction.HLT> (EXIT_REASON_HLT = 12)');
  const logs = s.notes.filter((n) => n.kind === 'log').map((n) => (n as { text: string }).text);
  assert.ok(logs.includes('HLT instruction emulation failed'), `__warn_printk's message (${logs.join(' | ')})`);
  assert.ok(logs.some((t) => t.startsWith(`WARNING: at arch/x86/coco/tdx/tdx.c:${line} tdx_halt+`)), `the __bug_table entry's file:line (${logs.join(' | ')})`);
});

test('6.12 WARN_ON_ONCE on the real guest tdx.o: an undecodable MMIO #VE warns once at tdx.c, the second #VE is silent, both return false', { skip }, async () => {
  needSetup();
  const line = sourceLine('arch/x86/coco/tdx/tdx.c', 'if (WARN_ON_ONCE(mmio == INSN_MMIO_DECODE_FAILED))');
  // EXIT_REASON_EPT_VIOLATION (48) on a shared GPA (bit 51 = cc_mask, CC_VENDOR_INTEL = 2) reaches handle_mmio(); the
  // instruction decoder (arch/x86/lib) is not linked: its stubs answer INSN_MMIO_DECODE_FAILED (0).
  const shared = 1n << 51n;
  const s = await Session.create({
    program: join(GUEST, 'tdx.o'), objects: [join(GUEST, 'tdcall.o'), join(GUEST, 'tdx-shared.o')],
    entry: 'tdx_handle_virt_exception', before: ['tdx_handle_virt_exception'],
    args: [{ struct: 'pt_regs', init: { cs: '0x10', ip: '0xffffffff81000000' } }, { struct: 've_info', init: { exit_reason: 48, gpa: `0x${(shared | 0x1000n).toString(16)}` } }],
    data: { cc_vendor: 2, cc_mask: `0x${shared.toString(16)}` },
    stubs: { cc_mkenc: `arg0 & ~0x${shared.toString(16)}`, copy_from_kernel_nofault: 0, insn_decode: 0, insn_decode_mmio: 0 },
  });
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax') & 0xffn, 0n, 'false: the #VE was not handled');
  const warnings = s.notes.filter((n) => n.kind === 'log' && /^WARNING: /.test(n.text)).map((n) => (n as { text: string }).text);
  assert.equal(warnings.length, 1, `once (BUGFLAG_ONCE, then BUGFLAG_DONE): ${warnings.join(' | ')}`);
  assert.match(warnings[0], new RegExp(`^WARNING: at arch/x86/coco/tdx/tdx\\.c:${line} `));
});

test('6.12 data on per-CPU symbols: a plain name writes CPU 0\'s copy, name@N the copies named; bad CPU lists are named', { skip }, async () => {
  needSetup();
  const base = { program: join(HOST, 'tdx.o'), objects: [join(HOST, 'seamcall.o')], entry: 'tdx_cpu_enable', cpus: 2, data: { boot_cpu_data: TDX_HOST_PLATFORM } };
  const flagOf = (s: Session) => s.image.symbols.find((x) => x.name === 'tdx_lp_initialized')!.address;
  const copies = (s: Session) => [0n, 1n].map((k) => s.machine.readBytes(s.perCpu.base + k * s.perCpu.stride + flagOf(s), 1)[0]);
  // CPU 1 marked initialised: CPU 0 (which runs the entry) still initialises itself.
  const one = await Session.create({ ...base, data: { ...base.data, 'tdx_lp_initialized@1': 1 } });
  assert.deepEqual(copies(one), [0, 1]);
  assert.equal(one.run().reason, 'returned');
  assert.deepEqual(one.calls.map((c) => c.leaf), ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT']);
  // The plain name is CPU 0's copy: tdx_cpu_enable sees it set and returns 0 before any SEAMCALL.
  const zero = await Session.create({ ...base, data: { ...base.data, tdx_lp_initialized: 1 } });
  assert.deepEqual(copies(zero), [1, 0]);
  assert.equal(zero.run().reason, 'returned');
  assert.equal(zero.machine.getReg('rax') & 0xffffffffn, 0n);
  assert.equal(zero.calls.length, 0, '__this_cpu_read(tdx_lp_initialized) is true on CPU 0');
  const all = await Session.create({ ...base, data: { ...base.data, 'tdx_lp_initialized@*': 1 } });
  assert.deepEqual(copies(all), [1, 1]);
  const list = await Session.create({ ...base, cpus: 3, data: { ...base.data, 'tdx_lp_initialized@0,2': 1 } });
  assert.deepEqual([0n, 1n, 2n].map((k) => list.machine.readBytes(list.perCpu.base + k * list.perCpu.stride + flagOf(list), 1)[0]), [1, 0, 1]);
  await assert.rejects(Session.create({ ...base, data: { 'tdx_lp_initialized@2': 1 } }), (e: unknown) => e instanceof ConfigError && /"data\.tdx_lp_initialized@2".*names CPU 2, but there are 2 CPUs/.test(e.message));
  await assert.rejects(Session.create({ ...base, data: { 'tdx_lp_initialized@x': 1 } }), (e: unknown) => e instanceof ConfigError && /"@x" is not a CPU list/.test(e.message));
  await assert.rejects(Session.create({ ...base, data: { 'tdx_global_keyid@1': 1 } }), (e: unknown) => e instanceof ConfigError && /tdx_global_keyid is not per-CPU data/.test(e.message));
});
