// Reverse execution for a Session: periodic checkpoints (every `interval` instructions, taken
// while the program runs forward through Session.recorder) plus deterministic replay from the
// nearest checkpoint. On top: seek to any position, step back by instruction / line / over /
// out, reverse-continue to the previous stop a caller's predicate accepts, what-if branches
// (change the fault plan or a register in the past and run on; the old branch is kept).

import { addrToBig } from '../cpu/cpu';
import type { Session, SessionStop, RunRecorder } from '../session/session';
import type { FaultRule } from '../tdx/faultPlan';
import type { PlatformNote, TdxCallEvent } from '../platform/events';
import { CheckpointStore, type Checkpoint } from './checkpoint';

/** Options of a Timeline. */
export interface TimelineOptions {
  /** Bytes of history to keep (default 256 MiB); beyond it the oldest checkpoints go and history begins later. */
  memoryBudget?: number;
  /** Instructions between checkpoints (default 50,000): the most a step back replays. */
  interval?: number;
  /**
   * A key naming the source line of an address, for line stepping (default: the Image's line
   * table, `file:line`). The adapter passes its own (macro-body lines as inline frames).
   */
  lineOf?: (address: bigint) => string | undefined;
}

/** A line of execution: the launch's history, or a what-if branch forked from another. */
export interface Branch {
  readonly id: number;
  /** The branch this one left, and the position where it left it. */
  readonly parent?: number;
  readonly forkedAt: number;
  /** What changed at the fork (`faults: tdcall=status:…`, `rax = 0x1`, `edit`). */
  readonly label: string;
  /** Ascending by position; the ones before `forkedAt` are shared with the parent. */
  checkpoints: Checkpoint[];
  /** Every TDX call of this branch up to its frontier, in order (the TDX Calls view). */
  calls: TdxCallEvent[];
  notes: PlatformNote[];
  /** The furthest position executed on this branch. */
  frontier: number;
  /** The stop that ended the run at the frontier (returned, panic, …), once it happened. */
  end?: SessionStop;
}

/** Where a time-travel request landed. */
export interface TravelResult {
  position: number;
  /**
   * `step`: the step completed; `stop`: reverse-continue found a stop the predicate accepted;
   * `history-start`: history begins here (nothing older is kept, or this is the launch);
   * `frontier`: a seek past the furthest executed position was clamped.
   */
  reason: 'step' | 'stop' | 'history-start' | 'frontier';
  message: string;
  /** The event reverse-continue stopped on. */
  event?: HistoryEvent;
}

/** Something that would have stopped a forward run, found while searching history backwards. */
export interface HistoryEvent {
  /** `breakpoint`: a machine breakpoint at `address`; `watch`: a data breakpoint hit; `fault`: an exception delivered (fixed up or not); `call`: a TDX call completed or faulted; `end`: the run's final stop. */
  kind: 'breakpoint' | 'watch' | 'fault' | 'call' | 'end';
  /** The position a forward run stops at for it (the state the predicate sees). */
  position: number;
  address: bigint;
  vector?: number;
  call?: TdxCallEvent;
  stop?: SessionStop;
}

/** How to step back. */
export type ReverseStepKind =
  /** The previous instruction (a REP string instruction counts once). */
  | 'instruction'
  /** The start of the previous source line executed, entering callees from their end. */
  | 'line'
  /** The start of the previous line of this function, stepping over callees (DAP stepBack). */
  | 'over'
  /** The call instruction that entered the current function (reverse step-out). */
  | 'out';

/** The state at one position, as line stepping reads it. */
interface TracePoint { pos: number; rip: number; depth: number; rep: boolean }

const DEFAULT_BUDGET = 256 * 1024 * 1024;
const DEFAULT_INTERVAL = 50_000;
/**
 * Line stepping gives up searching further back than this many instructions. The search holds
 * one trace point per instruction (about 60 bytes): 1M keeps it near 64 MiB, beside the history
 * budget, where 4M reached 0.6–1.7 GB in a one-line loop.
 */
const MAX_TRACE = 1_000_000;

