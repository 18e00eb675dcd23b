// One output stream written by two threads (the stdio adapter: the front thread of bridge.ts
// and the session's worker). The worker writes its responses and events to the client itself,
// so a step's answers do not wait for the front thread to wake, copy and write them; the front
// thread writes its own answers (those it gives while a launch builds). A lock in shared memory
// keeps every frame whole, one sequence counter numbers them all, and a ring tells the front
// thread which requests the worker has answered (its record of unanswered requests, which get
// errors if the worker dies). Messages the front thread must see (the launch's and restart's
// responses, the disconnect's, anything while a build runs) still travel through it; once one
// has, the worker's next messages follow it through the front thread until that one is written,
// so the client receives everything in the order the session sent it.

import { writeSync } from 'node:fs';
import { frameBytes } from './framing';

/** Slots of the answered-request ring. */
const RING = 1024;
const LOCK = 0, SEQ = 1, RING_W = 2, RING_R = 3, VIA_FRONT = 4, BUILD = 5, HEAD = 8;
/** Lock owners. */
export const FRONT = 1, WORKER = 2;
/** How long the front thread waits for a lock held by a worker being ended before taking it (ms). */
const STEAL_AFTER_MS = 50;

/** The shared state of one stdio session: created by the front thread, passed to the worker. */
export function sharedState(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEAD + RING) * 4);
}

/** The commands whose responses the front thread must see (a build ends, the session ends). */
const VIA_FRONT_COMMANDS = new Set(['launch', 'restart', 'disconnect']);

export class SharedOut {
  private readonly s: Int32Array;

  constructor(private readonly fd: number, buffer: SharedArrayBuffer, private readonly me: typeof FRONT | typeof WORKER) {
    this.s = new Int32Array(buffer);
  }

  /**
   * Writes a message as one frame, numbered from the shared counter; a response the worker
   * writes goes into the ring. False when the stream is gone (the client left). `steal`: whether
   * a lock held by the other thread may be taken (the worker is being ended).
   */
  write(m: { seq: number; type: string; request_seq?: number }, steal?: () => boolean): boolean {
    this.lock(steal);
    try {
      if (this.me === WORKER && m.type === 'response') {
        this.s[HEAD + (this.s[RING_W] % RING)] = m.request_seq ?? 0;
        // Published before the frame: a client that answers at once finds the ring up to date.
        Atomics.add(this.s, RING_W, 1);
      }
      m.seq = Atomics.add(this.s, SEQ, 1) + 1;
      return writeAll(this.fd, frameBytes(m));
    } finally {
      this.unlock();
    }
  }

  /**
   * The worker: whether `m` goes through the front thread (a response the front must see, a
   * message while a build runs, one behind a message still on its way through the front thread,
   * or a response that does not fit in the ring). When true, the caller posts it.
   */
  viaFront(m: { type: string; command?: string }): boolean {
    if (Atomics.load(this.s, VIA_FRONT) > 0 || Atomics.load(this.s, BUILD) !== 0) return this.posted();
    if (m.type === 'response' && (VIA_FRONT_COMMANDS.has(m.command ?? '') || Atomics.load(this.s, RING_W) - Atomics.load(this.s, RING_R) >= RING)) return this.posted();
    return false;
  }

  private posted(): true {
    Atomics.add(this.s, VIA_FRONT, 1);
    return true;
  }

  /** The front thread: a message the worker posted has been written. */
  frontWrote(): void {
    Atomics.sub(this.s, VIA_FRONT, 1);
  }

  /** The front thread: a build runs (its request's seq) or none (0). */
  setBuild(seq: number): void {
    Atomics.store(this.s, BUILD, seq);
  }

  /** The front thread: the requests the worker answered since the last call. */
  drain(): number[] {
    const w = Atomics.load(this.s, RING_W);
    const out: number[] = [];
    for (let r = this.s[RING_R]; r < w; r++) out.push(this.s[HEAD + (r % RING)]);
    Atomics.store(this.s, RING_R, w);
    return out;
  }

  private lock(steal?: () => boolean): void {
    let waited = 0;
    for (;;) {
      const held = Atomics.compareExchange(this.s, LOCK, 0, this.me);
      if (held === 0) return;
      // A worker ended mid-write never unlocks: the front thread takes the lock after a while.
      if (steal && held !== this.me && waited >= STEAL_AFTER_MS && steal()) { Atomics.store(this.s, LOCK, this.me); return; }
      Atomics.wait(this.s, LOCK, held, 1);
      waited++;
    }
  }

  private unlock(): void {
    Atomics.store(this.s, LOCK, 0);
    Atomics.notify(this.s, LOCK, 1);
  }
}

/** Waited on for a millisecond while a non-blocking pipe is full. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `buf` to `fd` (a full non-blocking pipe is waited on); false when the reader is gone. */
function writeAll(fd: number, buf: Buffer): boolean {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(PAUSE, 0, 0, 1); continue; }
      if (code === 'EINTR') continue;
      return false;
    }
  }
  return true;
}
