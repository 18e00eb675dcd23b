// TDCALL leaf handlers of the TDX module model, each after the module source file the reference
// cites (TDX module tdg_vp_vmcall.c and TDX module tdg_*.c). The dispatcher (module.ts) has already checked the
// RAX reserved bits, the version and the leaf number; a handler returns what the guest sees.

import { TDX_STATUS } from './modelStatuses';
import { VMX_EXIT_REASONS } from './vmcalls';
import { buildTdReport, rtmrExtend } from './tdreport';
import { withOperand } from './statusDecoder';
import { GPR, GPR_NAMES, type GprName, u64 } from './types';
import type { LeafContext, LeafOutcome, VmcallRecord } from './module';

const { RAX, RCX, RDX, RSP, RBP, R8, R9, R10, R11 } = GPR;
const OPERAND_INVALID = (reg: number) => withOperand(TDX_STATUS.TDX_OPERAND_INVALID, reg);

/** VM-exit reason the VMM sees for TDG.VP.VMCALL: TDCALL (src/td_dispatcher/vm_exits/tdg_vp_vmcall.c). */
const EXIT_REASON_TDCALL = BigInt(VMX_EXIT_REASONS.EXIT_REASON_TDCALL);

/**
 * TDG.VP.VMCALL (leaf 0), src/td_dispatcher/vm_exits/tdg_vp_vmcall.c and
 * td_transitions/tdh_vp_enter.c: check the RCX bitmap, show the VMM only the selected GPRs,
 * take back only the selected GPRs, RAX = TDX_SUCCESS, RCX unchanged.
 */
export function tdgVpVmcall(c: LeafContext): LeafOutcome {
  const control = c.cpu.getReg(RCX);
  const gprMask = Number(control & 0xffffn);
  const forbidden = (1 << RAX) | (1 << RCX) | (1 << RSP) | (c.cfg.noRbpMod ? 1 << RBP : 0);
  if (control >> 32n !== 0n || (gprMask & forbidden) !== 0) {
    // No exit to the VMM; the guest RIP still moves past TDCALL.
    const bad = GPR_NAMES.filter((_, i) => gprMask & forbidden & (1 << i));
    return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: `RCX ${bad.length ? `exposes ${bad.join(', ')}` : 'has reserved bits 63:32 set'}` };
  }
  const view = new Array<bigint>(16).fill(0n);
  view[RAX] = EXIT_REASON_TDCALL;
  view[RCX] = control & 0xffff_ffffn; // exit qualification: GPR mask [15:0], XMM mask [31:16], VM index 0
  // Non-selected GPRs are zeroed for the VMM. With no_rbp_mod RBP would keep the VMM's own value;
  // the VMM model has none, so it reads as zero too.
  for (let i = RDX; i < 16; i++) if (gprMask & (1 << i)) view[i] = c.cpu.getReg(i);
  const res = c.vmm.handle({ regs: view, exposed: gprMask }, c.cpu, c.vmmOverride);
  const exposed = GPR_NAMES.filter((_, i) => i >= RDX && gprMask & (1 << i)) as GprName[];
  const record: VmcallRecord = { exposedMask: gprMask, exposed, vmm: res, written: [] };
  if (res.stop) return { kind: 'fatal-error', errorCode: res.stop.errorCode, message: res.stop.message, vmcall: record };
  for (let i = RDX; i < 16; i++) {
    if (gprMask & (1 << i)) {
      c.cpu.setReg(i, u64(res.regs[i]));
      record.written.push(GPR_NAMES[i]);
    }
  }
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS, vmcall: record };
}

/** TDG.VP.INFO (leaf 1), tdg_vp_info.c: no input checks, always TDX_SUCCESS. */
export function tdgVpInfo(c: LeafContext): LeafOutcome {
  c.cpu.setReg(RCX, c.cfg.gpaw ? 52n : 48n);
  c.cpu.setReg(RDX, c.cfg.attributes);
  c.cpu.setReg(R8, (BigInt(c.cfg.maxVcpus) << 32n) | BigInt(c.cfg.numVcpus));
  c.cpu.setReg(R9, BigInt(c.cfg.vcpuIndex));
  c.cpu.setReg(R10, 1n); // bit 0: TDG.SYS.RD available (module 1.5)
  c.cpu.setReg(R11, 0n);
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS };
}

/**
 * TDG.MR.RTMR.EXTEND (leaf 2). The reference gives only the register roles; the checks and their
 * order (64-byte alignment, private GPA, then index < 4) are the module source's,
 * tdg_mr_rtmr_extend.c.
 */
