// Stubs for the kernel functions that TDX code reaches but the Image does not define: they
// give `panic`, the printk family, the return and indirect-branch thunks and the TDX failure
// helpers their meaning, so a run ends with a clear reason instead of executing garbage.
// The launch configuration can add stubs that just return a value.

import { Cpu, addrToBig } from '../cpu/cpu';
import { MachineStop } from '../cpu/system';
import { Insn } from '../decode/insn';
import type { Machine } from '../machine';
import { pop64, jumpTo, readReg, popShadow } from '../exec/operands';
import type { PlatformNote } from './events';
import { builtinStub, type KernelHeap, type CpuAreas } from './kernelStubs';

function le(v: bigint, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = BigInt.asUintN(64, v);
  for (let k = 0; k < size; k++) { b[k] = Number(x & 0xffn); x >>= 8n; }
  return b;
}

/** A value a stub returns or writes: a number, or an expression of `arg0`..`arg5`, numbers and constants (`arg1 * 2 + 1`). */
export type StubValue = number | string;

/** One write through a pointer argument (an out-parameter). */
export interface StubWrite {
  /** The argument holding the pointer (0 = RDI … 5 = R9). */
  arg: number;
  /** Added to the pointer. Default 0. */
  offset?: number;
  /** Bytes written for a value: 1, 2, 4 or 8 (default 8). */
  size?: number;
  /** The value, or bytes. */
  value: StubValue | number[];
}

/** What a stub does when called. */
export interface StubEffect {
  return?: StubValue;
  /** Out-parameters: writes through pointer arguments, before returning. */
  write?: StubWrite[];
  /** Jumps to this function of the image with the same arguments (its result is the stub's). */
  call?: string;
  /** Stops the run with this message. */
  stop?: string;
  /** A line for the debug console. */
  log?: string;
}

/** A user stub: the value to return (number or expression), an effect, or a sequence of effects for successive calls (the last repeats). */
export type StubSpec = StubValue | (StubEffect & { sequence?: StubEffect[] });

/** What a stub stop carries (MachineStop.detail). */
export type StubStopDetail =
  | { kind: 'panic'; message: string; symbol: string }
  | { kind: 'undefined-symbol'; symbol: string }
  | { kind: 'stub-stop'; message: string; symbol: string };

const ARG_REGS = [7, 6, 2, 1, 8, 9]; // RDI RSI RDX RCX R8 R9

