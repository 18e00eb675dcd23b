// The debuggee as the adapter sees it: the emulator Session plus the indices DAP needs and the
// Session does not keep — source lines ⇄ addresses (macro-body lines included), the TDX call
// sites of the Image, the instruction list for the Disassembly view, source references for
// files that exist only in memory (built-in headers), and reference-counted machine breakpoints.

import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from '../emulator/session/session';
import type { LineEntry, SourcePosition } from '../emulator/loader/image';
import type { TdxCallEvent } from '../emulator/platform/events';
import { disassemble, type Flavor } from '../emulator/decode/decoder';
import { findLeaf } from '../emulator/tdx/catalog';
import { vmcallName } from '../emulator/platform/format';
import { fromNumberAddress, toNumberAddress } from './format';

/** The 16 GPRs in encoding order (the order TdxCallEvent.before uses, upper-cased). */
export const GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

/** One decoded instruction of the Image, for the Disassembly view. */
export interface ImageInsn {
  address: bigint;
  length: number;
  text: string;
  bytes: Uint8Array;
}

/** Whether the 15 bytes (the longest instruction) at `address` hold 0F 01 CC or 0F 01 CF; true when they cannot be read. */
function mayBeTdxCall(m: Session['machine'], address: bigint): boolean {
  let b: Uint8Array;
  try {
    b = m.readBytes(address, 15);
  } catch {
    return true; // near the end of mapped memory: the decoder decides
  }
  for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0x0f && b[i + 1] === 0x01 && (b[i + 2] === 0xcc || b[i + 2] === 0xcf)) return true;
  return false;
}

/** Keys a position for comparisons while stepping. */
export function positionKey(p: SourcePosition): string {
  return `${p.file}:${p.line}`;
}

export class Target {
  /** Line entries sorted by address, for binary search (Session.lineAt is a linear scan). */
  private readonly sorted: LineEntry[];
  /** file → line → the first address of each block of code the line produced. */
  private readonly codeLines = new Map<string, Map<number, bigint[]>>();
  /** Addresses of TDCALL/SEAMCALL instructions in the Image. */
  readonly callSites = new Map<bigint, 'tdcall' | 'seamcall'>();
  private readonly insnCache = new Map<Flavor, { code: Uint8Array[]; list: ImageInsn[] }>();
  private readonly sourceRefs = new Map<string, number>();
  /** Whether a source file exists on disk (asked once: stack traces ask on every stop). */
  private readonly onDisk = new Map<string, boolean>();
  private readonly sourcePaths = new Map<number, string>();
  /** Machine breakpoints are shared by user breakpoints, call sites and stepping targets. */
  private readonly bpRefs = new Map<bigint, number>();

  constructor(readonly session: Session, public flavor: Flavor, readonly config: Record<string, unknown>) {
    this.sorted = [...session.image.lines].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    let prev: Set<string> = new Set();
    let prevEnd = -1n;
    for (const e of this.sorted) {
      const here = this.positionsOf(e);
      const keys = new Set(here.map(positionKey));
      for (const p of here) {
        // Contiguous code of one line is one breakpoint location; a macro-body line expanded
        // several times gets one location per expansion.
        if (prevEnd === e.address && prev.has(positionKey(p))) continue;
        let byLine = this.codeLines.get(p.file);
        if (!byLine) this.codeLines.set(p.file, (byLine = new Map()));
        const list = byLine.get(p.line) ?? [];
        list.push(e.address);
        byLine.set(p.line, list);
      }
      prev = keys;
      prevEnd = e.address + BigInt(e.length);
    }
    // Every instruction of the program has a line entry: the TDX call sites are found among
    // them. Only an instruction whose bytes hold 0F 01 CC or 0F 01 CF can be TDCALL or SEAMCALL
    // (66 0F 01 CC, 66 0F 01 CF), so only those are decoded (a launch decoded them all: tens of
    // milliseconds of a C program's launch, before the decoder has warmed up).
    for (const e of this.sorted) {
      try {
        if (!mayBeTdxCall(session.machine, e.address)) continue;
        const m = session.machine.insnAt(toNumberAddress(e.address)).mnemonic;
        if (m === 'tdcall' || m === 'seamcall') this.callSites.set(e.address, m);
      } catch { /* not executable: data described by a line */ }
    }
  }

  get machine() {
    return this.session.machine;
  }

  // ---- lines and sources --------------------------------------------------------------------

