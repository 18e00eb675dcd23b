// What the user sees when stopped on TDCALL: the Registers scope (changes marked, RFLAGS bit by
// bit with taken jumps, CR4.VMXE), the TDX call card, the struct overlay with asm-offsets
// names, the Stack; evaluate (registers, memory, fields, casts, assignment), setVariable,
// setExpression, completions, clipboard, memory read/write, disassembly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, GUEST, HOST, HYPERCALL, byName, lineOf } from './harness';

const TDCALL_LINE = lineOf(HYPERCALL, /^\ttdcall\s*$/);

async function atTdcall(): Promise<Dap> {
  const d = await Dap.start();
  await d.launch(GUEST, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: HYPERCALL }, breakpoints: [{ line: TDCALL_LINE }] }); });
  await d.stopped();
  return d;
}

test('Registers at TDCALL: GPRs in hex with parts, changes marked, RFLAGS decoded with taken jumps', async () => {
  const d = await atTdcall();
  const regs = await d.scope('Registers');
  // TDVMCALL_EXPOSE_REGS_MASK: RDX RBX RSI RDI R8-R15 = bits 2,3,6,7,8-15 (arch/x86/coco/tdx/tdx.c).
  assert.equal(byName(regs, 'rcx').value, '0x000000000000ffcc (was 0x0)');
  assert.equal(byName(regs, 'r11').value, '0x0000000000010001 (was 0x0)');
  assert.equal(byName(regs, 'r12').value, '0x0000000000100000 (was 0x0)');
  assert.equal(byName(regs, 'r15').value, '0x0000000000000000');
  const parts = await d.children(byName(regs, 'rcx'));
  assert.deepEqual(parts.map((p) => [p.name, p.value]), [['ecx', '0x0000ffcc'], ['cx', '0xffcc'], ['ch', '0xff'], ['cl', '0xcc']]);
  assert.deepEqual((await d.children(byName(regs, 'r11'))).map((p) => [p.name, p.value]), [['r11d', '0x00010001'], ['r11w', '0x0001'], ['r11b', '0x01']]);
  // `orq %rdi, %rax` with both zero: ZF=1, PF=1 (zero has even parity), CF=OF=SF=0.
  const fl = byName(regs, 'rflags');
  assert.match(fl.value, /^0x00000246 \[PF ZF IF\]/);
  const bits = await d.children(fl);
  assert.deepEqual(bits.filter((b) => ['CF', 'PF', 'ZF', 'SF', 'OF'].includes(b.name)).map((b) => `${b.name}=${b.value}`), ['CF=0', 'PF=1', 'ZF=1', 'SF=0', 'OF=0']);
  const taken = byName(bits, 'taken').value.split(' ');
  for (const j of ['je', 'jz', 'jbe', 'jae', 'jnc', 'jp', 'jns', 'jno', 'jge', 'jle']) assert.ok(taken.includes(j), j);
  for (const j of ['jne', 'jb', 'ja', 'jl', 'jg', 'js', 'jo', 'jnp']) assert.ok(!taken.includes(j), j);
  assert.match(byName(regs, 'rip').value, /<__tdcall_saved_ret\+0x[0-9a-f]+>/);
  assert.ok(byName(regs, 'gs_base').memoryReference, 'pointer-ish registers open the hex editor');
  await d.close();
});

test('TDX scope: the call card of the next call, then of the last call with the decoded status', async () => {
  const d = await atTdcall();
  let tdx = await d.scope('TDX');
  assert.equal(byName(tdx, 'context').value, 'TD guest (TDCALL)');
  const next = byName(tdx, 'next call');
  assert.equal(next.value, 'TDCALL TDG.VP.VMCALL<MapGPA>');
  const card = await d.children(next);
  assert.match(byName(card, 'sub-function (R11)').value, /^0x10001 MapGPA/);
  assert.match(byName(card, 'inputs').value, /R12=0x100000 R13=0x2000/);
  const exp = await d.children(byName(card, 'RCX exposure bitmap'));
  assert.equal(byName(exp, 'RAX').value.startsWith('hidden'), true);
  assert.equal(byName(exp, 'RSP').value.startsWith('hidden'), true);
  assert.equal(byName(exp, 'RDX').value, 'exposed');
  assert.equal(byName(exp, 'R12').value, 'exposed');
  await d.dc.nextRequest({ threadId: 1 });
  await d.stopped();
  tdx = await d.scope('TDX');
  const last = await d.children(byName(tdx, 'last call'));
  assert.equal(byName(last, 'status (RAX)').value, '0x0000000000000000 TDX_SUCCESS');
  assert.match(byName(last, 'VMM status (R10)').value, /^0x0000000000000000 TDVMCALL_STATUS_SUCCESS/);
  assert.equal(byName(last, 'injected').value, 'no');
  const diff = (await d.dc.customRequest('tdx/registerDiff')).body.changed as { name: string; before: string; after: string }[];
  assert.ok(diff.some((c) => c.name === 'rip'));
  await d.close();
});

