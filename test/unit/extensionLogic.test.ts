// The extension's logic that needs no editor: function scan and F5 defaults on the bundled
// examples, the fault menu's rules (each must parse as a fault rule), hovers, the pahole-like
// layout against the struct presets, the register diff and bit decoding, and the reading of
// `tdx/calls` bodies. Expected values are literals from the examples and the SDM/ABI references.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { defaultEntry, findFunctions, functionAt, leafSymbolIn } from '../../extension/asmScan';
import { defaultConfiguration, configurationsForFile, guessArgs } from '../../extension/launchDefaults';
import { faultItems, ruleText } from '../../extension/faultMenu';
import { hoverMarkdown } from '../../extension/hoverInfo';
import { gaps, renderLayout } from '../../extension/pahole';
import { buildRegisterRows, decodeBits, parseRegisterValue } from '../../extension/registerModel';
import { callCard, callDescription, callLabel, parseCalls, pendingCall, traceDocument } from '../../extension/callModel';
import { restrictedMessage, toolchainUse } from '../../extension/trust';
import { guessContext } from '../../emulator/session/session';
import { validateConfig } from '../../emulator/session/config';
import { parseFaultRuleInput } from '../../emulator/tdx/faultPlan';
import { structPreset } from '../../emulator/loader/structPresets';

const ROOT = projectRoot();
const seamcallS = readFileSync(join(ROOT, 'examples/seamcall.S'), 'utf8');
const hypercallS = readFileSync(join(ROOT, 'examples/hypercall.S'), 'utf8');

test('function scan: SYM_FUNC_START/END pairs, the function at a line, the default entry', () => {
  const text = [
    '/* SYM_FUNC_START(commented_out) */',
    'SYM_FUNC_START(first)', '\tmovl $TDH_SYS_INIT, %eax', '\tseamcall', '\tRET', 'SYM_FUNC_END(first)',
    '', 'SYM_FUNC_START_LOCAL(helper)', '\tret', 'SYM_FUNC_END(helper)',
    '\t.globl plain', 'plain:', '\tret',
  ].join('\n');
  const fns = findFunctions(text);
  assert.deepEqual(fns.map((f) => [f.name, f.line, f.endLine, f.global]), [['first', 1, 5, true], ['helper', 7, 9, false], ['plain', 11, 12, true]]);
  assert.equal(functionAt(fns, 3)?.name, 'first');
  assert.equal(functionAt(fns, 6), undefined);
  assert.equal(functionAt(fns, 8)?.name, 'helper');
  assert.equal(defaultEntry(text, 8), 'helper');
  assert.equal(defaultEntry(text, 6), 'first');
  assert.equal(leafSymbolIn(text, fns[0]), 'TDH_SYS_INIT');
});

test('F5 defaults on the examples: entry at the cursor, context from the instructions, struct argument', () => {
  const fns = findFunctions(seamcallS);
  assert.ok(fns.some((f) => f.name === '__seamcall_ret') && fns.some((f) => f.name === 'tdx_sys_init'), JSON.stringify(fns.map((f) => f.name)));
  const init = fns.find((f) => f.name === 'tdx_sys_init')!;
  const c = defaultConfiguration('/w/seamcall.S', seamcallS, guessContext(seamcallS), init.line + 1)!;
  assert.equal(c.entry, 'tdx_sys_init');
  assert.equal(c.context, 'host');
  assert.equal(c.type, 'tdx');
  assert.doesNotThrow(() => validateConfig(c));
  const first = defaultConfiguration('/w/seamcall.S', seamcallS, 'host')!;
  assert.equal(first.entry, '__seamcall_ret');
  assert.deepEqual(guessArgs('movq TDX_MODULE_rcx(%rsi), %rcx'), [0, { struct: 'tdx_module_args' }]);
  assert.equal(guessContext(hypercallS), 'guest');
  for (const cfg of configurationsForFile('/w/hypercall.S', hypercallS, 'guest')) assert.doesNotThrow(() => validateConfig(cfg), cfg.name);
});

