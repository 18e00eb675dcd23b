// Stubs for the kernel functions that TDX code reaches but the Image does not define: they
// give `panic`, the printk family, the return and indirect-branch thunks and the TDX failure
// helpers their meaning, so a run ends with a clear reason instead of executing garbage.
// The launch configuration can add stubs that just return a value.

import { Cpu, addrToBig } from '../cpu/cpu';
import { MachineStop } from '../cpu/system';
import { Insn } from '../decode/insn';
import type { Machine } from '../machine';
import { pop64, jumpTo, readReg } from '../exec/operands';
import { controlHandlers } from '../exec/control';
import type { PlatformNote } from './events';

/** A user stub: the value to return (number or numeric string), or an object. */
export type StubSpec = number | string | { return?: number | string; stop?: string; log?: string };

/** What a stub stop carries (MachineStop.detail). */
export type StubStopDetail =
  | { kind: 'panic'; message: string; symbol: string }
  | { kind: 'undefined-symbol'; symbol: string }
  | { kind: 'stub-stop'; message: string; symbol: string };

const ARG_REGS = [7, 6, 2, 1, 8, 9]; // RDI RSI RDX RCX R8 R9

/** Returns from a stub to its caller (RAX = value), keeping the shadow call stack right. */
function stubReturn(c: Cpu, i: Insn, value: bigint | undefined): void {
  if (value !== undefined) c.setGpr(0, value);
  const lo = pop64(c), hi = c.th;
  jumpTo(c, lo, hi);
  controlHandlers.__popShadow(c, i);
}

