// Reverse execution for a Session: periodic checkpoints (every `interval` instructions, taken
// while the program runs forward through Session.recorder) plus deterministic replay from the
// nearest checkpoint. On top: seek to any position, step back by instruction / line / over /
// out, reverse-continue to the previous stop a caller's predicate accepts, what-if branches
// (change the fault plan or a register in the past and run on; the old branch is kept).
//
// Long work (a seek, a line step back, a reverse search) is an operation (`…Op`, a generator)
// that runs `slice` instructions at a time and yields its progress in between: a driver (the
// adapter) gives the event loop its turn there and asks the operation to stop (pause) by
// passing `true`; it then lands on a position it has already proven and says so. The plain
// methods run an operation to its end. History stays within `memoryBudget` by construction:
// checkpoints are thinned (at most MAX_SPACING intervals apart) and then the oldest evicted,
// on every branch; a line step back holds O(1) state, not a trace.
// Size (over 450 lines): the Timeline is one state machine (checkpoints, branches, the
// replay cursor) that every operation above reads and advances; its logic is left as is here.

import { addrToBig } from '../cpu/cpu';
import type { Session, SessionStop, RunRecorder } from '../session/session';
import type { FaultRule } from '../tdx/faultPlan';
import type { PlatformNote, TdxCallEvent } from '../platform/events';
import { CheckpointStore, type Checkpoint } from './checkpoint';
import type { RecentLog } from '../platform/recentLog';

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
  /** The TDX calls of this branch up to its frontier, in order (the TDX Calls view): the most recent in full. */
  calls: RecentLog<TdxCallEvent>;
  notes: RecentLog<PlatformNote>;
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
   * `frontier`: a seek past the furthest executed position was clamped;
   * `paused`: the driver asked the operation to stop; it landed on a position it had proven.
   */
  reason: 'step' | 'stop' | 'history-start' | 'frontier' | 'paused';
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

/** What a time-travel operation reports between slices. */
export interface TravelProgress {
  /** `seek`: replaying to a position; `step`: a step back's search; `search`: reverse-continue. */
  phase: 'seek' | 'step' | 'search';
  /** Instructions of the operation's span done so far, and the span (for a percentage). */
  done: number;
  total: number;
}

/**
 * A time-travel operation: yields progress between slices; `next(true)` asks it to stop, and it
 * returns a `paused` result from a position it has proven (never one past its target).
 */
export type TravelOp<T = TravelResult> = Generator<TravelProgress, T, boolean | undefined>;

/** Runs an operation to its end, without interruption. */
export function finish<T>(op: TravelOp<T>): T {
  let r = op.next();
  while (!r.done) r = op.next(false);
  return r.value;
}

const DEFAULT_BUDGET = 256 * 1024 * 1024;
const DEFAULT_INTERVAL = 50_000;
/**
 * Line stepping gives up searching further back than this many instructions. The search holds
 * one trace point per instruction (about 60 bytes): 1M keeps it near 64 MiB, beside the history
 * budget, where 4M reached 0.6–1.7 GB in a one-line loop.
 */
const MAX_TRACE = 1_000_000;
/**
 * Thinning keeps checkpoints at most this many intervals apart (a seek replays at most this
 * many intervals); beyond it the oldest checkpoints are evicted and history begins later.
 */
const MAX_SPACING = 4;
/** Distinct addresses whose line a step back caches (a cleared cache is only slower). */
const LINE_CACHE = 65_536;

export class Timeline implements RunRecorder {
  readonly store: CheckpointStore;
  readonly memoryBudget: number;
  readonly interval: number;
  private readonly lineOf: (address: bigint) => string | undefined;
  private readonly all: Branch[] = [];
  private cur!: Branch;
  private replaying = false;
  /** Instructions an operation runs between yields (the driver adapts it to its time slice). */
  slice = 200_000;
  private nextBranchId = 1;

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
    this.nextBranchId = 1;
    this.cur = { id: 0, forkedAt: cp.position, label: 'launch', checkpoints: [cp], calls: s.platform.calls.clone(), notes: s.notes.clone(), frontier: cp.position };
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
  get calls(): RecentLog<TdxCallEvent> {
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
    b.calls.extendFrom(s.platform.calls);
    b.notes.extendFrom(s.notes);
  }

