// Run control: continue in instruction budgets that yield to the event loop (so pause,
// disconnect and breakpoint changes are served while code runs), single steps, step over
// calls (to the return address with the same RSP), step out (through the shadow call stack),
// line stepping over the line table (macro bodies are inline frames), goto. Every run ends in
// an Outcome: a stop to report, or the end of the debuggee.

import type { Insn } from '../emulator/decode/insn';
import type { CpuFault } from '../emulator/session/session';
import type { SessionStop } from '../emulator/session/session';
import type { TdxCallEvent } from '../emulator/platform/events';
import { callOutcome, callTitle } from '../emulator/platform/format';
import type { Breakpoints, BpHit } from './breakpoints';
import { fromNumberAddress, hex, toNumberAddress } from './format';
import { positionKey, type Target } from './target';

/** What an exception stop tells `exceptionInfo`. */
export interface ExceptionDetail {
  /** The filter that stopped (`#GP`, `vmfailinvalid`, `unhandled`, …). */
  filter: string;
  /** `#GP(0)`, `VMfailInvalid`, `panic`, … */
  name: string;
  message: string;
  vector?: number;
  errorCode?: number;
  injected: boolean;
  /** The TDX call that raised it (the fault is the call instruction's). */
  call?: TdxCallEvent;
  /** The last TDX call before a fault raised by another instruction (a `ud2` after a failed TDCALL). */
  after?: TdxCallEvent;
  /** Where the faulting instruction is, when no call raised it (`__tdx_hypercall+0x62`). */
  at?: string;
  /** Whether the exception table handles it (and where it resumes). */
  fixup?: { handled: boolean; to?: bigint };
  breakMode: 'always' | 'unhandled';
}

/** A stop to report with a `stopped` event. */
export interface StopInfo {
  reason: string;
  description: string;
  text?: string;
  hitBreakpointIds?: number[];
  exception?: ExceptionDetail;
}

export type Outcome =
  | { kind: 'stop'; stop: StopInfo }
  | { kind: 'end'; message: string; exitCode: number; category: 'console' | 'stderr' };

type Reached = { kind: 'reached' };
type Until = { address: bigint; rsp?: bigint };

const VECTOR_TEXT: Record<number, string> = { 6: '#UD', 13: '#GP', 14: '#PF' };
/** Instruction slices aim at this many milliseconds, so pause is answered well within 50 ms. */
const SLICE_MS = 8;

export type StepKind = 'next' | 'stepIn' | 'stepOut';

export class Runner {
  /** Set by `pause` (and `cancel`): the running loop stops at its next check. */
  pauseRequested = false;
  /** Set by disconnect/terminate/restart: the loop ends without a stop. */
  aborted = false;
  private budget = 200_000;
  private pendingFault: { fault: CpuFault; insn: Insn; address: bigint; filter: string; call?: TdxCallEvent } | undefined;
  /** Reverse-continue stopped before this position's fault: delivering it must not stop again. */
  private passFaultAt: number | undefined;
  private deliver: ((f: CpuFault, i: Insn | undefined) => boolean) | undefined;

  constructor(private readonly target: Target, private readonly bps: Breakpoints) {
    this.installFaultGate();
  }

  /**
   * Faults the exception table will fix up never stop the machine; to stop on them (the #GP
   * filter on a SEAMCALL with a fixup), the gate asks the filters first and, if one wants a stop,
   * keeps the fault pending and delivers it to the exception table when the run resumes.
   */
  private installFaultGate(): void {
    const m = this.target.machine;
    const original = m.faultHandler;
    this.deliver = original;
    m.faultHandler = (fault, insn) => {
      if (!insn || !original) return original ? original(fault, insn) : false;
      const at = fromNumberAddress(insn.addr);
      if (!this.target.session.extable.has(at)) return original(fault, insn);
      if (this.passFaultAt === m.instructionCount) { this.passFaultAt = undefined; return original(fault, insn); }
      const last = this.target.lastCall();
      const call = last && last.address === at && last.icount === m.instructionCount ? last : undefined;
      const filter = this.bps.onFault(fault.vector, call);
      if (!filter) return original(fault, insn);
      this.pendingFault = { fault, insn, address: at, filter, call };
      return false;
    };
  }

  /**
   * The debuggee travelled in time: a fault held back for the old position is gone (replay
   * delivers faults itself). `stoppedBeforeFault`: the new position is a fault the user has
   * just been shown (reverse-continue to an exception stop), so resuming delivers it silently.
   */
  travelled(stoppedBeforeFault?: number): void {
    this.pendingFault = undefined;
    this.passFaultAt = stoppedBeforeFault;
  }

