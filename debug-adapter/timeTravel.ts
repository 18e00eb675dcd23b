// Reverse execution for the adapter: binds the emulator's Timeline (checkpoints + replay) to
// DAP. Turns stepBack / reverseContinue / the custom reverse steps, what-if branches and "go to
// call" into stops reported like forward ones (same reasons, same breakpoint and exception
// decisions, judged in the state of the historic position), and keeps the run controller and
// the breakpoints' hit counts consistent with the position after every jump.

import type { FaultRule } from '../emulator/tdx/faultPlan';
import { Timeline, type Branch, type HistoryEvent, type TravelResult } from '../emulator/timetravel/timeline';
import { DEFAULT_HISTORY_BUDGET_MB } from '../emulator/session/config';
import { callTitle, callOutcome } from '../emulator/platform/format';
import type { Breakpoints } from './breakpoints';
import { hex } from './format';
import type { Outcome, Runner, StopInfo } from './runControl';
import { positionKey, type Target } from './target';

/** How a reverse step moves (DAP stepBack is `over`, or `instruction` at instruction granularity). */
export type ReverseStep = 'instruction' | 'over' | 'line' | 'out';

const VECTOR_TEXT: Record<number, string> = { 6: '#UD', 13: '#GP', 14: '#PF' };

/** A branch as `tdx/branches` returns it. */
export interface BranchInfo {
  id: number;
  parent?: number;
  label: string;
  forkedAt: number;
  frontier: number;
  calls: number;
  current: boolean;
  /** How the branch's run ended (`returned 0x0`, a panic), once it did. */
  end?: string;
}

export class TimeTravel {
  readonly timeline: Timeline;

  constructor(private readonly target: Target, private readonly bps: Breakpoints, private readonly runner: Runner) {
    const mb = target.session.config.historyBudgetMb ?? DEFAULT_HISTORY_BUDGET_MB;
    this.timeline = new Timeline(target.session, {
      memoryBudget: Math.max(1, Math.round(mb * 1024 * 1024)),
      // Line steps back compare the line in the function (macro bodies step as one line).
      lineOf: (a) => { const p = target.positions(a)[0]; return p ? positionKey(p) : undefined; },
    });
  }

  get position(): number {
    return this.timeline.position;
  }

  // ---- stepping back ------------------------------------------------------------------------

  /** stepBack (`over`/`instruction`), tdx/reverseStepIn (`line`), tdx/reverseStepOut (`out`). */
  step(kind: ReverseStep): Outcome {
    const r = this.timeline.stepBack(kind);
    this.landed();
    return this.travelStop(r, 'Stepped back');
  }

  // ---- reverse continue ---------------------------------------------------------------------

  /**
   * Back to the last position before now where a forward run would have stopped: breakpoints
   * (conditions and hit counts as forward), data breakpoints, exception filters before a fixup,
   * call filters after a call. The decision is made in the state of that position.
   */
  reverseContinue(): Outcome {
    const r = this.timeline.reverseContinue((e) => this.judge(e) !== undefined);
    this.landed(r.event?.kind === 'fault' ? r.position : undefined);
    if (r.reason !== 'stop' || !r.event) return this.travelStop(r, 'Reverse-continued');
    const stop = this.judge(r.event);
    if (!stop) return this.travelStop({ ...r, reason: 'step' }, 'Reverse-continued');
    return { kind: 'stop', stop: { ...stop, description: `${stop.description} (reverse)`, text: [stop.text, r.message].filter(Boolean).join('\n') } };
  }

  /** What a forward run would have reported at this history event (undefined: it would have gone on). */
  private judge(e: HistoryEvent): StopInfo | undefined {
    const t = this.target, bps = this.bps, runner = this.runner;
    switch (e.kind) {
      case 'breakpoint': {
        const hit = bps.reverseAt(e.address);
        return hit ? outcomeStop(runner.breakpointStop(hit)) : undefined;
      }
      case 'watch': {
        const hit = bps.reverseWatch();
        return hit ? { reason: 'data breakpoint', description: `Data breakpoint (${hit.label})`, hitBreakpointIds: hit.ids } : undefined;
      }
      case 'fault': {
        // Faults without an exception-table entry end the run: they are never behind us.
        if (e.vector === undefined || !t.session.extable.has(e.address)) return undefined;
        const filter = bps.onFault(e.vector, e.call);
        if (!filter) return undefined;
        const name = e.call?.fault ?? VECTOR_TEXT[e.vector] ?? `vector ${e.vector}`;
        const entry = t.session.image.exTable.find((x) => x.insn === e.address);
        return outcomeStop(runner.exceptionStop({
          filter, name, vector: e.vector, injected: e.call?.injected ?? false, call: e.call, breakMode: 'always',
          fixup: { handled: true, to: entry?.fixup },
          message: `${name} at ${t.session.describe(e.address)}${e.call?.injected ? ` (injected by '${e.call.rule}')` : ''} — the exception table will resume at ${entry ? t.session.describe(entry.fixup) : 'its fixup'}`,
        }));
      }
      case 'call': {
        const ev = e.call;
        const filter = ev ? bps.afterCall(ev) : undefined;
        if (!ev || !filter) return undefined;
        return outcomeStop(runner.exceptionStop({
          filter, name: ev.fault ?? (filter === 'tdx-error-status' ? `status ${ev.statusName ?? hex(ev.status ?? 0n)}` : 'injected'),
          message: `${callTitle(ev)} → ${callOutcome(ev)}`, injected: ev.injected, call: ev, breakMode: 'always',
        }));
      }
      case 'end': return undefined;
    }
  }

