// What the VMM model does for each TDG.VP.VMCALL sub-function and KVM hypercall, keyed by the
// catalogue's names: the numbers come from the catalogue entries (vmcalls.ts), so a new
// sub-function is one catalogue entry plus one behaviour here. The GHCI-standard behaviours
// follow mainline KVM (arch/x86/kvm/vmx/tdx.c) under the `kvm` profile.

import { catalogValues, findTdvmcallStatus } from './catalog';
import { KVM_HYPERCALL_ERRNO, REPORT_FATAL_ERROR_MESSAGE_REGS, TDVMCALL_SUBFUNCTIONS, type KvmHypercall, type TdvmcallSubfunction } from './vmcalls';
import { GPR, toU64, u64, type U64Like } from './types';

/** TDVMCALL statuses by name, looked up once in the catalogue (a typo fails at load time). */
const STATUS_NAMES = [
  'TDVMCALL_STATUS_SUCCESS', 'TDVMCALL_STATUS_RETRY', 'TDVMCALL_STATUS_INVALID_OPERAND',
  'TDVMCALL_STATUS_ALIGN_ERROR', 'TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED',
] as const;
export const TDVMCALL_STATUS = catalogValues('vmmBehaviours', STATUS_NAMES, findTdvmcallStatus);

/** TDX_MAP_GPA_MAX_LEN (arch/x86/kvm/vmx/tdx.c): KVM converts MapGPA ranges 2 MiB at a time. */
export const KVM_MAP_GPA_CHUNK = 0x20_0000n;
/** GetTdVmCallInfo leaf 1, R11 bit 1: SetupEventNotifyInterrupt (TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT). */
const TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT = 1n << 1n;

/** The parts of the VMM configuration the behaviours read (see `VmmConfig` in vmm.ts). */
export interface BehaviourConfig {
  cpuid?: { leaf: U64Like; subleaf?: U64Like; eax?: U64Like; ebx?: U64Like; ecx?: U64Like; edx?: U64Like }[];
  ioPorts?: { port: U64Like; value: U64Like }[];
  quoteResponse?: Uint8Array;
}

/** The VMM's mutable world, which behaviours read and change (snapshotted by the model). */
export interface VmmWorld {
  readonly cfg: BehaviourConfig;
  /** `kvm` profile: KVM's operand checks; otherwise the permissive answers. */
  readonly kvm: boolean;
  /** The TD's GPA width is 52 bits (shared bit 51) rather than 48 (shared bit 47). */
  readonly gpaw: boolean;
  readonly numVcpus: number;
  msrs: Map<bigint, bigint>;
  mmio: Map<bigint, bigint>;
  conversions: { start: bigint; size: bigint }[];
  eventNotifyVector: number | undefined;
}

/** One call as a behaviour sees it. */
export interface VmmCall {
  /** Registers as the VMM received them (unexposed ones are 0). */
  readonly inRegs: readonly bigint[];
  /** The answer's registers; the module copies back only exposed ones. */
  readonly regs: bigint[];
  /** Guest memory, for buffers the VMM writes (GetQuote). */
  readonly mem?: { writeMemory(gpa: bigint, bytes: Uint8Array): void };
}

/** What a behaviour answers. */
export interface BehaviourResult {
  status: bigint;
  summary: string;
  /** The TD must stop (ReportFatalError never returns). */
  stop?: { reason: 'fatal-error'; errorCode: bigint; message: string };
}

type Behaviour = (w: VmmWorld, c: VmmCall) => BehaviourResult;

const ok = (summary: string): BehaviourResult => ({ status: TDVMCALL_STATUS.TDVMCALL_STATUS_SUCCESS, summary });
const fail = (status: bigint, summary: string): BehaviourResult => ({ status, summary });

function hexShort(v: bigint): string {
  return '0x' + u64(v).toString(16).toUpperCase();
}

/** The shared bit and GPA limit of the TD. */
function gpaShape(w: VmmWorld) {
  const shared = w.gpaw ? 1n << 51n : 1n << 47n;
  return { shared, limit: 1n << (w.gpaw ? 52n : 48n), isPrivate: (gpa: bigint) => (gpa & shared) === 0n };
}

/** R12..R15, the arguments a0..a3 of a GHCI-standard call. */
function args(c: VmmCall): [bigint, bigint, bigint, bigint] {
  return [c.inRegs[GPR.R12], c.inRegs[GPR.R13], c.inRegs[GPR.R14], c.inRegs[GPR.R15]];
}

const { TDVMCALL_STATUS_INVALID_OPERAND: INVALID_OPERAND, TDVMCALL_STATUS_ALIGN_ERROR: ALIGN_ERROR } = TDVMCALL_STATUS;