  /** Delivers a fault the gate held back, when execution resumes at the faulting instruction. */
  private deliverPending(): void {
    const p = this.pendingFault;
    this.pendingFault = undefined;
    if (!p || this.target.rip !== p.address || !this.deliver) return;
    this.target.session.deliverHeldFault(this.deliver, p.fault, p.insn);
  }

  // ---- continue ------------------------------------------------------------------------------

  /** `beforeCall`: stop before the first TDCALL/SEAMCALL reached (the launch's `stopOnCall`). */
  async continue(beforeCall = false): Promise<Outcome> {
    const r = await this.runChunks(undefined, beforeCall);
    return r.kind === 'reached' ? this.stepStop() : r;
  }

  private async runChunks(until: Until | undefined, beforeCall = false): Promise<Outcome | Reached> {
    const t = this.target, s = t.session;
    if (until) t.addBp(until.address);
    try {
      for (;;) {
        if (this.aborted) return { kind: 'end', message: '', exitCode: 0, category: 'console' };
        if (this.pauseRequested) return this.pauseStop();
        if (this.pendingFault) {
          this.deliverPending();
          const o = this.userBpAtRip();
          if (o) return o;
          continue;
        }
        if (beforeCall && t.callSites.has(t.rip)) {
          const note = this.callNote();
          return { kind: 'stop', stop: { reason: 'step', description: note ? `Before ${note}` : `Before the ${t.callSites.get(t.rip)?.toUpperCase()} at ${s.describe(t.rip)}` } };
        }
        // A TDX call runs as a single step, so its event can be checked by the filters.
        if (t.callSites.has(t.rip)) {
          const o = this.stepOne();
          if (o) return o;
          if (until && this.reached(until)) return { kind: 'reached' };
          const b = this.userBpAtRip();
          if (b) return b;
          continue;
        }
        const t0 = performance.now();
        const r = s.run(this.budget);
        const dt = performance.now() - t0;
        switch (r.reason) {
          case 'budget':
            // Adapt the slice so one lasts about SLICE_MS on this machine.
            this.budget = Math.max(10_000, Math.min(5_000_000, Math.round(this.budget * (SLICE_MS / Math.max(dt, 0.5)))));
            await new Promise((res) => setImmediate(res));
            continue;
          case 'breakpoint': {
            if (until && this.reached(until)) return { kind: 'reached' };
            const hit = this.bps.atAddress(r.address);
            if (hit) return this.breakpointStop(hit);
            continue;
          }
          default: {
            const o = this.stopOf(r);
            if (o) return o;
          }
        }
      }
    } finally {
      if (until) t.removeBp(until.address);
    }
  }

  /**
   * After a single step inside a run: a breakpoint on the next instruction (right after a
   * TDCALL, at a fixup) must stop, and Machine.run never stops on its first instruction.
   */
  private userBpAtRip(): Outcome | null {
    const t = this.target;
    if (!t.machine.hasBreakpoint(t.rip)) return null;
    const hit = this.bps.atAddress(t.rip);
    return hit ? this.breakpointStop(hit) : null;
  }

  private reached(u: Until): boolean {
    return this.target.rip === u.address && (u.rsp === undefined || this.target.machine.getReg('rsp') === u.rsp);
  }

  /** One instruction, with the checks a run makes (data breakpoints, faults, call filters). */
  private stepOne(): Outcome | null {
    const t = this.target;
    if (this.pendingFault) { this.deliverPending(); return null; }
    const site = t.callSites.get(t.rip);
    const before = t.session.platform.calls.length;
    // The fault of this call was reported before reverse-continue landed here: deliver it as a resume would.
    const passing = this.passFaultAt === t.machine.instructionCount;
    const r = t.session.step();
    if (r) return this.stopOf(r);
    if (site && !passing && t.session.platform.calls.length > before) {
      const ev = t.lastCall()!;
      const filter = this.bps.afterCall(ev);
      if (filter) return this.exceptionStop({ filter, name: ev.fault ?? (filter === 'tdx-error-status' ? `status ${ev.statusName ?? hex(ev.status ?? 0n)}` : 'injected'), message: `${callTitle(ev)} → ${callOutcome(ev)}`, injected: ev.injected, call: ev, breakMode: 'always' });
    }
    return null;
  }

