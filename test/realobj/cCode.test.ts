// C code through the Session (issue 7 "C code"): our C callers of our assembly wrappers, built by
// gcc at -O0 and -O2 with the kernel's flags, with and without the kernel's default mitigations
// (endbr64, return thunks, retpolines, call padding). They run to the expected results, their
// line tables equal objdump's, they step by source line, the call stack and the stack pointer
// stay right across the thunks, and the C side's struct argument is laid out from DWARF.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../emulator/session/session';
import { decodedLines } from '../unit/elfOracle';
import { LAYOUT } from '../../emulator/session/session';
import { C_DIR, VARIANTS, callChain, fixtureObject, lineOf, runTo, stepLines, sym, where, type Variant } from './helpers';

async function guest(v: Variant, entry: string, args: unknown[], extra: Record<string, unknown> = {}): Promise<Session> {
  return Session.create({
    program: await fixtureObject('hypercall.c', v), objects: [await fixtureObject('tdx_wrappers.S', v)],
    entry, args, context: 'guest', generation: 'G4', ...extra,
  }, { cwd: C_DIR });
}

async function host(v: Variant, platform: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Session> {
  return Session.create({
    program: await fixtureObject('seamcall.c', v), objects: [await fixtureObject('tdx_wrappers.S', v)],
    entry: 'seamcall_prerr', args: ['0x21', { struct: 'tdx_module_args' }], context: 'host', generation: 'G4', platform, ...extra,
  }, { cwd: C_DIR });
}

const u64 = (s: Session, a: bigint) => new DataView(s.machine.readBytes(a, 8).buffer).getBigUint64(0, true);

for (const v of VARIANTS) {
  test(`${v.name}: a function-pointer call (retpoline thunk when mitigated) runs to C's own result`, async () => {
    // tdx_dispatch(0, nr, p1) = Σ_{k<3} hc_none(nr, p1 + k, 0, 0, 0) = 3·nr + 3·p1 + 3.
    const s = await guest(v, 'tdx_dispatch', [0, 5, 100]);
    const st = s.run();
    assert.equal(st.reason, 'returned', st.message);
    assert.equal(s.machine.getReg('rax'), 3n * 5n + 3n * 100n + 3n);
    assert.equal(s.machine.getReg('rsp'), LAYOUT.stackTop, 'the stack is balanced after the return');
    assert.equal(s.machine.cpu.ssN, 0, 'the shadow call stack is empty after the return');
    if (v.name.includes('mitigations')) assert.ok(s.image.undefinedSymbols.some((n) => n.startsWith('__x86_indirect_thunk_')), 'gcc called through a retpoline thunk');
  });

  test(`${v.name}: the C hypercall path makes three TDG.VP.VMCALLs with the exposure mask C set`, async () => {
    const s = await guest(v, 'tdx_dispatch', [1, 0x10, 7]);
    const st = s.run();
    assert.equal(st.reason, 'returned', st.message);
    assert.equal(s.calls.length, 3);
    s.calls.forEach((c, k) => {
      assert.equal(c.before.RCX, 0xffccn, 'RCX = the mask tdx_hypercall() stored in args->rcx');
      assert.equal(c.before.R11, 0x10n, 'R11 = nr');
      assert.equal(c.before.R12, 7n + BigInt(k), 'R12 = p1 + k');
    });
    assert.equal(s.machine.getReg('rsp'), LAYOUT.stackTop);
    assert.equal(s.machine.cpu.ssN, 0);
    if (v.name.includes('mitigations')) assert.ok(s.image.undefinedSymbols.includes('__x86_return_thunk'));
  });

  test(`${v.name}: a TDCALL failure status reaches the C panic path`, async () => {
    const s = await guest(v, 'tdx_kvm_hypercall', [0x10, 1, 2, 3, 4], { faults: ['tdcall=status:TDX_OPERAND_INVALID'] });
    const st = s.run();
    assert.equal(st.reason, 'panic', st.message);
    assert.match(st.message, /TDVMCALL failed/);
  });

  test(`${v.name}: the line table equals objdump --dwarf=decodedline`, async () => {
    const obj = await fixtureObject('hypercall.c', v);
    const s = await guest(v, 'tdx_dispatch', [0, 0, 0]);
    // .text of the first object is placed at LAYOUT.text (the C object comes first).
    const rows = decodedLines(obj).filter((r) => r.line !== undefined);
    assert.ok(rows.length > 10);
    const base = LAYOUT.text;
    const ends = new Set(decodedLines(obj).filter((r) => r.line === undefined).map((r) => r.address));
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const next = rows[k + 1];
      if (next && next.address === r.address) continue; // an empty row: the next one owns the address
      if (ends.has(r.address)) continue;
      const here = s.lineAt(base + r.address);
      assert.ok(here, `no line at .text+0x${r.address.toString(16)}`);
      assert.equal(here.line, r.line, `.text+0x${r.address.toString(16)}: ours ${here.file}:${here.line}, objdump ${r.file}:${r.line}`);
      assert.ok(here.file.endsWith(r.file));
    }
  });

  test(`${v.name}: stepping by source line walks C and assembly lines; the stack shows both`, async () => {
    const s = await guest(v, 'tdx_hypercall', [{ struct: 'tdx_module_args', init: { r11: '0x10', r12: 1 } }]);
    const { lines, stop } = stepLines(s);
    assert.equal(stop?.reason, 'returned', stop?.message);
    const c = (t: string) => `hypercall.c:${lineOf('hypercall.c', t)}`;
    const tdcallLine = `tdx_wrappers.S:${lineOf('tdx_wrappers.S', '\tTDCALL')}`;
    const idx = (x: string) => { const k = lines.indexOf(x); assert.ok(k >= 0, `${x} not visited: ${lines.join(' ')}`); return k; };
    // The call line comes before the assembly, the TDCALL line is visited, then C's return.
    assert.ok(idx(c('ret = __tdcall_saved_ret')) < idx(tdcallLine), lines.join(' '));
    assert.ok(idx(tdcallLine) < lines.lastIndexOf(c('return args->r10')), lines.join(' '));
    if (v.name.startsWith('-O0')) {
      // At -O0 every statement is visited in order.
      const order = [c('args->rcx = EXPOSED_REGS'), c('ret = __tdcall_saved_ret'), tdcallLine, c('if (ret)'), c('return args->r10')];
      const at = order.map(idx);
      assert.deepEqual([...at].sort((a, b) => a - b), at, lines.join(' '));
    }
  });

  test(`${v.name}: at the TDCALL the call stack is the assembly wrapper over the C callers`, async () => {
    const s = await guest(v, 'tdx_dispatch', [1, 0x10, 7]);
    const tdcall = [...s.image.lines].find((l) => l.file.endsWith('tdx_wrappers.S') && l.line === lineOf('tdx_wrappers.S', '\tTDCALL'));
    assert.ok(tdcall, 'the TDCALL line has code (the .byte line fix)');
    runTo(s, tdcall.address);
    const chain = callChain(s);
    assert.equal(chain[0], '__tdcall_saved_ret');
    assert.ok(['tdx_hypercall', 'tdx_kvm_hypercall'].includes(chain[1]), chain.join(' < '));
    assert.equal(chain[chain.length - 1], 'tdx_dispatch', chain.join(' < '));
    // Step out of the wrapper (through `jmp __x86_return_thunk` when mitigated): back in C, one frame fewer.
    const depth = s.machine.cpu.ssN;
    const sp = s.machine.getReg('rsp');
    for (let n = 0; n < 200 && s.machine.cpu.ssN >= depth; n++) assert.equal(s.step(), null);
    assert.equal(s.machine.cpu.ssN, depth - 1);
    assert.equal(callChain(s)[0], chain[1]);
    assert.equal(s.machine.getReg('rsp'), sp + 6n * 8n + 8n, 'six pushes and the return address are gone');
    assert.match(where(s, s.machine.getReg('rip')) ?? '', /^hypercall\.c:/);
  });

  test(`${v.name}: the struct argument's overlay comes from the C object's DWARF`, async () => {
    const s = await guest(v, 'tdx_hypercall', [{ struct: 'tdx_module_args', init: { r11: '0x10', r12: 0x1234 } }]);
    const a = s.structArgs[0];
    assert.equal(a.layout.size, 104);
    assert.deepEqual(a.layout.fields.map((f) => [f.name, f.offset, f.size]),
      ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rbx', 'rdi', 'rsi'].map((n, k) => [n, 8 * k, 8]));
    assert.equal(a.layout.fields[0].type, 'u64', 'the typedef name from DWARF');
    assert.equal(a.layout.fields[6].asmOffsetsName, 'TDX_MODULE_r12', 'asm-offsets names from the G4 preset');
    const st = s.run();
    assert.equal(st.reason, 'returned', st.message);
    assert.equal(u64(s, a.address), 0xffccn, 'C wrote the mask into args->rcx');
    assert.equal(u64(s, a.address + 48n), 0x1234n, 'r12 written back unchanged by the VMM');
    assert.equal(s.machine.getReg('rax'), u64(s, a.address + 32n), 'tdx_hypercall returns args->r10');
  });

  test(`${v.name}: the host retry loop maps SEAMCALL outcomes to errno values`, async () => {
    const ok = await host(v, { vmxe: true, vmxon: true, tdxBios: true, module: true });
    assert.equal(ok.run().reason, 'returned');
    const cases: [Record<string, unknown>, number][] = [
      [{ vmxe: true, vmxon: true, tdxBios: true, module: false }, -19], // VMfailInvalid → -ENODEV
      [{ vmxe: true, vmxon: true, tdxBios: false }, -95], // #GP → fixup → TDX_SEAMCALL_GP → -EOPNOTSUPP
      [{ vmxe: false, vmxon: false }, -13], // #UD → fixup → TDX_SEAMCALL_UD → -EACCES
    ];
    for (const [platform, errno] of cases) {
      const s = await host(v, platform);
      const st = s.run();
      assert.equal(st.reason, 'returned', `${JSON.stringify(platform)}: ${st.message}`);
      assert.equal(Number(BigInt.asIntN(32, s.machine.getReg('rax'))), errno, JSON.stringify(platform));
    }
    const busy = await host(v, { vmxe: true, vmxon: true, tdxBios: true, module: true }, { faults: ['seamcall=status:TDX_RND_NO_ENTROPY'] });
    const st = busy.run();
    assert.equal(st.reason, 'returned', st.message);
    assert.equal(Number(BigInt.asIntN(32, busy.machine.getReg('rax'))), -5, 'still no entropy after the retries → -EIO');
    assert.equal(busy.calls.length, 10, 'RETRY_LOOPS attempts');
    assert.equal(u64(busy, sym(busy, 'seamcall_tries')) & 0xffffffffn, 10n);
  });
}

test('a .c program with "toolchain" is compiled by the Session and runs', async () => {
  const lines: string[] = [];
  const s = await Session.create({
    program: 'hypercall.c', objects: ['tdx_wrappers.S'], entry: 'tdx_dispatch', args: [0, 1, 2],
    toolchain: { compiler: 'gcc', args: ['-O2', ...VARIANTS[1].args.slice(1)] },
  }, { cwd: C_DIR, onProgress: (l) => lines.push(l) });
  assert.equal(s.context, 'host', 'both TDCALL and SEAMCALL bytes: the guess is host unless "context" says otherwise');
  const st = s.run();
  assert.equal(st.reason, 'returned', st.message);
  assert.equal(s.machine.getReg('rax'), 3n + 3n * 2n + 3n);
  assert.ok(lines.some((l) => /^gcc -c -g .*hypercall\.c$/.test(l)), lines.join('\n'));
  assert.ok(s.programPath.endsWith('hypercall.c'));
});
