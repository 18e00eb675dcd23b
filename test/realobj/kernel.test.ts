// The real Linux 6.1 arch/x86/coco/tdx/tdcall.o (built by scripts/kernel-objects.sh 6.1 from Debian's
// linux-source-6.1, debug info on, the default mitigations on) debugged through the Session's
// kernel-tree path: a breakpoint on the `tdcall` line of the real tdcall.S (a `.byte` macro with
// no line row of its own), the 6-register tdx_hypercall_args overlay from the kernel's own DWARF
// (tdx.o), and an injected TDCALL status that reaches the panic path. Skipped when the object
// has not been built, unless TDX_KERNEL_TEST=1 asks for it (then a missing setup fails).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { kernelObjectStaleness } from '../../emulator/loader/kernelTree';
import { decodedLines } from '../unit/elfOracle';
import { fromRoot } from '../support/paths';
import { callChain, runTo, sym } from './helpers';

const CACHE = process.env.TDX_KERNEL_CACHE ?? fromRoot('.cache/kernel');
const SRC = join(CACHE, 'linux-source-6.1');
const BUILD = join(CACHE, 'build-6.1');
const TARGET = 'arch/x86/coco/tdx/tdcall.o';
const OBJ = join(BUILD, TARGET);
const REQUIRED = process.env.TDX_KERNEL_TEST === '1';
const ready = existsSync(OBJ) && existsSync(join(BUILD, 'arch/x86/coco/tdx/tdx.o')) && existsSync(join(SRC, 'Makefile'));
const skip = !ready && !REQUIRED ? `no real kernel object at ${OBJ} (run scripts/kernel-objects.sh 6.1, or set TDX_KERNEL_TEST=1 to require it)` : false;

function needSetup(): void {
  if (!ready) assert.fail(`TDX_KERNEL_TEST=1 but the kernel object is missing: ${OBJ}. Run scripts/kernel-objects.sh 6.1 first (it installs linux-source-6.1 and builds the object).`);
}

