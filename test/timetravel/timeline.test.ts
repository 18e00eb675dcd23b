// Reverse execution, checked against forward execution: for seeded random programs and the TDX
// examples, a forward run records a hash of the complete state after every step; stepping back
// to the start must meet every hash again. Reverse-continue must land on the breakpoint
// positions of a forward run in reverse order; line/over/out steps and what-if branches too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../emulator/session/session';
import { Timeline } from '../../emulator/timetravel/timeline';
import { parseFaultRule } from '../../emulator/tdx/faultPlan';
import { fromRoot } from '../support/paths';
import { randomProgram, stateHash } from './support';

const HYPERCALL = { program: fromRoot('examples/hypercall.S'), entry: 'tdx_hypercall', args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } }] };
const SEAMCALL = { program: fromRoot('examples/seamcall.S'), entry: 'tdx_sys_init' };

async function randomSession(seed: number): Promise<Session> {
  return Session.create({ program: `/virtual/random${seed}.S`, entry: 'entry', context: 'none' }, { text: randomProgram(seed) });
}

/** Steps forward to the end recording (position, hash); then steps back checking each. */
function roundTrip(s: Session, interval: number, maxSteps = 20_000): number {
  const tl = new Timeline(s, { interval });
  const seen: { pos: number; hash: string }[] = [{ pos: tl.position, hash: stateHash(s) }];
  for (let k = 0; k < maxSteps; k++) {
    const stop = s.step();
    seen.push({ pos: tl.position, hash: stateHash(s) });
    if (stop) break;
  }
  // The final stop (returned) may leave the position unchanged: compare from the last distinct one.
  while (seen.length > 1 && seen[seen.length - 2].pos === seen[seen.length - 1].pos) seen.splice(seen.length - 2, 1);
  for (let i = seen.length - 2; i >= 0; i--) {
    const r = tl.stepBack('instruction');
    assert.equal(r.position, seen[i].pos, `step back #${seen.length - 1 - i} landed at ${r.position}, expected ${seen[i].pos}`);
    assert.equal(stateHash(s), seen[i].hash, `state differs at position ${seen[i].pos}`);
  }
  assert.equal(tl.stepBack('instruction').reason, 'history-start');
  // And forward again over the same history: the same states.
  for (let i = 1; i < seen.length; i++) {
    s.step();
    assert.equal(stateHash(s), seen[i].hash, `forward again: state differs at position ${seen[i].pos}`);
  }
  return seen.length;
}

test('random programs: stepping back meets every forward state (5 seeds)', async () => {
  let steps = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const s = await randomSession(seed);
    steps += roundTrip(s, 37 + seed * 11);
  }
  assert.ok(steps > 1000, `only ${steps} steps were checked`);
});

test('TDX examples: stepping back across TDCALL and SEAMCALL (with an injected #UD fixed up) meets every state', async () => {
  roundTrip(await Session.create(HYPERCALL), 7);
  roundTrip(await Session.create({ ...SEAMCALL, faults: ['seamcall=#UD'] }), 5);
  roundTrip(await Session.create({ ...HYPERCALL, faults: ['tdcall=status:TDX_OPERAND_INVALID'] }), 3);
});

test('reverse-continue lands on the forward run\'s breakpoint positions in reverse order', async () => {
  for (const seed of [3, 11]) {
    const s = await randomSession(seed);
    const tl = new Timeline(s, { interval: 101 });
    for (const name of ['helper0', 'helper1']) s.machine.addBreakpoint(s.image.symbols.find((x) => x.name === name)!.address);
    const forward: number[] = [];
    for (;;) {
      const stop = s.run();
      if (stop.reason !== 'breakpoint') break;
      forward.push(tl.position);
    }
    assert.ok(forward.length >= 6, `only ${forward.length} breakpoint stops`);
    const back: number[] = [];
    for (;;) {
      const r = tl.reverseContinue();
      if (r.reason !== 'stop') break;
      back.push(r.position);
    }
    assert.deepEqual(back, [...forward].reverse());
  }
});

test('forward runs cut at checkpoints still stop at every breakpoint (one on a cut)', async () => {
  const s = await randomSession(5);
  const plain: number[] = [];
  const helper = s.image.symbols.find((x) => x.name === 'helper1')!.address;
  s.machine.addBreakpoint(helper);
  for (;;) { const st = s.run(); if (st.reason !== 'breakpoint') break; plain.push(s.machine.instructionCount); }
  s.reset();
  // Checkpoints every instruction: every breakpoint sits on a cut.
  const tl = new Timeline(s, { interval: 1 });
  const cut: number[] = [];
  for (;;) { const st = s.run(); if (st.reason !== 'breakpoint') break; cut.push(tl.position); }
  assert.deepEqual(cut, plain);
});

