// Reverse execution for the adapter: binds the emulator's Timeline (checkpoints + replay) to
// DAP. Turns stepBack / reverseContinue / the custom reverse steps, what-if branches and "go to
// call" into stops reported like forward ones (same reasons, same breakpoint and exception
// decisions, judged in the state of the historic position), and keeps the run controller and
// the breakpoints' hit counts consistent with the position after every jump.
//
// Every travel runs as the emulator's operation in slices of about SLICE_MS, like a forward run:
// between slices the event loop serves other requests, `pause` (or `cancel`) stops it at a
// position it has proven, disconnect abandons it, and a search over more than PROGRESS_SPAN
// instructions reports DAP progress.

import type { FaultRule } from '../emulator/tdx/faultPlan';
import { Timeline, type Branch, type HistoryEvent, type TravelOp, type TravelResult } from '../emulator/timetravel/timeline';
import { DEFAULT_HISTORY_BUDGET_MB } from '../emulator/session/config';
import { callTitle, callOutcome } from '../emulator/platform/format';
import type { Breakpoints } from './breakpoints';
import { hex } from './format';
import type { Outcome, Runner, StopInfo } from './runControl';
import { positionKey, type Target } from './target';
import type { BranchRecord } from './protocol';

/** How a reverse step moves (DAP stepBack is `over`, or `instruction` at instruction granularity). */
export type ReverseStep = 'instruction' | 'over' | 'line' | 'out';

const VECTOR_TEXT: Record<number, string> = { 6: '#UD', 13: '#GP', 14: '#PF' };
/** A slice of travel aims at this many milliseconds (as forward runs do), so pause is answered within it. */
const SLICE_MS = 8;
/**
 * Instructions between the checkpoints a forward run takes: at least MIN_INTERVAL, and
 * PER_PAGE_INTERVAL per mapped page. A checkpoint visits every mapped page (a C program maps
 * thousands) and copies the written ones, about a microsecond a page: with 2,343 pages, one every
 * 50,000 instructions doubled the CPU time of a 10M-instruction continue in C; at 100
 * instructions a page it costs a few percent. A step back replays at most one interval.
 */
const MIN_INTERVAL = 50_000, PER_PAGE_INTERVAL = 100;
/** Operations spanning more instructions than this report progress. */
export const PROGRESS_SPAN = 1_000_000;

/** Where a long travel reports its progress (DAP progress events, when the client shows them). */
export interface ProgressSink {
  start(title: string): void;
  update(percentage: number, message: string): void;
  end(message: string): void;
}

/** A branch as `tdx/branches` returns it (one definition: the protocol's). */
export type BranchInfo = BranchRecord;

export class TimeTravel {
  readonly timeline: Timeline;

  /** Set by the session: where long travels report progress. */
  progress?: ProgressSink;

  constructor(private readonly target: Target, private readonly bps: Breakpoints, private readonly runner: Runner) {
    const mb = target.session.config.historyBudgetMb ?? DEFAULT_HISTORY_BUDGET_MB;
    this.timeline = new Timeline(target.session, {
      memoryBudget: Math.max(1, Math.round(mb * 1024 * 1024)),
      interval: Math.max(MIN_INTERVAL, PER_PAGE_INTERVAL * target.session.mappedPages),
      // Line steps back compare the line in the function (macro bodies step as one line).
      lineOf: (a) => { const p = target.positions(a)[0]; return p ? positionKey(p) : undefined; },
    });
  }

  get position(): number {
    return this.timeline.position;
  }

  // ---- stepping back ------------------------------------------------------------------------

  /** stepBack (`over`/`instruction`), tdx/reverseStepIn (`line`), tdx/reverseStepOut (`out`). */
  async step(kind: ReverseStep): Promise<Outcome> {
    const r = await this.drive(this.timeline.stepBackOp(kind), kind === 'out' ? 'Reverse step out' : 'Step back');
    if (!r) return ABANDONED;
    this.landed();
    return this.travelStop(r, 'Stepped back');
  }

  // ---- reverse continue ---------------------------------------------------------------------

