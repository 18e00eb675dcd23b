// Golden step traces of the bundled examples: every instruction of a run with its address, its
// symbol, its GAS text, the registers and flags it changed and the TDX events it raised. A change
// in behaviour shows up as the first differing line. The traces are accepted, never generated
// silently: `TDX_ACCEPT=1 npm test` rewrites them (and the fault-matrix expectations) after a
// deliberate change, and the diff of test/golden/traces/ is then reviewed like code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Session } from '../../emulator/session/session';
import { disassemble } from '../../emulator/decode/decoder';
import type { PlatformEvent } from '../../emulator/platform/events';
import { fromRoot } from '../support/paths';
import { GOLDEN_CONFIGS } from './configs';

const ACCEPT = process.env.TDX_ACCEPT === '1';
const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
// RFLAGS bits by their SDM names (Vol. 1 §3.4.3).
const FLAGS: [number, string][] = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF']];
const MAX_STEPS = 20_000;

const hex = (v: bigint) => `0x${v.toString(16)}`;

function flagText(before: bigint, after: bigint): string {
  const out: string[] = [];
  for (const [bit, name] of FLAGS) {
    const a = (before >> BigInt(bit)) & 1n, b = (after >> BigInt(bit)) & 1n;
    if (a !== b) out.push(`${name}=${b}`);
  }
  return out.join(' ');
}

function eventText(e: PlatformEvent): string {
  switch (e.kind) {
    case 'call': {
      const c = e.call;
      const parts = [`${c.insn.toUpperCase()} ${c.leaf ?? `leaf ${c.leafNumber}`}`];
      if (c.subfunction) parts.push(c.subfunction);
      if (c.fault) parts.push(c.fault);
      if (c.status !== undefined) parts.push(`status=${c.statusName ?? hex(c.status)}`);
      if (c.vmcallStatus !== undefined) parts.push(`r10=${c.vmcallStatusName ?? hex(c.vmcallStatus)}`);
      if (c.injected) parts.push(`injected ${c.rule ?? ''}`.trim());
      return parts.join(' ');
    }
    case 'fixup': return `fixup ${e.message}`;
    case 'log': return `log ${e.level} ${e.text.trimEnd()}`;
    case 'stub': return `stub ${e.name}: ${e.text.trimEnd()}`;
    default: return (e as { kind: string }).kind;
  }
}

/** Runs one configuration instruction by instruction and writes what each one did. */
async function trace(config: unknown): Promise<string> {
  const s = await Session.create(config);
  const m = s.machine;
  const events: PlatformEvent[] = [];
  s.onEvent((e) => events.push(e));
  const lines: string[] = [];
  let regs = GPRS.map((r) => m.getReg(r));
  let flags = m.getReg('rflags');
  for (let n = 0; n < MAX_STEPS; n++) {
    const rip = m.getReg('rip');
    const [insn] = disassemble(m.readBytes(rip, 15), Number(BigInt.asIntN(64, rip)), 'att', 1);
    const sym = s.symbolize(rip);
    const where = sym ? `${sym.name}+${hex(sym.offset)}` : hex(rip);
    const stop = s.step();
    const now = GPRS.map((r) => m.getReg(r));
    const changed = GPRS.filter((_, i) => now[i] !== regs[i]).map((r) => `${r}=${hex(now[GPRS.indexOf(r)])}`);
    const newFlags = m.getReg('rflags');
    const f = flagText(flags, newFlags);
    lines.push(`${where.padEnd(28)} ${(insn?.text ?? '(unreadable)').padEnd(36)} ${[...changed, f].filter(Boolean).join(' ')}`.trimEnd());
    for (const e of events.splice(0)) lines.push(`    ! ${eventText(e)}`);
    regs = now;
    flags = newFlags;
    if (stop) {
      lines.push(`stop ${stop.reason}: ${stop.message}`);
      return lines.join('\n') + '\n';
    }
  }
  lines.push(`stop: no end within ${MAX_STEPS} instructions`);
  return lines.join('\n') + '\n';
}

function firstDifference(want: string, got: string): string {
  const a = want.split('\n'), b = got.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  golden: ${a[i] ?? '(end)'}\n  now:    ${b[i] ?? '(end)'}`;
  }
  return 'identical';
}

for (const g of GOLDEN_CONFIGS) {
  test(`golden trace: ${g.name}`, async () => {
    const file = fromRoot('test/golden/traces', `${g.name}.trace`);
    const got = await trace(g.config);
    if (ACCEPT) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, got);
      return;
    }
    assert.ok(existsSync(file), `${file} is missing: run \`TDX_ACCEPT=1 npm test\` to accept the current trace, then review it`);
    const want = readFileSync(file, 'utf8');
    assert.ok(want === got, `the trace of ${g.name} changed (accept a deliberate change with TDX_ACCEPT=1 npm test), first difference at ${firstDifference(want, got)}`);
  });
}

test('the trace is deterministic: the same configuration twice gives the same text', async () => {
  const g = GOLDEN_CONFIGS[0];
  assert.equal(await trace(g.config), await trace(g.config));
});
