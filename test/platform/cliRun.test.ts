// `tdxdbg run` as a contract (issue 4): spawns the built CLI (dist/cli.js) and checks the
// --json shape, exit codes (0 returned, 1 otherwise, 2 bad usage; 1 for assembler errors),
// every --platform key, the --fault forms, --arg/--struct order, --config with a commented
// launch.json, and one-line errors for bad input. Runs are spawned in parallel to stay fast.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../support/paths';
import { fixture } from './harness';

const CLI = fromRoot('dist/cli.js');
const HYPERCALL = fromRoot('examples/hypercall.S');
const SEAMCALL = fromRoot('examples/seamcall.S');
const MAPGPA = '--struct=tdx_module_args:r11=TDVMCALL_MAP_GPA,r12=0x100000,r13=0x2000';

interface Out { code: number; stdout: string; stderr: string; json?: any }

function tdxdbg(...args: string[]): Promise<Out> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, 'run', ...args], { cwd: fromRoot('.'), timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      let json: unknown;
      if (args.includes('--json') && stdout.trim().startsWith('{')) json = JSON.parse(stdout);
      done({ code, stdout, stderr, json });
    });
  });
}

/** Kernel errno values as tdx_sys_init() in examples/seamcall.S returns them (int → u32). */
const errno = (n: number) => '0x' + (2 ** 32 - n).toString(16);
const ENODEV = errno(19), EOPNOTSUPP = errno(95), EACCES = errno(13), EIO = errno(5);

before(() => { assert.ok(existsSync(CLI), 'dist/cli.js missing: run `node scripts/build.mjs --dist` first'); });

test('--json: the object issue 4 specifies (stop, registers, structs, calls, instructions); exit 0 when returned', async () => {
  const r = await tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', MAPGPA, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.deepEqual(Object.keys(j).filter((k) => ['stop', 'registers', 'structs', 'calls', 'instructions'].includes(k)).sort(), ['calls', 'instructions', 'registers', 'stop', 'structs']);
  assert.equal(j.stop.reason, 'returned');
  assert.equal(typeof j.stop.message, 'string');
  assert.equal(j.stop.vector, undefined);
  for (const reg of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']) {
    assert.match(j.registers[reg], /^0x[0-9a-f]+$/, reg);
  }
  assert.equal(j.structs.args.r11, '0x10001');
  assert.equal(j.structs.args.rcx, '0xffcc');
  assert.equal(j.calls.length, 1);
  const c = j.calls[0];
  assert.deepEqual({ seq: c.seq, insn: c.insn, leaf: c.leaf, subfunction: c.subfunction, status: c.status, statusName: c.statusName, injected: c.injected },
    { seq: 1, insn: 'tdcall', leaf: 'TDG.VP.VMCALL', subfunction: 'MapGPA', status: '0x0', statusName: 'TDX_SUCCESS', injected: false });
  assert.equal(c.fault, undefined);
  assert.ok(Number.isInteger(j.instructions) && j.instructions > 0);
});

test('--fault forms on the guest: status:, r10:, hostile (exit 1 on the panic, 0 when the wrapper returns)', async () => {
  const [status, r10, hostile, numeric] = await Promise.all([
    tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', MAPGPA, '--fault', 'tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID', '--json'),
    tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', MAPGPA, '--fault', 'tdvmcall:MapGPA=r10:TDVMCALL_STATUS_RETRY', '--json'),
    tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', MAPGPA, '--fault', 'tdcall:TDG.VP.VMCALL=hostile', '--json'),
    tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', MAPGPA, '--fault', 'tdcall:0@1=status:0xC000010000000001', '--json'),
  ]);
  assert.equal(status.code, 1);
  assert.equal(status.json.stop.reason, 'panic');
  assert.deepEqual([status.json.calls[0].status, status.json.calls[0].statusName, status.json.calls[0].injected], ['0xc000010000000000', 'TDX_OPERAND_INVALID', true]);
  assert.equal(r10.code, 0, r10.stderr);
  assert.equal(r10.json.registers.rax, '0x1', 'the wrapper returns R10 = TDVMCALL_STATUS_RETRY');
  assert.equal(r10.json.calls[0].injected, true);
  assert.equal(hostile.code, 0, hostile.stderr);
  assert.equal(hostile.json.calls[0].injected, true);
  assert.notEqual(hostile.json.structs.args.r14, '0x0', 'garbage came back in an exposed non-output register');
  assert.equal(numeric.code, 1);
  assert.equal(numeric.json.calls[0].status, '0xc000010000000001');
});

