// Fault rules: the `--fault WHERE=ACTION` syntax of issue 4 and its object form, one-line errors
// naming the offending part, and the deterministic matcher. Numbers are literals from the
// references (leaf numbers, status values).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultInjector, FaultRuleError, parseFaultPlan, parseFaultRule, parseFaultRuleInput, vmmOverrideFor, type TdxCallSite } from '../../emulator/tdx/faultPlan';

function site(instruction: 'tdcall' | 'seamcall', regs: Record<number, bigint>, rip = 0x1000n, symbol?: { name: string; offset: bigint }): TdxCallSite {
  return { instruction, getReg: (i) => regs[i] ?? 0n, rip, ...(symbol ? { symbol } : {}) };
}

test('the issue\'s examples parse', () => {
  const r = parseFaultRule('tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID');
  assert.equal(r.where, 'tdcall');
  assert.deepEqual(r.leaf, { value: 0n, name: 'TDG.VP.VMCALL' });
  assert.equal(r.nth, 1);
  assert.deepEqual(r.action, { kind: 'status', value: 0xC000010000000000n, name: 'TDX_OPERAND_INVALID' });
  assert.equal(r.text, 'tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID');
  const g = parseFaultRule('seamcall=#GP');
  assert.deepEqual(g.action, { kind: 'exception', exception: '#GP', vector: 13 });
  assert.equal(g.leaf, undefined);
});

test('every ACTION form', () => {
  const a = (s: string) => parseFaultRule(s).action;
  assert.deepEqual(a('tdcall=#UD'), { kind: 'exception', exception: '#UD', vector: 6 });
  assert.deepEqual(a('seamcall=#GP(0x10)'), { kind: 'exception', exception: '#GP', vector: 13, errorCode: 16 });
  assert.deepEqual(a('tdcall=#pf'), { kind: 'exception', exception: '#PF', vector: 14 });
  assert.deepEqual(a('seamcall:TDH.SYS.INIT=vmfailinvalid'), { kind: 'vmfailinvalid' });
  assert.deepEqual(a('seamcall=status:0x8000020300000000'), { kind: 'status', value: 0x8000020300000000n, name: 'TDX_RND_NO_ENTROPY' });
  assert.deepEqual(a('tdcall=status:TDX_OPERAND_INVALID+RCX'), { kind: 'status', value: 0xC000010000000001n, name: 'TDX_OPERAND_INVALID' });
  assert.deepEqual(a('tdvmcall:MapGPA=r10:TDVMCALL_STATUS_RETRY'), { kind: 'r10', value: 1n, name: 'TDVMCALL_STATUS_RETRY' });
  assert.deepEqual(a('tdvmcall=r10:0x8000000000000003'), { kind: 'r10', value: 0x8000000000000003n, name: 'TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED' });
  assert.deepEqual(a('tdvmcall=hostile'), { kind: 'hostile' });
  assert.deepEqual(a('tdcall:0=hostile(42)'), { kind: 'hostile', seed: 42n });
  assert.deepEqual(a('seamcall=skip'), { kind: 'skip' });
  assert.deepEqual(a('tdcall=set:r10=0xFFFFFFFFFFFFFFFF'), { kind: 'set', reg: 'R10', value: 0xFFFFFFFFFFFFFFFFn });
});

test('leaves by name (either spelling) or number; P-SEAMLDR; sub-functions', () => {
  assert.equal(parseFaultRule('seamcall:tdh_sys_lp_init=skip').leaf?.value, 35n);
  assert.equal(parseFaultRule('seamcall:33=skip').leaf?.name, 'TDH.SYS.INIT');
  assert.equal(parseFaultRule('seamcall:SEAMLDR.INFO=vmfailinvalid').leaf?.value, 0x8000000000000000n);
  assert.equal(parseFaultRule('tdvmcall:0x10001=skip').leaf?.name, 'TDVMCALL_MAP_GPA');
  assert.equal(parseFaultRule('tdvmcall:EXIT_REASON_CPUID=skip').leaf?.value, 10n);
  assert.equal(parseFaultRule('tdcall:1000=skip').leaf?.value, 1000n, 'uncatalogued numbers allowed');
});