test('reverse step over, step in (line) and step out on the hypercall example', async () => {
  const s = await Session.create(HYPERCALL);
  const tl = new Timeline(s, { interval: 10 });
  const at = (name: string) => s.image.symbols.find((x) => x.name === name)!.address;
  // Run to the end, then step back over the call of __tdcall_saved_ret: one line back is the call line.
  const end = s.run();
  assert.equal(end.reason, 'returned');
  tl.stepBack('instruction'); // into tdx_hypercall's RET
  const rip = () => s.machine.getReg('rip');
  const line = () => s.lineAt(rip())?.line;
  // Step back over lines until we stand on the `call __tdcall_saved_ret` line: never inside the callee.
  let guard = 0;
  while (guard++ < 20) {
    const r = tl.stepBack('over');
    assert.equal(r.reason, 'step');
    const sym = s.symbolize(rip())!;
    assert.equal(sym.name, 'tdx_hypercall', `reverse step over entered ${sym.name}`);
    if (s.machine.readBytes(rip(), 1)[0] === 0xe8) break; // call rel32
  }
  const callLine = line();
  // One reverse step-in from the line after the call enters the callee at its last line (RET).
  s.step(); // execute the call: now at __tdcall_saved_ret's first instruction
  assert.equal(rip(), at('__tdcall_saved_ret'));
  for (let k = 0; k < 30; k++) s.step(); // somewhere inside the callee
  const out = tl.stepBack('out');
  assert.equal(out.reason, 'step');
  assert.equal(line(), callLine, 'reverse step-out lands on the call line');
  assert.equal(s.machine.readBytes(rip(), 1)[0], 0xe8, 'reverse step-out lands on the call instruction');
});

test('what-if: from just before the TDCALL, a TDX status injected on a new branch panics; the old branch is kept', async () => {
  const s = await Session.create(HYPERCALL);
  const tl = new Timeline(s, { interval: 16 });
  assert.equal(s.run().reason, 'returned');
  const endHash = stateHash(s);
  const call = tl.calls.at(0)!;
  tl.goToCall(call.seq);
  assert.equal(s.machine.getReg('rip'), call.address);
  const b = tl.whatIf({ faults: [parseFaultRule('tdcall=status:TDX_OPERAND_INVALID')] });
  assert.equal(b.id, 1);
  const stop = s.run();
  assert.equal(stop.reason, 'panic');
  assert.equal(tl.branch.calls.at(0)!.status, 0xc000010000000000n);
  // Back on the launch branch, the end state is the one recorded before.
  tl.switchBranch(0);
  assert.equal(stateHash(s), endHash);
  assert.equal(tl.branches.length, 2);
  // A register what-if: RAX != 0 after the TDCALL also panics.
  tl.goToCall(call.seq);
  s.step();
  tl.whatIf({ registers: { rax: 1n } });
  assert.equal(s.run().reason, 'panic');
});

test('the memory budget thins checkpoints (at most 4 intervals apart), then drops the oldest history: "history begins here"', async () => {
  const budget = 200 * 1024, interval = 5;
  const s = await randomSession(2);
  const tl = new Timeline(s, { interval, memoryBudget: budget });
  s.run();
  assert.ok(tl.historyStart > 0, 'history should have been dropped');
  assert.ok(tl.bytes <= budget, `history holds ${tl.bytes} bytes`);
  const cps = tl.branch.checkpoints.map((c) => c.position);
  for (let i = 1; i < cps.length; i++) assert.ok(cps[i] - cps[i - 1] <= 4 * interval, `checkpoints ${cps[i - 1]} and ${cps[i]} are more than 4 intervals apart`);
  assert.ok(cps.some((p, i) => i > 0 && p - cps[i - 1] > interval), 'thinned: some checkpoints are more than one interval apart');
  // Every retained position still replays to the forward run's state.
  const fwd = await randomSession(2);
  const hashes = new Map<number, string>([[fwd.machine.instructionCount, stateHash(fwd)]]);
  while (!fwd.step()) hashes.set(fwd.machine.instructionCount, stateHash(fwd));
  for (let p = tl.historyStart; p < tl.frontier; p++) {
    assert.equal(tl.seek(p).position, p);
    assert.equal(stateHash(s), hashes.get(p), `state at position ${p}`);
  }
  const r = tl.seek(0);
  assert.equal(r.reason, 'history-start');
  assert.match(r.message, /history begins here.*historyBudgetMb/);
  assert.equal(r.position, tl.historyStart);
});

test('an operation asked to stop lands on a proven position: reverse-continue between slices, seek on the way', async () => {
  const s = await randomSession(3);
  const tl = new Timeline(s, { interval: 50 });
  s.run();
  const end = tl.position;
  tl.slice = 7;
  const op = tl.reverseContinueOp(() => false);
  let r = op.next();
  let yields = 0;
  while (!r.done) { yields++; r = op.next(yields === 3); }
  assert.equal(r.value.reason, 'paused');
  assert.ok(r.value.position < end && r.value.position >= tl.historyStart, `paused at ${r.value.position} of ${end}`);
  assert.equal(tl.position, r.value.position);
  // Uninterrupted, the same search reaches the start of history (the predicate accepts nothing).
  assert.equal(tl.reverseContinue(() => false).reason, 'history-start');
  // Just before a checkpoint: the replay from the one before is a whole interval (50 > 7).
  const cps = tl.branch.checkpoints;
  const target = cps[cps.length - 1].position - 1;
  const seek = tl.seekOp(target);
  let q = seek.next();
  assert.ok(!q.done, 'a long seek yields');
  q = seek.next(true);
  assert.ok(q.done && q.value.reason === 'paused' && q.value.position > cps[cps.length - 2].position && q.value.position < target, JSON.stringify(q.value));
});
