// Scopes and variables: Registers (GPRs with their 32/16/8-bit parts, RIP, RFLAGS bit by bit
// with the conditional jumps that would be taken, CR0/CR4/EFER decoded, modelled MSRs), TDX
// (context, VMX state, the call card), Structs (each struct argument laid over memory with
// offsets, sizes and asm-offsets names) and Stack (memory near RSP). Values changed since the
// previous stop carry "(was …)". References live until the debuggee runs again.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { FieldLayout } from '../emulator/loader/image';
import type { TdxCallEvent } from '../emulator/platform/events';
import { callInputs, callOutcome, callTitle } from '../emulator/platform/format';
import { findLeaf, findSubfunction } from '../emulator/tdx/catalog';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../emulator/tdx/statusDecoder';
import { staleReference, ErrorCode, silentError } from './errors';
import { Evaluator, valueText, type Value } from './expressions';
import { CR0_BITS, CR4_BITS, EFER_BITS, FLAG_BITS, JCC_CONDITIONS, MXCSR_BITS, SUB_REGISTERS, XMM_REGISTERS, msrName, subRegisterBytes, type BitTable } from '../emulator/x86/registers';
import { hex, hex16, hexWidth } from './format';
import { GPRS, type Target } from './target';

/** A node of the Variables tree that can list, set and watch its children. */
interface Container {
  children(): DebugProtocol.Variable[];
  set?(name: string, value: string): DebugProtocol.SetVariableResponse['body'];
  /** Memory behind a child, for data breakpoints. */
  data?(name: string): { address: bigint; size: number; label: string } | undefined;
}

/** Registers compared between stops. */
const TRACKED = [...GPRS, 'rip', 'rflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base', 'mxcsr', ...XMM_REGISTERS];

/** The lanes of a 128-bit value: u8×16, u16×8, u32×4, u64×2, f32×4, f64×2 (lane 0 first). */
function xmmLanes(v: bigint): DebugProtocol.Variable[] {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
  const dv = new DataView(b.buffer);
  const lanes = (n: number, f: (k: number) => string) => Array.from({ length: n }, (_, k) => f(k)).join(', ');
  const hx = (x: number | bigint, w: number) => '0x' + x.toString(16).padStart(w, '0');
  const rows: [string, string][] = [
    ['u8', lanes(16, (k) => hx(dv.getUint8(k), 2))],
    ['u16', lanes(8, (k) => hx(dv.getUint16(2 * k, true), 4))],
    ['u32', lanes(4, (k) => hx(dv.getUint32(4 * k, true), 8))],
    ['u64', lanes(2, (k) => hx(dv.getBigUint64(8 * k, true), 16))],
    ['f32', lanes(4, (k) => String(dv.getFloat32(4 * k, true)))],
    ['f64', lanes(2, (k) => String(dv.getFloat64(8 * k, true)))],
  ];
  return rows.map(([name, value]) => ({ name, value: `{${value}}`, variablesReference: 0, presentationHint: { attributes: ['readOnly'] } }));
}
/** Jumps RFLAGS would take, e.g. `je jz jbe jna jae jnb jnc …`. */
export function takenJumps(rflags: bigint): string[] {
  const f: Record<string, boolean> = {};
  for (const [n, b] of Object.entries(FLAG_BITS)) f[n] = ((rflags >> BigInt(b)) & 1n) === 1n;
  return JCC_CONDITIONS.filter(([, p]) => p(f)).flatMap(([names]) => names);
}

export function flagsText(rflags: bigint): string {
  const set = Object.entries(FLAG_BITS).filter(([, b]) => (rflags >> BigInt(b)) & 1n).map(([n]) => n.toUpperCase());
  return `${hexWidth(rflags, 4)} [${set.join(' ')}]`;
}

export const enum Scope { Registers = 'Registers', Tdx = 'TDX', Structs = 'Structs', Stack = 'Stack' }

export class Variables {
  private refs = new Map<number, Container>();
  private nextRef = 1;
  private prev = new Map<string, bigint>();
  private current = new Map<string, bigint>();
  private prevStructs = new Map<string, Uint8Array>();
  private curStructs = new Map<string, Uint8Array>();
  /** `format.hex === false` of the last request (decimal on request). */
  hex = true;