/** Reads a NUL-terminated string (at most `max` bytes) for the debugger. */
export function readCString(m: Machine, address: bigint, max = 1024): string {
  const bytes: number[] = [];
  for (let k = 0; k < max; k++) {
    let b: number;
    try { b = m.readBytes(address + BigInt(k), 1)[0]; } catch { break; }
    if (b === 0) break;
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('latin1');
}

/**
 * Renders a printk-style format with SysV arguments: the first integer argument after the
 * format is `firstArg` (1 = RSI), later ones come from the stack above the return address.
 */
export function renderFormat(m: Machine, fmt: string, firstArg = 1): { level?: string; text: string } {
  let level: string | undefined;
  // KERN_<LEVEL> is SOH followed by a digit or 'c'.
  while (fmt.charCodeAt(0) === 1 && fmt.length >= 2) { level = fmt[1]; fmt = fmt.slice(2); }
  let argIndex = firstArg;
  const rsp = m.cpu.getGpr(4);
  const next = (): bigint => {
    const k = argIndex++;
    if (k < ARG_REGS.length) return m.cpu.getGpr(ARG_REGS[k]);
    try {
      return new DataView(m.readBytes(rsp + 8n + BigInt(k - ARG_REGS.length) * 8n, 8).buffer).getBigUint64(0, true);
    } catch { return 0n; }
  };
  const text = fmt.replace(/%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?(hh|h|ll|l|z|t|j)?([diuxXocspn%])(\w*)/g,
    (_all, flags: string, width: string | undefined, prec: string | undefined, len: string | undefined, conv: string, ext: string) => {
      if (conv === '%') return '%' + ext;
      const w = width === '*' ? Number(next()) : width ? Number(width) : 0;
      let v = next();
      const bits = len === 'hh' ? 8 : len === 'h' ? 16 : len && len !== '' ? 64 : 32;
      let s: string;
      switch (conv) {
        case 'd': case 'i': s = BigInt.asIntN(bits, v).toString(); break;
        case 'u': s = BigInt.asUintN(bits, v).toString(); break;
        case 'x': s = BigInt.asUintN(bits, v).toString(16); if (flags.includes('#') && v) s = '0x' + s; break;
        case 'X': s = BigInt.asUintN(bits, v).toString(16).toUpperCase(); if (flags.includes('#') && v) s = '0X' + s; break;
        case 'o': s = BigInt.asUintN(bits, v).toString(8); break;
        case 'c': s = String.fromCharCode(Number(v & 0xffn)); break;
        case 's': s = v ? readCString(m, v) : '(null)'; if (prec) s = s.slice(0, Number(prec)); break;
        case 'p': v = BigInt.asUintN(64, v); s = ext ? `0x${v.toString(16)}` : v.toString(16).padStart(16, '0'); ext = ''; break;
        default: s = '';
      }
      if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : flags.includes('0') && conv !== 's' ? s.padStart(w, '0') : s.padStart(w);
      return s + ext;
    });
  return { level, text };
}

const LEVELS: Record<string, string> = { '0': 'emerg', '1': 'alert', '2': 'crit', '3': 'err', '4': 'warning', '5': 'notice', '6': 'info', '7': 'debug', c: 'cont' };

/** Installs a stub for every undefined symbol of the Image at its address. */
export function installStubs(
  m: Machine,
  stubs: { name: string; address: bigint }[],
  user: Record<string, StubSpec>,
  note: (n: PlatformNote) => void,
): void {
  for (const { name, address } of stubs) {
    m.hookAddress(address, stubHandler(m, name, user[name], note));
  }
}

function parseValue(v: number | string): bigint {
  return typeof v === 'number' ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : BigInt.asUintN(64, BigInt(v));
}

function stubHandler(m: Machine, name: string, spec: StubSpec | undefined, note: (n: PlatformNote) => void): (c: Cpu, i: Insn) => void {
  const at = (i: Insn) => addrToBig(i.addr);
  if (spec !== undefined) {
    const o = typeof spec === 'object' ? spec : { return: spec };
    return (c, i) => {
      if (o.log) note({ kind: 'stub', name, address: at(i), text: o.log });
      if (o.stop !== undefined) throw new MachineStop('platform', `${name}: ${o.stop}`, true, { kind: 'stub-stop', message: o.stop, symbol: name } satisfies StubStopDetail);
      stubReturn(c, i, o.return === undefined ? 0n : parseValue(o.return));
    };
  }
  const thunk = /^__x86_indirect_thunk_(r(?:[abcd]x|[sd]i|[sb]p|\d+))$/.exec(name);
  if (thunk) {
    // Retpoline thunk: an indirect jump through the named register.
    const reg = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'].indexOf(thunk[1]);
    const num = reg >= 0 ? reg : Number(thunk[1].slice(1));
    return (c) => { const lo = readReg(c, num, 8); jumpTo(c, lo, c.th); };
  }
  switch (name) {
    case '__x86_return_thunk':
      // Reached by `jmp __x86_return_thunk` in place of `ret`: it returns from the caller.
      return (c, i) => stubReturn(c, i, undefined);
    case 'panic':
      return (_c, i) => {
        const { text } = renderFormat(m, readCString(m, m.cpu.getGpr(7)));
        throw new MachineStop('platform', `Kernel panic - not syncing: ${text.trimEnd()}`, true, { kind: 'panic', message: text.trimEnd(), symbol: name } satisfies StubStopDetail);
      };
    case '__tdx_hypercall_failed':
      // The kernel panics here: the TDCALL mechanism itself failed (RAX != 0).
      return () => {
        throw new MachineStop('platform', 'Kernel panic - not syncing: TDVMCALL failed. TDX module bug?', true,
          { kind: 'panic', message: 'TDVMCALL failed. TDX module bug?', symbol: name } satisfies StubStopDetail);
      };
    case 'printk': case '_printk': case '__warn_printk': case 'warn_slowpath_fmt': case 'pr_err': {
      const firstArg = name === 'warn_slowpath_fmt' ? 3 : 1;
      return (c, i) => {
        const fmtReg = name === 'warn_slowpath_fmt' ? 2 : 7;
        const { level, text } = renderFormat(m, readCString(m, c.getGpr(fmtReg)), firstArg);
        note({ kind: 'log', level: name === '__warn_printk' ? 'warning' : LEVELS[level ?? '4'] ?? 'warning', text: text.replace(/\n$/, ''), address: at(i) });
        stubReturn(c, i, BigInt(text.length));
      };
    }
  }
  if (/^(__fentry__|__sanitizer_cov_|__kasan_|__tsan_|__ubsan_|__kcsan_|instrumentation_)/.test(name)) {
    return (c, i) => stubReturn(c, i, 0n);
  }
  return () => {
    throw new MachineStop('platform', `call to undefined symbol '${name}' (add a stub in the launch configuration's "stubs", e.g. "${name}": 0)`, true,
      { kind: 'undefined-symbol', symbol: name } satisfies StubStopDetail);
  };
}