/** Returns from a stub to its caller (RAX = value), keeping the shadow call stack right. */
function stubReturn(c: Cpu, _i: Insn, value: bigint | undefined): void {
  if (value !== undefined) c.setGpr(0, value);
  const lo = pop64(c), hi = c.readHigh;
  jumpTo(c, lo, hi);
  popShadow(c, c.rip);
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

/** What installStubs needs beyond the machine: constants for expressions, the heap, the CPUs, a return trampoline. */
export interface StubEnvironment {
  /** A constant or symbol of the image (undefined: not one). */
  constant: (name: string) => bigint | undefined;
  /** Address of a function of the image. */
  functionAddress: (name: string) => bigint | undefined;
  heap: KernelHeap;
  cpus: CpuAreas;
  /** An executable address stubs return through when they call into the image. */
  trampoline: bigint;
  /** The build-tree object that defines an undefined symbol the link left out, for the stop message. */
  definedIn?: (name: string) => string | undefined;
}

/** Calls that stubs made into the image and that have not returned yet (their continuations). */
export class StubCalls {
  pending: { rsp: bigint; then: () => void }[] = [];
  counts = new Map<string, number>();
  snapshot(): { pending: StubCalls['pending']; counts: [string, number][] } { return { pending: [...this.pending], counts: [...this.counts] }; }
  restore(s: ReturnType<StubCalls['snapshot']>): void { this.pending = [...s.pending]; this.counts = new Map(s.counts); }
}

/** A bad stub in the launch configuration (names the attribute). */
export class StubConfigError extends Error {
  constructor(readonly attribute: string, message: string) { super(message); }
}

/** Installs a stub for every undefined symbol of the Image at its address. Throws StubConfigError for a bad user stub. */
export function installStubs(
  m: Machine,
  stubs: { name: string; address: bigint }[],
  user: Record<string, StubSpec>,
  note: (n: PlatformNote) => void,
  env?: StubEnvironment,
): StubCalls {
  const state = new StubCalls();
  if (env) {
    m.hookAddress(env.trampoline, (c) => {
      const k = state.pending.pop();
      if (!k) throw new MachineStop('platform', 'return into the stub trampoline with no stub call pending', true);
      c.setGpr(4, k.rsp); // drop the alignment slot
      k.then();
    });
  }
  for (const [name, spec] of Object.entries(user)) checkStub(name, spec, env);
  for (const { name, address } of stubs) {
    m.hookAddress(address, stubHandler(m, name, user[name], note, env, state));
  }
  return state;
}

function checkStub(name: string, spec: StubSpec, env: StubEnvironment | undefined): void {
  const effects = typeof spec === 'object' ? [spec, ...(spec.sequence ?? [])] : [{ return: spec }];
  const known = new Set(['return', 'write', 'call', 'stop', 'log', 'sequence']);
  effects.forEach((e, k) => {
    const at = k === 0 ? `stubs.${name}` : `stubs.${name}.sequence[${k - 1}]`;
    for (const key of Object.keys(e)) if (!known.has(key) || (k > 0 && key === 'sequence')) throw new StubConfigError(`${at}.${key}`, `is not a stub key (known: return, write, call, stop, log${k === 0 ? ', sequence' : ''})`);
    if (e.return !== undefined) parseExpression(e.return, `${at}.return`, env);
    if (e.call !== undefined && env && env.functionAddress(e.call) === undefined) throw new StubConfigError(`${at}.call`, `names '${e.call}', which is not a function of the program`);
    if (e.write !== undefined) {
      if (!Array.isArray(e.write)) throw new StubConfigError(`${at}.write`, 'must be an array of { "arg": 0-5, "offset": n, "size": 1|2|4|8, "value": … }');
      e.write.forEach((w, j) => {
        const wa = `${at}.write[${j}]`;
        if (typeof w !== 'object' || w === null || !Number.isInteger(w.arg) || w.arg < 0 || w.arg > 5) throw new StubConfigError(`${wa}.arg`, 'must be the pointer argument 0-5 (RDI, RSI, RDX, RCX, R8, R9)');
        if (w.size !== undefined && ![1, 2, 4, 8].includes(w.size)) throw new StubConfigError(`${wa}.size`, 'must be 1, 2, 4 or 8');
        if (w.offset !== undefined && !Number.isInteger(w.offset)) throw new StubConfigError(`${wa}.offset`, 'must be an integer');
        if (Array.isArray(w.value)) { if (!w.value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) throw new StubConfigError(`${wa}.value`, 'as an array must hold bytes 0-255'); }
        else if (w.value === undefined) throw new StubConfigError(`${wa}.value`, 'is missing');
        else parseExpression(w.value, `${wa}.value`, env);
      });
    }
  });
}

type Expr = (args: bigint[]) => bigint;

/** Parses a stub value: a number, or an expression of arg0..arg5, numbers, constants, + - * / % & | ^ << >> ~ and parentheses. */
export function parseExpression(v: StubValue, attribute: string, env: StubEnvironment | undefined): Expr {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new StubConfigError(attribute, `${v} is not a safe integer (write large values as "0x…" strings)`);
    const x = BigInt.asUintN(64, BigInt(v));
    return () => x;
  }
  const toks = v.match(/0x[0-9a-f]+|\d+|[A-Za-z_]\w*|<<|>>|[-+*/%&|^~()]|\S/gi) ?? [];
  let p = 0;
  const fail = (why: string): never => { throw new StubConfigError(attribute, `"${v}": ${why}`); };
  const prec: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
  const primary = (): Expr => {
    const t = toks[p++];
    if (t === undefined) return fail('ends too early');
    if (t === '(') { const e = binary(0); if (toks[p++] !== ')') fail('a ")" is missing'); return e; }
    if (t === '-') { const e = primary(); return (a) => -e(a); }
    if (t === '~') { const e = primary(); return (a) => ~e(a); }
    if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) { const x = BigInt(t); return () => x; }
    const arg = /^arg([0-5])$/.exec(t);
    if (arg) { const k = Number(arg[1]); return (a) => a[k]; }
    if (/^[A-Za-z_]\w*$/.test(t)) {
      const c = env?.constant(t);
      if (c === undefined) fail(`'${t}' is neither arg0..arg5 nor a constant or symbol of the program`);
      return () => c as bigint;
    }
    return fail(`unexpected '${t}'`);
  };
  const binary = (min: number): Expr => {
    let left = primary();
    for (;;) {
      const op = toks[p];
      const q = op === undefined ? undefined : prec[op];
      if (q === undefined || q <= min) return left;
      p++;
      const l = left, r = binary(q);
      left = (a) => {
        const x = l(a), y = r(a);
        switch (op) {
          case '+': return x + y; case '-': return x - y; case '*': return x * y;
          case '/': return y === 0n ? 0n : BigInt.asUintN(64, x) / BigInt.asUintN(64, y);
          case '%': return y === 0n ? 0n : BigInt.asUintN(64, x) % BigInt.asUintN(64, y);
          case '&': return x & y; case '|': return x | y; case '^': return x ^ y;
          case '<<': return x << (y & 63n); default: return BigInt.asUintN(64, x) >> (y & 63n);
        }
      };
    }
  };
  const e = binary(0);
  if (p !== toks.length) fail(`unexpected '${toks[p]}'`);
  return (a) => BigInt.asUintN(64, e(a));
}


function stubStop(name: string, message: string): never {
  throw new MachineStop('platform', `${name}: ${message}`, true, { kind: 'stub-stop', message, symbol: name } satisfies StubStopDetail);
}