  /**
   * Keeps the bytes of history within the budget: first thins checkpoints (every branch, oldest
   * first, never leaving two more than MAX_SPACING intervals apart), then evicts the oldest (other
   * branches first; their last checkpoint goes last), and at the end forgets other branches. The
   * floor is the current branch's newest checkpoint (one copy of the guest's memory).
   */
  private enforceBudget(): void {
    const over = () => this.store.bytes > this.memoryBudget;
    if (!over()) return;
    const others = () => this.all.filter((b) => b !== this.cur);
    for (const b of [this.cur, ...others()]) { this.thin(b, over); if (!over()) return; }
    for (const b of others()) {
      while (over() && b.checkpoints.length > 1) this.drop(b, 0);
      if (!over()) return;
    }
    const b = this.cur;
    while (over() && b.checkpoints.length > 1) this.drop(b, 0);
    for (const o of others()) {
      if (!over()) return;
      while (o.checkpoints.length) this.drop(o, 0);
      this.all.splice(this.all.indexOf(o), 1);
    }
  }

  /** Removes checkpoints of `b` (keeping its first and last) while `over()` and spacing allows. */
  private thin(b: Branch, over: () => boolean): void {
    const max = this.interval * MAX_SPACING, cps = b.checkpoints;
    let progress = true;
    while (over() && progress) {
      progress = false;
      // Every other checkpoint, oldest first: spacing doubles evenly where history is oldest.
      for (let j = 1; j + 1 < cps.length && over(); j++) {
        if (cps[j + 1].position - cps[j - 1].position > max) continue;
        this.drop(b, j);
        progress = true;
      }
    }
  }

  /** Drops checkpoint `j` of `b`; its pages are released when no other branch holds it. */
  private drop(b: Branch, j: number): void {
    const [cp] = b.checkpoints.splice(j, 1);
    if (!this.all.some((x) => x.checkpoints.includes(cp))) this.store.release(cp);
  }

  /** Why history begins where it does, for messages. */
  private historyNote(): string {
    const start = this.historyStart;
    if (start === 0) return 'this is where the program was launched';
    return `positions before ${start.toLocaleString('en-US')} were dropped to keep history within historyBudgetMb (${fmtBytes(this.memoryBudget)}); raise "historyBudgetMb" to keep more`;
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
    return finish(this.seekOp(target));
  }

  /** seek as an operation: paused, it stays where the replay got to (a position on the way). */
  *seekOp(target: number): TravelOp {
    this.sync();
    const start = this.historyStart, end = this.frontier;
    if (target < start) { this.goto(start); return this.result('history-start', `history begins here (position ${start.toLocaleString('en-US')}): ${this.historyNote()}`); }
    if (target > end) { this.goto(end); return this.result('frontier', `the run has not gone further than position ${end.toLocaleString('en-US')}`); }
    if (!(yield* this.gotoOp(target, 'seek'))) return this.result('paused', `paused at position ${this.position.toLocaleString('en-US')} on the way to ${target.toLocaleString('en-US')}`);
    return this.result('step', `at position ${target.toLocaleString('en-US')}`);
  }

  /** Goes to `target` at once (the replay is at most MAX_SPACING intervals: bounded). */
  private goto(target: number): void {
    finish(this.gotoOp(target, 'seek'));
  }

  /**
   * Restores the nearest checkpoint (unless running on from here is shorter) and replays to
   * `target` in slices; false when asked to stop on the way (the session is where it got to).
   */
  private *gotoOp(target: number, phase: TravelProgress['phase']): Generator<TravelProgress, boolean, boolean | undefined> {
    const pos = this.position;
    if (target === pos) return true;
    const i = this.indexAtOrBefore(target);
    const cp = this.cur.checkpoints[Math.max(0, i)];
    if (!(target > pos && cp.position <= pos)) this.store.restore(cp, this.cur);
    return yield* this.replayOp(target, phase);
  }