  lineEntry(address: bigint): LineEntry | undefined {
    let lo = 0, hi = this.sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, e = this.sorted[mid];
      if (address < e.address) hi = mid - 1;
      else if (address >= e.address + BigInt(e.length)) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  /** Source positions of an address, outermost (the line in the function) first, macro bodies after. */
  positions(address: bigint): SourcePosition[] {
    const e = this.lineEntry(address);
    return e ? this.positionsOf(e) : [];
  }

  private positionsOf(e: LineEntry): SourcePosition[] {
    return [{ file: e.file, line: e.line }, ...[...(e.expansion ?? [])].reverse()];
  }

  /** Lines of a file that produce code, each with the addresses a breakpoint there stops at. */
  linesOf(file: string): Map<number, bigint[]> {
    return this.codeLines.get(this.normalize(file)) ?? new Map();
  }

  /** The path the Image uses for a client path (the Image keeps absolute paths). */
  normalize(file: string): string {
    if (this.codeLines.has(file)) return file;
    const abs = resolve(file);
    return this.codeLines.has(abs) ? abs : file;
  }

  /** A DAP Source: the path when the file is on disk, else a reference to the text the Image holds. */
  source(file: string): DebugProtocol.Source {
    let onDisk = this.onDisk.get(file);
    if (onDisk === undefined) this.onDisk.set(file, (onDisk = !file.startsWith('<') && existsSync(file)));
    if (onDisk) return { name: basename(file), path: file };
    let ref = this.sourceRefs.get(file);
    if (ref === undefined) {
      ref = this.sourceRefs.size + 1;
      this.sourceRefs.set(file, ref);
      this.sourcePaths.set(ref, file);
    }
    return { name: basename(file), path: file, sourceReference: ref, origin: file.startsWith('<builtin>') ? 'built-in kernel header' : 'in memory' };
  }

  /** The file a Source from the client means (by reference or path). */
  fileOf(src: DebugProtocol.Source | undefined): string | undefined {
    if (!src) return undefined;
    if (src.sourceReference) return this.sourcePaths.get(src.sourceReference) ?? src.path;
    return src.path ? this.normalize(src.path) : undefined;
  }

  sourceText(file: string): string | undefined {
    return this.session.image.sources.get(file);
  }

  // ---- instructions ---------------------------------------------------------------------------

  /**
   * Every instruction of the Image's executable sections (linear sweep), in address order, as
   * they are now in machine memory: a write to code (writeMemory, a `[x] = …` expression, guest
   * self-modifying code) shows on the next request. The sweep is redone only when the bytes
   * differ from those it was made from.
   */
  instructions(flavor: Flavor): ImageInsn[] {
    const code = this.codeBytes();
    const cached = this.insnCache.get(flavor);
    if (cached && cached.code.length === code.length && cached.code.every((b, i) => Buffer.compare(b, code[i]) === 0)) return cached.list;
    const list: ImageInsn[] = [];
    let i = 0;
    for (const sec of this.session.image.sections) {
      if (!sec.exec || !sec.alloc || sec.bytes.length === 0) continue;
      for (const d of disassemble(code[i++], toNumberAddress(sec.address), flavor)) {
        list.push({ address: fromNumberAddress(d.address), length: d.length, text: d.text, bytes: d.bytes });
      }
    }
    list.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    this.insnCache.set(flavor, { code, list });
    return list;
  }

  /** The executable sections' bytes as machine memory holds them (the Image's where unmapped). */
  private codeBytes(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const sec of this.session.image.sections) {
      if (!sec.exec || !sec.alloc || sec.bytes.length === 0) continue;
      let b: Uint8Array;
      try { b = this.machine.readBytes(sec.address, sec.bytes.length); } catch { b = sec.bytes; }
      out.push(b);
    }
    return out;
  }

  // ---- machine breakpoints ----------------------------------------------------------------

  addBp(address: bigint): void {
    const n = this.bpRefs.get(address) ?? 0;
    if (n === 0) {
      try { this.machine.addBreakpoint(address); } catch { return; } // a non-canonical address can never be reached
    }
    this.bpRefs.set(address, n + 1);
  }

  removeBp(address: bigint): void {
    const n = this.bpRefs.get(address);
    if (n === undefined) return;
    if (n <= 1) { this.bpRefs.delete(address); this.machine.removeBreakpoint(address); } else this.bpRefs.set(address, n - 1);
  }

  /**
   * Puts back every breakpoint this target holds that the machine lost. A reverse search sets
   * temporary breakpoints (TDX call sites) and removes them when it ends; one the user set at the
   * same address meanwhile must survive that.
   */
  reassertBreakpoints(): void {
    for (const a of this.bpRefs.keys()) if (!this.machine.hasBreakpoint(a)) this.machine.addBreakpoint(a);
  }

  // ---- registers and calls --------------------------------------------------------------------

  get rip(): bigint {
    return this.machine.getReg('rip');
  }

  /** The 16 GPRs, upper-cased (TdxCallEvent's convention). */
  gprs(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    for (const r of GPRS) out[r.toUpperCase()] = this.machine.getReg(r);
    return out;
  }

  /**
   * The call about to execute at RIP, described the way the platform will record it (leaf from
   * RAX[15:0], version RAX[23:16], sub-function from R11 for TDG.VP.VMCALL), or undefined.
   */
  pendingCall(): TdxCallEvent | undefined {
    const rip = this.rip;
    const insn = this.callSites.get(rip);
    if (!insn) return undefined;
    const rax = this.machine.getReg('rax');
    const ev: TdxCallEvent = {
      seq: 0, insn, address: rip, leafNumber: Number(rax & 0xffffn), version: Number((rax >> 16n) & 0xffn),
      before: this.gprs(), injected: false, icount: this.machine.instructionCount,
    };
    const s = this.session.symbolize(rip);
    if (s) ev.site = s.offset ? `${s.name}+0x${s.offset.toString(16)}` : s.name;
    ev.leaf = findLeaf(insn, rax)?.name;
    if (insn === 'tdcall' && ev.leafNumber === 0 && rax >> 16n === 0n) {
      ev.subfunctionNumber = this.machine.getReg('r11');
      Object.assign(ev, vmcallName(this.machine.getReg('r10'), ev.subfunctionNumber));
    }
    return ev;
  }

  /** The last call the platform recorded. */
  lastCall(): TdxCallEvent | undefined {
    return this.session.platform.calls.last();
  }
}
