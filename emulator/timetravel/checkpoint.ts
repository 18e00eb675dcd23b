// Checkpoints of a Session's complete state, for reverse execution and the fault matrix: the
// processor (Machine.captureCpu), memory as shared immutable page copies (a page is copied only
// when its bytes differ from the last checkpoint's copy: a memcmp per page, nothing in the hot
// path), and the platform (TDX module, VMM, fault rules and counters, call and note counts).
// Restoring writes back only the pages that differ, so decoded code and its links survive.

import { Page } from '../memory/memory';
import type { CpuState } from '../machine';
import type { Session } from '../session/session';
import type { FaultRule } from '../tdx/faultPlan';
import type { PlatformNote, TdxCallEvent } from '../platform/events';
import type { RecentLog } from '../platform/recentLog';

/** One page as a checkpoint holds it; shared by every later checkpoint in which it is unchanged. */
export interface PageCopy {
  readonly data: Uint8Array;
  readonly perms: number;
  readonly region: string;
  /** Checkpoints whose table holds this copy (it is freed when the last one goes). */
  refs: number;
}

/** The complete state of a Session at one position (instruction count). */
export interface Checkpoint {
  /** Machine instruction count: the number of steps retired since launch. */
  readonly position: number;
  readonly cpu: CpuState;
  /** Page number → copy; every mapped page is present. */
  readonly pages: ReadonlyMap<number, PageCopy>;
  /** Session.platformSnapshot(): module, VMM, injector counters, platform state. */
  readonly platform: ReturnType<Session['platformSnapshot']>;
  /** The fault plan in force (what-if branches change it). */
  readonly rules: readonly FaultRule[];
  /** Lengths of the platform's call list and the session's notes at this position. */
  readonly callsLen: number;
  readonly notesLen: number;
  /** Bytes this checkpoint added (new page copies and its own tables), for the memory budget. */
  readonly bytes: number;
}

/** Estimated bytes of a page copy and of one table entry (data, object and map overhead). */
const PAGE_COST = 4096 + 96, ENTRY_COST = 48, FIXED_COST = 2048;

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Takes and restores checkpoints of one Session. */
export class CheckpointStore {
  /** The table the machine's pages were last made equal to (the base for copy-on-difference). */
  private ref: ReadonlyMap<number, PageCopy> = new Map();
  /** Bytes held by live page copies and checkpoint tables. */
  bytes = 0;

  constructor(readonly session: Session) {}

  /** A checkpoint of the current state. */
  capture(): Checkpoint {
    const s = this.session, m = s.machine;
    const pages = new Map<number, PageCopy>();
    let added = FIXED_COST + ENTRY_COST * m.mem.pages.size;
    for (const [k, p] of m.mem.pages) {
      const old = this.ref.get(k);
      let copy: PageCopy;
      // A page nobody wrote since the last capture or restore still equals its copy there.
      if (old && old.perms === p.perms && old.region === p.region && (!p.dirty || same(old.data, p.data))) copy = old;
      else { copy = { data: p.data.slice(), perms: p.perms, region: p.region, refs: 0 }; added += PAGE_COST; }
      copy.refs++;
      pages.set(k, copy);
    }
    m.mem.cleanPages();
    const cpu = m.captureCpu();
    added += 400 + cpu.shadow[0].length * 24;
    this.ref = pages;
    this.bytes += added;
    return {
      position: m.instructionCount, cpu, pages, platform: s.platformSnapshot(), rules: s.platform.injector.rules,
      callsLen: s.platform.calls.length, notesLen: s.notes.length, bytes: added,
    };
  }

  /**
   * Puts the session back in the checkpoint's state. Calls and notes are truncated to the
   * checkpoint's counts, or rebuilt from `history` (a branch's own lists) when it is given.
   */
  restore(cp: Checkpoint, history?: { calls: RecentLog<TdxCallEvent>; notes: RecentLog<PlatformNote> }): void {
    const s = this.session, m = s.machine, mem = m.mem;
    let structural = false, created = false;
    for (const [k, copy] of cp.pages) {
      let page = mem.pages.get(k);
      if (!page) {
        page = new Page(copy.perms, copy.region);
        page.data.set(copy.data);
        mem.pages.set(k, page);
        structural = created = true;
        continue;
      }
      if (page.perms !== copy.perms) { page.perms = copy.perms; structural = true; }
      page.region = copy.region;
      if (!same(page.data, copy.data)) {
        page.data.set(copy.data);
        if (page.code !== null) {
          // Decoded instructions of this page (and one straddling in from the page before) are stale.
          page.code = null;
          const prev = mem.pages.get(k - 1);
          if (prev) prev.code = null;
          structural = true;
        }
      }
    }
    if (mem.pages.size !== cp.pages.size) {
      for (const k of [...mem.pages.keys()]) if (!cp.pages.has(k)) { mem.pages.delete(k); structural = true; }
    }
    if (created && mem.watches.length) {
      const ws = [...mem.watches];
      mem.clearWatches();
      for (const w of ws) mem.addWatch(w);
    }
    if (structural) m.memoryChanged();
    m.restoreCpu(cp.cpu);
    this.ref = cp.pages;

    const p = s.platform;
    if (p.injector.rules !== cp.rules) p.setFaults(cp.rules);
    s.restorePlatform(cp.platform);
    copyPrefix(p.calls, history?.calls, cp.callsLen);
    copyPrefix(s.notes, history?.notes, cp.notesLen);
  }

  /** Drops a checkpoint: page copies no other checkpoint holds are freed from the budget. */
  release(cp: Checkpoint): void {
    let freed = FIXED_COST + ENTRY_COST * cp.pages.size + 400 + cp.cpu.shadow[0].length * 24;
    for (const copy of cp.pages.values()) if (--copy.refs === 0) freed += PAGE_COST;
    this.bytes -= freed;
  }
}

/** Makes `list` the first `n` entries of `source` (or of itself when no source is given). */
function copyPrefix<T>(list: RecentLog<T>, source: RecentLog<T> | undefined, n: number): void {
  if (!source || source === list) list.truncate(n);
  else list.copyFrom(source, n);
}