/** The `tdcall` statement line inside __tdx_hypercall of the real tdcall.S. */
function tdcallLine(): number {
  const lines = readFileSync(join(SRC, 'arch/x86/coco/tdx/tdcall.S'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes('SYM_FUNC_START(__tdx_hypercall)'));
  assert.ok(start >= 0, 'tdcall.S defines __tdx_hypercall');
  const k = lines.findIndex((l, i) => i > start && /^\s*tdcall\s*$/.test(l));
  assert.ok(k > start, 'a tdcall statement follows');
  return k + 1;
}

const ARGS = { r10: 0, r11: 10, r12: 1, r13: 0x13, r14: 0x14, r15: 0x15 };
const TDX_HCALL_HAS_OUTPUT = 1;

function launch(extra: Record<string, unknown> = {}, trusted = true): Promise<Session> {
  return Session.create({
    program: 'arch/x86/coco/tdx/tdcall.S', objects: ['arch/x86/coco/tdx/tdx.o'],
    kernelSource: SRC, kernelBuild: BUILD, entry: '__tdx_hypercall', context: 'guest',
    args: [{ struct: 'tdx_hypercall_args', init: ARGS }, TDX_HCALL_HAS_OUTPUT], ...extra,
  }, { cwd: CACHE, trusted });
}

test('kernel 6.1 tdcall.o: up to date, loads without make (also in an untrusted workspace)', { skip }, async () => {
  needSetup();
  assert.equal(kernelObjectStaleness(TARGET, { source: SRC, build: BUILD }), undefined, 'the object is newer than every dependency kbuild recorded');
  const s = await launch({}, false);
  assert.equal(s.config.generation, 'G1', 'the tree is Linux 6.1: generation G1');
  assert.equal(s.programPath, join(SRC, 'arch/x86/coco/tdx/tdcall.S'));
  // Built with the distribution defaults: IBT landing pad and return thunk.
  const entry = sym(s, '__tdx_hypercall');
  assert.deepEqual([...s.machine.readBytes(entry, 4)], [0xf3, 0x0f, 0x1e, 0xfa], 'endbr64 at the entry');
  assert.ok(s.image.undefinedSymbols.includes('__x86_return_thunk'));
  assert.ok(s.image.undefinedSymbols.includes('panic'), 'tdx.o defines __tdx_hypercall_failed, which calls panic()');
  // DWARF paths name files of the source tree (and they were read).
  const files = new Set(s.image.lines.map((l) => l.file));
  assert.ok(files.has(join(SRC, 'arch/x86/coco/tdx/tdcall.S')));
  assert.ok(s.image.sources.has(join(SRC, 'arch/x86/coco/tdx/tdcall.S')));
});

test('kernel 6.1 tdcall.o: a breakpoint on the `tdcall` line of the real tdcall.S stops at TDCALL', { skip }, async () => {
  needSetup();
  const line = tdcallLine();
  // The object's own line table has no row for the `.byte` line (GNU as emits none for data).
  assert.ok(!decodedLines(OBJ).some((r) => r.file === 'tdcall.S' && r.line === line), 'objdump shows no row for the tdcall line');
  const s = await launch();
  const entries = s.image.lines.filter((l) => l.file.endsWith('tdcall.S') && l.line === line);
  assert.equal(entries.length, 1, 'the tdcall line owns exactly one range after the .byte fix');
  const at = entries[0].address;
  assert.equal(entries[0].length, 4);
  assert.deepEqual([...s.machine.readBytes(at, 4)], [0x66, 0x0f, 0x01, 0xcc], 'TDCALL bytes');
  assert.equal(s.symbolize(at)?.name, '__tdx_hypercall');
  runTo(s, at);
  // The overlay: tdx_hypercall_args from tdx.o's DWARF, the asm-offsets names of the G1 preset.
  const a = s.structArgs[0];
  assert.equal(a.layout.size, 48);
  assert.deepEqual(a.layout.fields.map((f) => [f.name, f.offset, f.size, f.type]), ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'].map((n, k) => [n, 8 * k, 8, 'u64']));
  assert.deepEqual(a.layout.fields.map((f) => f.asmOffsetsName), ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'].map((n) => `TDX_HYPERCALL_${n}`));
  for (const [k, n] of ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'].entries()) {
    assert.equal(s.machine.getReg(n), BigInt(ARGS[n as keyof typeof ARGS]), `${n} loaded from args at offset ${8 * k}`);
  }
  assert.equal(s.machine.getReg('rcx'), 0xfc00n, 'the G1 exposure mask');
  assert.equal(s.machine.getReg('rax'), 0n, 'TDG.VP.VMCALL');
  assert.deepEqual(callChain(s), ['__tdx_hypercall'], 'the entry function is the outermost frame');
  // On to the end: the hypercall completes, R10 comes back as the return value, the return thunk returns.
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0].status, 0n);
  assert.equal(s.machine.getReg('rax'), s.calls[0].after?.R10);
});

test('kernel 6.1 tdcall.o: a non-zero TDCALL status reaches the panic path (tdx.o\'s __tdx_hypercall_failed → panic)', { skip }, async () => {
  needSetup();
  const s = await launch({ faults: ['tdcall=status:TDX_OPERAND_INVALID'] });
  const st = s.run();
  assert.equal(st.reason, 'panic', st.message);
  // The message is the kernel's own format string, read from tdx.o's .rodata by the panic stub.
  assert.match(st.message, /TDVMCALL failed\. TDX module bug\?/);
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0].status, 0xc000010000000000n);
  assert.ok(s.calls[0].injected);
  assert.equal(s.symbolize(st.address)?.name, 'panic');
  assert.deepEqual(callChain(s).slice(1), ['__tdx_hypercall_failed', '__tdx_hypercall']);
});

