// DAP wire framing (`Content-Length: N\r\n\r\n` + N bytes of JSON) that survives a bad client.
// The protocol layer of the adapter library never recovers from one malformed header (the
// session stays alive but deaf); this reader resynchronises instead: a frame whose header does
// not parse, whose length is out of bounds, or whose body is not a JSON object is skipped up to
// the next `Content-Length:` header (also one found inside a body that was declared too long),
// and every skip is reported with its byte offset, its size and the reason.

/** Largest frame body accepted (a writeMemory of a few MiB fits; beyond is a client bug). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Longest header block accepted before `\r\n\r\n`. */
export const MAX_HEADER_BYTES = 4096;

const SEP = Buffer.from('\r\n\r\n');
const MARK = Buffer.from('Content-Length:');

/** A part of the stream that was skipped to resynchronise. */
export interface FrameIssue {
  /** Byte offset of the skipped part in the stream. */
  offset: number;
  /** Bytes skipped. */
  skipped: number;
  reason: string;
}

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Body length of the frame being read (undefined: reading a header). */
  private length: number | undefined;
  /** Where in a pending body the embedded-header scan has got to. */
  private scanned = 0;

  constructor(
    private readonly onMessage: (message: Record<string, unknown>) => void,
    private readonly onIssue: (issue: FrameIssue) => void,
    private readonly maxBody = MAX_FRAME_BYTES,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.length === undefined) { if (!this.header()) return; }
      else if (!this.body()) return;
    }
  }

  /** Skips `n` bytes (and reports them when `reason`). */
  private skip(n: number, reason?: string): void {
    if (reason && n > 0) this.onIssue({ offset: this.base, skipped: n, reason });
    this.buf = this.buf.subarray(n);
    this.base += n;
  }

  /** Skips to the next `Content-Length:` at or after `from` (keeps a possible partial mark at the end). */
  private resync(from: number, reason: string): void {
    const at = this.buf.indexOf(MARK, from);
    const n = at >= 0 ? at : Math.max(from, this.buf.length - (MARK.length - 1));
    this.length = undefined;
    this.scanned = 0;
    this.skip(n, reason);
  }

  /** Reads a header block; false when more data is needed. */
  private header(): boolean {
    const end = this.buf.indexOf(SEP);
    if (end < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) { this.resync(1, `no header end within ${MAX_HEADER_BYTES} bytes`); return this.buf.length > MAX_HEADER_BYTES; }
      return false;
    }
    if (end > MAX_HEADER_BYTES) { this.resync(1, `header longer than ${MAX_HEADER_BYTES} bytes`); return true; }
    const lines = this.buf.toString('latin1', 0, end).split('\r\n');
    let length: number | undefined;
    let problem: string | undefined;
    for (const line of lines) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) { problem = `header line ${JSON.stringify(line.slice(0, 40))} is not "Name: value"`; break; }
      if (m[1].toLowerCase() !== 'content-length') continue;
      if (length !== undefined) { problem = 'two Content-Length headers'; break; }
      if (!/^\d{1,9}$/.test(m[2])) { problem = `Content-Length ${JSON.stringify(m[2].slice(0, 20))} is not a byte count`; break; }
      length = Number(m[2]);
      if (length > this.maxBody) { problem = `Content-Length ${length} exceeds the limit of ${this.maxBody} bytes`; break; }
    }
    if (!problem && length === undefined) problem = 'no Content-Length header';
    if (problem) { this.resync(1, problem); return true; }
    this.skip(end + SEP.length);
    this.length = length;
    this.scanned = 0;
    return true;
  }

  /** Reads a body; false when more data is needed. */
  private body(): boolean {
    const len = this.length!;
    // A JSON message is an object: anything else cannot become one, however much follows.
    let first = 0;
    while (first < this.buf.length && first < len && (this.buf[first] === 0x20 || this.buf[first] === 0x0a || this.buf[first] === 0x0d || this.buf[first] === 0x09)) first++;
    if (first < this.buf.length && first < len && this.buf[first] !== 0x7b) { this.resync(0, 'frame body is not a JSON object'); return true; }
    if (this.buf.length < len) {
      // A declared length longer than the body: the next frame's header shows up inside it.
      // When what precedes that header is a complete JSON object, the length was wrong.
      for (;;) {
        const at = this.buf.indexOf(MARK, Math.max(this.scanned, 1));
        if (at < 0) { this.scanned = Math.max(this.scanned, this.buf.length - MARK.length); return false; }
        this.scanned = at + 1;
        // JSON never holds a raw CR LF pair inside a string, so a complete frame after one here
        // is the client's next message, not part of this body.
        if (parsesAsObject(this.buf.toString('utf8', 0, at)) || this.completeFrameAt(at)) {
          this.resync(at, `Content-Length ${len} is longer than its body (${at} bytes)`);
          return true;
        }
      }
    }
    const text = this.buf.toString('utf8', 0, len);
    let msg: unknown;
    try { msg = JSON.parse(text); } catch (e) {
      // Too short a length, or garbage: go on at the next header, even one inside this body.
      this.resync(0, `frame body is not JSON (${(e as Error).message})`);
      return true;
    }
    this.skip(len);
    this.length = undefined;
    this.scanned = 0;
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) this.onIssue({ offset: this.base - len, skipped: len, reason: 'frame body is not a JSON object' });
    else this.onMessage(msg as Record<string, unknown>);
    return true;
  }

  /** Whether a well-formed, complete frame starts at `at`. */
  private completeFrameAt(at: number): boolean {
    const end = this.buf.indexOf(SEP, at);
    if (end < 0 || end - at > MAX_HEADER_BYTES) return false;
    const m = /^Content-Length:[ \t]*(\d{1,9})[ \t]*$/im.exec(this.buf.toString('latin1', at, end));
    if (!m) return false;
    const n = Number(m[1]), start = end + SEP.length;
    return this.buf.length >= start + n && parsesAsObject(this.buf.toString('utf8', start, start + n));
  }
}

function parsesAsObject(s: string): boolean {
  try { const v = JSON.parse(s); return typeof v === 'object' && v !== null && !Array.isArray(v); } catch { return false; }
}

/** The header in front of a body of `n` bytes. */
function header(n: number): string {
  return `Content-Length: ${n}\r\n\r\n`;
}

/** One frame on the wire. */
export function frame(message: unknown): string {
  const json = JSON.stringify(message);
  return header(Buffer.byteLength(json, 'utf8')) + json;
}

/** One frame on the wire as bytes, for a direct write: the JSON encoded once, its header in front. */
export function frameBytes(message: unknown): Buffer {
  const json = JSON.stringify(message);
  const n = Buffer.byteLength(json, 'utf8');
  const head = header(n);
  const buf = Buffer.allocUnsafe(head.length + n);
  buf.write(head, 0, 'latin1');
  buf.write(json, head.length, 'utf8');
  return buf;
}