/** The GHCI-standard behaviour of each sub-function, by catalogue name. */
const STANDARD: Readonly<Record<string, Behaviour>> = {
  EXIT_REASON_CPUID(w, c) {
    const [a0, a1] = args(c);
    const e = (w.cfg.cpuid ?? []).find((x) => toU64(x.leaf, 'cpuid.leaf') === (a0 & 0xffff_ffffn)
      && (x.subleaf === undefined || toU64(x.subleaf, 'cpuid.subleaf') === (a1 & 0xffff_ffffn)));
    const reg = (v: U64Like | undefined, what: string) => (v !== undefined ? toU64(v, what) : 0n);
    c.regs[GPR.R12] = reg(e?.eax, 'cpuid.eax');
    c.regs[GPR.R13] = reg(e?.ebx, 'cpuid.ebx');
    c.regs[GPR.R14] = reg(e?.ecx, 'cpuid.ecx');
    c.regs[GPR.R15] = reg(e?.edx, 'cpuid.edx');
    return ok(`CPUID leaf ${hexShort(a0)} sub-leaf ${hexShort(a1)}`);
  },
  // No interrupt model: the halt ends at once, as if an interrupt had arrived.
  EXIT_REASON_HLT: (_w, c) => ok(`HLT (interrupts ${args(c)[0] ? 'disabled' : 'enabled'})`),
  EXIT_REASON_IO_INSTRUCTION(w, c) {
    const [size, dir, port, value] = args(c);
    // KVM (tdx_emulate_io) checks size and direction only; the port reaches its PIO emulation as
    // a u16. It writes no register but R10 (and R11 for a read): R14 comes back as the guest sent it.
    if (![1n, 2n, 4n].includes(size) || dir > 1n || (!w.kvm && port > 0xffffn)) return fail(INVALID_OPERAND, `IO with bad size/direction/port`);
    const mask = (1n << (size * 8n)) - 1n;
    const bytes = `(${size} byte${size > 1n ? 's' : ''})`;
    if (dir === 0n) {
      const p = port & 0xffffn;
      const e = (w.cfg.ioPorts ?? []).find((x) => toU64(x.port, 'ioPorts.port') === p);
      c.regs[GPR.R11] = (e ? toU64(e.value, 'ioPorts.value') : mask) & mask;
      return ok(`IO read port ${hexShort(p)} → ${hexShort(c.regs[GPR.R11])} ${bytes}`);
    }
    return ok(`IO write port ${hexShort(port & 0xffffn)} = ${hexShort(value & mask)} ${bytes}`);
  },
  EXIT_REASON_MSR_READ(w, c) {
    const [msr] = args(c);
    const v = w.msrs.get(msr);
    if (v === undefined) return fail(INVALID_OPERAND, `RDMSR ${hexShort(msr)}: unknown MSR`);
    c.regs[GPR.R11] = v;
    return ok(`RDMSR ${hexShort(msr)} → ${hexShort(v)}`);
  },
  EXIT_REASON_MSR_WRITE(w, c) {
    const [msr, v] = args(c);
    w.msrs.set(msr, v);
    return ok(`WRMSR ${hexShort(msr)} = ${hexShort(v)}`);
  },
  EXIT_REASON_EPT_VIOLATION(w, c) {
    const [size, dir, gpa, value] = args(c);
    const { shared, isPrivate } = gpaShape(w);
    if (![1n, 2n, 4n, 8n].includes(size) || dir > 1n) return fail(INVALID_OPERAND, `MMIO with bad size/direction`);
    // KVM (tdx_emulate_mmio): only shared GPAs; the shared bit is stripped before the MMIO lookup.
    if (w.kvm && (isPrivate(gpa) || isPrivate(gpa + size - 1n))) return fail(INVALID_OPERAND, `MMIO at ${hexShort(gpa)}: private GPA (the shared bit ${hexShort(shared)} is clear)`);
    const mask = (1n << (size * 8n)) - 1n;
    if (dir === 0n) {
      c.regs[GPR.R11] = (w.mmio.get(gpa) ?? (w.kvm ? w.mmio.get(gpa & ~shared) : undefined) ?? 0n) & mask;
      return ok(`MMIO read ${hexShort(gpa)} → ${hexShort(c.regs[GPR.R11])} (${size} bytes)`);
    }
    w.mmio.set(gpa, value & mask);
    return ok(`MMIO write ${hexShort(gpa)} = ${hexShort(value & mask)} (${size} bytes)`);
  },
  TDVMCALL_GET_TD_VM_CALL_INFO(w, c) {
    const [leaf] = args(c);
    const R = c.regs;
    // KVM (tdx_get_td_vm_call_info): leaf 1 reports the optional TDVMCALLs in R11..R14 (the
    // base ones, GetQuote included, have no bit since "KVM: TDX: Don't report base TDVMCALLs").
    if (w.kvm && leaf === 1n) {
      R[GPR.R11] = TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT;
      R[GPR.R12] = R[GPR.R13] = R[GPR.R14] = 0n;
      return ok('GetTdVmCallInfo leaf 1: R11 bit 1 SetupEventNotifyInterrupt');
    }
    if (leaf !== 0n) return fail(INVALID_OPERAND, `GetTdVmCallInfo leaf ${hexShort(leaf)} (must be 0)`);
    R[GPR.R11] = R[GPR.R12] = R[GPR.R13] = R[GPR.R14] = 0n; // as KVM does
    return ok('GetTdVmCallInfo');
  },
  TDVMCALL_MAP_GPA(w, c) {
    const [start, size] = args(c);
    const range = `MapGPA ${hexShort(start)}+${hexShort(size)}`;
    if (w.kvm) {
      const { shared, limit, isPrivate } = gpaShape(w);
      // tdx_map_gpa: range checks, then alignment; on either error R11 = the GPA (nothing converted).
      const end = start + size;
      const err = (status: bigint, why: string) => ((c.regs[GPR.R11] = start), fail(status, `${range}: ${why}`));
      if (end <= start || end > (1n << 64n) - 1n) return err(INVALID_OPERAND, 'empty or wrapping range');
      if (start >= limit || end - 1n >= limit) return err(INVALID_OPERAND, `beyond the GPA width (${w.gpaw ? 52 : 48} bits)`);
      if (isPrivate(start) !== isPrivate(end - 1n)) return err(INVALID_OPERAND, `crosses the shared bit ${hexShort(shared)}`);
      if ((start & 0xfffn) !== 0n || (size & 0xfffn) !== 0n) return err(ALIGN_ERROR, 'not 4K aligned');
      w.conversions.push({ start, size });
      return ok(`${range} → ${isPrivate(start) ? 'private' : 'shared'}`);
    }
    // Misalignment → ALIGN_ERROR: our reading of the status name; GHCI gives no rule.
    if ((start & 0xfffn) !== 0n || (size & 0xfffn) !== 0n) return fail(ALIGN_ERROR, `${range}: not 4K aligned`);
    if (size === 0n || start + size > (1n << 64n) - 1n) return fail(INVALID_OPERAND, `${range}: empty or wrapping range`);
    w.conversions.push({ start, size });
    return ok(range);
  },
  TDVMCALL_GET_QUOTE(w, c) {
    const [gpa, size] = args(c);
    const { shared, isPrivate } = gpaShape(w);
    const buffer = `GetQuote buffer ${hexShort(gpa)}`;
    // KVM (tdx_get_quote) refuses a private buffer and hands the rest to the user-space VMM;
    // QEMU (target/i386/kvm/tdx.c tdx_handle_get_quote) then wants GPA and size 4K aligned
    // (ALIGN_ERROR) and a non-empty buffer (INVALID_OPERAND).
    if (w.kvm && isPrivate(gpa)) return fail(INVALID_OPERAND, `${buffer}: private GPA (the shared bit ${hexShort(shared)} is clear)`);
    if (w.kvm && ((gpa & 0xfffn) !== 0n || (size & 0xfffn) !== 0n)) return fail(ALIGN_ERROR, `${buffer} size ${hexShort(size)}: not 4K aligned`);
    if (w.kvm && size === 0n) return fail(INVALID_OPERAND, `${buffer}: size 0`);
    const q = w.cfg.quoteResponse;
    if (q && c.mem && size > 0n) c.mem.writeMemory(gpa, q.subarray(0, Number(size < BigInt(q.length) ? size : BigInt(q.length))));
    return ok(`${buffer} size ${hexShort(size)}${q ? '' : ' (no quote configured)'}`);
  },
  TDVMCALL_REPORT_FATAL_ERROR(_w, c) {
    const [code] = args(c);
    const message = decodeFatalErrorMessage(c.inRegs);
    return { status: TDVMCALL_STATUS.TDVMCALL_STATUS_SUCCESS, summary: `ReportFatalError code ${hexShort(code)}: "${message}"`, stop: { reason: 'fatal-error', errorCode: code, message } };
  },
  TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT(w, c) {
    const [vector] = args(c);
    if (vector < 32n || vector > 255n) return fail(INVALID_OPERAND, `SetupEventNotifyInterrupt vector ${vector} (KVM accepts 32–255)`);
    w.eventNotifyVector = Number(vector);
    return ok(`SetupEventNotifyInterrupt vector ${vector}`);
  },
};