test('Structs: the argument struct field by field with offsets and asm-offsets names; Stack near RSP', async () => {
  const d = await atTdcall();
  const args = byName(await d.scope('Structs'), 'args');
  assert.equal(args.value.startsWith('struct tdx_module_args @ 0xffff888000100000'), true);
  const fields = await d.children(args);
  // struct tdx_module_args { u64 rcx, rdx, r8, r9, r10, r11, r12, … } (arch/x86/include/asm/shared/tdx.h).
  assert.deepEqual(fields.slice(0, 7).map((f) => f.name), ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'r12']);
  assert.equal(byName(fields, 'r12').value, '0x0000000000100000   (+0x30, 8 bytes, TDX_MODULE_r12 = +0x30)');
  assert.equal(byName(fields, 'rcx').value, '0x000000000000ffcc (was 0x0)   (+0x0, 8 bytes, TDX_MODULE_rcx = +0x0)');
  assert.equal(byName(fields, 'r12').evaluateName, 'args.r12');
  assert.equal(byName(fields, 'r12').memoryReference, '0xffff888000100030');
  const dec = (await d.dc.variablesRequest({ variablesReference: args.variablesReference, format: { hex: false } })).body.variables;
  assert.match(byName(dec, 'r12').value, /^1048576 /);
  const stack = await d.scope('Stack');
  assert.equal(stack[0].name, 'rsp+0x00');
  // The last push before TDCALL is the struct pointer (pushq %rsi).
  assert.equal(stack[0].value, '0xffff888000100000');
  assert.ok(stack.some((s) => /<tdx_hypercall\+0x[0-9a-f]+>/.test(s.value)), 'the return address into tdx_hypercall');
  await d.close();
});

test('CR4 in the host context names VMXE', async () => {
  const d = await Dap.start();
  await d.launch({ ...HOST, stopOnEntry: true });
  await d.stopped();
  const cr4 = byName(await d.scope('Registers'), 'cr4');
  assert.match(cr4.value, /VMXE/);
  assert.equal(byName(await d.children(cr4), 'VMXE').type, 'bit 13');
  assert.equal(byName(await d.children(cr4), 'VMXE').value, '1');
  await d.close();
});