  /**
   * Runs forward to `target` without events reaching listeners, with the session's own fault
   * delivery (a debugger's fault filters do not stop a replay), `slice` instructions at a time.
   */
  private *replayOp(target: number, phase: TravelProgress['phase']): Generator<TravelProgress, boolean, boolean | undefined> {
    const s = this.session, m = s.machine;
    const from = m.instructionCount;
    for (;;) {
      let ended = false;
      this.quietly(() => {
        const r = m.run(Math.min(target - m.instructionCount, this.slice));
        // A breakpoint or watch does not stop a replay; anything else is the branch's end.
        ended = r.kind !== 'budget' && r.kind !== 'breakpoint' && r.kind !== 'watch';
      });
      if (ended || m.instructionCount >= target) return true;
      if (yield { phase, done: m.instructionCount - from, total: target - from }) return false;
    }
  }

  /** Runs `f` as a replay: no events to listeners, the session's own fault delivery. */
  private quietly<T>(f: () => T): T {
    const s = this.session, m = s.machine;
    const handler = m.faultHandler;
    this.replaying = true;
    s.quiet = true;
    m.faultHandler = s.baseFaultHandler;
    try {
      return f();
    } finally {
      m.faultHandler = handler;
      s.quiet = false;
      this.replaying = false;
      this.adoptEvents();
    }
  }

  /** After a replay the platform made fresh event objects: use the branch's originals. */
  private adoptEvents(): void {
    const s = this.session, b = this.cur;
    adopt(s.platform.calls, b.calls);
    adopt(s.notes, b.notes);
  }

  private result(reason: TravelResult['reason'], message: string, event?: HistoryEvent): TravelResult {
    return { position: this.position, reason, message, ...(event ? { event } : {}) };
  }

  // ---- stepping back ------------------------------------------------------------------------

  /** One step back (see ReverseStepKind). */
  stepBack(kind: ReverseStepKind = 'instruction'): TravelResult {
    return finish(this.stepBackOp(kind));
  }

  /**
   * stepBack as an operation. It searches windows before the present (growing fourfold), each
   * replayed one instruction at a time through a scanner holding O(1) state. Paused, it lands
   * at the start of the last window searched in full (the step's target is older), or stays.
   */
  *stepBackOp(kind: ReverseStepKind = 'instruction'): TravelOp {
    this.sync();
    const pos = this.position;
    if (pos <= this.historyStart) return this.seek(pos - 1);
    if (kind === 'out') return yield* this.stepOutOp();
    const d0 = this.session.machine.cpu.ssN;
    let window = kind === 'instruction' ? 8 : 256;
    let proven = pos;
    for (;;) {
      const from = Math.max(this.historyStart, pos - window);
      const atStart = from === this.historyStart;
      const scan = kind === 'instruction' ? new BoundaryScan() : new LineScan(this.lineOf, kind === 'over', d0);
      const complete = yield* this.traceOp(from, pos, (p) => scan.add(p));
      if (!complete) {
        this.goto(proven);
        return this.result('paused', proven === pos ? 'paused: the step back was interrupted before it moved' : `paused at position ${proven.toLocaleString('en-US')}: the step back's target is older`);
      }
      const found = scan.found(atStart);
      if (found !== undefined && (found.index > 0 || atStart)) {
        this.goto(found.pos);
        return this.result('step', `stepped back to position ${found.pos.toLocaleString('en-US')}`);
      }
      if (atStart) {
        this.goto(from);
        return this.result('history-start', `history begins here: ${this.historyNote()}`);
      }
      if (window >= MAX_TRACE) {
        this.goto(from);
        return this.result('step', `no earlier line within ${MAX_TRACE.toLocaleString('en-US')} instructions; stopped there`);
      }
      proven = from;
      window *= 4;
    }
  }

  /**
   * Replays from..to one instruction at a time and shows `visit` every state but the last (the
   * one at `to`); leaves the session at `to`. False when asked to stop on the way.
   */
  private *traceOp(from: number, to: number, visit: (p: TracePoint) => void): Generator<TravelProgress, boolean, boolean | undefined> {
    if (!(yield* this.gotoOp(from, 'step'))) return false;
    const m = this.session.machine, c = m.cpu;
    let prev: TracePoint = { pos: c.icount, rip: c.rip, depth: c.ssN, rep: c.repPending };
    for (;;) {
      let stopped = false;
      this.quietly(() => {
        for (let n = 0; n < this.slice && c.icount < to; n++) {
          const r = m.run(1);
          if (r.kind !== 'budget' && r.kind !== 'watch' && r.kind !== 'breakpoint') { stopped = true; break; }
          visit(prev);
          prev = { pos: c.icount, rip: c.rip, depth: c.ssN, rep: c.repPending };
        }
      });
      if (stopped || c.icount >= to) return true;
      if (yield { phase: 'step', done: c.icount - from, total: to - from }) return false;
    }
  }