test('--fault forms on the host: seamcall=#GP, #GP(code), #PF, vmfailinvalid, skip, set:REG=VALUE', async () => {
  const run = (rule: string) => tdxdbg(SEAMCALL, '--entry', 'tdx_sys_init', '--fault', rule, '--json');
  const [gp, gpCode, pf, vmfail, skip, set] = await Promise.all([
    run('seamcall=#GP'), run('seamcall:TDH.SYS.INIT@1=#GP(0x10)'), run('seamcall=#PF'), run('seamcall=vmfailinvalid'), run('seamcall=skip'), run('seamcall=set:rax=0x8000020300000000'),
  ]);
  for (const r of [gp, gpCode, pf, vmfail, skip, set]) { assert.equal(r.code, 0, r.stderr); assert.equal(r.json.calls[0].injected, true); }
  assert.deepEqual([gp.json.calls[0].fault, gp.json.registers.rax], ['#GP', EOPNOTSUPP]); // TDX_SEAMCALL_GP → -EOPNOTSUPP
  assert.equal(gpCode.json.calls[0].fault, '#GP');
  assert.deepEqual([pf.json.calls[0].fault, pf.json.registers.rax], ['#PF', EIO]); // SW_ERROR | 14 is no known code → -EIO
  assert.deepEqual([vmfail.json.calls[0].fault, vmfail.json.registers.rax], ['VMfailInvalid', ENODEV]);
  assert.equal(skip.json.registers.rax, EIO, 'RAX kept the leaf number (33): a non-zero status');
  assert.equal(set.json.registers.rax, EIO, 'RAX = TDX_RND_NO_ENTROPY after the call');
  assert.ok(gp.json.output.some((l: string) => /fixed up by the exception table/.test(l)));
});

test('every --platform key: vmxe, vmxon, tdx-bios, module, cpl, feature-control, no-rbp-mod', async () => {
  const run = (...p: string[]) => tdxdbg(SEAMCALL, '--entry', 'tdx_sys_init', ...p.flatMap((x) => ['--platform', x]), '--json');
  const [vmxe, vmxon, bios, mod, cpl, fc] = await Promise.all([
    run('vmxe=0'), run('vmxon=0'), run('tdx-bios=0'), run('module=0'), run('cpl=3'), run('feature-control=0x1', 'vmxe=1'),
  ]);
  assert.equal(vmxe.json.registers.rax, EACCES);
  assert.equal(vmxe.json.calls[0].fault, '#UD');
  assert.equal(vmxon.json.registers.rax, EACCES);
  assert.equal(bios.json.registers.rax, EOPNOTSUPP);
  assert.equal(mod.json.registers.rax, ENODEV);
  assert.equal(mod.json.calls[0].fault, 'VMfailInvalid');
  assert.equal(cpl.json.calls[0].fault, '#GP');
  assert.equal(fc.json.registers.rax, '0x0', 'FEATURE_CONTROL does not affect an already-on VMX');
  const rbp = await tdxdbg(fixture('vmcalls.S'), '--entry', '__tdcall_ret', '--generation', 'G5', '--context', 'guest', '--arg', '0',
    '--struct', 'tdx_module_args:rcx=0xffec,r11=12', '--platform', 'no-rbp-mod=1', '--json');
  assert.equal(rbp.code, 0, rbp.stderr);
  assert.equal(rbp.json.registers.rax, '0xc000010000000001', 'RBP exposed with no_rbp_mod → OPERAND_INVALID+RCX');
});

test('--arg and --struct fill SysV arguments in the order given (a struct passes its address)', async () => {
  const r = await tdxdbg(fixture('hypercall-g1.S'), '--entry', '__tdx_module_call', '--generation', 'G1', '--context', 'guest',
    '--arg', '1', '--arg', '0x11', '--arg', '0x22', '--arg', '0x33', '--arg', '0x44', '--struct', 'tdx_module_output', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.calls[0].leaf, 'TDG.VP.INFO');
  assert.equal(r.json.structs.args.rcx, '0x30', 'TDG.VP.INFO RCX = 48 written through R9 = &out');
});

test('--config: a VS Code launch.json with comments and trailing commas; CLI flags add to it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-'));
  const launch = join(dir, 'launch.json');
  writeFileSync(launch, `{
  // VS Code writes comments here
  "version": "0.2.0",
  "configurations": [
    { "type": "node", "name": "other", "request": "launch" },
    {
      "type": "tdx", "request": "launch", "name": "sys init", /* block comment */
      "program": ${JSON.stringify(SEAMCALL)},
      "entry": "tdx_sys_init",
      "platform": { "tdxBios": false },
      "faults": [{ "where": "seamcall", "leaf": "TDH.SYS.INIT", "nth": 2, "action": "#UD" }],
    },
  ],
}`);
  const [plain, more] = await Promise.all([
    tdxdbg('--config', launch, '--json'),
    tdxdbg('--config', `${launch}#sys init`, '--platform', 'tdx-bios=1', '--platform', 'module=0', '--json'),
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.json.registers.rax, EOPNOTSUPP);
  assert.equal(more.code, 0, more.stderr);
  assert.equal(more.json.registers.rax, ENODEV);
});

