// The TDX Calls view's model, without VS Code: the body of the adapter's `tdx/calls` request
// read defensively (a malformed entry is skipped, never a crash of the view), the row text
// (leaf, status, fault, injected mark), the call card lines, and the exported JSON trace.

import { decodeSeamldrStatus, decodeTdxStatus, decodeTdvmcallStatus } from '../emulator/tdx/statusDecoder';
import { findLeaf, findSubfunction } from '../emulator/tdx/catalog';
import type { CallRecord } from '../debug-adapter/protocol';

/**
 * One call as `tdx/calls` returns it (the protocol's CallRecord), read defensively: what the view
 * can do without is optional, and a call the session is stopped at (not yet run) is `pending`.
 */
export type CallInfo =
  Pick<CallRecord, 'seq' | 'instruction' | 'title' | 'address' | 'inputs' | 'injected'> &
  Partial<Omit<CallRecord, 'seq' | 'instruction' | 'title' | 'address' | 'inputs' | 'injected'>> & {
    /** Not a call of the timeline yet: the TDCALL/SEAMCALL the session is stopped at, about to run. */
    pending?: boolean;
  };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** The register list of a call record (inputs or outputs); malformed entries are skipped. */
function registersOf(v: unknown): CallRecord['inputs'] {
  return Array.isArray(v)
    ? v.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
      .map((i) => ({ reg: str(i.reg) ?? '?', role: str(i.role) ?? '', value: str(i.value) ?? '?' }))
    : [];
}

/** Reads a `tdx/calls` response body; entries without a sequence number or instruction are dropped. */
export function parseCalls(body: unknown): CallInfo[] {
  const list = (body as { calls?: unknown } | undefined)?.calls;
  if (!Array.isArray(list)) return [];
  const out: CallInfo[] = [];
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) continue;
    const c = raw as Record<string, unknown>;
    const instruction = c.instruction === 'tdcall' || c.instruction === 'seamcall' ? c.instruction : c.insn === 'tdcall' || c.insn === 'seamcall' ? (c.insn as 'tdcall' | 'seamcall') : undefined;
    if (typeof c.seq !== 'number' || !instruction) continue;
    const leaf = str(c.leaf);
    const sub = str(c.subfunction);
    out.push({
      seq: c.seq,
      instruction,
      title: str(c.title) ?? `${instruction.toUpperCase()} ${leaf ?? `leaf ${str(c.leafNumber) ?? '?'}`}${sub ? `<${sub}>` : ''}`,
      address: str(c.address) ?? '?',
      site: str(c.site),
      leaf,
      leafNumber: typeof c.leafNumber === 'number' ? c.leafNumber : undefined,
      version: typeof c.version === 'number' ? c.version : undefined,
      subfunction: sub,
      subfunctionNumber: str(c.subfunctionNumber),
      inputs: registersOf(c.inputs),
      outputs: registersOf(c.outputs),
      hypercallNr: str(c.hypercallNr),
      status: str(c.status),
      statusName: str(c.statusName),
      vmcallStatus: str(c.vmcallStatus),
      vmcallStatusName: str(c.vmcallStatusName),
      fault: str(c.fault),
      detail: str(c.detail),
      injected: c.injected === true,
      rule: str(c.rule),
      outcome: str(c.outcome),
      line: str(c.line),
      icount: typeof c.icount === 'number' ? c.icount : undefined,
      ...(c.ahead === true ? { ahead: true } : {}),
    });
  }
  return out;
}

/** The note on calls the adapter no longer lists (only the most recent `limit` are kept), or undefined. */
export function droppedNote(body: unknown): string | undefined {
  const b = body as { dropped?: unknown; limit?: unknown; droppedByTitle?: unknown } | undefined;
  if (typeof b?.dropped !== 'number' || b.dropped <= 0) return undefined;
  const by = Array.isArray(b.droppedByTitle)
    ? b.droppedByTitle.filter((d): d is { title: string; count: number } => typeof d?.title === 'string' && typeof d?.count === 'number').slice(0, 3).map((d) => `${d.count.toLocaleString('en-US')} × ${d.title}`)
    : [];
  return `${b.dropped.toLocaleString('en-US')} older calls dropped${typeof b.limit === 'number' ? ` (the ${b.limit.toLocaleString('en-US')} most recent are kept; "callHistory" keeps more)` : ''}${by.length ? `: ${by.join(', ')}` : ''}.`;
}

/** Row label: `#2 SEAMCALL TDH.SYS.INIT`. */
export function callLabel(c: CallInfo): string {
  return `#${c.seq} ${c.title}`;
}

/** Row description: the fault (with "injected") or the status names. */
export function callDescription(c: CallInfo): string {
  if (c.pending) return 'next — stopped here, not run yet';
  if (c.ahead) return `ahead in history — ${callDescription({ ...c, ahead: false })}`;
  if (c.fault) return `${c.fault}${c.injected ? ' (injected)' : ''}`;
  const parts: string[] = [];
  if (c.status !== undefined) parts.push(c.statusName ?? statusName(c.status) ?? c.status);
  if (c.vmcallStatus !== undefined) parts.push(`R10 ${c.vmcallStatusName ?? c.vmcallStatus}`);
  if (c.injected) parts.push('injected');
  return parts.join(' · ') || 'no status';
}