test('kernel 6.1 tdcall.o alone: the __tdx_hypercall_failed stub panics; the overlay comes from the G1 preset', { skip }, async () => {
  needSetup();
  const s = await launch({ objects: [], linkTree: false, faults: ['tdcall=status:TDX_OPERAND_INVALID'] });
  assert.ok(s.image.undefinedSymbols.includes('__tdx_hypercall_failed'));
  assert.deepEqual(s.structArgs[0].layout.fields.map((f) => f.asmOffsetsName), ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'].map((n) => `TDX_HYPERCALL_${n}`));
  const st = s.run();
  assert.equal(st.reason, 'panic', st.message);
  assert.equal(s.symbolize(st.address)?.name, '__tdx_hypercall_failed');
  assert.deepEqual(callChain(s).slice(1), ['__tdx_hypercall']);
});

// Issue 15: the guest C of 6.1 with nothing hand-written but launch attributes.
const TDX_O = join(BUILD, 'arch/x86/coco/tdx/tdx.o');
/** ATTR_SEPT_VE_DISABLE (6.1 tdx.c): without it tdx_early_init panics, as it must. */
const SEPT_VE_DISABLE = '0x10000000';
const sym64 = (s: Session, name: string, off = 0n) => {
  const d = s.image.undefinedData?.find((u) => u.name === name);
  assert.ok(d, `${name} has storage`);
  return new DataView(s.machine.readBytes(d.address + off, 8).slice().buffer).getBigUint64(0, true);
};

test('kernel 6.1 tdx_early_init: TDG.VP.INFO, cc_mask = the shared bit (GPAW - 1), physical_mask below it, TDX_GUEST forced, the x86_platform hooks set', { skip }, async () => {
  needSetup();
  const s = await Session.create({ program: TDX_O, objects: [OBJ], entry: 'tdx_early_init', context: 'guest', tdxModule: { attributes: SEPT_VE_DISABLE } });
  assert.equal(s.config.generation, 'G1', 'from the build tree, no "generation" attribute');
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.deepEqual(s.calls.map((c) => c.leaf), ['TDG.VP.INFO']);
  const gpaw = s.calls[0].after!.RCX & 0x3fn;
  assert.ok(gpaw === 48n || gpaw === 52n);
  const mask = 1n << (gpaw - 1n);
  assert.equal(sym64(s, 'cc_mask'), mask, 'cc_mask = BIT_ULL(gpa_width - 1)');
  assert.equal(sym64(s, 'physical_mask'), ((1n << 52n) - 1n) & (mask - 1n), 'physical_mask &= cc_mask - 1');
  const vendor = s.image.undefinedData!.find((u) => u.name === 'cc_vendor')!;
  assert.equal(s.machine.readBytes(vendor.address, 4)[0], 3, 'CC_VENDOR_INTEL');
  // setup_force_cpu_cap(X86_FEATURE_TDX_GUEST): ( 8*32+22) in 6.1's cpufeatures.h.
  const caps = s.image.undefinedData!.find((u) => u.name === 'cpu_caps_set')!;
  assert.ok(new DataView(s.machine.readBytes(caps.address + 32n, 4).slice().buffer).getUint32(0, true) & (1 << 22));
  const hooks = ['tdx_enc_status_change_prepare', 'tdx_enc_status_change_finish', 'tdx_cache_flush_required', 'tdx_tlb_flush_required'].map((n) => s.image.symbols.find((x) => x.name === n)?.address).filter((a) => a !== undefined);
  const platform = s.image.undefinedData!.find((u) => u.name === 'x86_platform')!;
  const words = new BigUint64Array(s.machine.readBytes(platform.address, platform.size).slice().buffer);
  for (const a of hooks) assert.ok(words.includes(a!), `x86_platform holds ${a!.toString(16)}`);
  assert.equal(hooks.length, 4);
  assert.ok(s.notes.some((n) => n.kind === 'log' && /Guest detected/.test(n.text)));
  // The same TD without SEPT_VE_DISABLE: the kernel's own panic.
  const p = await Session.create({ program: TDX_O, objects: [OBJ], entry: 'tdx_early_init', context: 'guest' });
  const ps = p.run();
  assert.equal(ps.reason, 'panic');
  assert.match(ps.message, /SEPT_VE_DISABLE/);
});

test('kernel 6.1 tdx_safe_halt: one TDG.VP.VMCALL<Instruction.HLT> with irq_disabled = false (R12 = 0), returns', { skip }, async () => {
  needSetup();
  const s = await Session.create({ program: TDX_O, objects: [OBJ], entry: 'tdx_safe_halt', context: 'guest' });
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0].leaf, 'TDG.VP.VMCALL');
  assert.equal(s.calls[0].before.R11, 12n, 'EXIT_REASON_HLT');
  assert.equal(s.calls[0].before.R12, 0n, 'irq_disabled = false');
  assert.equal(s.calls[0].status, 0n);
});

test('kernel 6.1 in the debug adapter: breakpoints on C lines of tdx.c in tdx_early_init and tdx_safe_halt (tdcall.o linked from the build tree)', { skip }, async () => {
  needSetup();
  const { runKernelDapCase } = await import('./kernelDap');
  const file = join(SRC, 'arch/x86/coco/tdx/tdx.c');
  const tree = { kernelSource: SRC, kernelBuild: BUILD, cwd: CACHE, program: 'arch/x86/coco/tdx/tdx.c', context: 'guest' };
  await runKernelDapCase({ file, needle: 'physical_mask &= cc_mask - 1;', console: /linking arch\/x86\/coco\/tdx\/tdcall\.o from the build tree/, config: {
    ...tree, entry: 'tdx_early_init', tdxModule: { attributes: SEPT_VE_DISABLE },
  }, returns: '0x[0-9a-f]+' });
  await runKernelDapCase({ file, needle: 'return __tdx_hypercall(&args, do_sti ? TDX_HCALL_ISSUE_STI : 0);', config: { ...tree, entry: 'tdx_safe_halt' }, returns: '0x[0-9a-f]+' });
});
