// The bundled examples as a user runs them: the custom example's own header and asm-offsets
// source resolve exactly as gcc lays the struct out, and every example runs to its documented end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { fromRoot } from '../support/paths';

const custom = (f: string) => fromRoot('examples', 'custom', f);

test('examples/custom: asm-offsets from our own header equal gcc\'s offsetof, and the call reads and writes through them', async () => {
  const s = await Session.create({
    program: custom('quote.S'), entry: 'get_quote', context: 'guest', headers: [custom('quote.h')], asmOffsets: custom('asm-offsets.c'),
    args: [{ struct: 'quote_req', init: { buf_gpa: '0x800000200000', buf_len: 4096 } }],
  });
  // gcc is the oracle for the layout.
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-quote-'));
  writeFileSync(join(dir, 'p.c'), `#include <stdio.h>\n#include <stddef.h>\n#include "${custom('quote.h')}"\nint main(void){printf("%zu %zu %zu %zu %zu %zu\\n", offsetof(struct quote_req, buf_gpa), offsetof(struct quote_req, buf_len), offsetof(struct quote_req, flags), offsetof(struct quote_req, status), offsetof(struct quote_req, tdcall_status), sizeof(struct quote_req));return 0;}\n`);
  execFileSync('gcc', [join(dir, 'p.c'), '-o', join(dir, 'p')]);
  const gcc = execFileSync(join(dir, 'p'), { encoding: 'utf8' }).trim().split(' ').map(BigInt);
  const names = ['QUOTE_buf_gpa', 'QUOTE_buf_len', 'QUOTE_flags', 'QUOTE_status', 'QUOTE_tdcall_status', 'QUOTE_SIZE'];
  assert.deepEqual(names.map((n) => s.image.constants.get(n)), gcc);
  const stop = s.run();
  assert.equal(stop.reason, 'returned');
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0].subfunction, 'GetQuote');
  assert.equal(s.calls[0].before.R12, 0x800000200000n);
  assert.equal(s.calls[0].before.R13, 4096n);
  // RCX = TDX_R10|TDX_R11|TDX_R12|TDX_R13 (bits 10..13, Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h).
  assert.equal(s.calls[0].before.RCX, 0x3c00n);
  const a = s.structArgs[0];
  const status = new DataView(s.machine.readBytes(a.address + gcc[3], 16).buffer);
  assert.equal(status.getBigUint64(0, true), 0n, 'R10 (TDVMCALL_STATUS_SUCCESS) stored at QUOTE_status');
  assert.equal(status.getBigUint64(8, true), 0n, 'RAX (TDX_SUCCESS) stored at QUOTE_tdcall_status');
});