  /**
   * Back to the last position before now where a forward run would have stopped: breakpoints
   * (conditions and hit counts as forward), data breakpoints, exception filters before a fixup,
   * call filters after a call. The decision is made in the state of that position.
   */
  async reverseContinue(): Promise<Outcome> {
    const r = await this.drive(this.timeline.reverseContinueOp((e) => this.judge(e) !== undefined), 'Reverse continue');
    if (!r) return ABANDONED;
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

  async switchBranch(id: number, position?: number): Promise<Outcome> {
    const r = await this.drive(this.timeline.switchBranchOp(id, position), `Switch to branch ${id}`);
    if (!r) return ABANDONED;
    this.bps.onBranch(id);
    this.runner.travelled();
    return this.travelStop(r, `Branch ${id}`);
  }

  /** "Go to call": just before the call with this sequence number ran. */
  async goToCall(seq: number): Promise<Outcome> {
    const call = this.timeline.calls.at(seq - 1);
    const r = await this.drive(this.timeline.goToCallOp(seq), `Go to call #${seq}`);
    if (!r) return ABANDONED;
    this.landed();
    if (r.reason !== 'step' || !call) return this.travelStop(r, 'Went to call');
    return { kind: 'stop', stop: { reason: 'goto', description: `Before call #${seq}: ${callTitle(call)}`, text: r.message } };
  }

  /**
   * Just before call #seq at once (for a what-if there): a seek replays at most MAX_SPACING
   * checkpoint intervals, so it is bounded like one slice of a run.
   */
  seekToCall(seq: number): void {
    this.timeline.goToCall(seq);
    this.landed();
  }

  /** Bytes of history held and the budget. */
  usage(): { bytes: number; budget: number; historyStart: number; position: number; frontier: number } {
    const tl = this.timeline;
    return { bytes: tl.bytes, budget: tl.memoryBudget, historyStart: tl.historyStart, position: tl.position, frontier: tl.frontier };
  }

  // ---- driving an operation -------------------------------------------------------------------

  /**
   * Runs an operation slice by slice, yielding to the event loop between slices; asks it to
   * stop on pause/cancel; abandons it (undefined) on disconnect, terminate or restart.
   */
  private async drive(op: TravelOp, title: string): Promise<TravelResult | undefined> {
    const runner = this.runner, tl = this.timeline;
    let shown = false, last = -1;
    try {
      let t0 = performance.now();
      let r = op.next();
      for (;;) {
        const dt = performance.now() - t0;
        if (r.done) {
          if (r.value.reason === 'paused') runner.pauseRequested = false;
          return r.value;
        }
        // Adapt the slice so one lasts about SLICE_MS on this machine.
        tl.slice = Math.max(1_000, Math.min(5_000_000, Math.round(tl.slice * (SLICE_MS / Math.max(dt, 0.5)))));
        const p = r.value;
        if (!shown && p.total >= PROGRESS_SPAN && this.progress) { this.progress.start(title); shown = true; }
        const pct = Math.floor((100 * p.done) / Math.max(1, p.total));
        if (shown && pct !== last) { last = pct; this.progress!.update(pct, `${p.phase === 'search' ? 'searched' : p.phase === 'step' ? 'stepped through' : 'replayed'} ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} instructions`); }
        await new Promise((res) => setImmediate(res));
        if (runner.aborted) { op.return(undefined as never); return undefined; }
        t0 = performance.now();
        r = op.next(runner.pauseRequested);
      }
    } finally {
      // The operation's temporary breakpoints are gone: the user's at the same addresses stay.
      this.target.reassertBreakpoints();
      if (shown) this.progress!.end(`${title}: done`);
    }
  }

  // ---- after a jump ---------------------------------------------------------------------------

  private landed(beforeFault?: number): void {
    this.runner.travelled(beforeFault);
    this.bps.onTravel();
  }

  private travelStop(r: TravelResult, verb: string): Outcome {
    const where = this.target.session.describe(this.target.rip);
    if (r.reason === 'paused') {
      return { kind: 'stop', stop: { reason: 'pause', description: `Paused at ${where}`, text: r.message } };
    }
    if (r.reason === 'history-start') {
      return { kind: 'stop', stop: { reason: 'step', description: `History begins here (${where})`, text: r.message } };
    }
    if (r.reason === 'frontier') {
      return { kind: 'stop', stop: { reason: 'step', description: `End of recorded history (${where})`, text: r.message } };
    }
    return { kind: 'stop', stop: { reason: 'step', description: `${verb} to ${where}`, text: r.message } };
  }
}

/** What an abandoned travel returns (the session has ended or restarted: nothing is reported). */
const ABANDONED: Outcome = { kind: 'end', message: '', exitCode: 0, category: 'console' };

function outcomeStop(o: Outcome): StopInfo | undefined {
  return o.kind === 'stop' ? o.stop : undefined;
}