  /** Reverse step-out: back to the call instruction that entered the current frame. */
  private *stepOutOp(): TravelOp {
    const m = this.session.machine, c = m.cpu, d0 = c.ssN;
    if (d0 === 0 || d0 > c.ssRet.length) {
      this.goto(this.historyStart);
      return this.result('history-start', d0 === 0 ? 'the entry function was called from outside the program: history begins at its start' : `history begins here: ${this.historyNote()}`);
    }
    const entry = addrToBig(c.ssTarget[d0 - 1]), sp = c.ssSp[d0 - 1];
    // The last time the callee's first instruction ran at this depth and stack is this frame's entry.
    const found = yield* this.findLastOp([entry], (e) => e.kind === 'breakpoint' && e.address === entry && c.ssN === d0 && c.ssSp[d0 - 1] === sp, false);
    if ('paused' in found) return found.paused;
    const ev = found.event;
    if (!ev) { this.goto(this.historyStart); return this.result('history-start', `history begins here (the call that entered this function is older): ${this.historyNote()}`); }
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
  reverseContinue(isStop?: (e: HistoryEvent) => boolean): TravelResult {
    return finish(this.reverseContinueOp(isStop));
  }

  /** reverseContinue as an operation; paused, it lands where the search got to (nothing stops between there and here). */
  *reverseContinueOp(isStop: (e: HistoryEvent) => boolean = (e) => e.kind === 'breakpoint' || e.kind === 'watch'): TravelOp {
    this.sync();
    const found = yield* this.findLastOp([], isStop);
    if ('paused' in found) return found.paused;
    const ev = found.event;
    if (!ev) { this.goto(this.historyStart); return this.result('history-start', `history begins here, with no earlier stop: ${this.historyNote()}`); }
    this.goto(ev.position);
    return this.result('stop', `reverse-continued to ${ev.kind} at position ${ev.position.toLocaleString('en-US')}`, ev);
  }

  /**
   * Searches history backwards, checkpoint interval by interval, for the last event before the
   * present that `accept` takes. `extra` are temporary breakpoints; with `calls`, every TDX call
   * site is stepped so its event can be judged. Leaves the session anywhere; paused, it lands on
   * the start of the last interval searched in full.
   */
  private *findLastOp(extra: bigint[], accept: (e: HistoryEvent) => boolean, calls = true): Generator<TravelProgress, { event?: HistoryEvent } | { paused: TravelResult }, boolean | undefined> {
    const m = this.session.machine, pos = this.position;
    const cps = this.cur.checkpoints;
    // Every address a call was made from on this branch (dropped calls included): a superset is harmless.
    const sites = new Set(calls ? this.cur.calls.sites() : []);
    const temp = new Set(extra);
    const added = [...new Set([...extra, ...sites])].filter((a) => !m.hasBreakpoint(a));
    for (const a of added) m.addBreakpoint(a);
    // A breakpoint that was set before the search is the user's.
    const user = (a: bigint) => m.hasBreakpoint(a) && !added.includes(a);
    const span = Math.max(1, pos - this.historyStart);
    let proven = pos, ran = 0;
    try {
      for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
        const to = Math.min(pos, i + 1 < cps.length ? cps[i + 1].position : pos);
        const scan = this.scanOp(cps[i], to, pos, accept, temp, sites, user);
        let r = scan.next();
        while (!r.done) {
          // Progress over the whole search: the intervals after this one are done.
          const stop = yield { phase: 'search', done: pos - to + r.value.done, total: span };
          if (stop) { scan.return(undefined); break; }
          r = scan.next();
        }
        if (!r.done) {
          for (const a of added) m.removeBreakpoint(a);
          added.length = 0;
          this.goto(proven);
          return { paused: this.result('paused', proven === pos ? 'paused: the reverse search was interrupted before it moved' : `paused at position ${proven.toLocaleString('en-US')}: nothing stops between here and position ${pos.toLocaleString('en-US')}`) };
        }
        if (r.value) return { event: r.value };
        proven = cps[i].position;
        // Intervals shorter than a slice: yield once a slice's worth of them is searched.
        ran += to - cps[i].position;
        if (ran >= this.slice && i > 0) {
          ran = 0;
          if (yield { phase: 'search', done: pos - proven, total: span }) {
            for (const a of added) m.removeBreakpoint(a);
            added.length = 0;
            this.goto(proven);
            return { paused: this.result('paused', `paused at position ${proven.toLocaleString('en-US')}: nothing stops between here and position ${pos.toLocaleString('en-US')}`) };
          }
        }
      }
      return {};
    } finally {
      for (const a of added) m.removeBreakpoint(a);
    }
  }

