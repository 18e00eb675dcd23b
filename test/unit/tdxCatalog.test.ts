// The TDX catalogue and status decoders against the reference documents. Every expected value is
// a literal quoted from the TDX module source or the TDX module source, never read back
// from the catalogue under test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TDX_STATUS_CODES, TDVMCALL_STATUS_CODES, TDCALL_LEAVES, SEAMCALL_LEAVES, SEAMLDR_LEAVES, TDVMCALL_SUBFUNCTIONS,
  findLeaf, findLeafByName, findStatus, findSubfunction, findTdvmcallStatus, splitRax, closestName, findOperandId,
} from '../../emulator/tdx/catalog';
import { decodeSeamldrStatus, decodeTdxStatus, decodeTdvmcallStatus } from '../../emulator/tdx/statusDecoder';

// Linux asm/shared/tdx_errno.h, asm/tdx.h "Status / error codes" and TDX module tdx_error_codes_defs.h, tdx_api_defs.h, quoted.
const REFERENCE_STATUSES: [string, bigint][] = [
  ['TDX_SUCCESS', 0x0n],
  ['TDX_SW_ERROR', 0x8000FF0000000000n],
  ['TDX_SEAMCALL_VMFAILINVALID', 0x8000FF00FFFF0000n],
  ['TDX_SEAMCALL_GP', 0x8000FF000000000Dn],
  ['TDX_SEAMCALL_UD', 0x8000FF0000000006n],
  ['TDX_RND_NO_ENTROPY', 0x8000020300000000n],
  ['TDX_NON_RECOVERABLE_VCPU', 0x4000000100000000n],
  // The module's own values (intel/tdx-module tdx_1.5 include/auto_gen/tdx_error_codes_defs.h);
  // the kernel's tdx_errno.h spells them 0x4000000200000000 and 0x6000000700000000 (see below).
  ['TDX_NON_RECOVERABLE_TD', 0x6000000200000000n],
  ['TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE', 0x6000000500000000n],
  ['TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE', 0xE000000700000000n],
  ['TDX_INTERRUPTED_RESUMABLE', 0x8000000300000000n],
  ['TDX_OPERAND_INVALID', 0xC000010000000000n],
  ['TDX_OPERAND_BUSY', 0x8000020000000000n],
  ['TDX_PREVIOUS_TLB_EPOCH_BUSY', 0x8000020100000000n],
  ['TDX_SYS_BUSY', 0x8000020200000000n],
  ['TDX_PAGE_METADATA_INCORRECT', 0xC000030000000000n],
  ['TDX_VCPU_NOT_ASSOCIATED', 0x8000070200000000n],
  ['TDX_KEY_GENERATION_FAILED', 0x8000080000000000n],
  ['TDX_KEY_STATE_INCORRECT', 0xC000081100000000n],
  ['TDX_KEY_CONFIGURED', 0x0000081500000000n],
  ['TDX_NO_HKID_READY_TO_WBCACHE', 0x0000082100000000n],
  ['TDX_FLUSHVP_NOT_DONE', 0x8000082400000000n],
  ['TDX_EPT_WALK_FAILED', 0xC0000B0000000000n],
  ['TDX_EPT_ENTRY_STATE_INCORRECT', 0xC0000B0D00000000n],
  ['TDX_METADATA_FIELD_NOT_READABLE', 0xC0000C0200000000n],
  ['TDX_OPERAND_ADDR_RANGE_ERROR', 0xC000010100000000n],
  ['TDX_OPERAND_BUSY_HOST_PRIORITY', 0x8000020400000000n],
  ['TDX_HOST_PRIORITY_BUSY_TIMEOUT', 0x9000020500000000n],
  ['TDX_SYS_INIT_NOT_PENDING', 0xC000050000000000n],
  ['TDX_SYS_LP_INIT_NOT_DONE', 0xC000050200000000n],
  ['TDX_SYS_LP_INIT_DONE', 0xC000050300000000n],
  ['TDX_SYS_NOT_READY', 0xC000050500000000n],
  ['TDX_SYS_SHUTDOWN', 0xC000050600000000n],
  ['TDX_SYS_KEY_CONFIG_NOT_PENDING', 0xC000050700000000n],
  ['TDX_SYS_STATE_INCORRECT', 0xC000050800000000n],
  ['TDX_SYS_LP_INIT_NOT_PENDING', 0xC000050B00000000n],
  ['TDX_SYS_CONFIG_NOT_PENDING', 0xC000050C00000000n],
  ['TDX_INCOMPATIBLE_SEAM_CAPABILITIES', 0xC000050D00000000n],
  ['TDX_INVALID_TDMR', 0xC0000A0000000000n],
  ['TDX_NON_ORDERED_TDMR', 0xC0000A0100000000n],
  ['TDX_TDMR_OUTSIDE_CMRS', 0xC0000A0200000000n],
  ['TDX_TDMR_ALREADY_INITIALIZED', 0x00000A0300000000n],
  ['TDX_INVALID_PAMT', 0xC0000A1000000000n],
  ['TDX_PAMT_OUTSIDE_CMRS', 0xC0000A1100000000n],
  ['TDX_PAMT_OVERLAP', 0xC0000A1200000000n],
  ['TDX_PAGE_ALREADY_ACCEPTED', 0x00000B0A00000000n],
  ['TDX_PAGE_SIZE_MISMATCH', 0xC0000B0B00000000n],
  ['TDX_METADATA_FIELD_ID_INCORRECT', 0xC0000C0000000000n],
  ['TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT', 0x00000C0B00000000n],
];
// Not in the references; quoted from intel/tdx-module include/auto_gen/tdx_error_codes_defs.h.
const SUPPLEMENT_STATUSES: [string, bigint][] = [
  ['TDX_NO_VALID_VE_INFO', 0xC000070400000000n],
  ['TDX_METADATA_FIELD_NOT_WRITABLE', 0xC0000C0100000000n],
];