function statusName(hex: string): string | undefined {
  try {
    return decodeTdxStatus(BigInt(hex)).name;
  } catch {
    return undefined;
  }
}

/** The call card: name/value lines shown under the row and in its tooltip. */
export function callCard(c: CallInfo): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  out.push({ name: 'instruction', value: `${c.instruction.toUpperCase()} at ${c.site ?? c.address} (${c.address})` });
  const leaf = c.leaf ? findLeaf(c.instruction, c.leaf) : c.leafNumber !== undefined ? findLeaf(c.instruction, c.leafNumber) : undefined;
  out.push({ name: 'leaf', value: `${c.leaf ?? '?'}${c.leafNumber !== undefined ? ` (RAX[15:0] = ${c.leafNumber})` : ''}${c.version ? `, version ${c.version}` : ''}${leaf ? ` — ${leaf.summary}` : ''}` });
  if (c.subfunction || c.subfunctionNumber) {
    const sf = c.subfunctionNumber ? findSubfunction(BigInt(c.subfunctionNumber)) : c.subfunction ? findSubfunction(c.subfunction) : undefined;
    out.push({ name: 'sub-function (R11)', value: `${c.subfunction ?? c.subfunctionNumber}${sf ? ` — ${sf.summary}` : ''}` });
  }
  for (const i of c.inputs) out.push({ name: i.reg, value: `${i.value}  ${i.role}` });
  if (c.fault) out.push({ name: 'fault', value: `${c.fault}${c.injected ? ' (injected)' : ''}` });
  if (c.status !== undefined) {
    let text = c.statusName ?? c.status;
    // RAX bit 63 on SEAMCALL: the P-SEAMLDR answered, with its own status codes.
    const loader = c.instruction === 'seamcall' && c.leaf?.startsWith('SEAMLDR.');
    try { text = `${c.status} ${(loader ? decodeSeamldrStatus : decodeTdxStatus)(BigInt(c.status)).text}`; } catch { /* keep the name */ }
    out.push({ name: 'status (RAX)', value: text });
  }
  // The results besides the statuses (RAX, R10 have their rows).
  for (const o of c.outputs ?? []) if (o.reg !== 'RAX' && !(o.reg === 'R10' && c.vmcallStatus !== undefined)) out.push({ name: `→ ${o.reg}`, value: `${o.value}  ${o.role}` });
  if (c.detail) out.push({ name: 'detail', value: c.detail });
  if (c.vmcallStatus !== undefined) {
    let text = c.vmcallStatusName ?? c.vmcallStatus;
    try { text = `${c.vmcallStatus} ${decodeTdvmcallStatus(BigInt(c.vmcallStatus)).text}`; } catch { /* keep the name */ }
    out.push({ name: 'VMM status (R10)', value: text });
  }
  if (c.rule) out.push({ name: 'injected by', value: c.rule });
  if (c.outcome) out.push({ name: 'outcome', value: c.outcome });
  return out;
}

/**
 * The call the session is stopped at, from the instruction at RIP and RAX/R11, so the view shows
 * the current call before it runs; undefined when RIP is not at a TDCALL/SEAMCALL or the last
 * call of the timeline is this instruction stopped by its fault.
 */
export function pendingCall(insnText: string, address: string, rax: bigint | undefined, r11: bigint | undefined, calls: readonly CallInfo[]): CallInfo | undefined {
  const m = /^\s*(tdcall|seamcall)\b/i.exec(insnText);
  if (!m) return undefined;
  // Travelled back: the recorded call ahead already stands for the one at RIP.
  if (calls.some((c) => c.ahead)) return undefined;
  const last = calls[calls.length - 1];
  if (last && last.fault && BigInt(last.address) === BigInt(address)) return undefined;
  const instruction = m[1].toLowerCase() as 'tdcall' | 'seamcall';
  const leaf = rax !== undefined ? findLeaf(instruction, rax) : undefined;
  const sub = leaf && instruction === 'tdcall' && leaf.leaf === 0 && r11 !== undefined ? findSubfunction(r11) : undefined;
  const subName = sub ? (sub.shortNames[0] ?? sub.name) : undefined;
  return {
    seq: (last?.seq ?? 0) + 1,
    instruction,
    title: `${instruction.toUpperCase()} ${leaf?.name ?? (rax !== undefined ? `leaf ${Number(rax & 0xffffn)}` : '?')}${subName ? `<${subName}>` : ''}`,
    address,
    leaf: leaf?.name,
    leafNumber: rax !== undefined ? Number(rax & 0xffffn) : undefined,
    subfunction: subName,
    subfunctionNumber: sub ? '0x' + sub.value.toString(16) : undefined,
    inputs: [],
    injected: false,
    pending: true,
  };
}

/** The exported trace: one JSON document with what produced it. */
export function traceDocument(calls: readonly CallInfo[], meta: { program?: string; entry?: string; context?: string; session?: string }): string {
  return JSON.stringify({ format: 'tdx-call-trace', version: 1, ...meta, calls }, null, 2) + '\n';
}