  /** Replays [cp, to) reporting the events before `limit`; the last accepted one wins. */
  private *scanOp(cp: Checkpoint, to: number, limit: number, accept: (e: HistoryEvent) => boolean,
    temp: Set<bigint>, sites: Set<bigint>, user: (a: bigint) => boolean): Generator<{ done: number }, HistoryEvent | undefined, undefined> {
    const s = this.session, m = s.machine, c = m.cpu;
    this.store.restore(cp, this.cur);
    let best: HistoryEvent | undefined;
    const consider = (e: HistoryEvent) => { if (e.position < limit && accept(e)) best = e; };
    const base = s.baseFaultHandler;
    const faults = (f: Parameters<NonNullable<typeof base>>[0], insn: Parameters<NonNullable<typeof base>>[1]) => {
      if (insn) consider({ kind: 'fault', position: c.icount, address: addrToBig(insn.addr), vector: f.vector, call: this.callAt(c.icount, addrToBig(insn.addr)) });
      return base ? base(f, insn) : false;
    };
    // Machine.run skips a breakpoint on its first instruction: each slice's start is checked here.
    let first = true, ended = false;
    while (!ended && c.icount < to) {
      const sliceEnd = Math.min(to, c.icount + this.slice);
      this.quietly(() => {
        const handler = m.faultHandler;
        m.faultHandler = faults;
        try {
          while (c.icount < sliceEnd) {
            const rip = addrToBig(c.rip);
            const r = first && !c.repPending && m.hasBreakpoint(rip) ? { kind: 'breakpoint' as const, address: rip } : m.run(sliceEnd - c.icount);
            first = false;
            if (r.kind === 'budget') break;
            const at = r.address;
            if (r.kind === 'breakpoint') {
              if (temp.has(at) || user(at)) consider({ kind: 'breakpoint', position: c.icount, address: at });
              if (!sites.has(at)) continue;
              // Step the call so its event exists: a forward run judges it after the call.
              const before = s.platform.calls.length;
              const r2 = m.run(1);
              const call = s.platform.calls.length > before ? s.platform.calls.last() : undefined;
              if (call && !call.fault) consider({ kind: 'call', position: c.icount, address: at, call });
              if (r2.kind === 'budget' || r2.kind === 'watch' || r2.kind === 'breakpoint') continue;
              consider({ kind: 'end', position: c.icount, address: r2.address, stop: this.cur.end });
              ended = true;
              break;
            }
            if (r.kind === 'watch') { consider({ kind: 'watch', position: c.icount, address: at }); continue; }
            consider({ kind: 'end', position: c.icount, address: at, stop: this.cur.end });
            ended = true;
            break;
          }
        } finally {
          m.faultHandler = handler;
        }
      });
      first = true;
      if (!ended && c.icount < to) yield { done: c.icount - cp.position };
    }
    return best;
  }

  /** The call event recorded at a position and address (a faulting call is recorded before delivery). */
  private callAt(position: number, address: bigint): TdxCallEvent | undefined {
    const last = this.session.platform.calls.last();
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
      id: this.nextBranchId++, parent: b.id, forkedAt: pos, label, checkpoints: [...keep, cp],
      calls: s.platform.calls.clone(), notes: s.notes.clone(), frontier: pos,
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
    return finish(this.switchBranchOp(id, position));
  }