export class Timeline implements RunRecorder {
  readonly store: CheckpointStore;
  readonly memoryBudget: number;
  readonly interval: number;
  private readonly lineOf: (address: bigint) => string | undefined;
  private readonly all: Branch[] = [];
  private cur!: Branch;
  private replaying = false;

  constructor(readonly session: Session, opts: TimelineOptions = {}) {
    this.store = new CheckpointStore(session);
    this.memoryBudget = opts.memoryBudget ?? DEFAULT_BUDGET;
    this.interval = Math.max(1, opts.interval ?? DEFAULT_INTERVAL);
    this.lineOf = opts.lineOf ?? ((a) => { const l = session.lineAt(a); return l ? `${l.file}:${l.line}` : undefined; });
    this.start();
    session.recorder = this;
  }

  private start(): void {
    const s = this.session;
    const cp = this.store.capture();
    this.all.length = 0;
    this.cur = { id: 0, forkedAt: cp.position, label: 'launch', checkpoints: [cp], calls: [...s.platform.calls], notes: [...s.notes], frontier: cp.position };
    this.all.push(this.cur);
  }

  /** Stops recording (the session runs as if no timeline existed). */
  detach(): void {
    if (this.session.recorder === this) this.session.recorder = undefined;
  }

  /** Restart: the session goes back to launch and every branch is forgotten. */
  reset(): void {
    for (const b of this.all) for (const cp of b.checkpoints) if (this.owner(cp) === b) this.store.release(cp);
    this.session.reset();
    this.store.bytes = 0;
    this.start();
  }

  // ---- where we are ---------------------------------------------------------------------------

  /** The current position: instructions retired since launch. */
  get position(): number {
    return this.session.machine.instructionCount;
  }

  /** The oldest position that can be reached on the current branch. */
  get historyStart(): number {
    return this.cur.checkpoints[0].position;
  }

  /** The furthest position executed on the current branch. */
  get frontier(): number {
    return Math.max(this.cur.frontier, this.position);
  }

  get branch(): Branch {
    return this.cur;
  }

  get branches(): readonly Branch[] {
    return this.all;
  }

  /** Bytes of history held (page copies, tables), against `memoryBudget`. */
  get bytes(): number {
    return this.store.bytes;
  }

  /** The current branch's TDX calls up to its frontier; `icount` is the position just before each. */
  get calls(): readonly TdxCallEvent[] {
    this.sync();
    return this.cur.calls;
  }

  // ---- recording (Session.recorder) ---------------------------------------------------------

  room(): number {
    const pos = this.position, cps = this.cur.checkpoints;
    const i = this.indexAtOrBefore(pos);
    const due = (i >= 0 ? cps[i].position : pos) + this.interval;
    const next = i + 1 < cps.length ? cps[i + 1].position : Infinity;
    return Math.min(due, next) - pos;
  }

  checkpoint(): void {
    const pos = this.position, cps = this.cur.checkpoints;
    const i = this.indexAtOrBefore(pos);
    if (i >= 0 && cps[i].position === pos) return; // replaying through history: it is already there
    const cp = this.store.capture();
    cps.splice(i + 1, 0, cp);
    this.sync();
    this.enforceBudget();
  }

  ran(stop: SessionStop | null): void {
    this.sync();
    if (stop && isTerminal(stop) && this.position >= this.cur.frontier) this.cur.end = stop;
  }

  /** Brings the branch's frontier, calls and notes up to the present. */
  private sync(): void {
    const b = this.cur, s = this.session, pos = this.position;
    if (pos < b.frontier || this.replaying) return;
    b.frontier = pos;
    const calls = s.platform.calls, notes = s.notes;
    for (let k = b.calls.length; k < calls.length; k++) b.calls.push(calls[k]);
    for (let k = b.notes.length; k < notes.length; k++) b.notes.push(notes[k]);
  }

  private enforceBudget(): void {
    const b = this.cur;
    while (this.store.bytes > this.memoryBudget && b.checkpoints.length > 2) {
      const old = b.checkpoints.shift() as Checkpoint;
      if (!this.all.some((x) => x !== b && x.checkpoints.includes(old))) this.store.release(old);
    }
  }

