// Text for TDX call events, shared by the CLI trace, the adapter's output lines and the call
// card: the call's name with its sub-function, key inputs by role from the catalog, outcome.

import { findKvmHypercall, findLeaf, findSubfunction } from '../tdx/catalog';
import type { RegisterRole } from '../tdx/types';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../tdx/statusDecoder';
import type { TdxCallEvent } from './events';

const h = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

/** `TDCALL TDG.VP.VMCALL<MapGPA>` / `SEAMCALL TDH.SYS.INIT`. */
export function callTitle(ev: TdxCallEvent): string {
  const leaf = ev.leaf ?? `leaf ${ev.leafNumber}`;
  const sub = ev.subfunction ?? (ev.subfunctionNumber !== undefined ? `R11=0x${ev.subfunctionNumber.toString(16)}` : undefined);
  return `${ev.insn.toUpperCase()} ${leaf}${sub ? `<${sub}>` : ''}${ev.version ? ` v${ev.version}` : ''}`;
}

/**
 * The name of a TDG.VP.VMCALL as the event shows it: R10 = 0 → the sub-function's GHCI name
 * (R11); R10 ≠ 0 → the KVM hypercall R10 names (include/uapi/linux/kvm_para.h).
 */
export function vmcallName(r10: bigint, r11: bigint): { subfunction?: string; hypercallNr?: bigint } {
  if (r10 !== 0n) return { subfunction: findKvmHypercall(r10)?.name ?? `KVM hypercall nr ${r10}`, hypercallNr: r10 };
  const sf = findSubfunction(r11);
  return sf ? { subfunction: sf.ghciName } : {};
}

function inputRoles(ev: TdxCallEvent): readonly RegisterRole[] {
  if (ev.hypercallNr !== undefined) {
    return [{ reg: 'R10', role: 'KVM hypercall nr' }, ...(findKvmHypercall(ev.hypercallNr)?.inputs ?? [
      { reg: 'R11', role: 'a0' }, { reg: 'R12', role: 'a1' }, { reg: 'R13', role: 'a2' }, { reg: 'R14', role: 'a3' }])];
  }
  if (ev.subfunctionNumber !== undefined) return [{ reg: 'R11', role: 'sub-function' }, ...(findSubfunction(ev.subfunctionNumber)?.inputs ?? [])];
  return findLeaf(ev.insn, ev.before.RAX)?.inputs ?? [];
}

function outputRoles(ev: TdxCallEvent): readonly RegisterRole[] {
  const leaf = findLeaf(ev.insn, ev.before.RAX);
  if (ev.subfunctionNumber !== undefined || ev.hypercallNr !== undefined) {
    // TDG.VP.VMCALL: R10 carries the VMM's answer only when the VMM was reached; the sub-function's results.
    // The results the VMM wrote in this answer: none when it was not reached, the conditional
    // ones in their case (`read`: R13 = 0; `not-success`: R10 ≠ 0), the others on success only
    // (KVM writes them on its success paths alone).
    if (ev.vmcallStatus === undefined) return [];
    const sub = ev.hypercallNr === undefined && ev.subfunctionNumber !== undefined ? findSubfunction(ev.subfunctionNumber) : undefined;
    const ok = ev.vmcallStatus === 0n;
    const results = (sub?.outputs ?? []).filter((o) => (o.when === 'not-success' ? !ok : ok && (o.when !== 'read' || ev.before.R13 === 0n)));
    return [{ reg: 'R10' as const, role: ev.hypercallNr !== undefined ? 'KVM hypercall result' : 'TDVMCALL status' }, ...results];
  }
  return leaf?.outputs ?? [];
}

/** One register of a call record: name, role (from the catalog), value. */
export interface CallRegister { reg: string; role: string; value: bigint }

function byReg(roles: readonly RegisterRole[], regs: Record<string, bigint>): CallRegister[] {
  const out: CallRegister[] = [];
  for (const r of roles) {
    const role = r.bits ? `[${r.bits}] ${r.role}` : r.role;
    const seen = out.find((x) => x.reg === r.reg);
    if (seen) seen.role += `; ${role}`;
    else out.push({ reg: r.reg, role, value: regs[r.reg] ?? 0n });
  }
  return out;
}

/**
 * Input registers with their roles, as the catalog documents them for the leaf, sub-function or
 * KVM hypercall (RAX, the leaf, first; RCX whenever the leaf reads it).
 */
export function callInputs(ev: TdxCallEvent): CallRegister[] {
  const out = byReg(inputRoles(ev), ev.before);
  if (ev.subfunctionNumber !== undefined || ev.hypercallNr !== undefined) {
    if (!out.some((x) => x.reg === 'RCX')) out.unshift({ reg: 'RCX', role: 'exposure bitmap', value: ev.before.RCX });
  }
  out.unshift({ reg: 'RAX', role: 'leaf and version', value: ev.before.RAX });
  return out;
}

/** Output registers the call wrote, with their roles (RAX, the status, first); empty when the call did not complete. */
export function callOutputs(ev: TdxCallEvent): CallRegister[] {
  if (!ev.after || ev.fault || ev.stopped) return [];
  const out = byReg(outputRoles(ev), ev.after);
  out.unshift({ reg: 'RAX', role: ev.insn === 'seamcall' && ev.before.RAX >> 63n ? 'P-SEAMLDR status' : 'TDX status', value: ev.after.RAX });
  return out;
}

/** What the call came back with: status names, or the fault. */
export function callOutcome(ev: TdxCallEvent): string {
  if (ev.fault) return `${ev.fault}${ev.injected ? ' (injected)' : ''}${ev.faultDetail ? `: ${ev.faultDetail}` : ''}`;
  if (ev.stopped) return `${ev.stopped}: ${ev.detail ?? ''}`;
  const parts: string[] = [];
  // An error status carries the model's reason (which operand, which check) as the status name's gloss.
  const why = ev.status !== undefined && ev.status >> 63n && ev.detail ? ` — ${ev.detail}` : '';
  if (ev.status !== undefined) parts.push(`RAX=${h(ev.status)} (${ev.statusName ?? decodeTdxStatus(ev.status).name ?? 'unknown status'}${why})`);
  if (ev.vmcallStatus !== undefined) {
    parts.push(ev.hypercallNr !== undefined ? `R10=${h(ev.vmcallStatus)} (KVM hypercall result ${BigInt.asIntN(64, ev.vmcallStatus)})`
      : `R10=${h(ev.vmcallStatus)} (${decodeTdvmcallStatus(ev.vmcallStatus).name ?? 'unknown'})`);
  }
  if (ev.injected) parts.push(`injected by '${ev.rule}'`);
  return parts.join(' ') || 'completed';
}

/** One trace line: `#1 TDCALL TDG.VP.VMCALL<MapGPA> at __tdcall_saved_ret+0x5a: R12=0x100000 R13=0x2000 → RAX=0x0 (TDX_SUCCESS) …`. */
export function formatCallLine(ev: TdxCallEvent): string {
  const ins = callInputs(ev).filter((x) => x.reg !== 'RAX' && (x.reg !== 'R11' || ev.hypercallNr !== undefined) && x.reg !== 'R10').slice(0, 5)
    .map((x) => `${x.reg}=${h(x.value)}`).join(' ');
  return `#${ev.seq} ${callTitle(ev)} at ${ev.site ?? h(ev.address)}${ins ? `: ${ins}` : ''} → ${callOutcome(ev)}`;
}