// P-SEAMLDR error codes, quoted from the intel/tdx tree's arch/x86/virt/vmx/tdx/p-seamldr.h
// (P_SEAMLDR_ENOENTROPY is the fork header's P_SEAMCALL_NO_ENTROPY).
const SEAMLDR_STATUSES: [string, bigint][] = [
  ['P_SEAMLDR_EBADPARAM', 0x8000000000000000n], ['P_SEAMLDR_EBADCALL', 0x8000000000000003n],
  ['P_SEAMLDR_ENOMEM', 0x8000000000010002n], ['P_SEAMLDR_EUNSPECERR', 0x8000000000010003n],
  ['P_SEAMLDR_EUNSUPCPU', 0x8000000000010004n], ['P_SEAMLDR_EBADSIG', 0x8000000000020000n],
  ['P_SEAMLDR_EBADHASH', 0x8000000000020001n], ['P_SEAMLDR_EINTERRUPT', 0x8000000000030000n],
  ['P_SEAMLDR_ENOENTROPY', 0x8000000000030001n],
];

test('P-SEAMLDR statuses decode only as loader statuses', () => {
  for (const [name, value] of SEAMLDR_STATUSES) {
    assert.equal(findStatus(name)?.value, value, name);
    assert.equal(decodeSeamldrStatus(value).name, name);
    assert.notEqual(decodeTdxStatus(value).name, name, `${name} is not a module status`);
  }
  assert.equal(findStatus('P_SEAMCALL_NO_ENTROPY')?.name, 'P_SEAMLDR_ENOENTROPY');
  assert.equal(decodeSeamldrStatus(0n).name, 'P_SEAMLDR_SUCCESS');
});