  constructor(private target: Target) {
    this.capture();
  }

  rebind(t: Target): void {
    this.target = t;
    this.refs.clear();
    this.capture();
  }

  /** At every stop: references die, and the values to compare against move one stop back (the first stop compares with the launch state). */
  onStop(): void {
    this.refs.clear();
    this.prev = this.current;
    this.prevStructs = this.curStructs;
    this.capture();
  }

  private capture(): void {
    this.current = new Map(TRACKED.map((r) => [r, this.target.machine.getReg(r)]));
    this.curStructs = new Map();
    for (const s of this.target.session.structArgs) {
      try { this.curStructs.set(s.name, this.target.machine.readBytes(s.address, s.layout.size)); } catch { /* unmapped: nothing to compare */ }
    }
  }

  /** Registers whose value differs from the previous stop. */
  changed(): { name: string; before: bigint; after: bigint }[] {
    return TRACKED.filter((r) => this.prev.has(r) && this.prev.get(r) !== this.current.get(r)).map((r) => ({ name: r, before: this.prev.get(r)!, after: this.current.get(r)! }));
  }

  private add(c: Container): number {
    const ref = this.nextRef++;
    this.refs.set(ref, c);
    return ref;
  }

  container(ref: number): Container {
    const c = this.refs.get(ref);
    if (!c) throw staleReference(`variablesReference ${ref}`);
    return c;
  }

  scopes(): DebugProtocol.Scope[] {
    const t = this.target;
    const scopes: DebugProtocol.Scope[] = [
      { name: Scope.Registers, presentationHint: 'registers', variablesReference: this.add({ children: () => this.registers(), set: (n, v) => this.setRegister(n, v), data: (n) => this.pointee(n) }), expensive: false },
      { name: Scope.Tdx, variablesReference: this.add({ children: () => this.tdx() }), expensive: false },
    ];
    if (t.session.structArgs.length) scopes.push({ name: Scope.Structs, variablesReference: this.add({ children: () => this.structs() }), expensive: false });
    scopes.push({ name: Scope.Stack, variablesReference: this.add(this.stackContainer()), expensive: false });
    return scopes;
  }

  // ---- registers -----------------------------------------------------------------------------

  private was(name: string, v: bigint): string {
    const p = this.prev.get(name);
    return p !== undefined && p !== v ? ` (was ${hex(p)})` : '';
  }

  private num(v: bigint, bytes: number): string {
    return this.hex ? hexWidth(v, bytes) : BigInt.asUintN(bytes * 8, v).toString(10);
  }

  private memRef(v: bigint): string | undefined {
    return this.target.session.mappedLength(v, 1) === 1 ? hex(v) : undefined;
  }

  private registers(): DebugProtocol.Variable[] {
    const m = this.target.machine;
    const out: DebugProtocol.Variable[] = [];
    for (const r of GPRS) {
      const v = m.getReg(r);
      const subs = SUB_REGISTERS[r];
      out.push({
        name: r, value: this.num(v, 8) + this.was(r, v), type: 'u64', evaluateName: `$${r}`, memoryReference: this.memRef(v),
        variablesReference: this.add({
          children: () => subs.map((s) => ({ name: s, value: this.num(m.getReg(s), subRegisterBytes(s)), type: `u${subRegisterBytes(s) * 8}`, evaluateName: `$${s}`, variablesReference: 0 })),
          set: (n, val) => this.setRegister(n, val),
        }),
      });
    }
    const rip = m.getReg('rip');
    out.push({ name: 'rip', value: `${this.num(rip, 8)} <${this.target.session.describe(rip).replace(/ \(0x[0-9a-f]+\)$/, '')}>${this.was('rip', rip)}`, type: 'u64', evaluateName: '$rip', memoryReference: hex(rip), variablesReference: 0 });
    const fl = m.getReg('rflags');
    out.push({ name: 'rflags', value: flagsText(fl) + this.was('rflags', fl), type: 'u32', evaluateName: '$rflags', variablesReference: this.add(this.flagsContainer()) });
    out.push(this.bitsVar('cr0', CR0_BITS), { name: 'cr2', value: this.num(m.getReg('cr2'), 8), evaluateName: '$cr2', variablesReference: 0 }, { name: 'cr3', value: this.num(m.getReg('cr3'), 8), evaluateName: '$cr3', variablesReference: 0 });
    out.push(this.bitsVar('cr4', CR4_BITS), this.bitsVar('efer', EFER_BITS));
    for (const r of ['fs_base', 'gs_base']) {
      const v = m.getReg(r);
      out.push({ name: r, value: this.num(v, 8) + this.was(r, v), evaluateName: `$${r}`, memoryReference: this.memRef(v), variablesReference: 0 });
    }
    out.push({ name: 'cpl', value: String(m.getReg('cpl')), evaluateName: '$cpl', variablesReference: 0 });
    out.push({ name: 'SSE', value: `xmm0-xmm15, mxcsr ${hexWidth(m.getReg('mxcsr'), 4)}`, variablesReference: this.add({ children: () => this.sse(), set: (n, v) => this.setRegister(n, v) }), presentationHint: { kind: 'virtual' } });
    out.push({ name: 'MSRs', value: `${this.target.session.msrs().length} modelled`, variablesReference: this.add({ children: () => this.msrs() }), presentationHint: { kind: 'virtual' } });
    return out;
  }

