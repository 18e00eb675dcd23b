// Framing attacks on the wire: after each one the adapter must report what it skipped and answer
// the next well-formed request (the library's own reader stays deaf after one bad header).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTER } from './harness';
import { FrameReader, frame } from '../../debug-adapter/framing';
import { RawDap } from '../support/rawDap';

const req = (seq: number, command = 'threads') => JSON.stringify({ type: 'request', seq, command, arguments: {} });

/** Each attack: bytes that are not a well-formed frame (or are, split oddly). */
export const FRAMING_ATTACKS: [string, () => Buffer | string][] = [
  ['non-numeric length', () => `Content-Length: abc\r\n\r\n${req(900)}`],
  ['negative length', () => 'Content-Length: -5\r\n\r\n'],
  ['length over the cap', () => 'Content-Length: 99999999999\r\n\r\n{"a":1}'],
  ['2^31 length', () => 'Content-Length: 2147483648\r\n\r\n'],
  ['long length, truncated body', () => 'Content-Length: 1000000\r\n\r\n{'],
  ['short length', () => `Content-Length: 5\r\n\r\n${req(901)}`],
  ['long length by 10 over a good body', () => { const b = req(902); return `Content-Length: ${b.length + 10}\r\n\r\n${b}`; }],
  ['no Content-Length', () => `Content-Type: application/json\r\n\r\n${req(903)}`],
  ['garbage line as header', () => 'hello world\r\n\r\n'],
  ['10 KB without a header end', () => 'x'.repeat(10_000)],
  ['random binary', () => Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) & 0xff))],
  ['two Content-Length headers', () => `Content-Length: 10\r\nContent-Length: 20\r\n\r\n${req(904)}`],
  ['empty length', () => 'Content-Length:\r\n\r\n'],
  ['exponent length', () => 'Content-Length: 1e3\r\n\r\n'],
  ['zero length', () => 'Content-Length: 0\r\n\r\n'],
  ['body not JSON', () => 'Content-Length: 9\r\n\r\n{garbage}'],
  ['body an array', () => 'Content-Length: 5\r\n\r\n[1,2]'],
  ['body null', () => 'Content-Length: 4\r\n\r\nnull'],
  ['body a string', () => 'Content-Length: 3\r\n\r\n"x"'],
  ['request without seq or command', () => frame({ type: 'request' })],
  ['request with wrong types', () => frame({ type: 'request', seq: 'x', command: 5 })],
  ['LF-only header', () => `Content-Length: ${req(905).length}\n\n${req(905)}`],
  ['leading space in header', () => ` Content-Length: 7\r\n\r\n{"a":1}`],
  ['5000-character header line', () => `X-Pad: ${'p'.repeat(5000)}\r\nContent-Length: 2\r\n\r\n{}`],
  ['length in characters, not bytes', () => { const b = JSON.stringify({ type: 'request', seq: 906, command: 'evaluate', arguments: { expression: 'ü€😀' } }); return `Content-Length: ${b.length}\r\n\r\n${b}`; }],
  ['NUL bytes', () => Buffer.alloc(64)],
  ['deeply nested JSON body', () => { const b = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`; return `Content-Length: ${b.length}\r\n\r\n${b}`; }],
  ['trailing garbage inside the length', () => { const b = req(907) + 'trailing'; return `Content-Length: ${b.length}\r\n\r\n${b}`; }],
  ['header split over writes', () => 'Content-Len'],
  ['a response and an event from the client', () => frame({ type: 'response', seq: 1, request_seq: 1, command: 'x', success: true }) + frame({ type: 'event', seq: 2, event: 'stopped' })],
];

test('FrameReader: well-formed frames in any chunking, then each attack skipped and reported', () => {
  const got: unknown[] = [];
  const issues: string[] = [];
  const r = new FrameReader((m) => got.push(m), (i) => issues.push(i.reason));
  const all = Buffer.from(frame({ a: 1 }) + frame({ b: 'ü' }) + frame({ c: [1, 2] }));
  for (let i = 0; i < all.length; i += 3) r.push(all.subarray(i, i + 3));
  assert.deepEqual(got, [{ a: 1 }, { b: 'ü' }, { c: [1, 2] }]);
  assert.deepEqual(issues, []);
  for (const [name, bytes] of FRAMING_ATTACKS) {
    const before = got.length;
    r.push(Buffer.from(bytes()));
    r.push(Buffer.from(frame({ after: name })));
    assert.deepEqual(got.at(-1), { after: name }, `${name}: the next frame is read`);
    assert.ok(got.length - before <= 3, name);
  }
  assert.ok(issues.length >= 20, `issues reported: ${issues.length}`);
});

test(`adapter: after each of ${FRAMING_ATTACKS.length} framing attacks the next request is answered`, async () => {
  const d = RawDap.spawn(ADAPTER);
  try {
    assert.equal((await d.request('initialize', { adapterID: 'tdx' })).success, true);
    const deaf: string[] = [];
    for (const [name, bytes] of FRAMING_ATTACKS) {
      d.raw(bytes());
      try { await d.request('threads', {}, 5000); } catch { deaf.push(name); }
    }
    assert.deepEqual(deaf, [], 'deaf after');
    assert.equal(d.closed, false, 'the adapter is still running');
    assert.match(d.stderr, /malformed DAP frame at byte \d+ \(.*\): skipped \d+ bytes and resynchronised/);
    const bad = d.messages.find((m) => m.type === 'response' && m.success === false && /numeric "seq"/.test(m.message ?? ''));
    assert.ok(bad, 'a request without seq/command is answered with an error');
  } finally { d.end(); }
});