test('fault menu: #GP/#UD first, VMfailInvalid only for the host, every rule parses, pinned and live forms', () => {
  const host = faultItems('host', 'TDH_SYS_INIT');
  assert.match(host[0].label, /^#GP/);
  assert.ok(host.some((i) => i.label === 'VMfailInvalid'));
  assert.ok(!host.some((i) => i.group === 'TDVMCALL (VMM)'));
  const guest = faultItems('guest');
  assert.ok(!guest.some((i) => i.label === 'VMfailInvalid'));
  assert.ok(guest.some((i) => i.label === 'TDVMCALL_STATUS_RETRY') && guest.some((i) => i.label === 'Hostile VMM'));
  for (const it of [...host, ...guest, ...faultItems('none')]) {
    for (const r of it.rules) {
      assert.doesNotThrow(() => parseFaultRuleInput(ruleText(r)), ruleText(r));
      assert.doesNotThrow(() => parseFaultRuleInput(ruleText(r, 1)), ruleText(r, 1));
    }
  }
  assert.equal(ruleText(host[0].rules[0], 1), 'seamcall@1=#GP(0)');
  const busy = host.find((i) => i.label === 'TDX_SYS_BUSY')!;
  assert.equal(ruleText(busy.rules[0]), 'seamcall:TDH.SYS.INIT=status:TDX_SYS_BUSY');
  assert.equal(faultItems('none')[0].rules.length, 2, 'unknown context: both instructions');
});

test('hovers: mnemonics, leaves with registers, sub-functions, statuses decoded, asm-offsets symbols', () => {
  const p = structPreset('G5');
  assert.match(hoverMarkdown('tdcall')!, /TD guest → TDX module/);
  assert.match(hoverMarkdown('seamcall')!, /VMfailInvalid/);
  const vmcall = hoverMarkdown('TDG_VP_VMCALL')!;
  assert.match(vmcall, /\*\*TDG\.VP\.VMCALL\*\* — TDCALL leaf 0/);
  assert.match(hoverMarkdown('TDH_SYS_INIT')!, /SEAMCALL leaf/);
  assert.match(hoverMarkdown('TDVMCALL_MAP_GPA')!, /R11 = 0x10001/);
  assert.match(hoverMarkdown('TDX_OPERAND_INVALID')!, /0xC000010000000000/i);
  assert.match(hoverMarkdown('0xC000010000000001')!, /TDX_OPERAND_INVALID[\s\S]*RCX/);
  assert.match(hoverMarkdown('$TDVMCALL_STATUS_RETRY')!, /TDVMCALL status/);
  const r12 = hoverMarkdown('TDX_MODULE_r12', { structs: p.structs })!;
  assert.match(r12, /struct tdx_module_args`\.`r12`/);
  assert.equal(hoverMarkdown('some_label'), undefined);
  assert.equal(hoverMarkdown('0x10'), undefined);
});

test('struct layout text: offsets and asm-offsets names equal the preset, holes are found', () => {
  const layout = structPreset('G5').structs.get('tdx_module_args')!;
  const text = renderLayout(layout);
  assert.match(text, /^struct tdx_module_args \{/m);
  for (const f of layout.fields) {
    assert.match(text, new RegExp(`\\b${f.name};\\s+/\\*\\s+${f.offset} ${f.size} \\*/${f.asmOffsetsName ? `\\s+${f.asmOffsetsName}` : ''}`), f.name);
  }
  assert.match(text, new RegExp(`size: ${layout.size}, cachelines: ${Math.ceil(layout.size / 64)}, members: ${layout.fields.length}`));
  const holey = { name: 'h', kind: 'struct' as const, size: 24, align: 8, fields: [
    { name: 'a', offset: 0, size: 1, type: 'u8' }, { name: 'b', offset: 8, size: 8, type: 'u64' }, { name: 'c', offset: 16, size: 2, type: 'u16' }] };
  assert.deepEqual(gaps(holey), [{ offset: 1, size: 7, kind: 'hole' }, { offset: 18, size: 6, kind: 'padding' }]);
  const t = renderLayout(holey);
  assert.match(t, /XXX 7 bytes hole/);
  assert.match(t, /sum members: 11, holes: 1, sum holes: 7/);
  assert.match(t, /padding: 6/);
});

test('registers: changes since the previous stop (adapter diff or own snapshot), RFLAGS and CR4 decoded', () => {
  const values = new Map([['rax', 1n], ['rcx', 0xfc00n], ['rflags', 0x246n], ['cr4', 0x2020n]]);
  const own = buildRegisterRows(values, new Map([['rax', 0n], ['rcx', 0xfc00n], ['rflags', 0x246n], ['cr4', 0x2020n]]), undefined);
  assert.deepEqual(own.filter((r) => r.changed).map((r) => [r.name, r.previous]), [['rax', 0n]]);
  const diff = buildRegisterRows(values, undefined, [{ name: 'rcx', before: '0x0', after: '0xfc00' }]);
  assert.deepEqual(diff.filter((r) => r.changed).map((r) => r.name), ['rcx']);
  // 0x246: ZF (6), PF (2), IF (9) and the reserved bit 1 (SDM vol. 1 §3.4.3).
  assert.deepEqual(decodeBits('rflags', 0x246n)!.filter((b) => b.set).map((b) => b.name), ['PF', 'ZF', 'IF']);
  // 0x2020: PAE (5) and VMXE (13).
  assert.deepEqual(decodeBits('cr4', 0x2020n)!.filter((b) => b.set).map((b) => b.name), ['PAE', 'VMXE']);
  assert.equal(decodeBits('rax', 1n), undefined);
  assert.equal(parseRegisterValue('0x0000000000000246 [PF ZF IF] (was 0x202)'), 0x246n);
});

test('tdx/calls bodies: rows with the fault and injected mark, card lines, malformed entries skipped, JSON trace', () => {
  const body = { calls: [
    { seq: 1, instruction: 'seamcall', title: 'SEAMCALL TDH.SYS.INIT', address: '0x401010', site: 'tdx_sys_init+0x10', leaf: 'TDH.SYS.INIT', leafNumber: 33, version: 0,
      inputs: [], fault: '#GP', injected: true, rule: 'seamcall@1=#GP(0)', outcome: '#GP (injected)', icount: 7 },
    { seq: 2, instruction: 'tdcall', title: 'TDCALL TDG.VP.VMCALL<MapGPA>', address: '0x401000', leaf: 'TDG.VP.VMCALL', leafNumber: 0, subfunction: 'MapGPA', subfunctionNumber: '0x10001',
      inputs: [{ reg: 'RCX', role: 'exposure bitmap', value: '0xfc00' }, { reg: 'R12', role: 'GPA', value: '0x100000' }], status: '0x0', statusName: 'TDX_SUCCESS', vmcallStatus: '0x0', vmcallStatusName: 'TDVMCALL_STATUS_SUCCESS', injected: false },
    { seq: 'x' }, null, { seq: 3 },
  ] };
  const calls = parseCalls(body);
  assert.equal(calls.length, 2);
  assert.equal(callLabel(calls[0]), '#1 SEAMCALL TDH.SYS.INIT');
  assert.equal(callDescription(calls[0]), '#GP (injected)');
  assert.equal(callDescription(calls[1]), 'TDX_SUCCESS · R10 TDVMCALL_STATUS_SUCCESS');
  const card = callCard(calls[1]);
  assert.ok(card.some((l) => l.name === 'RCX' && l.value.startsWith('0xfc00')));
  assert.ok(card.some((l) => l.name === 'sub-function (R11)' && /MapGPA/.test(l.value)));
  assert.deepEqual(parseCalls(undefined), []);
  // Stopped at a TDCALL that has not run: a "next" row named from RAX/R11; not when the last call is this one, faulted.
  const next = pendingCall('tdcall', '0xffffffff81000030', 0n, 0x10001n, calls)!;
  assert.equal(callLabel(next), '#3 TDCALL TDG.VP.VMCALL<MapGPA>');
  assert.match(callDescription(next), /^next/);
  assert.equal(pendingCall('seamcall', '0x401010', 33n, undefined, calls.slice(0, 1)), undefined);
  assert.equal(pendingCall('movq %rax, %rbx', '0x401000', 0n, 0n, calls), undefined);
  const doc = JSON.parse(traceDocument(calls, { entry: 'tdx_sys_init' }));
  assert.equal(doc.format, 'tdx-call-trace');
  assert.equal(doc.calls.length, 2);
});

test('call records keep their outputs and detail through the editor: the card shows the results, the exported trace carries them', () => {
  const body = { calls: [
    { seq: 1, instruction: 'tdcall', title: 'TDCALL TDG.VP.VMCALL<MapGPA>', address: '0x401000', leaf: 'TDG.VP.VMCALL', leafNumber: 0, subfunction: 'MapGPA', subfunctionNumber: '0x10001',
      inputs: [{ reg: 'R12', role: 'start GPA', value: '0x7ffffffff000' }],
      outputs: [{ reg: 'RAX', role: 'TDX status', value: '0x0' }, { reg: 'R10', role: 'TDVMCALL status', value: '0x8000000000000000' }, { reg: 'R11', role: 'GPA to resume from', value: '0x7ffffffff000' }],
      status: '0x0', statusName: 'TDX_SUCCESS', vmcallStatus: '0x8000000000000000', vmcallStatusName: 'TDVMCALL_STATUS_INVALID_OPERAND', injected: false },
    { seq: 2, instruction: 'seamcall', title: 'SEAMCALL SEAMLDR.INFO', address: '0x401010', leaf: 'SEAMLDR.INFO', leafNumber: 0, inputs: [],
      outputs: [{ reg: 'RAX', role: 'P-SEAMLDR status', value: '0x8000000000000000' }], status: '0x8000000000000000', statusName: 'P_SEAMLDR_EBADPARAM',
      detail: 'SEAMLDR_INFO: 0x1000 is not backed by memory', injected: false },
  ] };
  const calls = parseCalls(body);
  const card = callCard(calls[0]);
  assert.ok(card.some((l) => l.name === '→ R11' && l.value.startsWith('0x7ffffffff000')), JSON.stringify(card));
  assert.ok(!card.some((l) => l.name === '→ R10' || l.name === '→ RAX'), 'statuses have their own rows');
  const loader = callCard(calls[1]);
  // P_SEAMLDR_EBADPARAM is 0x8000000000000000 (intel/tdx p-seamldr.h), not a module status.
  assert.match(loader.find((l) => l.name === 'status (RAX)')!.value, /P_SEAMLDR_EBADPARAM/);
  assert.equal(loader.find((l) => l.name === 'detail')?.value, 'SEAMLDR_INFO: 0x1000 is not backed by memory');
  const doc = JSON.parse(traceDocument(calls, {}));
  assert.deepEqual(doc.calls[0].outputs.map((o: { reg: string }) => o.reg), ['RAX', 'R10', 'R11']);
  assert.equal(doc.calls[1].detail, 'SEAMLDR_INFO: 0x1000 is not backed by memory');
});

test('Restricted Mode: what would run the user\'s toolchain is named; the built-in path is not', () => {
  assert.equal(toolchainUse({ program: 'a.S' }), undefined);
  assert.equal(toolchainUse({ program: 'a.S', objects: ['b.o'] }), undefined);
  assert.match(toolchainUse({ program: 'a.S', toolchain: { compiler: 'gcc' } })!, /toolchain/);
  assert.match(toolchainUse({ program: 'a.c' })!, /C program/);
  assert.match(toolchainUse({ program: 'a.S', objects: ['b.o', 'c.c'] })!, /c\.c/);
  assert.match(toolchainUse({ program: 'arch/x86/virt/vmx/tdx/seamcall.S', kernelSource: '/k', kernelBuild: '/k' })!, /make/);
  assert.match(restrictedMessage('builds a C program with your compiler'), /Restricted Mode[\s\S]*Trust the workspace/);
});

test('fault menu by context and leaf: no host-only status for a guest TDCALL, leaf-family statuses only for their leaf', () => {
  const guest = faultItems('guest').filter((i) => i.group === 'TDX status').map((i) => i.label);
  assert.ok(guest.includes('TDX_OPERAND_INVALID') && guest.includes('TDX_OPERAND_BUSY'), guest.join(', '));
  for (const hostOnly of ['TDX_SYS_NOT_READY', 'TDX_SYS_BUSY', 'TDX_KEY_CONFIGURED', 'TDX_INVALID_TDMR', 'TDX_RND_NO_ENTROPY', 'TDX_NON_RECOVERABLE_TD']) assert.ok(!guest.includes(hostOnly), hostOnly);
  assert.ok(!guest.includes('TDX_PAGE_ALREADY_ACCEPTED') && !guest.includes('TDX_NO_VALID_VE_INFO'));
  const accept = faultItems('guest', 'TDG_MEM_PAGE_ACCEPT').filter((i) => i.group === 'TDX status').map((i) => i.label);
  assert.ok(accept.includes('TDX_PAGE_ALREADY_ACCEPTED') && !accept.includes('TDX_METADATA_FIELD_NOT_READABLE'));
  const host = faultItems('host', 'TDH_SYS_INIT').filter((i) => i.group === 'TDX status').map((i) => i.label);
  assert.ok(host.includes('TDX_SYS_NOT_READY') && host.includes('TDX_SYS_INIT_NOT_PENDING') && !host.includes('TDX_NO_VALID_VE_INFO'));
});
