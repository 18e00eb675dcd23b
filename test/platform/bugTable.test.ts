// WARN(), WARN_ONCE() and BUG() through the kernel's __bug_table (arch/x86/include/asm/bug.h
// _BUG_FLAGS; include/asm-generic/bug.h BUGFLAG_WARNING = 1, BUGFLAG_ONCE = 2, BUGFLAG_DONE = 4;
// lib/bug.c report_bug(): a warning is printed once for a ONCE site and execution resumes after
// the 2-byte ud2 (arch/x86/kernel/traps.c handle_bug()); a BUG is not a warning and oopses).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './harness';

test('WARN_ONCE reached twice warns once, WARN warns, and both resume after the ud2', async () => {
  const r = await run('bugtable.S', { entry: 'warn_paths', context: 'none' });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax') & 0xffffffffn, 12n);
  const warnings = r.s.notes.filter((n) => n.kind === 'log' && /^WARNING: at /.test(n.text)).map((n) => (n as { text: string }).text);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0], /^WARNING: at drivers\/fake\/bugs\.c:10 warn_paths\+0x/);
  assert.match(warnings[1], /^WARNING: at drivers\/fake\/bugs\.c:20 /);
});

test('BUG() is reported with its file and line and stays an unhandled #UD (the kernel oopses)', async () => {
  const r = await run('bugtable.S', { entry: 'bug_path', context: 'none' });
  assert.equal(r.stop.reason, 'exception', r.stop.message);
  assert.equal(r.stop.vector, 6);
  assert.ok(r.s.notes.some((n) => n.kind === 'log' && /^kernel BUG at drivers\/fake\/bugs\.c:30! \(bug_path/.test(n.text)));
});