  // ---- branches and calls ---------------------------------------------------------------------

  /**
   * The program state was changed by the debugger (register, memory, RIP, fault plan): history
   * ahead no longer follows. In the past this forks a branch; the old one is kept.
   */
  edited(label: string): Branch {
    const before = this.timeline.branch.id;
    const b = this.timeline.edited(label);
    if (b.id !== before) this.bps.onBranch(b.id, { parent: before, at: b.forkedAt });
    return b;
  }

  /**
   * What-if: change the fault plan and/or registers here and go on on a new branch. `faults`
   * are added to the plan in force (counted from here), or replace it with `replaceFaults`.
   */
  whatIf(change: { faults?: FaultRule[]; replaceFaults?: boolean; registers?: Record<string, bigint>; label?: string }): Branch {
    const s = this.target.session, tl = this.timeline;
    const before = tl.branch.id;
    let b: Branch;
    if (change.replaceFaults) {
      b = tl.whatIf({ faults: change.faults ?? [], registers: change.registers }, change.label);
    } else {
      const parts: string[] = [];
      for (const r of change.faults ?? []) { s.injectFault(r); parts.push(`fault ${r.text}`); }
      for (const [reg, v] of Object.entries(change.registers ?? {})) { s.machine.setReg(reg, v); parts.push(`${reg} = ${hex(v)}`); }
      b = tl.edited(change.label ?? (parts.join('; ') || 'edit'));
    }
    if (b.id !== before) this.bps.onBranch(b.id, { parent: before, at: b.forkedAt });
    this.runner.travelled();
    return b;
  }

  branches(): BranchInfo[] {
    const tl = this.timeline, cur = tl.branch.id;
    return tl.branches.map((b) => ({
      id: b.id, parent: b.parent, label: b.label, forkedAt: b.forkedAt, frontier: b.id === cur ? tl.frontier : b.frontier,
      calls: b.calls.length, current: b.id === cur, end: b.end?.message,
    }));
  }

  switchBranch(id: number, position?: number): Outcome {
    const r = this.timeline.switchBranch(id, position);
    this.bps.onBranch(id);
    this.runner.travelled();
    return this.travelStop(r, `Branch ${id}`);
  }

  /** "Go to call": just before the call with this sequence number ran. */
  goToCall(seq: number): Outcome {
    const call = this.timeline.calls.find((c) => c.seq === seq);
    const r = this.timeline.goToCall(seq);
    this.landed();
    if (r.reason !== 'step' || !call) return this.travelStop(r, 'Went to call');
    return { kind: 'stop', stop: { reason: 'goto', description: `Before call #${seq}: ${callTitle(call)}`, text: r.message } };
  }

  /** Bytes of history held and the budget. */
  usage(): { bytes: number; budget: number; historyStart: number; position: number; frontier: number } {
    const tl = this.timeline;
    return { bytes: tl.bytes, budget: tl.memoryBudget, historyStart: tl.historyStart, position: tl.position, frontier: tl.frontier };
  }

  // ---- after a jump ---------------------------------------------------------------------------

  private landed(beforeFault?: number): void {
    this.runner.travelled(beforeFault);
    this.bps.onTravel();
  }

  private travelStop(r: TravelResult, verb: string): Outcome {
    const where = this.target.session.describe(this.target.rip);
    if (r.reason === 'history-start') {
      return { kind: 'stop', stop: { reason: 'step', description: `History begins here (${where})`, text: r.message } };
    }
    if (r.reason === 'frontier') {
      return { kind: 'stop', stop: { reason: 'step', description: `End of recorded history (${where})`, text: r.message } };
    }
    return { kind: 'stop', stop: { reason: 'step', description: `${verb} to ${where}`, text: r.message } };
  }
}

function outcomeStop(o: Outcome): StopInfo | undefined {
  return o.kind === 'stop' ? o.stop : undefined;
}