  // ---- stepping ------------------------------------------------------------------------------

  async step(kind: StepKind, granularity: string | undefined): Promise<Outcome> {
    if (granularity === 'instruction') return this.stepInstruction(kind);
    return this.stepLine(kind);
  }

  private async stepInstruction(kind: StepKind): Promise<Outcome> {
    if (kind === 'stepOut') return this.stepOutOfFunction();
    const insn = this.insnAtRip();
    if (kind === 'next' && insn && isCall(insn)) {
      const r = await this.overCall(insn);
      return r.kind === 'reached' ? this.stepStop() : r;
    }
    return this.stepOne() ?? this.stepStop();
  }

  private async overCall(insn: Insn): Promise<Outcome | Reached> {
    const t = this.target;
    const until = { address: fromNumberAddress(insn.next), rsp: t.machine.getReg('rsp') };
    const o = this.stepOne();
    if (o) return o;
    if (this.reached(until)) return { kind: 'reached' };
    return this.runChunks(until);
  }

  private async stepOutOfFunction(): Promise<Outcome> {
    const top = this.target.session.callStack().pop();
    const until = top ? { address: top.returnAddress, rsp: top.sp + 8n } : undefined;
    const r = await this.runChunks(until);
    return r.kind === 'reached' ? this.stepStop() : r;
  }

  /**
   * Line steps. Positions are [line in the function, macro-body lines…]; `depth` is how many of
   * them the current frame has. stepIn stops at any new position; next stops when the position
   * at this depth changes (macro bodies and calls below it are stepped over); stepOut from a
   * macro frame stops when the position one level up changes.
   */
  private async stepLine(kind: StepKind): Promise<Outcome> {
    const t = this.target;
    const start = t.positions(t.rip);
    const depth = start.length;
    if (depth === 0) return this.stepInstruction(kind);
    if (kind === 'stepOut' && depth === 1) return this.stepOutOfFunction();
    const level = kind === 'stepOut' ? depth - 1 : kind === 'next' ? depth : Infinity;
    const startKey = key(start, level);
    const startCalls = t.session.callDepth;
    for (let n = 1; ; n++) {
      if (this.aborted) return { kind: 'end', message: '', exitCode: 0, category: 'console' };
      if (this.pauseRequested) return this.pauseStop();
      const insn = this.insnAtRip();
      if (kind !== 'stepIn' && insn && isCall(insn)) {
        const r = await this.overCall(insn);
        if (r.kind !== 'reached') return r;
      } else {
        const o = this.stepOne();
        if (o) return o;
      }
      const ssN = t.session.callDepth;
      if (ssN < startCalls) return this.stepStop(); // returned to the caller
      const here = t.positions(t.rip);
      if (here.length && (kind === 'stepIn' ? key(here, Infinity) !== startKey || ssN > startCalls : here.length < level || key(here, level) !== startKey)) return this.stepStop();
      if (n % 4096 === 0) await new Promise((res) => setImmediate(res));
    }
  }

  /** Sets RIP (goto): a stop with reason `goto`; a fault held back for the old RIP is dropped. */
  goto(address: bigint): StopInfo {
    this.target.machine.setReg('rip', address);
    this.pendingFault = undefined;
    this.passFaultAt = undefined;
    return { reason: 'goto', description: `Jumped to ${this.target.session.describe(address)}` };
  }

  private insnAtRip(): Insn | undefined {
    try { return this.target.machine.insnAt(toNumberAddress(this.target.rip)); } catch { return undefined; }
  }

  // ---- stops ----------------------------------------------------------------------------------

  private callNote(): string | undefined {
    const ev = this.target.pendingCall();
    return ev ? callTitle(ev) : undefined;
  }

  stepStop(): Outcome {
    const note = this.callNote();
    return { kind: 'stop', stop: { reason: 'step', description: note ?? `Step to ${this.target.session.describe(this.target.rip)}` } };
  }

  pauseStop(): Outcome {
    this.pauseRequested = false;
    const note = this.callNote();
    return { kind: 'stop', stop: { reason: 'pause', description: `Paused at ${this.target.session.describe(this.target.rip)}${note ? ` before ${note}` : ''}` } };
  }

  entryStop(): Outcome {
    return { kind: 'stop', stop: { reason: 'entry', description: `Paused on entry to ${this.target.session.entry.name}` } };
  }

