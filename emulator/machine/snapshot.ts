// Complete-state snapshots of a Machine: the processor state alone (cheap, for time-travel
// checkpoints) and with copies of every memory page (for restore).

import type { Cpu } from '../cpu/cpu';
import { Memory, Page } from '../memory/memory';

export interface MachineSnapshot {
  r: Int32Array; rip: number; flags: number; fop: number; fsz: number; lazy: number[];
  fsBase: number; gsBase: number; cr: bigint[]; cpl: number; icount: number; stiShadowUntil: number;
  repPending: boolean; xmm: Uint8Array; mxcsr: number; rngState: bigint; dtr: bigint[]; sel: Int32Array; segAttr: Int32Array; msrs: Map<number, bigint>; shadow: Float64Array[]; ssN: number;
  pages: Map<number, { data: Uint8Array; perms: number; region: string }>;
}

/** Processor state of Machine.captureCpu(): MachineSnapshot without the pages (shadow stack trimmed to its depth). */
export type CpuState = Omit<MachineSnapshot, 'pages'>;

/** The processor state alone, without memory. */
export function captureCpu(c: Cpu): CpuState {
  const n = Math.min(c.ssN, c.ssRet.length);
  return {
    r: c.r.slice(), rip: c.rip, flags: c.flags, fop: c.fop, fsz: c.fsz,
    lazy: [c.faLo, c.faHi, c.fbLo, c.fbHi, c.frLo, c.frHi, c.fcf],
    fsBase: c.fsBase, gsBase: c.gsBase, cr: [c.cr0, c.cr2, c.cr3, c.cr4, c.efer], cpl: c.cpl,
    icount: c.icount, stiShadowUntil: c.stiShadowUntil, repPending: c.repPending,
    xmm: c.x8.slice(), mxcsr: c.mxcsr, rngState: c.rngState, dtr: [c.gdtrBase, BigInt(c.gdtrLimit), c.idtrBase, BigInt(c.idtrLimit), c.ldtrBase, BigInt(c.ldtrLimit)], sel: c.sel.slice(), segAttr: c.segAttr.slice(),
    msrs: new Map(c.msrs), shadow: [c.ssRet.slice(0, n), c.ssTarget.slice(0, n), c.ssSp.slice(0, n)], ssN: c.ssN,
  };
}

/** Restores what captureCpu() took into `c` (and the user/supervisor mode of `mem`); pages are not touched. */
export function restoreCpu(c: Cpu, mem: Memory, s: CpuState): void {
  c.r.set(s.r); c.rip = s.rip; c.flags = s.flags; c.fop = s.fop; c.fsz = s.fsz;
  [c.faLo, c.faHi, c.fbLo, c.fbHi, c.frLo, c.frHi, c.fcf] = s.lazy;
  c.fsBase = s.fsBase; c.gsBase = s.gsBase;
  [c.cr0, c.cr2, c.cr3, c.cr4, c.efer] = s.cr;
  c.cpl = s.cpl; mem.user = c.cpl === 3;
  c.icount = s.icount; c.stiShadowUntil = s.stiShadowUntil; c.repPending = s.repPending;
  c.x8.set(s.xmm); c.mxcsr = s.mxcsr; c.rngState = s.rngState;
  c.gdtrBase = s.dtr[0]; c.gdtrLimit = Number(s.dtr[1]); c.idtrBase = s.dtr[2]; c.idtrLimit = Number(s.dtr[3]); c.ldtrBase = s.dtr[4]; c.ldtrLimit = Number(s.dtr[5]);
  c.sel.set(s.sel); c.segAttr.set(s.segAttr);
  c.msrs.clear(); for (const [k, v] of s.msrs) c.msrs.set(k, v);
  c.ssRet.set(s.shadow[0]); c.ssTarget.set(s.shadow[1]); c.ssSp.set(s.shadow[2]); c.ssN = s.ssN;
  c.attention = false;
  mem.watchHits = [];
}

/** Copies of every page with its permissions and region name. */
export function capturePages(mem: Memory): MachineSnapshot['pages'] {
  const pages = new Map<number, { data: Uint8Array; perms: number; region: string }>();
  for (const [k, p] of mem.pages) pages.set(k, { data: p.data.slice(), perms: p.perms, region: p.region });
  return pages;
}

/** Replaces every page of `mem` by the snapshot's; watches are kept and the TLBs flushed. */
export function restorePages(mem: Memory, pages: MachineSnapshot['pages']): void {
  mem.pages.clear();
  for (const [k, p] of pages) {
    const page = new Page(p.perms, p.region);
    page.data.set(p.data);
    mem.pages.set(k, page);
  }
  const watches = [...mem.watches];
  mem.clearWatches();
  for (const w of watches) mem.addWatch(w);
  mem.flushTlb();
}
