// `tdxdbg demo` (`npm run demo`): a DAP session on the bundled example against the real adapter
// process; `--tour`: the examples on the emulated platform under several configurations — the
// call trace with decoded statuses, the struct overlay, what a fault or a misconfigured platform does.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Session } from '../emulator/session/session';
import type { LaunchConfig } from '../emulator/session/config';
import { runText, loadSession } from './run';
import { dapDemoCommand } from './dapDemo';

/** The examples folder beside the CLI (dist/../examples) or in the source tree. */
export function examplesDir(): string {
  for (const d of [join(__dirname, '..', 'examples'), join(__dirname, '..', '..', 'examples')]) {
    if (existsSync(join(d, 'hypercall.S'))) return d;
  }
  throw new Error('the bundled examples folder was not found next to the CLI');
}

async function show(title: string, config: LaunchConfig): Promise<boolean> {
  process.stdout.write(`\n=== ${title}\n$ tdxdbg run ${describe(config)}\n`);
  const s = await loadSession(config);
  if (typeof s === 'number') return false;
  const stop = s.run();
  process.stdout.write(runText(s, stop as Parameters<typeof runText>[1]) + '\n');
  void Session;
  return true;
}

function describe(c: LaunchConfig): string {
  const parts = [c.program.replace(/^.*[\\/](examples[\\/])/, '$1'), `--entry ${c.entry}`];
  for (const a of c.args ?? []) {
    if (typeof a === 'object' && 'buffer' in a) parts.push(`--buffer ${a.buffer}`);
    else if (typeof a === 'object') parts.push(`--struct ${a.struct}:${Object.entries(a.init ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`);
    else parts.push(`--arg ${a}`);
  }
  for (const [k, v] of Object.entries(c.platform ?? {})) parts.push(`--platform ${k.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())}=${v ? 1 : 0}`);
  for (const f of c.faults ?? []) parts.push(`--fault '${f}'`);
  for (const [k, v] of Object.entries(c.vmm?.scripts ?? {})) parts.push(`--vmm ${k}=${v.map((x) => String(x.status).replace('TDVMCALL_STATUS_', '')).join(',')}`);
  return parts.join(' ');
}

/**
 * `tdxdbg demo`: a debugging session on the bundled example driven over DAP against the real
 * adapter process (what an editor would show); `--tour` instead runs the examples under several
 * platforms and faults and prints each trace.
 */
export async function demoCommand(argv: string[]): Promise<number> {
  if (!argv.includes('--tour')) return dapDemoCommand(argv);
  return tour();
}

async function tour(): Promise<number> {
  const dir = examplesDir();
  const guest = join(dir, 'hypercall.S'), host = join(dir, 'seamcall.S');
  const mapGpa: LaunchConfig['args'] = [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } }];
  const runs: [string, LaunchConfig][] = [
    ['Guest: TDG.VP.VMCALL<MapGPA> through __tdcall_saved_ret', { program: guest, entry: 'tdx_hypercall', context: 'guest', args: mapGpa }],
    ['Guest: the VMM asks to retry MapGPA (R10 = TDVMCALL_STATUS_RETRY, R11 = where to resume)',
      { program: guest, entry: 'tdx_hypercall', context: 'guest', args: mapGpa, vmm: { scripts: { TDVMCALL_MAP_GPA: [{ status: 'TDVMCALL_STATUS_RETRY' }] } } }],
    ['Guest: an injected TDCALL failure ends in the panic path',
      { program: guest, entry: 'tdx_hypercall', context: 'guest', args: mapGpa, faults: ['tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID'] }],
    ['Host: TDH.SYS.INIT on a TDX-capable platform', { program: host, entry: 'tdx_sys_init', context: 'host' }],
    ['Host: CR4.VMXE clear — SEAMCALL raises #UD, the exception table turns it into TDX_SEAMCALL_UD',
      { program: host, entry: 'tdx_sys_init', context: 'host', platform: { vmxe: false } }],
    ['Host: TDX not enabled by the BIOS — #GP becomes TDX_SEAMCALL_GP', { program: host, entry: 'tdx_sys_init', context: 'host', platform: { tdxBios: false } }],
    ['Host: no TDX module loaded — VMfailInvalid', { program: host, entry: 'tdx_sys_init', context: 'host', platform: { module: false } }],
  ];
  let ok = true;
  for (const [title, cfg] of runs) ok = (await show(title, cfg)) && ok;
  return ok ? 0 : 1;
}