test('every reference status is catalogued with its value and decodes to its own name', () => {
  for (const [name, value] of [...REFERENCE_STATUSES, ...SUPPLEMENT_STATUSES]) {
    assert.equal(findStatus(name)?.value, value, name);
    const d = decodeTdxStatus(value);
    assert.equal(d.name, name, `decode ${name}`);
    assert.equal(d.exact, true, name);
    assert.equal(d.error, (value >> 63n) === 1n, `${name} error bit`);
    assert.equal(d.nonRecoverable, ((value >> 62n) & 1n) === 1n, `${name} non-recoverable bit`);
    assert.ok(d.text.startsWith(name), d.text);
  }
  const known = new Set([...REFERENCE_STATUSES, ...SUPPLEMENT_STATUSES, ...SEAMLDR_STATUSES].map(([n]) => n));
  for (const c of TDX_STATUS_CODES) {
    assert.ok(known.has(c.name) || c.source.includes('tdx_error_codes_defs.h'), `catalogue has ${c.name}, which no reference lists`);
  }
});

// More of tdx_error_codes_defs.h (tdx_1.5), quoted: every module status decodes to its own name.
const MODULE_HEADER_SAMPLE: [string, bigint][] = [
  ['TDX_INTERRUPTED_RESTARTABLE', 0x8000000400000000n], ['TDX_INVALID_RESUMPTION', 0xC000000600000000n],
  ['TDX_CROSS_TD_FAULT', 0x8000000800000000n], ['TDX_CROSS_TD_TRAP', 0x9000000900000000n],
  ['TDX_NON_RECOVERABLE_TD_CORRUPTED_MD', 0x6000000A00000000n], ['TD_VMCS_FIELD_ERROR', 0xC000073100000000n],
];

test('every status the module defines is named (0x6000000200000000 is TDX_NON_RECOVERABLE_TD, 0xE000000700000000 WRONG_APIC_MODE)', () => {
  for (const [name, value] of MODULE_HEADER_SAMPLE) {
    assert.equal(decodeTdxStatus(value).name, name);
    assert.equal(decodeTdxStatus(value | 1n).name, name, `${name} with an operand id`);
  }
  const td = findStatus(0x6000000200000000n)!;
  assert.equal(td.name, 'TDX_NON_RECOVERABLE_TD');
  assert.match(td.source, /tdx_error_codes_defs\.h/);
  assert.doesNotMatch(`${td.source} ${td.note}`, /non-kernel header/);
  assert.equal(decodeTdxStatus(0xE000000700000000n).name, 'TDX_NON_RECOVERABLE_TD_WRONG_APIC_MODE');
  // The kernel's values still decode (tdx_errno.h).
  assert.equal(decodeTdxStatus(0x4000000200000000n).name, 'TDX_NON_RECOVERABLE_TD');
  // tdx_1.5's header defines 165 statuses (164 TDX_* and TD_VMCS_FIELD_ERROR).
  assert.equal(TDX_STATUS_CODES.filter((c) => !c.software && !c.seamldr && (c.source.includes('tdx_error_codes_defs.h') || c.source.includes('module'))).length >= 120, true);
});

test('supplement statuses are marked as such', () => {
  for (const [name] of SUPPLEMENT_STATUSES) assert.equal(findStatus(name)?.caveat, 'supplement');
});

test('0xC000010000000000: TDX_OPERAND_INVALID, error, non-recoverable, operand RAX (unknown leaf)', () => {
  const d = decodeTdxStatus(0xC000010000000000n);
  assert.equal(d.name, 'TDX_OPERAND_INVALID');
  assert.equal(d.error, true);
  assert.equal(d.nonRecoverable, true);
  assert.equal(d.classCode, 0x01);
  assert.equal(d.operandId, 0);
  assert.equal(d.operandName, 'RAX');
  assert.equal(d.hex, '0xC000010000000000');
});

test('operand ids are added to the base code (OPERAND_INVALID+RCX/+RDX/+R8)', () => {
  for (const [value, op] of [[0xC000010000000001n, 'RCX'], [0xC000010000000002n, 'RDX'], [0xC000010000000008n, 'R8']] as const) {
    const d = decodeTdxStatus(value);
    assert.equal(d.name, 'TDX_OPERAND_INVALID');
    assert.equal(d.exact, false);
    assert.equal(d.operandName, op);
    assert.match(d.text, new RegExp(`operand ${op}`));
  }
  // OPERAND_BUSY+RCX 0x8000020000000001 (tdh_sys_tdmr_init.c)
  assert.equal(decodeTdxStatus(0x8000020000000001n).operandName, 'RCX');
  // TDR = 128, TDMR = 185 (module header)
  assert.equal(decodeTdxStatus(0xC000010000000080n).operandName, 'TDR');
  assert.equal(decodeTdxStatus(0xC0000100000000B9n).operandName, 'TDMR');
});