  /** XMM0–15 (128-bit, with their lanes as integers and floats) and MXCSR bit by bit. */
  private sse(): DebugProtocol.Variable[] {
    const m = this.target.machine;
    const out: DebugProtocol.Variable[] = [];
    for (let r = 0; r < 16; r++) {
      const name = `xmm${r}`;
      const v = m.getReg(name);
      out.push({
        name, value: hexWidth(v, 16) + this.was(name, v), type: 'u128', evaluateName: `$${name}`,
        variablesReference: this.add({ children: () => xmmLanes(m.getReg(name)) }),
      });
    }
    out.push(this.bitsVar('mxcsr', MXCSR_BITS));
    return out;
  }

  private bitsVar(reg: string, bits: BitTable): DebugProtocol.Variable {
    const m = this.target.machine;
    const v = m.getReg(reg);
    const set = bits.filter(([, b]) => (v >> BigInt(b)) & 1n).map(([n]) => n);
    return {
      name: reg, value: `${this.num(v, 8)} [${set.join(' ')}]${this.was(reg, v)}`, evaluateName: `$${reg}`,
      variablesReference: this.add({
        children: () => bits.map(([n, b]) => ({ name: n, value: String((m.getReg(reg) >> BigInt(b)) & 1n), type: `bit ${b}`, variablesReference: 0 })),
        set: (n, val) => {
          const bit = bits.find(([x]) => x === n);
          if (!bit) throw silentError(ErrorCode.BadArguments, `${reg} has no bit named ${n}`);
          const one = new Evaluator(this.target).evaluateInt(val) !== 0n;
          const cur = m.getReg(reg), mask = 1n << BigInt(bit[1]);
          m.setReg(reg, one ? cur | mask : cur & ~mask);
          return { value: String(one ? 1 : 0) };
        },
      }),
    };
  }

  private flagsContainer(): Container {
    const m = this.target.machine;
    return {
      children: () => {
        const fl = m.getReg('rflags');
        const bits = Object.entries(FLAG_BITS).map(([n, b]) => ({ name: n.toUpperCase(), value: String((fl >> BigInt(b)) & 1n), type: `bit ${b}`, evaluateName: `$${n}`, variablesReference: 0 }));
        return [...bits, { name: 'taken', value: takenJumps(fl).join(' '), type: 'conditional jumps taken with these flags', variablesReference: 0, presentationHint: { kind: 'virtual', attributes: ['readOnly'] } }];
      },
      set: (n, val) => {
        const bit = FLAG_BITS[n.toLowerCase()];
        if (bit === undefined) throw silentError(ErrorCode.BadArguments, `RFLAGS has no flag named ${n}`);
        const ev = new Evaluator(this.target);
        ev.store({ kind: 'flag', name: n.toLowerCase(), bit }, ev.evaluateInt(val));
        return { value: String((m.getReg('rflags') >> BigInt(bit)) & 1n) };
      },
    };
  }