  breakpointStop(hit: BpHit): Outcome {
    const reason = hit.kind === 'source' ? 'breakpoint' : hit.kind === 'function' ? 'function breakpoint' : hit.kind === 'instruction' ? 'instruction breakpoint' : 'data breakpoint';
    const note = this.callNote();
    const what = hit.kind === 'source' ? `Breakpoint at ${hit.label}` : hit.kind === 'function' ? `Function breakpoint ${hit.label}` : `Instruction breakpoint at ${hit.label}`;
    return { kind: 'stop', stop: { reason, description: note ?? what, text: note ? what : undefined, hitBreakpointIds: hit.ids } };
  }

  exceptionStop(d: ExceptionDetail): Outcome {
    const description = d.call ? `${callTitle(d.call)}: ${d.name}` : d.at ? `${d.name} at ${d.at}` : d.name;
    return { kind: 'stop', stop: { reason: 'exception', description, text: d.message, exception: d } };
  }

  /** Turns a session stop (other than a plain breakpoint) into an outcome; null: keep going. */
  private stopOf(r: SessionStop): Outcome | null {
    const t = this.target;
    switch (r.reason) {
      case 'watch': {
        const hit = this.bps.atWatch((r.machine.watches ?? []).map((w) => w.id));
        return hit ? { kind: 'stop', stop: { reason: 'data breakpoint', description: `Data breakpoint: ${r.message.replace(/^data breakpoint: /, '')} (${hit.label})`, hitBreakpointIds: hit.ids } } : null;
      }
      case 'breakpoint': {
        const hit = this.bps.atAddress(r.address);
        return hit ? this.breakpointStop(hit) : null;
      }
      case 'budget': return null;
      case 'returned': {
        const rax = t.machine.getReg('rax');
        return { kind: 'end', message: r.message, exitCode: Number(BigInt.asIntN(32, rax)), category: 'console' };
      }
      case 'stub-stop': return { kind: 'stop', stop: { reason: 'breakpoint', description: r.message } };
      case 'limit': return this.exceptionStop({ filter: 'limit', name: 'instruction limit', message: r.message, injected: false, breakMode: 'always' });
      case 'exception': {
        const p = this.pendingFault;
        if (p && p.address === r.address) {
          const name = `${VECTOR_TEXT[p.fault.vector] ?? `vector ${p.fault.vector}`}${p.fault.errorCode !== undefined ? `(${p.fault.errorCode})` : ''}`;
          const entry = t.session.image.exTable.find((e) => e.insn === p.address);
          return this.exceptionStop({
            filter: p.filter, name, vector: p.fault.vector, errorCode: p.fault.errorCode, injected: p.call?.injected ?? false, call: p.call, breakMode: 'always',
            fixup: { handled: true, to: entry?.fixup },
            message: `${name} at ${t.session.describe(p.address)}: ${p.fault.message}${p.call?.injected ? ` (injected by '${p.call.rule}')` : ''} — the exception table will resume at ${entry ? t.session.describe(entry.fixup) : 'its fixup'}`,
          });
        }
        return this.terminal(r, r.vector);
      }
      default: return this.terminal(r, undefined);
    }
  }

  private terminal(r: SessionStop, vector: number | undefined): Outcome {
    const t = this.target;
    // The last call explains most terminal stops (a panic after a failed TDCALL, a fault at a call).
    const call = r.call ?? t.lastCall();
    if (!this.bps.onTerminal(vector, call)) {
      return { kind: 'end', message: r.message, exitCode: 1, category: 'stderr' };
    }
    const name = vector !== undefined ? `${VECTOR_TEXT[vector] ?? `vector ${vector}`}${r.errorCode !== undefined ? `(${r.errorCode})` : ''}` : r.reason;
    // A fault belongs to the instruction that raised it: the call only when it is the call's own.
    const own = vector === undefined || (call !== undefined && call.address === r.address);
    return this.exceptionStop({
      filter: 'unhandled', name, message: own || !call ? r.message : `${r.message} (after ${callTitle(call)} → ${callOutcome(call)})`,
      vector, errorCode: r.errorCode, injected: call?.injected ?? false, call: own ? call : undefined, after: own ? undefined : call,
      at: own ? undefined : t.session.describe(r.address),
      breakMode: 'unhandled', fixup: vector !== undefined ? { handled: false } : undefined,
    });
  }
}

function isCall(i: Insn): boolean {
  return i.mnemonic === 'call';
}

function key(ps: { file: string; line: number }[], n: number): string {
  return ps.slice(0, n).map(positionKey).join('|');
}