test('bad rules: one line naming the offending part, with suggestions', () => {
  const bad: [string, RegExp, string][] = [
    ['tdcall:TDG.VP.VMCAL=skip', /unknown TDCALL leaf "TDG.VP.VMCAL" \(did you mean TDG.VP.VMCALL\?\)/, 'TDG.VP.VMCAL'],
    ['seamcall:TDH.SYS.INTI=skip', /did you mean TDH.SYS.INIT\?/, 'TDH.SYS.INTI'],
    ['tdvmcall:MapGAP=skip', /unknown TDG.VP.VMCALL sub-function "MapGAP" \(did you mean MapGPA\?\)/, 'MapGAP'],
    ['vmcall=skip', /unknown WHERE "vmcall"/, 'vmcall'],
    ['tdcall@0=skip', /@N must be a positive integer/, '0'],
    ['tdcall=explode', /unknown ACTION "explode"/, 'explode'],
    ['tdcall=status:TDX_OPERAND_INVALDI', /unknown TDX status "TDX_OPERAND_INVALDI" \(did you mean TDX_OPERAND_INVALID\?\)/, 'TDX_OPERAND_INVALDI'],
    ['tdcall=vmfailinvalid', /vmfailinvalid applies to seamcall only/, 'vmfailinvalid'],
    ['seamcall=hostile', /hostile applies to tdvmcall or tdcall:TDG.VP.VMCALL only/, 'hostile'],
    ['tdcall:TDG.VP.INFO=r10:1', /r10 applies to tdvmcall/, 'r10:1'],
    ['tdcall=set:xmm0=1', /"xmm0" is not a 64-bit register/, 'xmm0'],
    ['tdcall=#UD(3)', /#UD has no error code/, '#UD(3)'],
    ['tdcall', /expected WHERE=ACTION/, 'tdcall'],
  ];
  for (const [rule, re, part] of bad) {
    assert.throws(() => parseFaultRule(rule), (e: unknown) => {
      assert.ok(e instanceof FaultRuleError, rule);
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(`fault rule "${rule}": `), e.message);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.equal(e.part, part, rule);
      return true;
    });
  }
});

test('object form, with call site and register conditions', () => {
  const r = parseFaultRuleInput({ where: 'tdcall', leaf: 'TDG.VP.VMCALL', nth: 1, action: 'status:TDX_OPERAND_INVALID' });
  assert.equal(r.text, 'tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID');
  const o = parseFaultRuleInput({ where: 'tdvmcall', leaf: 'MapGPA', at: 'set_memory_decrypted+0x20', when: 'R13 >= 0x200000 && RCX & 0x30 == 0', action: 'r10:TDVMCALL_STATUS_RETRY' });
  assert.deepEqual(o.at, { symbol: 'set_memory_decrypted', offset: 0x20n });
  assert.deepEqual(o.when, [{ reg: 'R13', op: '>=', value: 0x200000n }, { reg: 'RCX', mask: 0x30n, op: '==', value: 0n }]);
  assert.deepEqual(parseFaultRuleInput({ where: 'seamcall', leaf: 33, at: '0xffffffff81000000', action: '#GP(0)' }).at, { address: 0xffffffff81000000n });
  assert.throws(() => parseFaultRuleInput({ where: 'tdcall', action: 'skip', colour: 'red' } as never), /unknown key "colour"/);
  assert.throws(() => parseFaultRuleInput({ where: 'tdcall', when: 'R99 == 1', action: 'skip' }), /"R99" is not a 64-bit register/);
  assert.equal(parseFaultPlan(['seamcall=#GP', { where: 'tdcall', action: '#UD' }]).length, 2);
});

test('matcher: nth occurrence, leaf, version ignored, first rule wins, all rules count', () => {
  const inj = new FaultInjector(parseFaultPlan([
    'seamcall:TDH.SYS.LP.INIT@2=status:TDX_RND_NO_ENTROPY',
    'seamcall=skip',
  ]));
  const lpInit = site('seamcall', { 0: 35n });
  const sysInit = site('seamcall', { 0: 33n | (1n << 16n) });
  assert.equal(inj.next(lpInit)?.ruleIndex, 1); // LP.INIT #1: rule 0 counts but does not fire
  const second = inj.next(lpInit);
  assert.equal(second?.ruleIndex, 0);
  assert.equal(second?.occurrence, 2);
  assert.equal(inj.next(lpInit)?.ruleIndex, 1);
  assert.equal(inj.next(sysInit)?.action.kind, 'skip');
  assert.equal(inj.next(site('tdcall', { 0: 35n })), undefined);
});