  // ---- seeking ------------------------------------------------------------------------------

  /** Index of the last checkpoint at or before `pos` on the current branch (-1: none). */
  private indexAtOrBefore(pos: number): number {
    const cps = this.cur.checkpoints;
    let lo = 0, hi = cps.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cps[mid].position <= pos) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }

  /** Goes to a position of the current branch (clamped to [historyStart, frontier]). */
  seek(target: number): TravelResult {
    this.sync();
    const start = this.historyStart, end = this.frontier;
    if (target < start) { this.goto(start); return this.result('history-start', `history begins here (position ${start.toLocaleString('en-US')}; older history was dropped to stay within the ${fmtBytes(this.memoryBudget)} budget or precedes the launch)`); }
    if (target > end) { this.goto(end); return this.result('frontier', `the run has not gone further than position ${end.toLocaleString('en-US')}`); }
    this.goto(target);
    return this.result('step', `at position ${target.toLocaleString('en-US')}`);
  }

  /** Restores the nearest checkpoint (unless running on from here is shorter) and replays to `target`. */
  private goto(target: number): void {
    const pos = this.position;
    if (target === pos) return;
    const i = this.indexAtOrBefore(target);
    const cp = this.cur.checkpoints[Math.max(0, i)];
    if (!(target > pos && cp.position <= pos)) this.store.restore(cp, this.cur);
    this.replay(target);
  }

  /**
   * Runs forward to `target` without events reaching listeners, with the session's own fault
   * delivery (a debugger's fault filters do not stop a replay). `visit` sees every stop.
   */
  private replay(target: number, visit?: (stop: 'breakpoint' | 'watch' | 'end', s: SessionStop | undefined) => void): void {
    const s = this.session, m = s.machine;
    const handler = m.faultHandler;
    this.replaying = true;
    s.quiet = true;
    m.faultHandler = s.baseFaultHandler;
    try {
      while (m.instructionCount < target) {
        const r = m.run(target - m.instructionCount);
        if (r.kind === 'budget') break;
        if (r.kind === 'breakpoint') { visit?.('breakpoint', undefined); continue; }
        if (r.kind === 'watch') { visit?.('watch', undefined); continue; }
        visit?.('end', undefined);
        break; // the run ended here (the branch's end)
      }
    } finally {
      m.faultHandler = handler;
      s.quiet = false;
      this.replaying = false;
    }
    this.adoptEvents();
  }

  /** After a replay the platform made fresh event objects: use the branch's originals. */
  private adoptEvents(): void {
    const s = this.session, b = this.cur;
    const calls = s.platform.calls, notes = s.notes;
    for (let k = 0; k < calls.length && k < b.calls.length; k++) calls[k] = b.calls[k];
    for (let k = 0; k < notes.length && k < b.notes.length; k++) notes[k] = b.notes[k];
  }

  private result(reason: TravelResult['reason'], message: string, event?: HistoryEvent): TravelResult {
    return { position: this.position, reason, message, ...(event ? { event } : {}) };
  }

  // ---- stepping back ------------------------------------------------------------------------

  /** One step back (see ReverseStepKind). */
  stepBack(kind: ReverseStepKind = 'instruction'): TravelResult {
    this.sync();
    const pos = this.position;
    if (pos <= this.historyStart) return this.seek(pos - 1);
    if (kind === 'out') return this.stepOut();
    let window = kind === 'instruction' ? 8 : 256;
    for (;;) {
      const from = Math.max(this.historyStart, pos - window);
      const trace = this.trace(from, pos);
      const found = kind === 'instruction' ? prevBoundary(trace) : this.prevLine(trace, kind === 'over');
      if (found !== undefined && (found > 0 || from === this.historyStart)) {
        this.goto(trace[found].pos);
        return this.result('step', `stepped back to position ${trace[found].pos.toLocaleString('en-US')}`);
      }
      if (from === this.historyStart) {
        this.goto(from);
        return this.result('history-start', 'history begins here');
      }
      if (window >= MAX_TRACE) {
        this.goto(from);
        return this.result('step', `no earlier line within ${MAX_TRACE.toLocaleString('en-US')} instructions; stopped there`);
      }
      window *= 4;
    }
  }

  /** The states at positions from..to (inclusive), replaying one step at a time; leaves the session at `to`. */
  private trace(from: number, to: number): TracePoint[] {
    this.goto(from);
    const s = this.session, m = s.machine, c = m.cpu;
    const out: TracePoint[] = [{ pos: c.icount, rip: c.rip, depth: c.ssN, rep: c.repPending }];
    const handler = m.faultHandler;
    this.replaying = true;
    s.quiet = true;
    m.faultHandler = s.baseFaultHandler;
    try {
      while (c.icount < to) {
        const r = m.run(1);
        if (r.kind !== 'budget' && r.kind !== 'watch' && r.kind !== 'breakpoint') break;
        out.push({ pos: c.icount, rip: c.rip, depth: c.ssN, rep: c.repPending });
      }
    } finally {
      m.faultHandler = handler;
      s.quiet = false;
      this.replaying = false;
    }
    this.adoptEvents();
    return out;
  }

  /**
   * Index in `t` of the start of the previous line (or of the current line, when `t` ends in its
   * middle), or undefined when the window does not reach it. `over` skips deeper frames.
   */
  private prevLine(t: TracePoint[], over: boolean): number | undefined {
    const last = t.length - 1, d0 = t[last].depth;
    // A loop visits the same few addresses: look each up once.
    const lines = new Map<number, string | undefined>();
    const line = (i: number) => {
      const rip = t[i].rip;
      if (!lines.has(rip)) lines.set(rip, this.lineOf(addrToBig(rip)));
      return lines.get(rip);
    };
    const considered = (i: number) => !t[i].rep && (!over || t[i].depth <= d0) && line(i) !== undefined;
    const key = (i: number) => `${line(i)}@${t[i].depth}`;
    let prev = last - 1;
    while (prev >= 0 && !considered(prev)) prev--;
    if (prev < 0) return undefined;
    const k = key(prev);
    let startIdx = prev;
    for (let i = prev - 1; i >= 0; i--) {
      if (!considered(i)) continue;
      if (key(i) !== k) return startIdx;
      startIdx = i;
    }
    return t[0].pos === this.historyStart ? startIdx : undefined;
  }

  /** Reverse step-out: back to the call instruction that entered the current frame. */
  private stepOut(): TravelResult {
    const m = this.session.machine, c = m.cpu, d0 = c.ssN;
    if (d0 === 0 || d0 > c.ssRet.length) {
      this.goto(this.historyStart);
      return this.result('history-start', d0 === 0 ? 'the entry function was called from outside the program: history begins at its start' : 'history begins here');
    }
    const entry = addrToBig(c.ssTarget[d0 - 1]), sp = c.ssSp[d0 - 1];
    // The last time the callee's first instruction ran at this depth and stack is this frame's entry.
    const ev = this.findLast([entry], (e) => e.kind === 'breakpoint' && e.address === entry && c.ssN === d0 && c.ssSp[d0 - 1] === sp, false);
    if (!ev) { this.goto(this.historyStart); return this.result('history-start', 'history begins here (the call that entered this function is older)'); }
    this.goto(ev.position - 1);
    return this.result('step', `stepped back out to the call at position ${(ev.position - 1).toLocaleString('en-US')}`);
  }

  // ---- reverse continue ---------------------------------------------------------------------

  /**
   * Runs backwards to the last position before the current one where a forward run would have
   * stopped and `isStop` agrees: machine breakpoints and data breakpoints (the ones set on the
   * machine now), exceptions (`fault`, at the faulting instruction), TDX calls (`call`, after
   * the call or at its fault), and the run's end. Default predicate: breakpoints and watches.
   * The predicate runs with the session in the event's state (conditions can read registers).
   */
  reverseContinue(isStop: (e: HistoryEvent) => boolean = (e) => e.kind === 'breakpoint' || e.kind === 'watch'): TravelResult {
    this.sync();
    const ev = this.findLast([], isStop);
    if (!ev) { this.goto(this.historyStart); return this.result('history-start', 'history begins here: no earlier stop'); }
    this.goto(ev.position);
    return this.result('stop', `reverse-continued to ${ev.kind} at position ${ev.position.toLocaleString('en-US')}`, ev);
  }

  /**
   * Searches history backwards, checkpoint interval by interval, for the last event before the
   * present that `accept` takes. `extra` are temporary breakpoints; with `calls`, every TDX call
   * site is stepped so its event can be judged. Leaves the session anywhere.
   */
  private findLast(extra: bigint[], accept: (e: HistoryEvent) => boolean, calls = true): HistoryEvent | undefined {
    const m = this.session.machine, pos = this.position;
    const cps = this.cur.checkpoints;
    const sites = new Set(calls ? this.cur.calls.filter((cl) => cl.icount < pos).map((cl) => cl.address) : []);
    const temp = new Set(extra);
    const added = [...new Set([...extra, ...sites])].filter((a) => !m.hasBreakpoint(a));
    for (const a of added) m.addBreakpoint(a);
    // A breakpoint that was set before the search is the user's.
    const user = (a: bigint) => m.hasBreakpoint(a) && !added.includes(a);
    try {
      for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
        const to = Math.min(pos, i + 1 < cps.length ? cps[i + 1].position : pos);
        const found = this.scan(cps[i], to, pos, accept, temp, sites, user);
        if (found) return found;
      }
      return undefined;
    } finally {
      for (const a of added) m.removeBreakpoint(a);
    }
  }

  /** Replays [cp, to) reporting the events before `limit`; the last accepted one wins. */
  private scan(cp: Checkpoint, to: number, limit: number, accept: (e: HistoryEvent) => boolean,
    temp: Set<bigint>, sites: Set<bigint>, user: (a: bigint) => boolean): HistoryEvent | undefined {
    const s = this.session, m = s.machine, c = m.cpu;
    this.store.restore(cp, this.cur);
    let best: HistoryEvent | undefined;
    const consider = (e: HistoryEvent) => { if (e.position < limit && accept(e)) best = e; };
    const handler = m.faultHandler, base = s.baseFaultHandler;
    this.replaying = true;
    s.quiet = true;
    m.faultHandler = (f, insn) => {
      if (insn) consider({ kind: 'fault', position: c.icount, address: addrToBig(insn.addr), vector: f.vector, call: this.callAt(c.icount, addrToBig(insn.addr)) });
      return base ? base(f, insn) : false;
    };
    try {
      // Machine.run skips a breakpoint on its first instruction: the interval's start is checked here.
      let first = true;
      while (c.icount < to) {
        const rip = addrToBig(c.rip);
        const r = first && !c.repPending && m.hasBreakpoint(rip) ? { kind: 'breakpoint' as const, address: rip } : m.run(to - c.icount);
        first = false;
        if (r.kind === 'budget') break;
        const at = r.address;
        if (r.kind === 'breakpoint') {
          if (temp.has(at) || user(at)) consider({ kind: 'breakpoint', position: c.icount, address: at });
          if (!sites.has(at)) continue;
          // Step the call so its event exists: a forward run judges it after the call.
          const before = s.platform.calls.length;
          const r2 = m.run(1);
          const call = s.platform.calls.length > before ? s.platform.calls[s.platform.calls.length - 1] : undefined;
          if (call && !call.fault) consider({ kind: 'call', position: c.icount, address: at, call });
          if (r2.kind === 'budget' || r2.kind === 'watch' || r2.kind === 'breakpoint') continue;
          consider({ kind: 'end', position: c.icount, address: r2.address, stop: this.cur.end });
          break;
        }
        if (r.kind === 'watch') { consider({ kind: 'watch', position: c.icount, address: at }); continue; }
        consider({ kind: 'end', position: c.icount, address: at, stop: this.cur.end });
        break;
      }
    } finally {
      m.faultHandler = handler;
      s.quiet = false;
      this.replaying = false;
    }
    return best;
  }

  /** The call event recorded at a position and address (a faulting call is recorded before delivery). */
  private callAt(position: number, address: bigint): TdxCallEvent | undefined {
    const calls = this.session.platform.calls;
    const last = calls[calls.length - 1];
    return last && last.icount === position && last.address === address ? last : undefined;
  }

  // ---- what-if branches ---------------------------------------------------------------------

  /**
   * The program state was changed here by the debugger (a register, memory, the fault plan):
   * history ahead no longer follows. In the past this forks a new branch (the old one is kept);
   * at the frontier it only pins a checkpoint so replays include the change.
   */
  edited(label = 'edit'): Branch {
    this.sync();
    const pos = this.position, b = this.cur;
    const cp = this.store.capture();
    if (pos >= b.frontier && !b.end) {
      const i = this.indexAtOrBefore(pos);
      if (i >= 0 && b.checkpoints[i].position === pos) {
        if (this.owner(b.checkpoints[i]) === b) this.store.release(b.checkpoints[i]);
        b.checkpoints[i] = cp;
      } else b.checkpoints.splice(i + 1, 0, cp);
      return b;
    }
    const keep = b.checkpoints.filter((x) => x.position < pos);
    const s = this.session;
    const nb: Branch = {
      id: this.all.length, parent: b.id, forkedAt: pos, label, checkpoints: [...keep, cp],
      calls: s.platform.calls.slice(), notes: s.notes.slice(), frontier: pos,
    };
    this.all.push(nb);
    this.cur = nb;
    this.enforceBudget();
    return nb;
  }

  /**
   * What-if: from the current position (after a seek), change the fault plan and/or registers
   * and continue on a new branch. The adapter then runs forward as usual (session.run/step).
   */
  whatIf(change: { faults?: readonly FaultRule[]; registers?: Record<string, bigint> }, label?: string): Branch {
    const s = this.session;
    const parts: string[] = [];
    if (change.faults) { s.platform.setFaults(change.faults); parts.push(`faults: ${change.faults.map((r) => r.text).join(', ') || 'none'}`); }
    for (const [reg, v] of Object.entries(change.registers ?? {})) { s.machine.setReg(reg, v); parts.push(`${reg} = 0x${BigInt.asUintN(64, v).toString(16)}`); }
    return this.edited(label ?? (parts.join('; ') || 'edit'));
  }

  /** Switches to another branch, at `position` (default: that branch's frontier). */
  switchBranch(id: number, position?: number): TravelResult {
    const b = this.all.find((x) => x.id === id);
    if (!b) throw new Error(`no branch ${id} (branches: ${this.all.map((x) => x.id).join(', ')})`);
    this.sync();
    this.cur = b;
    const target = Math.min(Math.max(position ?? b.frontier, b.checkpoints[0].position), b.frontier);
    const i = this.indexAtOrBefore(target);
    this.store.restore(b.checkpoints[Math.max(0, i)], b);
    this.replay(target);
    return this.result('step', `on branch ${b.id} (${b.label}) at position ${target.toLocaleString('en-US')}`);
  }

  /** "Go to call": the state just before the call with this sequence number ran. */
  goToCall(seq: number): TravelResult {
    const call = this.calls.find((c) => c.seq === seq);
    if (!call) throw new Error(`no TDX call #${seq} on this branch (it has ${this.cur.calls.length})`);
    return this.seek(call.icount);
  }

  /** The branch that took a checkpoint (the first that holds it). */
  private owner(cp: Checkpoint): Branch | undefined {
    return this.all.find((b) => b.checkpoints.includes(cp));
  }
}

/** Index of the last instruction boundary before the end of `t` (a REP in progress is not one). */
function prevBoundary(t: TracePoint[]): number | undefined {
  for (let i = t.length - 2; i >= 0; i--) if (!t[i].rep) return i;
  return undefined;
}

function isTerminal(s: SessionStop): boolean {
  return !['breakpoint', 'watch', 'budget'].includes(s.reason);
}

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MiB` : `${Math.round(n / 1024)} KiB`;
}
