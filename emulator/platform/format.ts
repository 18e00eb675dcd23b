// Text for TDX call events, shared by the CLI trace, the adapter's output lines and the call
// card: the call's name with its sub-function, key inputs by role from the catalog, outcome.

import { findLeaf, findSubfunction } from '../tdx/catalog';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../tdx/status';
import type { TdxCallEvent } from './events';

const h = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

/** `TDCALL TDG.VP.VMCALL<MapGPA>` / `SEAMCALL TDH.SYS.INIT`. */
export function callTitle(ev: TdxCallEvent): string {
  const leaf = ev.leaf ?? `leaf ${ev.leafNumber}`;
  const sub = ev.subfunction ?? (ev.subfunctionNumber !== undefined ? `0x${ev.subfunctionNumber.toString(16)}` : undefined);
  return `${ev.insn.toUpperCase()} ${leaf}${sub ? `<${sub}>` : ''}${ev.version ? ` v${ev.version}` : ''}`;
}

/** Input registers with their roles, as the catalog documents them for the leaf or sub-function. */
export function callInputs(ev: TdxCallEvent): { reg: string; role: string; value: bigint }[] {
  const roles = ev.subfunctionNumber !== undefined
    ? findSubfunction(ev.subfunctionNumber)?.inputs ?? []
    : findLeaf(ev.insn, ev.leafNumber)?.inputs ?? [];
  const out = roles.map((r) => ({ reg: r.reg, role: r.role, value: ev.before[r.reg] ?? 0n }));
  if (ev.subfunctionNumber !== undefined) out.unshift({ reg: 'RCX', role: 'exposure bitmap', value: ev.before.RCX });
  return out;
}

/** What the call came back with: status names, or the fault. */
export function callOutcome(ev: TdxCallEvent): string {
  if (ev.fault) return `${ev.fault}${ev.injected ? ' (injected)' : ''}${ev.faultDetail ? `: ${ev.faultDetail}` : ''}`;
  if (ev.stopped) return `${ev.stopped}: ${ev.detail ?? ''}`;
  const parts: string[] = [];
  if (ev.status !== undefined) parts.push(`RAX=${h(ev.status)} (${decodeTdxStatus(ev.status).name ?? 'unknown status'})`);
  if (ev.vmcallStatus !== undefined) parts.push(`R10=${h(ev.vmcallStatus)} (${decodeTdvmcallStatus(ev.vmcallStatus).name ?? 'unknown'})`);
  if (ev.injected) parts.push(`injected by '${ev.rule}'`);
  return parts.join(' ') || 'completed';
}

/** One trace line: `#1 TDCALL TDG.VP.VMCALL<MapGPA> at __tdcall_saved_ret+0x5a: R12=0x100000 R13=0x2000 → RAX=0x0 (TDX_SUCCESS) …`. */
export function formatCallLine(ev: TdxCallEvent): string {
  const ins = callInputs(ev).filter((x) => x.reg !== 'RCX' || ev.subfunctionNumber !== undefined).slice(0, 4)
    .map((x) => `${x.reg}=${h(x.value)}`).join(' ');
  return `#${ev.seq} ${callTitle(ev)} at ${ev.site ?? h(ev.address)}${ins ? `: ${ins}` : ''} → ${callOutcome(ev)}`;
}