test('matcher: tdvmcall rules match TDCALL leaf 0 by R11; tdcall rules by leaf; P-SEAMLDR bit', () => {
  const inj = new FaultInjector(parseFaultPlan(['tdvmcall:MapGPA=r10:TDVMCALL_STATUS_RETRY', 'tdcall:TDG.VP.INFO=#UD', 'seamcall:SEAMLDR.INFO=vmfailinvalid']));
  assert.equal(inj.next(site('tdcall', { 0: 0n, 11: 0x10001n }))?.ruleIndex, 0);
  assert.equal(inj.next(site('tdcall', { 0: 0n, 11: 10n })), undefined);
  assert.equal(inj.next(site('tdcall', { 0: 1n }))?.ruleIndex, 1);
  assert.equal(inj.next(site('seamcall', { 0: 0x8000000000000000n }))?.ruleIndex, 2);
  assert.equal(inj.next(site('seamcall', { 0: 0n })), undefined); // TDH.VP.ENTER is not SEAMLDR.INFO
});

test('matcher: call site and register conditions', () => {
  const [r] = parseFaultPlan([{ where: 'tdcall', at: '__tdx_hypercall+0x1c', when: 'RCX == 0xFFCC', action: '#GP(0)' }]);
  const inj2 = new FaultInjector([r]);
  assert.equal(inj2.next(site('tdcall', { 1: 0xFFCCn }, 0x2000n, { name: '__tdx_hypercall', offset: 0x1cn }))?.action.kind, 'exception');
  assert.equal(inj2.next(site('tdcall', { 1: 0xFC00n }, 0x2000n, { name: '__tdx_hypercall', offset: 0x1cn })), undefined);
  assert.equal(inj2.next(site('tdcall', { 1: 0xFFCCn }, 0x2000n, { name: '__tdx_hypercall', offset: 0x20n })), undefined);
  assert.equal(inj2.next(site('tdcall', { 1: 0xFFCCn }, 0x2000n, { name: 'other', offset: 0x1cn })), undefined);
  const [byAddr] = parseFaultPlan([{ where: 'seamcall', at: '0x401000', action: 'skip' }]);
  const inj3 = new FaultInjector([byAddr]);
  assert.equal(inj3.next(site('seamcall', {}, 0x401000n))?.action.kind, 'skip');
  assert.equal(inj3.next(site('seamcall', {}, 0x401004n)), undefined);
});

test('determinism: same plan and calls → same hits; snapshot/restore rewinds the counters', () => {
  const plan = parseFaultPlan(['tdcall@3=#UD', 'tdvmcall:HLT@2=hostile']);
  const calls = [site('tdcall', { 0: 1n }), site('tdcall', { 0: 0n, 11: 12n }), site('tdcall', { 0: 0n, 11: 12n }), site('tdcall', { 0: 6n })];
  const trace = () => {
    const inj = new FaultInjector(plan, 5n);
    return calls.map((c) => inj.next(c)?.ruleIndex ?? -1);
  };
  assert.deepEqual(trace(), trace());
  assert.deepEqual(trace(), [-1, -1, 0, -1]);
  const inj = new FaultInjector(plan);
  inj.next(calls[0]);
  const snap = inj.snapshot();
  inj.next(calls[1]);
  assert.equal(inj.next(calls[2])?.ruleIndex, 0);
  inj.restore(snap);
  inj.next(calls[1]);
  assert.equal(inj.next(calls[2])?.ruleIndex, 0);
});

test('vmmOverrideFor: r10, hostile (plan seed), set on tdvmcall rules', () => {
  const inj = new FaultInjector(parseFaultPlan(['tdvmcall:HLT@1=r10:TDVMCALL_STATUS_INVALID_OPERAND', 'tdvmcall:HLT@2=hostile', 'tdvmcall:HLT@3=set:R11=7', 'tdcall@4=set:R11=7']));
  const hlt = site('tdcall', { 0: 0n, 11: 12n });
  assert.deepEqual(vmmOverrideFor(inj.next(hlt)!), { status: 0x8000000000000000n });
  assert.deepEqual(vmmOverrideFor(inj.next(hlt)!, 9n), { hostileSeed: 9n });
  assert.deepEqual(vmmOverrideFor(inj.next(hlt)!), { set: { R11: 7n } });
  assert.equal(vmmOverrideFor(inj.next(hlt)!), undefined, 'a tdcall set is applied by the platform after the call');
});