  private msrs(): DebugProtocol.Variable[] {
    return this.target.session.msrs().map(({ id, value }) => ({ name: msrName(id), value: this.num(value, 8), type: `MSR 0x${id.toString(16)}`, variablesReference: 0 }));
  }

  private setRegister(name: string, value: string): DebugProtocol.SetVariableResponse['body'] {
    const ev = new Evaluator(this.target);
    const v = ev.assign(`$${name}`, value);
    return { value: valueText(v, this.hex) };
  }

  private pointee(name: string): { address: bigint; size: number; label: string } | undefined {
    if (!(GPRS as readonly string[]).includes(name)) return undefined;
    return { address: this.target.machine.getReg(name), size: 8, label: `*${name}` };
  }

  // ---- TDX ------------------------------------------------------------------------------------

  private tdx(): DebugProtocol.Variable[] {
    const t = this.target, s = t.session, p = s.platform;
    const ctx = { guest: 'TD guest (TDCALL)', host: 'VMX-root host (SEAMCALL)', none: 'not in VMX operation' }[p.context];
    const v = (name: string, value: string, type?: string): DebugProtocol.Variable => ({ name, value, type, variablesReference: 0 });
    const out = [
      v('context', ctx),
      v('CR4.VMXE', p.vmxe ? '1 (VMX enabled)' : '0 (VMX disabled: SEAMCALL and VMXON raise #UD)'),
      v('VMX operation', p.state.vmxon ? 'VMX root (VMXON done)' : 'not in VMX operation'),
      v('TDX enabled by BIOS', p.state.tdxBios ? 'yes' : 'no (SEAMCALL raises #GP)'),
      v('TDX module', p.state.module ? 'loaded' : 'not loaded (SEAMCALL fails with VMfailInvalid)'),
      v('CPL', String(t.machine.getReg('cpl'))),
    ];
    const pending = t.pendingCall();
    const last = t.lastCall();
    if (pending) out.push(this.card('next call', pending, false));
    if (last) out.push(this.card('last call', last, true));
    const log = s.platform.calls;
    const dropped = log.dropped ? ` (the oldest ${log.dropped.toLocaleString('en-US')} dropped: the ${log.limit.toLocaleString('en-US')} most recent are kept)` : '';
    out.push({ name: 'calls', value: `${log.length.toLocaleString('en-US')} so far${dropped}`, variablesReference: log.kept ? this.add({ children: () => log.map((c) => v(`#${c.seq}`, `${callTitle(c)} at ${c.site ?? hex(c.address)} → ${callOutcome(c)}`)) }) : 0 });
    return out;
  }

  /** The call card: leaf, inputs by role, RCX exposure, outputs, status, fault. */
  card(name: string, ev: TdxCallEvent, done: boolean): DebugProtocol.Variable {
    const v = (n: string, value: string, type?: string, ref = 0): DebugProtocol.Variable => ({ name: n, value, type, variablesReference: ref });
    const children = (): DebugProtocol.Variable[] => {
      const out: DebugProtocol.Variable[] = [];
      out.push(v('call', callTitle(ev)), v('site', `${ev.site ?? hex(ev.address)} (${hex(ev.address)})`));
      const leaf = findLeaf(ev.insn, ev.before.RAX);
      out.push(v('leaf', `${hex(BigInt(ev.leafNumber))} ${ev.leaf ?? 'unknown leaf'}${ev.version ? ` version ${ev.version}` : ''}`, leaf?.summary));
      if (ev.subfunctionNumber !== undefined) out.push(v('sub-function (R11)', `${hex(ev.subfunctionNumber)} ${ev.subfunction ?? 'unknown'}`, findSubfunction(ev.subfunctionNumber)?.summary));
      const inputs = callInputs(ev);
      out.push(v('inputs', inputs.map((i) => `${i.reg}=${hex(i.value)}`).join(' ') || '(none)', undefined,
        this.add({ children: () => inputs.map((i) => v(`${i.reg} (${i.role})`, hex16(i.value))) })));
      if (ev.subfunctionNumber !== undefined) out.push(this.exposure(ev));
      if (done) {
        if (ev.after) {
          const roles = ev.subfunctionNumber !== undefined ? findSubfunction(ev.subfunctionNumber)?.outputs ?? [] : leaf?.outputs ?? [];
          const outs = roles.map((r) => ({ reg: r.reg, role: r.role, value: ev.after![r.reg] ?? 0n }));
          out.push(v('outputs', outs.map((o) => `${o.reg}=${hex(o.value)}`).join(' ') || '(status only)', undefined,
            outs.length ? this.add({ children: () => outs.map((o) => v(`${o.reg} (${o.role})`, hex16(o.value))) }) : 0));
        }
        if (ev.status !== undefined) out.push(v('status (RAX)', `${hex16(ev.status)} ${decodeTdxStatus(ev.status).text}`));
        if (ev.vmcallStatus !== undefined) out.push(v('VMM status (R10)', `${hex16(ev.vmcallStatus)} ${decodeTdvmcallStatus(ev.vmcallStatus).text}`));
        if (ev.fault) out.push(v('fault', `${ev.fault}${ev.faultDetail ? `: ${ev.faultDetail}` : ''}`));
        if (ev.stopped) out.push(v('stopped the TD', `${ev.stopped}: ${ev.detail ?? ''}`));
        out.push(v('injected', ev.injected ? `yes, by '${ev.rule}'` : 'no'));
      }
      return out;
    };
    return { name, value: `${callTitle(ev)}${done ? ` → ${callOutcome(ev)}` : ''}`, variablesReference: this.add({ children }) };
  }