  /** switchBranch as an operation; paused, it is on the new branch where the replay got to. */
  *switchBranchOp(id: number, position?: number): TravelOp {
    const b = this.all.find((x) => x.id === id);
    if (!b) throw new Error(`no branch ${id} (branches: ${this.all.map((x) => x.id).join(', ')})`);
    this.sync();
    this.cur = b;
    const target = Math.min(Math.max(position ?? b.frontier, b.checkpoints[0].position), b.frontier);
    const i = this.indexAtOrBefore(target);
    this.store.restore(b.checkpoints[Math.max(0, i)], b);
    if (!(yield* this.replayOp(target, 'seek'))) return this.result('paused', `on branch ${b.id} (${b.label}), paused at position ${this.position.toLocaleString('en-US')} on the way to ${target.toLocaleString('en-US')}`);
    return this.result('step', `on branch ${b.id} (${b.label}) at position ${target.toLocaleString('en-US')}`);
  }

  /** "Go to call": the state just before the call with this sequence number ran. */
  goToCall(seq: number): TravelResult {
    return finish(this.goToCallOp(seq));
  }

  *goToCallOp(seq: number): TravelOp {
    const calls = this.calls, call = calls.at(seq - 1);
    if (!call) throw new Error(callGoneMessage(calls, seq));
    return yield* this.seekOp(call.icount);
  }

  /** The branch that took a checkpoint (the first that holds it). */
  private owner(cp: Checkpoint): Branch | undefined {
    return this.all.find((b) => b.checkpoints.includes(cp));
  }
}

/** A step back by instruction: the last instruction boundary seen (a REP in progress is not one). */
class BoundaryScan {
  private n = 0;
  private last: { index: number; pos: number } | undefined;
  add(p: TracePoint): void {
    if (!p.rep) this.last = { index: this.n, pos: p.pos };
    this.n++;
  }
  found(): { index: number; pos: number } | undefined {
    return this.last;
  }
}

/**
 * A step back by line, over the states of a window oldest first: the start of the run of the
 * last line seen (`over`: at the present frame's depth or above; REP iterations and lines
 * without a source skipped). Undefined when that run may begin before the window.
 */
class LineScan {
  private n = 0;
  private runKey: string | undefined;
  private runStart = { index: 0, pos: 0 };
  private hadBefore = false;
  private readonly lines = new Map<number, string | undefined>();
  constructor(private readonly lineOf: (a: bigint) => string | undefined, private readonly over: boolean, private readonly d0: number) {}

  add(p: TracePoint): void {
    const i = this.n++;
    if (p.rep || (this.over && p.depth > this.d0)) return;
    // A loop visits the same few addresses: look each up once.
    let line = this.lines.get(p.rip);
    if (line === undefined && !this.lines.has(p.rip)) {
      if (this.lines.size >= LINE_CACHE) this.lines.clear();
      line = this.lineOf(addrToBig(p.rip));
      this.lines.set(p.rip, line);
    }
    if (line === undefined) return;
    const key = `${line}@${p.depth}`;
    if (key === this.runKey) return;
    this.hadBefore = this.runKey !== undefined;
    this.runKey = key;
    this.runStart = { index: i, pos: p.pos };
  }

  found(windowAtHistoryStart: boolean): { index: number; pos: number } | undefined {
    if (this.runKey === undefined) return undefined;
    return this.hadBefore || windowAtHistoryStart ? this.runStart : undefined;
  }
}

/** Why call #seq cannot be reached: never made, or no longer kept (older than the `callHistory` most recent). */
export function callGoneMessage(calls: RecentLog<TdxCallEvent>, seq: number): string {
  if (Number.isInteger(seq) && seq >= 1 && seq <= calls.dropped) {
    return `TDX call #${seq} is no longer kept: only the ${calls.limit.toLocaleString('en-US')} most recent calls are (calls #1–#${calls.dropped.toLocaleString('en-US')} were dropped and counted); raise "callHistory" to keep more`;
  }
  return `no TDX call #${seq} on this branch (it has ${calls.length.toLocaleString('en-US')})`;
}

/** Puts the branch's original event objects in place of a replay's fresh ones. */
function adopt<T>(live: RecentLog<T>, orig: RecentLog<T>): void {
  for (let k = Math.max(live.first, orig.first); k < live.length && k < orig.length; k++) live.replace(k, orig.at(k) as T);
}

function isTerminal(s: SessionStop): boolean {
  return !['breakpoint', 'watch', 'budget'].includes(s.reason);
}

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MiB` : `${Math.round(n / 1024)} KiB`;
}