export function tdgMrRtmrExtend(c: LeafContext): LeafOutcome {
  const gpa = c.cpu.getReg(RCX);
  const index = c.cpu.getReg(RDX);
  if (gpa & 63n) return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: 'extend data not 64-byte aligned' };
  if (gpaInvalid(c, gpa, false)) return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: 'extend data GPA invalid or shared' };
  if (!mapped(c, gpa, 48)) return eptExit(gpa, 'extend data not mapped');
  if (index >= 4n) return { kind: 'completed', status: OPERAND_INVALID(RDX), detail: `RTMR index ${index} (0..3)` };
  const data = c.cpu.readMemory(gpa, 48);
  const i = Number(index);
  c.st.rtmrs[i] = rtmrExtend(c.st.rtmrs[i], data);
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS, detail: `RTMR${i} extended` };
}

/**
 * TDG.VP.VEINFO.GET (leaf 3), tdg_vp_veinfo_get.c: outputs are zeroed first; with no valid #VE
 * info the status is TDX_NO_VALID_VE_INFO (module source; the references do not list it).
 */
export function tdgVpVeinfoGet(c: LeafContext): LeafOutcome {
  for (const r of [RCX, RDX, R8, R9, R10]) c.cpu.setReg(r, 0n);
  const ve = c.st.veInfo;
  if (!ve) return { kind: 'completed', status: TDX_STATUS.TDX_NO_VALID_VE_INFO, detail: 'no #VE pending' };
  c.cpu.setReg(RCX, ve.exitReason & 0xffff_ffffn);
  c.cpu.setReg(RDX, ve.exitQualification);
  c.cpu.setReg(R8, ve.gla);
  c.cpu.setReg(R9, ve.gpa);
  c.cpu.setReg(R10, ve.lengthAndInfo);
  delete c.st.veInfo; // the module marks VE_INFO free once read
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS };
}

/** TDG.MR.REPORT (leaf 4), tdg_mr_report.c, checks in the module's order (TDX module tdg_*.c). */
export function tdgMrReport(c: LeafContext): LeafOutcome {
  const report = c.cpu.getReg(RCX);
  const data = c.cpu.getReg(RDX);
  const subtype = c.cpu.getReg(R8);
  if (report & 1023n) return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: 'TDREPORT_STRUCT not 1024-byte aligned' };
  if (data & 63n) return { kind: 'completed', status: OPERAND_INVALID(RDX), detail: 'REPORTDATA not 64-byte aligned' };
  if (gpaInvalid(c, data, true)) return { kind: 'completed', status: OPERAND_INVALID(RDX), detail: 'REPORTDATA GPA invalid' };
  if (!mapped(c, data, 64)) return eptExit(data, 'REPORTDATA not mapped');
  if (subtype !== 0n) return { kind: 'completed', status: OPERAND_INVALID(R8), detail: `sub-type ${subtype} (must be 0)` };
  if (gpaInvalid(c, report, true)) return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: 'TDREPORT_STRUCT GPA invalid' };
  if (!mapped(c, report, 1024)) return eptExit(report, 'TDREPORT_STRUCT not mapped');
  const bytes = buildTdReport({
    reportData: c.cpu.readMemory(data, 64), attributes: c.cfg.attributes, xfam: c.cfg.xfam, mrtd: c.cfg.mrtd, rtmrs: c.st.rtmrs,
  });
  c.cpu.writeMemory(report, bytes);
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS };
}

/** TDG.MEM.PAGE.ACCEPT (leaf 6), tdg_mem_page_accept.c (TDX module tdg_*.c). */
export function tdgMemPageAccept(c: LeafContext): LeafOutcome {
  const rcx = c.cpu.getReg(RCX);
  const level = Number(rcx & 7n);
  const gpa = rcx & 0x000f_ffff_ffff_f000n;
  const invalid = (why: string): LeafOutcome => ({ kind: 'completed', status: OPERAND_INVALID(RCX), detail: why });
  if ((rcx >> 3n) & 0x1ffn || rcx >> 52n) return invalid('reserved bits set');
  if (level > 1) return invalid(`level ${level} (module 1.5 accepts 0 = 4K or 1 = 2M)`);
  const size = level === 0 ? 0x1000n : 0x20_0000n;
  if (gpa & (size - 1n)) return invalid(`GPA not aligned to ${level === 0 ? '4K' : '2M'}`);
  if (gpaInvalid(c, gpa, false)) return invalid('GPA beyond the GPA width or shared');
  if (!mapped(c, gpa, Number(size))) return eptExit(gpa, 'page not mapped by the VMM');

  const page2m = gpa >> 21n;
  const alreadyAt2m = c.st.accepted2m.has(page2m) || (c.cfg.initialPageState === 'accepted' && !anyAccepted4kIn(c, page2m));
  if (level === 0) {
    if (alreadyAt2m) return { kind: 'completed', status: withOperand(TDX_STATUS.TDX_PAGE_ALREADY_ACCEPTED, 1) };
    if (c.st.accepted4k.has(gpa >> 12n)) return { kind: 'completed', status: withOperand(TDX_STATUS.TDX_PAGE_ALREADY_ACCEPTED, 0) };
    c.st.accepted4k.add(gpa >> 12n);
  } else {
    if (alreadyAt2m) return { kind: 'completed', status: withOperand(TDX_STATUS.TDX_PAGE_ALREADY_ACCEPTED, 1) };
    // 4K pages accepted inside this 2M range mean the SEPT maps it with a non-leaf 2M entry.
    if (anyAccepted4kIn(c, page2m)) return { kind: 'completed', status: withOperand(TDX_STATUS.TDX_PAGE_SIZE_MISMATCH, 1), detail: 'range already mapped as 4K pages' };
    c.st.accepted2m.add(page2m);
  }
  if (c.cfg.zeroAcceptedPages) c.cpu.writeMemory(gpa, new Uint8Array(Number(size)));
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS, detail: `accepted ${level === 0 ? '4K' : '2M'} at 0x${gpa.toString(16)}` };
}