  /** RCX[15:0] of TDG.VP.VMCALL: bit n exposes GPR n to the VMM (GHCI 1.5 §2.4.1). */
  private exposure(ev: TdxCallEvent): DebugProtocol.Variable {
    const rcx = Number(ev.before.RCX & 0xffffn);
    const names = GPRS.map((g) => g.toUpperCase());
    const exposed = names.filter((_, i) => rcx & (1 << i));
    return {
      name: 'RCX exposure bitmap', value: `${hexWidth(BigInt(rcx), 2)} exposed: ${exposed.join(' ') || 'none'}`,
      variablesReference: this.add({ children: () => names.map((n, i) => ({ name: n, value: rcx & (1 << i) ? 'exposed' : 'hidden (reads as 0 on the VMM side)', type: `RCX bit ${i}`, variablesReference: 0 })) }),
    };
  }

  // ---- structs --------------------------------------------------------------------------------

  private structs(): DebugProtocol.Variable[] {
    return this.target.session.structArgs.map((a) => ({
      name: a.name, value: `struct ${a.layout.name} @ ${hex(a.address)} (${a.layout.size} bytes)`, type: `struct ${a.layout.name}`,
      evaluateName: a.name, memoryReference: hex(a.address),
      variablesReference: this.add(this.fieldsContainer(a.name, a.layout.fields, a.address, 0)),
    }));
  }

  /** Fields of a struct at `base` (field offsets are from the outermost struct at `base`). */
  fieldsContainer(path: string, fields: readonly FieldLayout[], base: bigint, outerOffset: number): Container {
    const ev = new Evaluator(this.target);
    const old = this.prevStructs.get(path.split('.')[0]);
    const find = (n: string) => fields.find((f) => (f.name || '(anonymous)') === n);
    return {
      children: () => fields.map((f) => {
        const address = base + BigInt(f.offset - outerOffset);
        const name = f.name || '(anonymous)';
        const meta = `+${hex(BigInt(f.offset))}, ${f.size} byte${f.size === 1 ? '' : 's'}${f.bitWidth !== undefined ? `, bits ${f.bitOffset}..${(f.bitOffset ?? 0) + f.bitWidth - 1}` : ''}${f.asmOffsetsName ? `, ${f.asmOffsetsName} = +${hex(BigInt(f.offset))}` : ''}`;
        if (f.fields?.length) {
          return { name, value: `${f.type} (${meta})`, type: f.type, memoryReference: hex(address), variablesReference: this.add(this.fieldsContainer(`${path}.${name}`, f.fields, address, f.offset)) };
        }
        let value: string;
        try {
          if (f.size > 8) value = [...this.target.machine.readBytes(address, Math.min(f.size, 64))].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (f.size > 64 ? ' …' : '');
          else {
            const v = ev.fieldValue(f, address) as Value & { kind: 'int' };
            value = this.num(v.value, f.size);
            if (old && f.bitWidth === undefined && f.offset + f.size <= old.length && path.indexOf('.') < 0) {
              let was = 0n;
              for (let i = f.size - 1; i >= 0; i--) was = (was << 8n) | BigInt(old[f.offset + i]);
              if (was !== v.value) value += ` (was ${hex(was)})`;
            }
          }
        } catch (e) { value = `<${(e as Error).message}>`; }
        return { name, value: `${value}   (${meta})`, type: f.type, evaluateName: `${path}.${name}`, memoryReference: hex(address), variablesReference: 0 };
      }),
      set: (n, value) => {
        const f = find(n);
        if (!f || f.fields?.length) throw silentError(ErrorCode.BadArguments, `${path} has no scalar field ${n}`);
        if (f.bitWidth !== undefined || f.size > 8) throw silentError(ErrorCode.BadArguments, `${path}.${n} is a bit-field or an array: write its memory instead`);
        const address = base + BigInt(f.offset - outerOffset);
        ev.store({ kind: 'mem', address, size: f.size }, ev.evaluateInt(value));
        return { value: this.num((ev.fieldValue(f, address) as Value & { kind: 'int' }).value, f.size), memoryReference: hex(address) };
      },
      data: (n) => {
        const f = find(n);
        return f ? { address: base + BigInt(f.offset - outerOffset), size: f.size, label: `${path}.${n}` } : undefined;
      },
    };
  }