test('software codes: VMFAILINVALID, #GP, #UD and TDX_SW_ERROR | trap', () => {
  const vmf = decodeTdxStatus(0x8000FF00FFFF0000n);
  assert.equal(vmf.name, 'TDX_SEAMCALL_VMFAILINVALID');
  assert.equal(vmf.software, true);
  assert.equal(vmf.classCode, 0xFF);
  assert.equal(decodeTdxStatus(0x8000FF000000000Dn).name, 'TDX_SEAMCALL_GP');
  assert.equal(decodeTdxStatus(0x8000FF0000000006n).name, 'TDX_SEAMCALL_UD');
  const pf = decodeTdxStatus(0x8000FF000000000En); // SW_ERROR | 14
  assert.equal(pf.name, 'TDX_SW_ERROR');
  assert.equal(pf.trap, 14);
  assert.equal(pf.trapName, '#PF');
});

test('level and TDMR-index details', () => {
  const acc = decodeTdxStatus(0x00000B0A00000001n);
  assert.equal(acc.name, 'TDX_PAGE_ALREADY_ACCEPTED');
  assert.equal(acc.warning, true);
  assert.equal(acc.error, false);
  assert.equal(acc.level, 1);
  assert.match(acc.text, /2M/);
  assert.equal(decodeTdxStatus(0xC0000B0B00000001n).level, 1);
  const tdmr = decodeTdxStatus(0xC0000A0000000003n);
  assert.equal(tdmr.name, 'TDX_INVALID_TDMR');
  assert.equal(tdmr.tdmrIndex, 3);
});

test('unknown and variant codes are still taken apart', () => {
  const u = decodeTdxStatus(0xC0007700000000ABn);
  assert.equal(u.name, undefined);
  assert.equal(u.error, true);
  assert.equal(u.nonRecoverable, true);
  assert.equal(u.classCode, 0x77);
  assert.equal(u.detailsL2, 0xAB);
  assert.match(u.text, /unknown status 0xC0007700000000AB/);
  // The "fatal" variant sets bit 61 on top of a code.
  const f = decodeTdxStatus(0xE000010000000001n);
  assert.equal(f.name, 'TDX_OPERAND_INVALID');
  assert.equal(f.fatal, true);
  assert.equal(f.operandName, 'RCX');
  // The discrepant non-kernel value still names the code (Linux asm/shared/tdx_errno.h, asm/tdx.h discrepancy note).
  assert.equal(decodeTdxStatus(0x6000000200000000n).name, 'TDX_NON_RECOVERABLE_TD');
  assert.equal(decodeTdxStatus(0x0000000000000005n).name, undefined);
  assert.equal(decodeTdxStatus(0n).text, 'TDX_SUCCESS');
  // Reserved bits 59:48 are reported.
  assert.equal(decodeTdxStatus(0xC001010000000000n).reservedBits, 0x001n);
});

test('old name TDX_SYSCONFIG_NOT_DONE resolves to 0xC000050700000000', () => {
  assert.equal(findStatus('TDX_SYSCONFIG_NOT_DONE')?.value, 0xC000050700000000n);
  assert.equal(findStatus('tdx_operand_invalid')?.value, 0xC000010000000000n);
  assert.equal(findStatus('0xC000010000000000')?.name, 'TDX_OPERAND_INVALID');
});