/** Behaviours by R11 value, each name checked against the catalogue at load time. */
const BY_VALUE: ReadonlyMap<bigint, Behaviour> = new Map(Object.entries(STANDARD).map(([name, b]) => {
  const f = TDVMCALL_SUBFUNCTIONS.find((s) => s.name === name);
  if (!f) throw new Error(`vmmBehaviours: ${name} is not a catalogued TDG.VP.VMCALL sub-function`);
  return [f.value, b];
}));

/** Whether the model has a behaviour for a catalogued sub-function. */
export function hasBehaviour(f: TdvmcallSubfunction): boolean {
  return BY_VALUE.has(f.value);
}

/** The GHCI-standard answer to sub-function `fn` (R11); an unknown one is SUBFUNC_UNSUPPORTED. */
export function answerStandard(w: VmmWorld, fn: bigint, c: VmmCall): BehaviourResult {
  const b = BY_VALUE.get(fn);
  return b ? b(w, c) : fail(TDVMCALL_STATUS.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED, `unsupported sub-function ${hexShort(fn)}`);
}

/**
 * A vendor call under the `kvm` profile: KVM's common hypercall code (arch/x86/kvm/x86.c
 * __kvm_emulate_hypercall, reached from tdx_emulate_vmcall with nr = R10, a0..a3 = R11..R14).
 * The result goes to R10; an unknown nr gets -KVM_ENOSYS.
 */
