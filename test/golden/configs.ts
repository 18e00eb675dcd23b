// The launch configurations whose step traces are held as golden files (test/golden/traces/):
// the bundled examples as the README runs them, on their success paths and on injected faults.

import { fromRoot } from '../support/paths';

export interface GoldenConfig { name: string; config: Record<string, unknown> }

const hypercall = fromRoot('examples/hypercall.S');
const seamcall = fromRoot('examples/seamcall.S');
const mapGpa = { struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } };

export const GOLDEN_CONFIGS: GoldenConfig[] = [
  { name: 'hypercall-map-gpa', config: { program: hypercall, entry: 'tdx_hypercall', args: [mapGpa] } },
  { name: 'hypercall-map-gpa-retry', config: { program: hypercall, entry: 'tdx_hypercall', args: [mapGpa], faults: ['tdvmcall:MapGPA=r10:TDVMCALL_STATUS_RETRY'] } },
  { name: 'hypercall-status-panic', config: { program: hypercall, entry: 'tdx_hypercall', args: [mapGpa], faults: ['tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID'] } },
  { name: 'seamcall-sys-init', config: { program: seamcall, entry: 'tdx_sys_init' } },
  { name: 'seamcall-sys-init-gp', config: { program: seamcall, entry: 'tdx_sys_init', faults: ['seamcall=#GP'] } },
  { name: 'seamcall-sys-init-no-vmxe', config: { program: seamcall, entry: 'tdx_sys_init', platform: { vmxe: 0 } } },
  {
    name: 'custom-get-quote',
    config: {
      program: fromRoot('examples/custom/quote.S'), entry: 'get_quote',
      headers: [fromRoot('examples/custom/quote.h')], asmOffsets: fromRoot('examples/custom/asm-offsets.c'),
      args: [{ struct: 'quote_req', init: { buf_gpa: '0x800000200000', buf_len: 4096 } }],
    },
  },
];
