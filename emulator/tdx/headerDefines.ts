// The `#define`s a kernel header of one generation has, read from the catalogue's header tags:
// every leaf, sub-function, status, exit reason and constant carries the headers and
// generations that define it, so the built-in headers hold no number of their own.

import { TDX_ABI_CONSTANTS } from './abiConstants';
import { definedIn, formatHeaderValue, type Generation, type HeaderDefinition, type KernelHeader } from './generation';
import { SEAMCALL_LEAVES, SEAMLDR_LEAVES, TDCALL_LEAVES } from './leaves';
import { TDVMCALL_STATUS_CODES, TDX_STATUS_CODES } from './statusCatalog';
import { TDVMCALL_SUBFUNCTIONS, VMX_EXIT_REASON_LIST } from './vmcalls';

/** A tagged catalogue entry: its kernel symbol, value(s) and header tags. */
interface Tagged {
  name: string;
  value: bigint;
  alternative?: bigint;
  text?: string;
  headers?: readonly HeaderDefinition[];
}

function tagged(): Tagged[] {
  return [
    ...TDX_ABI_CONSTANTS,
    ...[...TDCALL_LEAVES, ...SEAMCALL_LEAVES, ...SEAMLDR_LEAVES].map((l) => ({ name: l.symbol, value: l.rax, headers: l.headers })),
    ...TDVMCALL_SUBFUNCTIONS,
    ...TDX_STATUS_CODES.map((c) => ({ name: c.name, value: c.value, alternative: c.alternativeValues?.[0], headers: c.headers })),
    ...TDVMCALL_STATUS_CODES,
    ...VMX_EXIT_REASON_LIST.map((e) => ({ name: e.name, value: BigInt(e.value), headers: e.headers })),
  ];
}

/** `[macro, C text]` for every catalogue entry `header` defines in generation `g`, in catalogue order. */
export function kernelHeaderDefines(header: KernelHeader, g: Generation): [string, string][] {
  const out: [string, string][] = [];
  for (const e of tagged()) {
    for (const d of e.headers ?? []) {
      if (d.header !== header || !definedIn(d, g)) continue;
      const value = d.kernelValue && e.alternative !== undefined ? e.alternative : e.value;
      out.push([d.name ?? e.name, d.expr ?? e.text ?? formatHeaderValue(value, d.format)]);
    }
  }
  return out;
}
