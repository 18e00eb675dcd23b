// The adapter works through `Session` (frames, memory-map queries, MSRs, held faults, counters)
// and the shared x86 register module: it imports nothing from emulator/cpu or emulator/memory
// and touches no `.cpu` / `.mem` object; its tables of x86 facts live in emulator/x86.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Import specifiers and `.cpu`/`.mem` accesses that cross the boundary, as `file: text`. */
export function boundaryViolations(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)) {
    if (/(^|\/)emulator\/(cpu|memory)(\/|$)/.test(m[1])) out.push(`${file}: imports ${m[1]}`);
  }
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    if (/\.(cpu|mem)\s*[.[]|\bmachine\.(cpu|mem)\b/.test(line)) out.push(`${file}:${i + 1}: ${line.trim()}`);
  });
  return out;
}

test('the adapter imports nothing from emulator/cpu or emulator/memory and uses no CPU/memory internals', () => {
  const dir = join(ROOT, 'debug-adapter');
  const hits = readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) => boundaryViolations(`debug-adapter/${f}`, readFileSync(join(dir, f), 'utf8')));
  assert.deepEqual(hits, []);
});

test('the boundary check can fail', () => {
  assert.equal(boundaryViolations('x.ts', "import type { CpuFault } from '../emulator/cpu/fault';").length, 1);
  assert.equal(boundaryViolations('x.ts', "import { Memory } from '../emulator/memory/memory';").length, 1);
  assert.equal(boundaryViolations('x.ts', '    const n = t.machine.cpu.ssN;').length, 1);
  assert.equal(boundaryViolations('x.ts', '    try { len = t.machine.mem.mappedLength(n, 15); } catch { len = 0; }').length, 1);
  assert.deepEqual(boundaryViolations('x.ts', "import { Session } from '../emulator/session/session';\nconst d = t.session.callDepth;"), []);
});

test('x86 tables are not re-declared outside emulator/x86', () => {
  // A CR4 bit list, a sub-register list or a Jcc table written again in the adapter or extension.
  const patterns = [/\['OSFXSR',\s*9/, /\['eax',\s*'ax'/, /\['ja',\s*'jnbe'\]/, /'#DE',\s*1:\s*'#DB'/];
  const hits: string[] = [];
  for (const top of ['debug-adapter', 'extension']) {
    for (const f of readdirSync(join(ROOT, top)).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, top, f), 'utf8');
      for (const p of patterns) if (p.test(text)) hits.push(`${top}/${f}: ${p}`);
    }
  }
  assert.deepEqual(hits, []);
});