export function answerKvmHypercall(w: VmmWorld, hc: KvmHypercall | undefined, inRegs: readonly bigint[]): BehaviourResult {
  const nr = inRegs[GPR.R10];
  const [a0, a1, a2] = [inRegs[GPR.R11], inRegs[GPR.R12], inRegs[GPR.R13]];
  const E = KVM_HYPERCALL_ERRNO;
  const neg = (e: bigint) => u64(-e);
  const name = hc?.name ?? `KVM hypercall ${nr}`;
  const done = (status: bigint, what: string): BehaviourResult => ({ status, summary: `${name}: ${what}` });
  switch (hc?.name) {
    case 'KVM_HC_VAPIC_POLL_IRQ': return done(0n, 'returns 0');
    case 'KVM_HC_KICK_CPU': return done(0n, `kick APIC id ${a1} (PV unhalt)`);
    case 'KVM_HC_SCHED_YIELD': return done(0n, `yield to APIC id ${a0}`);
    case 'KVM_HC_SEND_IPI': {
      // kvm_pv_send_ipi: one IPI per set bit whose APIC id (min + bit) names a vCPU.
      let sent = 0n;
      for (let b = 0n; b < 128n; b++) {
        const set = b < 64n ? (a0 >> b) & 1n : (a1 >> (b - 64n)) & 1n;
        if (set && a2 + b < BigInt(w.numVcpus)) sent++;
      }
      return done(sent, `${sent} IPI(s) sent (TD has ${w.numVcpus} vCPU(s), APIC ids 0..${w.numVcpus - 1})`);
    }
    case 'KVM_HC_MAP_GPA_RANGE':
      if (a0 & 0xfffn || a1 === 0n || (a0 >> 12n) + a1 > (1n << 52n)) return done(neg(E.KVM_EINVAL), `GPA ${hexShort(a0)}, ${a1} page(s): -KVM_EINVAL`);
      w.conversions.push({ start: a0, size: a1 << 12n });
      return done(0n, `GPA ${hexShort(a0)}, ${a1} page(s), attributes ${hexShort(a2)} (user space completes it)`);
    case 'KVM_HC_CLOCK_PAIRING':
      // kvm_pv_clock_pairing depends on the host's clocksource; not modelled.
      return done(neg(E.KVM_EOPNOTSUPP), '-KVM_EOPNOTSUPP (host clock pairing is not modelled: as KVM answers when the host clocksource is not TSC-based)');
    default: return done(neg(E.KVM_ENOSYS), `nr ${nr}: -KVM_ENOSYS`);
  }
}

/**
 * The ReportFatalError message: 64 bytes packed little-endian into the registers the catalogue
 * lists as its message inputs (GHCI order R14, R15, RBX, RDI, RSI, R8, R9, RDX), up to the first NUL.
 */
export function decodeFatalErrorMessage(regs: readonly bigint[]): string {
  const bytes: number[] = [];
  for (const name of REPORT_FATAL_ERROR_MESSAGE_REGS) {
    const v = u64(regs[GPR[name]]);
    for (let b = 0n; b < 8n; b++) bytes.push(Number((v >> (8n * b)) & 0xffn));
  }
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.slice(0, end < 0 ? bytes.length : end)).toString('latin1');
}