  // ---- stack ----------------------------------------------------------------------------------

  private stackContainer(): Container {
    const t = this.target;
    const slot = (n: string) => { const m = /^rsp\+0x([0-9a-f]+)$/.exec(n); return m ? t.machine.getReg('rsp') + BigInt(parseInt(m[1], 16)) : undefined; };
    return {
      children: () => {
        const rsp = t.machine.getReg('rsp');
        const out: DebugProtocol.Variable[] = [];
        for (let i = 0; i < 16; i++) {
          const a = rsp + BigInt(8 * i);
          let value: string;
          try {
            const b = t.machine.readBytes(a, 8);
            let v = 0n;
            for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
            const sym = v >> 47n === 0x1ffffn && t.session.symbolize(v) && t.lineEntry(v) ? ` <${t.session.describe(v).replace(/ \(0x[0-9a-f]+\)$/, '')}>` : '';
            value = hex16(v) + sym;
          } catch { break; } // the top of the stack: nothing mapped above
          out.push({ name: `rsp+0x${(8 * i).toString(16).padStart(2, '0')}`, value, type: hex(a), evaluateName: `qword [rsp+${8 * i}]`, memoryReference: hex(a), variablesReference: 0 });
        }
        return out;
      },
      set: (n, value) => {
        const a = slot(n);
        if (a === undefined) throw silentError(ErrorCode.BadArguments, `no stack slot named ${n}`);
        const ev = new Evaluator(t);
        ev.store({ kind: 'mem', address: a, size: 8 }, ev.evaluateInt(value));
        return { value: hex16((ev.load(a, 8) as Value & { kind: 'int' }).value) };
      },
      data: (n) => { const a = slot(n); return a === undefined ? undefined : { address: a, size: 8, label: n }; },
    };
  }

  /** Children of an evaluated struct value (evaluate → expandable result). */
  structRef(v: Value & { kind: 'struct' }, path: string): number {
    const fields = v.layout.fields ?? [];
    const outer = 'offset' in v.layout ? v.layout.offset : 0;
    return this.add(this.fieldsContainer(path, fields, v.address, outer));
  }
}

/** A struct as a C initializer, for "Copy Value" (clipboard context). */
export function cInitializer(ev: Evaluator, fields: readonly FieldLayout[], base: bigint, outerOffset: number, indent = ''): string {
  const lines = fields.map((f) => {
    const a = base + BigInt(f.offset - outerOffset);
    if (f.fields?.length) return `${indent}\t.${f.name} = ${cInitializer(ev, f.fields, a, f.offset, indent + '\t')},`;
    if (f.size > 8) return `${indent}\t/* .${f.name}: ${f.size} bytes */`;
    const v = ev.fieldValue(f, a);
    return `${indent}\t.${f.name} = ${valueText(v).replace(/ \(.*\)$/, '')},`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}
