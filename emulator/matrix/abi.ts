// ABI checks on a run (Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h, Linux 6.1 tdcall.S and virt/vmx/tdx/tdxcall.S, Intel SDM vol. 3; TDX module ABI specification): after a guest wrapper returns, exposed
// registers still holding values the VMM wrote (a leak the kernel zeroes them against);
// callee-saved registers not restored when the entry returns; a TDG.VP.VMCALL bitmap exposing
// RAX, RCX, RSP or RBP; asm-offsets the program uses that disagree with the C struct layout.

import type { Session, SessionStop } from '../session/session';
import type { TdxCallEvent } from '../platform/events';
import { addrToBig } from '../cpu/cpu';

/** One ABI problem found in a run. */
export interface AbiFinding {
  /** `vmm-leak`, `callee-saved`, `rcx-bitmap` or `asm-offsets`. */
  check: 'vmm-leak' | 'callee-saved' | 'rcx-bitmap' | 'asm-offsets';
  /** One line naming the register/symbol, the values and where. */
  message: string;
  /** The code address concerned (the TDCALL, the wrapper's return), when there is one. */
  address?: bigint;
}

/** Callee-saved registers of the SysV ABI and the recognisable values the checks plant in them. */
export const CALLEE_SAVED_SENTINELS: Readonly<Record<string, bigint>> = Object.freeze({
  rbx: 0xb0b0_5a5a_0000_00bbn, rbp: 0xb0b0_5a5a_0000_0bb0n,
  r12: 0xc12c_5a5a_0000_0012n, r13: 0xc13c_5a5a_0000_0013n, r14: 0xc14c_5a5a_0000_0014n, r15: 0xc15c_5a5a_0000_0015n,
});

/** GPR bits a TDG.VP.VMCALL bitmap must not set: RAX 0, RCX 1, RSP 4, RBP 5 (Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h, Intel SDM vol. 3; TDX module ABI specification). */
const FORBIDDEN_BITS: [number, string][] = [[0, 'RAX'], [1, 'RCX'], [4, 'RSP'], [5, 'RBP']];

const hex = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

/** A pending "wrapper returns" check for one TDG.VP.VMCALL. */
interface Pending { call: TdxCallEvent; depth: number; ret: bigint; sp: number }

/**
 * Watches one run of a session: plant() the sentinels at launch, then run through `run()`,
 * which stops briefly where each TDCALL's wrapper returns to check for leaks.
 */
export class AbiMonitor {
  readonly findings: AbiFinding[] = [];
  private pending: Pending[] = [];
  private bps = new Map<bigint, number>();
  /** Return addresses where the caller had a breakpoint of its own (kept when the monitor is done). */
  private readonly userBps = new Set<bigint>();
  private entryRegs: Record<string, bigint> = {};
  private entrySp = 0n;
  private listening = false;

  constructor(readonly session: Session) {}

  /** Puts recognisable values in the callee-saved registers (call at launch, before running). */
  plant(): void {
    for (const [r, v] of Object.entries(CALLEE_SAVED_SENTINELS)) this.session.machine.setReg(r, v);
  }

  /** Starts watching from the current state (after plant(), or at a snapshot that had it). */
  begin(entryRegs?: Record<string, bigint>, entrySp?: bigint): void {
    const m = this.session.machine;
    this.entryRegs = entryRegs ?? Object.fromEntries(Object.keys(CALLEE_SAVED_SENTINELS).map((r) => [r, m.getReg(r)]));
    this.entrySp = entrySp ?? this.session.entrySp ?? m.getReg('rsp');
    this.findings.length = 0;
    this.pending = [];
    if (!this.listening) {
      this.listening = true;
      this.session.platform.onEvent((e) => { if (e.kind === 'call' && this.active) this.onCall(e.call); });
    }
    this.active = true;
  }

  private active = false;

  /** The callee-saved values and RSP at launch (to begin() again at a snapshot). */
  get launch(): { regs: Record<string, bigint>; sp: bigint } {
    return { regs: { ...this.entryRegs }, sp: this.entrySp };
  }

  private onCall(ev: TdxCallEvent): void {
    if (ev.insn !== 'tdcall' || ev.leafNumber !== 0) return;
    const rcx = ev.before.RCX ?? 0n;
    for (const [bit, name] of FORBIDDEN_BITS) {
      if (rcx & (1n << BigInt(bit))) {
        this.add({ check: 'rcx-bitmap', address: ev.address, message: `TDG.VP.VMCALL at ${ev.site ?? hex(ev.address)} exposes ${name} (RCX bitmap ${hex(rcx)}, bit ${bit}); Linux never sets bits 0, 1, 4, 5` });
      }
    }
    if (!ev.vmcall || !ev.after) return;
    const c = this.session.machine.cpu, depth = c.ssN;
    if (depth === 0 || depth > c.ssRet.length) { this.pending.push({ call: ev, depth: 0, ret: 0n, sp: 0 }); return; }
    const ret = addrToBig(c.ssRet[depth - 1]);
    this.pending.push({ call: ev, depth, ret, sp: c.ssSp[depth - 1] });
    const n = this.bps.get(ret) ?? 0;
    if (n === 0 && this.session.machine.hasBreakpoint(ret)) this.userBps.add(ret);
    this.bps.set(ret, n + 1);
    this.session.machine.addBreakpoint(ret);
  }

