// A raw DAP peer for robustness tests: writes any bytes (well-formed frames or attacks) to an
// adapter's stdin or socket and collects the frames it answers with, so a test can ask "was
// request N answered?" whatever came before it on the wire.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { FrameReader, frame } from '../../debug-adapter/framing';

export type Msg = { type: string; seq: number; command?: string; request_seq?: number; success?: boolean; message?: string; event?: string; body?: any };

export class RawDap {
  readonly messages: Msg[] = [];
  private seq = 1;
  closed = false;
  private readonly reader = new FrameReader((m) => this.messages.push(m as unknown as Msg), () => { /* the adapter's own frames */ });

  private constructor(private readonly write: (b: string | Buffer) => void, private readonly endFn: () => void, readonly proc?: ChildProcess) {}

  /** The adapter over stdio (`node script`). */
  static spawn(script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): RawDap {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const r = new RawDap((b) => { if (!p.stdin!.destroyed) p.stdin!.write(b); }, () => p.kill(), p);
    p.stdout!.on('data', (d: Buffer) => r.reader.push(d));
    p.stderr!.on('data', (d: Buffer) => { r.stderr += d.toString(); });
    p.on('exit', () => { r.closed = true; });
    p.stdin!.on('error', () => { /* the adapter went away: the test sees it */ });
    return r;
  }

  /** A connection to an adapter serving on 127.0.0.1:port. */
  static async connect(port: number): Promise<RawDap> {
    const s: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => { s.once('connect', () => res()); s.once('error', rej); });
    const r = new RawDap((b) => { if (!s.destroyed) s.write(b); }, () => s.destroy());
    s.on('data', (d: Buffer) => r.reader.push(d));
    s.on('close', () => { r.closed = true; });
    s.on('error', () => { r.closed = true; });
    return r;
  }

  stderr = '';

  raw(bytes: string | Buffer): void { this.write(bytes); }

  /** Sends a request; returns its seq. */
  send(command: string, args?: unknown): number {
    const seq = this.seq++;
    this.write(frame({ type: 'request', seq, command, arguments: args }));
    return seq;
  }

  /** The response to request `seq` (rejects after `timeout` ms). */
  async response(seq: number, timeout = 5000): Promise<Msg> {
    const end = Date.now() + timeout;
    for (;;) {
      const m = this.messages.find((x) => x.type === 'response' && x.request_seq === seq);
      if (m) return m;
      if (Date.now() > end) throw new Error(`request ${seq} not answered within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async request(command: string, args?: unknown, timeout = 5000): Promise<Msg> {
    return this.response(this.send(command, args), timeout);
  }

  /** The first event named `name` after message index `from`. */
  async event(name: string, from = 0, timeout = 10_000): Promise<Msg> {
    const end = Date.now() + timeout;
    for (;;) {
      const m = this.messages.slice(from).find((x) => x.type === 'event' && x.event === name);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no ${name} event within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async waitClosed(timeout = 5000): Promise<boolean> {
    const end = Date.now() + timeout;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    return this.closed;
  }

  end(): void { this.endFn(); }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMb(pid: number): number {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