test('TDVMCALL statuses (Linux asm/shared/tdx_errno.h, asm/tdx.h, R10)', () => {
  const ref: [string, bigint][] = [
    ['TDVMCALL_STATUS_SUCCESS', 0x0n], ['TDVMCALL_STATUS_RETRY', 0x1n],
    ['TDVMCALL_STATUS_INVALID_OPERAND', 0x8000000000000000n], ['TDVMCALL_STATUS_ALIGN_ERROR', 0x8000000000000002n],
    ['TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED', 0x8000000000000003n], ['TDG_VP_VMCALL_GPA_INUSE', 0x8000000000000001n],
  ];
  assert.equal(TDVMCALL_STATUS_CODES.length, ref.length);
  for (const [name, value] of ref) {
    assert.equal(findTdvmcallStatus(name)?.value, value);
    const d = decodeTdvmcallStatus(value);
    assert.equal(d.name, name);
    assert.equal(d.error, value >= 0x8000000000000000n);
  }
  assert.equal(decodeTdvmcallStatus(1n).retry, true);
  assert.match(decodeTdvmcallStatus(0x8000000000000042n).text, /unknown TDVMCALL status/);
});

test('TDCALL leaf numbers (TDX module tdx_td_dispatcher.c)', () => {
  const ref: [string, number][] = [
    ['TDG.VP.VMCALL', 0], ['TDG.VP.INFO', 1], ['TDG.MR.RTMR.EXTEND', 2], ['TDG.VP.VEINFO.GET', 3], ['TDG.MR.REPORT', 4],
    ['TDG.VP.CPUIDVE.SET', 5], ['TDG.MEM.PAGE.ACCEPT', 6], ['TDG.VM.RD', 7], ['TDG.VM.WR', 8], ['TDG.VP.RD', 9],
    ['TDG.VP.WR', 10], ['TDG.SYS.RD', 11], ['TDG.SYS.RDALL', 12], ['TDG.SERVTD.RD', 18], ['TDG.SERVTD.WR', 20],
    ['TDG.MR.VERIFYREPORT', 22], ['TDG.MEM.PAGE.ATTR.RD', 23], ['TDG.MEM.PAGE.ATTR.WR', 24], ['TDG.VP.ENTER', 25],
    ['TDG.VP.INVEPT', 26], ['TDG.VP.INVVPID', 27],
  ];
  assert.equal(TDCALL_LEAVES.length, ref.length);
  for (const [name, n] of ref) {
    assert.equal(findLeaf('tdcall', name)?.leaf, n, name);
    assert.equal(findLeaf('tdcall', n)?.name, name);
  }
});

test('SEAMCALL leaf numbers (Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves, TDX module tdx_vmm_dispatcher.c)', () => {
  const ref: [string, number][] = [
    ['TDH.VP.ENTER', 0], ['TDH.MNG.ADDCX', 1], ['TDH.MEM.PAGE.ADD', 2], ['TDH.MEM.SEPT.ADD', 3], ['TDH.VP.ADDCX', 4],
    ['TDH.MEM.PAGE.AUG', 6], ['TDH.MEM.RANGE.BLOCK', 7], ['TDH.MNG.KEY.CONFIG', 8], ['TDH.MNG.CREATE', 9],
    ['TDH.VP.CREATE', 10], ['TDH.MNG.RD', 11], ['TDH.MR.EXTEND', 16], ['TDH.MR.FINALIZE', 17], ['TDH.VP.FLUSH', 18],
    ['TDH.MNG.VPFLUSHDONE', 19], ['TDH.MNG.KEY.FREEID', 20], ['TDH.MNG.INIT', 21], ['TDH.VP.INIT', 22],
    ['TDH.MEM.PAGE.PROMOTE', 23], ['TDH.PHYMEM.PAGE.RDMD', 24], ['TDH.VP.RD', 26], ['TDH.PHYMEM.PAGE.RECLAIM', 28],
    ['TDH.MEM.PAGE.REMOVE', 29], ['TDH.MEM.SEPT.REMOVE', 30], ['TDH.SYS.KEY.CONFIG', 31], ['TDH.SYS.INFO', 32],
    ['TDH.SYS.INIT', 33], ['TDH.SYS.RD', 34], ['TDH.SYS.LP.INIT', 35], ['TDH.SYS.TDMR.INIT', 36], ['TDH.SYS.RDALL', 37],
    ['TDH.MEM.TRACK', 38], ['TDH.PHYMEM.CACHE.WB', 40], ['TDH.PHYMEM.PAGE.WBINVD', 41], ['TDH.VP.WR', 43],
    ['TDH.SYS.LP.SHUTDOWN', 44], ['TDH.SYS.CONFIG', 45], ['TDH.SYS.SHUTDOWN', 52], ['TDH.SYS.UPDATE', 53],
    ['TDH.PHYMEM.PAMT.ADD', 58], ['TDH.PHYMEM.PAMT.REMOVE', 59], ['TDH.SYS.DISABLE', 69],
  ];
  assert.equal(SEAMCALL_LEAVES.length, ref.length);
  for (const [name, n] of ref) {
    assert.equal(findLeaf('seamcall', name)?.leaf, n, name);
    assert.equal(findLeaf('seamcall', n)?.name, name);
  }
  assert.equal(findLeaf('seamcall', 'TDH.SYS.INFO')?.caveat, 'fork-only');
  assert.equal(findLeaf('seamcall', 'TDH.SYS.RDALL')?.caveat, 'unverified');
});