test('bad input: a one-line error naming the offending argument, no stack trace, exit 2 (1 for assembler errors)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdxdbg-'));
  const broken = join(dir, 'broken.S');
  writeFileSync(broken, '\t.text\nf:\n\tmovq %rax\n\tret\n');
  const badVmm = join(dir, 'launch.json');
  writeFileSync(badVmm, JSON.stringify({ program: SEAMCALL, entry: 'tdx_sys_init', vmm: { scripts: { MapGPA: [{ status: 'MAYBE' }] } } }));
  const cases: [string[], RegExp, number][] = [
    [[join(dir, 'missing.S'), '--entry', 'f'], /program.*does not exist/, 2],
    [[SEAMCALL, '--entry', 'no_such_fn'], /entry.*no_such_fn/, 2],
    [[HYPERCALL, '--entry', 'tdx_hypercall', '--fault', 'tdcall:TDG.VP.VMCAL=#UD'], /TDG\.VP\.VMCAL.*did you mean TDG\.VP\.VMCALL/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--fault', 'seamcall=#GP(x)'], /error code "x"/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--fault', 'tdcall=vmfailinvalid'], /vmfailinvalid applies to seamcall only/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--platform', 'cpl=7'], /cpl=7/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--platform', 'warp=1'], /unknown key 'warp'/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--vmm', 'MapGPA=MAYBE'], /MAYBE/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--frobnicate'], /unknown option '--frobnicate'/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--context', 'cloud'], /--context.*cloud/, 2],
    [[SEAMCALL, '--entry', 'tdx_sys_init', '--struct', 'tdx_module_args:bogus=1'], /bogus/, 2],
    [['--config', badVmm], /"vmm\.scripts\.MapGPA\[0\]\.status".*MAYBE/, 2],
    [[broken, '--entry', 'f'], /broken\.S:3:\d+/, 1],
  ];
  const outs = await Promise.all(cases.map(([a]) => tdxdbg(...a)));
  outs.forEach((o, k) => {
    const [args, re, code] = cases[k];
    const what = args.join(' ');
    assert.equal(o.code, code, `${what}: exit ${o.code}; stderr: ${o.stderr}`);
    const first = o.stderr.split('\n')[0];
    assert.match(first, re, what);
    assert.doesNotMatch(o.stderr, /^\s+at /m, `${what}: no stack trace`);
    assert.equal(o.stdout, '', `${what}: nothing on stdout`);
  });
});

test('exit 1 for every stop other than returned (exception, fatal-error), with vector and message in --json', async () => {
  const [ud, fatal] = await Promise.all([
    tdxdbg(fixture('hypercall-g0.S'), '--entry', '__tdx_hypercall', '--generation', 'G0', '--context', 'guest',
      '--struct', 'tdx_hypercall_args:r11=12', '--arg', '0', '--fault', 'tdcall=status:TDX_OPERAND_INVALID', '--json'),
    tdxdbg(HYPERCALL, '--entry', 'tdx_hypercall', '--struct', 'tdx_module_args:r11=0x10003,r14=0x6e69616c6c6976', '--json'),
  ]);
  assert.equal(ud.code, 1);
  assert.deepEqual([ud.json.stop.reason, ud.json.stop.vector], ['exception', 6]);
  assert.match(ud.json.stop.message, /#UD/);
  assert.equal(fatal.code, 1);
  assert.equal(fatal.json.stop.reason, 'fatal-error');
  assert.match(fatal.json.stop.message, /villain/);
});

test('--call-history N keeps the N most recent calls and says how many older ones were dropped (text and --json)', async () => {
  const LOOP = fromRoot('test/dap/fixtures/callloop.S');
  const args = [LOOP, '--entry', 'call_loop', '--context', 'guest', '--arg', '300', '--call-history', '50'];
  const [text, json, bad] = await Promise.all([tdxdbg(...args), tdxdbg(...args, '--json'), tdxdbg(LOOP, '--entry', 'call_loop', '--call-history', '0')]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /250 older calls dropped \(the 50 most recent are kept; --call-history keeps more\): 250 × TDCALL TDG\.VP\.INFO/);
  assert.match(text.stdout, /#251 TDCALL TDG\.VP\.INFO/);
  assert.doesNotMatch(text.stdout, /#250 TDCALL/);
  assert.equal(json.json.calls.length, 50);
  assert.equal(json.json.calls[0].seq, 251);
  assert.deepEqual(json.json.callsDropped, { count: 250, byTitle: { 'TDCALL TDG.VP.INFO': 250 } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--call-history needs a positive integer \(got '0'\)/);
});
