// The default tier policy (emulator/machine.ts HOT_BLOCK): a block head is compiled once the
// straight-line code from it has run enough instructions interpreted, counted only at heads
// (targets of control transfers), and execution is exact on either side of the switch.
// Programs are assembled by GNU as; expected counts follow from the program's own loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../support/program';
import { HOT_BLOCK } from '../../emulator/machine';

const LOOP = (n: number) => `mov $${n}, %ecx\n l: add $1, %eax\n sub $1, %ecx\n jnz l\n ret`;

test('a loop head is compiled once the instructions interpreted from it reach the threshold, not before', () => {
  // `l` first becomes a head when the JNZ goes back to it (the MOV falls into it): at its
  // v-th visit as a head it has run 3(v-1) instructions, so with a threshold of 30 its block
  // is built at the 11th visit, after 4 + 3 * 10 = 34 instructions.
  const { m, sym } = load(LOOP(1000), { machine: { blockThreshold: 30 } });
  const l = Number(sym('l'));
  assert.equal(m.run(34).kind, 'budget');
  assert.equal(m.insnAt(l).block, null, 'not compiled after 30 instructions of heat have been counted');
  assert.equal(m.run(1).kind, 'budget');
  assert.notEqual(m.insnAt(l).block, null, 'compiled at the visit that finds 30 instructions of heat');
  assert.equal(m.blocksCompiled, 1, 'the MOV head ran 4 instructions once: it stays interpreted');
  const r = m.run(100_000);
  assert.equal(r.kind, 'returned');
  assert.equal(m.getReg('eax'), 1000n);
  assert.equal(m.instructionCount, 1 + 3 * 1000 + 1, 'every instruction counted once across the switch');
});

test('by default a short run compiles nothing and a long one compiles its loop', () => {
  const short = load(LOOP(100_000));
  assert.equal(short.m.run(1_000_000).kind, 'returned');
  assert.equal(short.m.insnAt(Number(short.sym('l'))).block, null, `300k instructions of heat stay below ${HOT_BLOCK}`);
  assert.equal(short.m.blocksCompiled, 0);
  const iterations = Math.ceil(HOT_BLOCK / 3) + 1000;
  const long = load(LOOP(iterations));
  assert.equal(long.m.run(10 * iterations).kind, 'returned');
  assert.notEqual(long.m.insnAt(Number(long.sym('l'))).block, null, 'the loop ran past the threshold');
  assert.equal(long.m.blocksCompiled, 1);
  assert.equal(long.m.getReg('eax'), BigInt(iterations));
  assert.equal(long.m.instructionCount, 1 + 3 * iterations + 1);
});