function anyAccepted4kIn(c: LeafContext, page2m: bigint): boolean {
  for (const p of c.st.accepted4k) if (p >> 9n === page2m) return true;
  return false;
}

/** TDG.VM.RD (leaf 7) and TDG.VM.WR (leaf 8), tdg_vm_rd_wr.c (1.5 ABI). */
export function tdgVmRdWr(c: LeafContext, write: boolean): LeafOutcome {
  const MD_FIELD_ID_NA = 0xffff_ffff_ffff_ffffn;
  const v1Read = !write && c.version > 0;
  // Inputs first: RDX and R8 are also outputs, given their default values before any check.
  const [vmIndex, fieldId, wrValue, wrMask] = [RCX, RDX, R8, R9].map((r) => c.cpu.getReg(r));
  if (v1Read) c.cpu.setReg(RDX, MD_FIELD_ID_NA);
  c.cpu.setReg(R8, 0n);
  if (!write && c.version > 1) return { kind: 'completed', status: OPERAND_INVALID(RAX), detail: `TDG.VM.RD version ${c.version}` };
  if (vmIndex !== 0n) return { kind: 'completed', status: OPERAND_INVALID(RCX), detail: 'VM index must be 0' };
  const table = c.st.tdMetadata;
  // The reference: "null field id → TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT with RDX = first
  // field". We take the null id to be -1 (MD_FIELD_ID_NA), as the metadata spec defines it.
  if (v1Read && fieldId === MD_FIELD_ID_NA) {
    c.cpu.setReg(RDX, table[0]?.fieldId ?? MD_FIELD_ID_NA);
    return { kind: 'completed', status: TDX_STATUS.TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT };
  }
  const i = table.findIndex((f) => f.fieldId === fieldId);
  const field = table[i];
  if (!field) return { kind: 'completed', status: TDX_STATUS.TDX_METADATA_FIELD_ID_INCORRECT, detail: `field 0x${fieldId.toString(16)} not in the TD metadata table` };
  const old = field.value;
  if (write) {
    if (!field.writable) return { kind: 'completed', status: TDX_STATUS.TDX_METADATA_FIELD_NOT_WRITABLE, detail: `${field.name ?? 'field'} is read-only` };
    field.value = (old & ~wrMask) | (wrValue & wrMask);
  } else if (v1Read) {
    c.cpu.setReg(RDX, table[i + 1]?.fieldId ?? MD_FIELD_ID_NA);
  }
  c.cpu.setReg(R8, old);
  return { kind: 'completed', status: TDX_STATUS.TDX_SUCCESS, ...(field.name ? { detail: field.name } : {}) };
}

/**
 * GPA validity for guest leaves (`check_gpa_validity`, TDX module tdg_*.c): bits ≥ 52
 * never; bits 51:48 only with GPAW; the shared bit (47, or 51 with GPAW) only where allowed.
 */
function gpaInvalid(c: LeafContext, gpa: bigint, sharedAllowed: boolean): boolean {
  if (gpa >> 52n) return true;
  if (!c.cfg.gpaw && (gpa >> 48n) & 0xfn) return true;
  const sharedBit = c.cfg.gpaw ? 51n : 47n;
  return !sharedAllowed && ((gpa >> sharedBit) & 1n) === 1n;
}

function mapped(c: LeafContext, gpa: bigint, len: number): boolean {
  return c.cpu.isMapped ? c.cpu.isMapped(gpa, len) : true;
}

function eptExit(gpa: bigint, why: string): LeafOutcome {
  return { kind: 'td-exit', reason: 'ept-violation', gpa, detail: why };
}