/** Pushes an alignment slot and the trampoline, then jumps to `fn` with `args`; `then` runs on its return. */
function callIntoImage(c: Cpu, env: StubEnvironment, state: StubCalls, fn: bigint, args: bigint[], then: () => void): void {
  const rsp = c.getGpr(4);
  state.pending.push({ rsp, then });
  args.forEach((a, k) => c.setGpr(ARG_REGS[k], a));
  const sp = rsp - 16n;
  c.setGpr(4, sp);
  const t = BigInt.asUintN(64, env.trampoline);
  c.mem.write64(Number(BigInt.asIntN(64, sp)), Number(t & 0xffffffffn) | 0, Number(t >> 32n) | 0);
  const f = BigInt.asUintN(64, fn);
  jumpTo(c, Number(f & 0xffffffffn) | 0, Number(BigInt.asIntN(32, f >> 32n)));
}

function stubHandler(m: Machine, name: string, spec: StubSpec | undefined, note: (n: PlatformNote) => void, env: StubEnvironment | undefined, state: StubCalls): (c: Cpu, i: Insn) => void {
  const at = (i: Insn) => addrToBig(i.addr);
  const args = (c: Cpu) => ARG_REGS.map((r) => c.getGpr(r));
  if (spec !== undefined) {
    const o = typeof spec === 'object' ? spec : { return: spec };
    const base: StubEffect = { return: o.return, write: o.write, call: o.call, stop: o.stop, log: o.log };
    const seq = typeof spec === 'object' && spec.sequence?.length ? spec.sequence : [base];
    const compiled = seq.map((e, k) => {
      const a = typeof spec === 'object' && spec.sequence?.length ? `stubs.${name}.sequence[${k}]` : `stubs.${name}`;
      return {
        e, ret: e.return === undefined ? undefined : parseExpression(e.return, `${a}.return`, env),
        writes: (e.write ?? []).map((w, j) => ({ w, attr: `${a}.write[${j}]`, value: Array.isArray(w.value) ? undefined : parseExpression(w.value, `${a}.write[${j}].value`, env) })),
      };
    });
    return (c, i) => {
      const n = state.counts.get(name) ?? 0;
      state.counts.set(name, n + 1);
      const { e, ret, writes } = compiled[Math.min(n, compiled.length - 1)];
      const a = args(c);
      if (e.log) note({ kind: 'stub', name, address: at(i), text: e.log });
      if (e.stop !== undefined) stubStop(name, e.stop);
      for (const { w, attr, value } of writes) {
        const ptr = BigInt.asUintN(64, a[w.arg] + BigInt(w.offset ?? 0));
        const bytes = value ? le(value(a), w.size ?? 8) : Uint8Array.from(w.value as number[]);
        try { m.writeBytes(ptr, bytes); } catch (err) {
          stubStop(name, `out-parameter write (${attr}: ${bytes.length} bytes through ${['RDI', 'RSI', 'RDX', 'RCX', 'R8', 'R9'][w.arg]} = 0x${a[w.arg].toString(16)}${w.offset ? ` + ${w.offset}` : ''}) failed: ${(err as Error).message}`);
        }
      }
      if (e.call !== undefined) {
        const f = env?.functionAddress(e.call);
        if (f === undefined) stubStop(name, `"call": '${e.call}' is not a function of the program`);
        jumpTo(c, Number(f & 0xffffffffn) | 0, Number(BigInt.asIntN(32, f >> 32n)));
        return;
      }
      stubReturn(c, i, ret ? ret(a) : 0n);
    };
  }
  if (env) {
    let insn: Insn | undefined;
    const b = builtinStub(name, {
      m, heap: env.heap, cpus: env.cpus, note,
      arg: (k) => m.cpu.getGpr(ARG_REGS[k]),
      ret: (v) => stubReturn(m.cpu, insn as Insn, v),
      callImage: (fn, a, then) => callIntoImage(m.cpu, env, state, fn, a, then),
      stop: (message) => stubStop(name, message),
    });
    if (b) return (_c, i) => { insn = i; b(); };
  }
  const thunk = /^__x86_indirect_thunk_(r(?:[abcd]x|[sd]i|[sb]p|\d+))$/.exec(name);
  if (thunk) {
    // Retpoline thunk: an indirect jump through the named register.
    const reg = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'].indexOf(thunk[1]);
    const num = reg >= 0 ? reg : Number(thunk[1].slice(1));
    return (c) => { const lo = readReg(c, num, 8); jumpTo(c, lo, c.readHigh); };
  }
  switch (name) {
    case '__x86_return_thunk':
      // Reached by `jmp __x86_return_thunk` in place of `ret`: it returns from the caller.
      return (c, i) => stubReturn(c, i, undefined);
    case 'panic':
      return (_c, _i) => {
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
  const tree = env?.definedIn?.(name);
  const hint = tree
    ? `: ${tree} of the build tree defines it, but the link left it out (no path from where the run starts was seen to reach this call) — name that object in "objects", or add a stub in "stubs"`
    : ` (add a stub in the launch configuration's "stubs", e.g. "${name}": 0)`;
  return () => {
    throw new MachineStop('platform', `call to undefined symbol '${name}'${hint}`, true,
      { kind: 'undefined-symbol', symbol: name } satisfies StubStopDetail);
  };
}