test('P-SEAMLDR leaves: RAX bit 63 (Linux asm/tdx.h: RAX leaf and version)', () => {
  // SHUTDOWN = BIT(63)|2 (intel/tdx p-seamldr.c), SEAMINFO = BIT(63)|3 (SEAM loader specification).
  assert.deepEqual(SEAMLDR_LEAVES.map((l) => [l.name, l.rax]), [
    ['SEAMLDR.INFO', 0x8000000000000000n], ['SEAMLDR.INSTALL', 0x8000000000000001n],
    ['SEAMLDR.SHUTDOWN', 0x8000000000000002n], ['SEAMLDR.SEAMINFO', 0x8000000000000003n]]);
  assert.equal(findLeaf('seamcall', 'SEAMLDR.INFO')?.rax, 0x8000000000000000n);
  assert.equal(findLeaf('seamcall', 'SEAMLDR.INSTALL')?.rax, 0x8000000000000001n);
  assert.equal(findLeaf('seamcall', 0x8000000000000001n)?.name, 'SEAMLDR.INSTALL');
  assert.equal(findLeaf('seamcall', 0x8000000000000000n)?.seamldr, true);
  assert.equal(findLeaf('seamcall', 0n)?.name, 'TDH.VP.ENTER');
});

test('name lookups: case, underscore spelling, kernel aliases', () => {
  assert.equal(findLeaf('tdcall', 'TDG_VP_VMCALL')?.leaf, 0);
  assert.equal(findLeaf('tdcall', 'tdg.vp.vmcall')?.leaf, 0);
  assert.equal(findLeaf('tdcall', 'TDX_GET_INFO')?.name, 'TDG.VP.INFO');
  assert.equal(findLeaf('tdcall', 'TDX_ACCEPT_PAGE')?.leaf, 6);
  assert.equal(findLeaf('seamcall', 'tdh_sys_init')?.leaf, 33);
  assert.equal(findLeafByName('TDH.SYS.TDMR.INIT')?.instruction, 'seamcall');
  assert.equal(findLeaf('seamcall', 'TDG.VP.INFO'), undefined);
  assert.equal(findLeaf('tdcall', '0x6')?.name, 'TDG.MEM.PAGE.ACCEPT');
  assert.equal(findLeaf('tdcall', 'TDG_VP_VMCALL')?.symbol, 'TDG_VP_VMCALL');
});