test('evaluate: registers, constants, arithmetic, memory, fields, casts, comparisons, assignment', async () => {
  const d = await atTdcall();
  const cases: [string, string][] = [
    ['rcx', '0xffcc'], ['$rcx', '0xffcc'], ['ecx', '0xffcc'], ['cl', '0xcc'], ['ch', '0xff'], ['%r11', '0x10001'],
    ['TDX_MODULE_r12', '0x30'], ['TDX_MODULE_r12 + 8 * 2', '0x40'], ['(1 << 4) | 3', '0x13'], ['-1', '0xffffffffffffffff'],
    ['args.r12', '0x100000'], ['args.r11 == 0x10001', '0x1'], ['r11 == TDVMCALL_MAP_GPA', '0x1'],
    ['[rsp]', '0xffff888000100000'], ['qword [rsp+0]', '0xffff888000100000'], ['qword [qword [rsp]+TDX_MODULE_r13]', '0x2000'],
    ['byte [qword [rsp]]', '0xcc'], ['word ptr [qword [rsp]]', '0xffcc'],
    ['(tdx_module_args)[rsp].r13', '0x2000'], ['(struct tdx_module_args *)[rsp].r12', '0x100000'],
    ['leaf', '0x0 (TDG.VP.VMCALL)'], ['TDX_OPERAND_INVALID', '0xc000010000000000 (TDX_OPERAND_INVALID)'], ['zf', '0x1'],
  ];
  for (const [e, want] of cases) assert.equal(await d.eval(e), want, e);
  assert.equal(await d.eval('rax = 0x1234'), '0x1234');
  assert.equal(await d.eval('ah'), '0x12');
  assert.equal(await d.eval('al = 0xff'), '0xff');
  assert.equal(await d.eval('rax'), '0x12ff');
  for (const [e, re] of [['nosuch', /"nosuch" is not a register, field, constant or symbol/], ['args.nope', /tdx_module_args has no field "nope"/], ['[0]', /not mapped/], ['1 +', /incomplete/], ['3 = 4', /left side/]] as const) {
    assert.match(await d.fails(d.eval(e)), re, e);
  }
  const s = (await d.dc.evaluateRequest({ expression: 'args', context: 'clipboard' })).body.result;
  assert.match(s, /^\{\n\t\.rcx = 0xffcc,\n\t\.rdx = 0x0,/);
  assert.match(s, /\t\.r12 = 0x100000,\n/);
  const st = (await d.dc.evaluateRequest({ expression: '(tdx_module_args)[rsp]', context: 'watch' })).body;
  assert.equal(st.memoryReference, '0xffff888000100000');
  assert.ok(st.variablesReference > 0);
  await d.close();
});

test('setVariable and setExpression on registers, flags, fields and memory', async () => {
  const d = await atTdcall();
  const scopes = (await d.dc.scopesRequest({ frameId: (await d.top()).id })).body.scopes;
  const regsRef = scopes.find((s) => s.name === 'Registers')!.variablesReference;
  assert.equal((await d.dc.setVariableRequest({ variablesReference: regsRef, name: 'r14', value: 'TDX_MODULE_r12 + 1' })).body.value, '0x31');
  const fl = byName((await d.dc.variablesRequest({ variablesReference: regsRef })).body.variables, 'rflags');
  await d.dc.setVariableRequest({ variablesReference: fl.variablesReference, name: 'CF', value: '1' });
  assert.equal(await d.eval('rflags & 1'), '0x1');
  const args = byName(await d.scope('Structs'), 'args');
  await d.dc.setVariableRequest({ variablesReference: args.variablesReference, name: 'r13', value: '0x4000' });
  assert.equal(await d.eval('args.r13'), '0x4000');
  assert.equal((await d.dc.customRequest('setExpression', { expression: 'qword [rsp+8]', value: '0x77' })).body.value, '0x77');
  assert.equal(await d.eval('[rsp+8]'), '0x77');
  assert.ok(d.events.some((e) => e.event === 'invalidated'));
  await d.close();
});

test('readMemory and writeMemory on the struct; unmapped bytes are reported; completions', async () => {
  const d = await atTdcall();
  const m = (await d.dc.customRequest('readMemory', { memoryReference: '0xffff888000100000', offset: 0x28, count: 16 })).body;
  assert.equal(m.address, '0xffff888000100028');
  assert.deepEqual([...Buffer.from(m.data, 'base64')], [0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0]);
  const w = await d.dc.customRequest('writeMemory', { memoryReference: '0xffff888000100030', data: Buffer.from([0, 0x20, 0, 0, 0, 0, 0, 0]).toString('base64') });
  assert.equal(w.body.bytesWritten, 8);
  assert.equal(await d.eval('args.r12'), '0x2000');
  const mem = await d.next('memory');
  assert.equal(mem.body.memoryReference, '0xffff888000100030');
  const top = (await d.dc.customRequest('readMemory', { memoryReference: '0xffffc90000007ff8', count: 32 })).body;
  assert.equal(top.unreadableBytes, 24, 'the stack ends at 0xffffc90000008000');
  const comp = async (text: string) => ((await d.dc.completionsRequest({ text, column: text.length + 1 })).body.targets.map((t) => t.label));
  assert.deepEqual((await comp('args.r1')).sort(), ['r10', 'r11', 'r12', 'r13', 'r14', 'r15']);
  assert.ok((await comp('$ra')).includes('$rax'));
  assert.ok((await comp('TDX_MODULE_r1')).includes('TDX_MODULE_r12'));
  assert.ok((await comp('(tdx_module_args)rsi.r1')).includes('r10'));
  await d.close();
});

test('disassemble: GAS/AT&T with symbols and lines around the TDCALL; Intel on request', async () => {
  const d = await atTdcall();
  const ip = (await d.top()).instructionPointerReference!;
  const r = (await d.dc.disassembleRequest({ memoryReference: ip, instructionOffset: -1, instructionCount: 3, resolveSymbols: true })).body!.instructions;
  assert.equal(r.length, 3);
  assert.equal(r[1].address, ip);
  assert.equal(r[1].instruction, 'tdcall');
  assert.equal(r[1].instructionBytes, '66 0f 01 cc', 'TDCALL is 66 0F 01 CC (Intel SDM)');
  assert.equal(r[1].line, TDCALL_LINE);
  // The instruction before loads args->rsi: TDX_MODULE_rsi = 12 * 8 = 0x60.
  assert.match(r[0].instruction, /^mov\w*\s+0x60\(%rsi\),%rsi$/);
  const first = (await d.dc.disassembleRequest({ memoryReference: '0xffffffff81000000', instructionCount: 1 })).body!.instructions[0];
  assert.equal(first.symbol, '__tdcall_saved_ret');
  const intel = (await d.dc.customRequest('disassemble', { memoryReference: ip, instructionOffset: -1, instructionCount: 1, flavor: 'intel' })).body.instructions;
  assert.match(intel[0].instruction, /^mov rsi,\[rsi\+(0x60|60h)\]$/);
  const far = (await d.dc.disassembleRequest({ memoryReference: '0x1000', instructionCount: 2 })).body!.instructions;
  assert.deepEqual(far.map((i) => i.presentationHint), ['invalid', 'invalid']);
  // TDX: Toggle Disassembly Flavor switches the session's syntax for later requests.
  assert.deepEqual((await d.dc.customRequest('tdx/setDisassemblyFlavor', { flavor: 'intel' })).body, { flavor: 'intel' });
  const after = (await d.dc.disassembleRequest({ memoryReference: ip, instructionOffset: -1, instructionCount: 1 })).body!.instructions;
  assert.match(after[0].instruction, /^mov rsi,\[rsi\+(0x60|60h)\]$/);
  assert.match(await d.fails(d.dc.customRequest('tdx/setDisassemblyFlavor', { flavor: 'masm' })), /needs "flavor": "att" or "intel"/);
  await d.close();
});