  /** Leak check for the calls whose wrapper has just returned (or all, at the entry's return). */
  private checkReturned(all: boolean): void {
    const c = this.session.machine.cpu, m = this.session.machine;
    const rip = addrToBig(c.rip);
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const back = all || (p.depth > 0 && rip === p.ret && c.ssN === p.depth - 1);
      if (!back) { keep.push(p); continue; }
      if (p.depth > 0) this.release(p.ret);
      const ev = p.call, vm = ev.vmcall;
      for (const name of vm?.written ?? []) {
        const key = name.toUpperCase();
        const before = ev.before[key], after = ev.after?.[key];
        if (after === undefined || after === before || after === 0n) continue; // the VMM did not change it
        const now = m.getReg(name.toLowerCase());
        if (now === after) {
          this.add({ check: 'vmm-leak', address: ev.address,
            message: `${key} still holds the VMM-written ${hex(after)} after the wrapper of the TDG.VP.VMCALL at ${ev.site ?? hex(ev.address)} returned (exposed by the bitmap; the kernel zeroes or restores it)` });
        }
      }
    }
    this.pending = keep;
  }

  private release(a: bigint): void {
    const n = (this.bps.get(a) ?? 0) - 1;
    if (n > 0) { this.bps.set(a, n); return; }
    this.bps.delete(a);
    if (!this.userBps.delete(a)) this.session.machine.removeBreakpoint(a);
  }

  /**
   * Runs like Session.run(budget) but passes over the monitor's own return breakpoints,
   * checking at each. A stop at a breakpoint the caller also set is returned as usual.
   */
  run(budget = Infinity): SessionStop {
    const s = this.session, m = s.machine;
    const end = m.instructionCount + budget;
    for (;;) {
      const stop = s.run(end - m.instructionCount);
      if (stop.reason === 'breakpoint' && this.bps.has(stop.address)) {
        const user = this.userBps.has(stop.address);
        this.checkReturned(false);
        if (user) return stop;
        continue;
      }
      if (stop.reason === 'returned') this.finish();
      return stop;
    }
  }

  /** The entry returned: pending leak checks and the callee-saved registers. */
  private finish(): void {
    this.checkReturned(true);
    const m = this.session.machine;
    for (const [r, v] of Object.entries(this.entryRegs)) {
      const now = m.getReg(r);
      if (now !== v) this.add({ check: 'callee-saved', message: `callee-saved ${r.toUpperCase()} is ${hex(now)} when ${this.session.entry.name} returns, not the caller's ${hex(v)}` });
    }
    const sp = m.getReg('rsp');
    if (sp !== this.entrySp + 8n) this.add({ check: 'callee-saved', message: `RSP is ${hex(sp)} when ${this.session.entry.name} returns, not ${hex(this.entrySp + 8n)} (unbalanced stack)` });
  }

  /** Stops watching; the monitor's breakpoints are removed. */
  end(): void {
    this.active = false;
    for (const a of this.bps.keys()) if (!this.userBps.has(a)) this.session.machine.removeBreakpoint(a);
    this.bps.clear();
    this.userBps.clear();
    this.pending = [];
  }

  private add(f: AbiFinding): void {
    if (!this.findings.some((x) => x.check === f.check && x.message === f.message)) this.findings.push(f);
  }
}

/**
 * asm-offsets the program's sources use (`TDX_MODULE_rcx`, `TDX_HYPERCALL_r10`, …) whose value
 * is not the offset of that field in the struct the Image lays out.
 */
export function checkAsmOffsets(s: Session): AbiFinding[] {
  const img = s.image, out: AbiFinding[] = [];
  const text = [...img.sources.entries()].filter(([p]) => !p.startsWith('<builtin>')).map(([, t]) => t).join('\n');
  const structFor = (prefix: string): string[] => prefix === 'TDX_HYPERCALL' ? ['tdx_hypercall_args'] : ['tdx_module_args', 'tdx_module_output'];
  const used = new Set(text.match(/\bTDX_(?:MODULE|HYPERCALL)_\w+/g) ?? []);
  for (const [name, value] of img.constants) {
    const m = /^(TDX_MODULE|TDX_HYPERCALL)_(\w+)$/.exec(name);
    if (!m || !used.has(name)) continue;
    const layout = structFor(m[1]).map((n) => img.structs.get(n)).find((l) => l && l.fields.some((f) => f.name === m[2]));
    if (!layout) continue;
    const field = layout.fields.find((f) => f.name === m[2]);
    if (!field) continue;
    const named = layout.fields.find((f) => (f as { asmOffsetsName?: string }).asmOffsetsName === name);
    if (named && named !== field) continue;
    if (BigInt(field.offset) !== value) {
      out.push({ check: 'asm-offsets', message: `${name} = ${value} but struct ${layout.name}.${field.name} is at offset ${field.offset}` });
    }
  }
  return out;
}

/**
 * The ABI checks of `tdxdbg run` (and the adapter): runs the entry again from launch with the
 * callee-saved sentinels planted, watched by a monitor, plus the static asm-offsets check.
 * Resets the session first and leaves it at the end of that run.
 */
export function abiCheckRun(s: Session): AbiFinding[] {
  const recorder = s.recorder;
  s.recorder = undefined;
  s.reset();
  const mon = new AbiMonitor(s);
  mon.plant();
  mon.begin();
  mon.run(s.maxInstructions);
  mon.end();
  s.recorder = recorder;
  return [...checkAsmOffsets(s), ...mon.findings];
}