test('register roles as the reference states them', () => {
  const vmcall = findLeaf('tdcall', 'TDG.VP.VMCALL')!;
  assert.match(vmcall.inputs.find((r) => r.reg === 'R11')!.role, /sub-function/);
  assert.match(vmcall.inputs.find((r) => r.reg === 'R10')!.role, /0 = GHCI-standard/);
  assert.equal(vmcall.inputs.find((r) => r.reg === 'RCX' && r.bits === '15:0')?.reg, 'RCX');
  const mapGpa = findSubfunction('MapGPA')!;
  assert.equal(mapGpa.value, 0x10001n);
  assert.match(mapGpa.inputs.find((r) => r.reg === 'R12')!.role, /start GPA/);
  assert.match(mapGpa.inputs.find((r) => r.reg === 'R13')!.role, /size/);
  assert.match(findLeaf('seamcall', 'TDH.SYS.CONFIG')!.inputs.find((r) => r.reg === 'R8')!.role, /global private KeyID/);
  assert.match(findLeaf('tdcall', 'TDG.MEM.PAGE.ACCEPT')!.inputs.find((r) => r.bits === '2:0')!.role, /0 = 4K, 1 = 2M/);
  assert.deepEqual(findLeaf('seamcall', 'TDH.SYS.TDMR.INIT')!.outputs.map((r) => r.reg), ['RDX']);
});

test('TDG.VP.VMCALL sub-functions (GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c)', () => {
  const ref: [string, bigint, string][] = [
    ['EXIT_REASON_CPUID', 10n, 'CPUID'], ['EXIT_REASON_HLT', 12n, 'HLT'], ['EXIT_REASON_IO_INSTRUCTION', 30n, 'IO'],
    ['EXIT_REASON_MSR_READ', 31n, 'RDMSR'], ['EXIT_REASON_MSR_WRITE', 32n, 'WRMSR'], ['EXIT_REASON_EPT_VIOLATION', 48n, 'MMIO'],
    ['TDVMCALL_GET_TD_VM_CALL_INFO', 0x10000n, 'GetTdVmCallInfo'], ['TDVMCALL_MAP_GPA', 0x10001n, 'MapGPA'],
    ['TDVMCALL_GET_QUOTE', 0x10002n, 'GetQuote'], ['TDVMCALL_REPORT_FATAL_ERROR', 0x10003n, 'ReportFatalError'],
    ['TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT', 0x10004n, 'SetupEventNotifyInterrupt'],
  ];
  assert.equal(TDVMCALL_SUBFUNCTIONS.length, ref.length);
  for (const [name, value, short] of ref) {
    assert.equal(findSubfunction(name)?.value, value);
    assert.equal(findSubfunction(short)?.value, value);
    assert.equal(findSubfunction(value)?.name, name);
  }
  const fatal = findSubfunction('ReportFatalError')!;
  assert.deepEqual(fatal.inputs.slice(1).map((r) => r.reg), ['R14', 'R15', 'RBX', 'RDI', 'RSI', 'R8', 'R9', 'RDX']);
  assert.deepEqual(findSubfunction('CPUID')!.outputs.map((r) => r.reg), ['R12', 'R13', 'R14', 'R15']);
});

test('splitRax: leaf 15:0, version 23:16, reserved, P-SEAMLDR bit', () => {
  assert.deepEqual(splitRax(0x10016n), { leaf: 0x16, version: 1, seamldr: false, reservedSet: false });
  assert.equal(splitRax(0x1000000n).reservedSet, true);
  assert.equal(splitRax(0x100000000n).reservedSet, true);
  assert.deepEqual(splitRax(0x8000000000000001n), { leaf: 1, version: 0, seamldr: true, reservedSet: false });
});

test('suggestions and operand names', () => {
  assert.equal(closestName('TDG.VP.VMCAL', TDCALL_LEAVES.map((l) => l.name)), 'TDG.VP.VMCALL');
  assert.equal(closestName('TDH_SYS_INTI', SEAMCALL_LEAVES.map((l) => l.name)), 'TDH.SYS.INIT');
  assert.equal(closestName('completely different', ['TDH.SYS.INIT']), undefined);
  assert.equal(findOperandId('rcx'), 1);
  assert.equal(findOperandId('TDR'), 128);
  assert.equal(findOperandId('KOT'), 186);
});
