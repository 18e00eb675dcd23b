// SEAMCALL leaf handlers of the TDX module model: the platform-initialisation state machine the
// kernel drives (TDX module tdh_sys_*.c) and the state-free leaves. The dispatcher
// (module.ts) has already applied the §6 order (reserved bits, version, shutdown, not ready).

import { TDX_STATUS } from './modelStatuses';
import { withOperand } from './statusDecoder';
import { GPR } from './types';
import type { LeafContext, LeafOutcome } from './module';

const { RCX, RDX, R8, R9, R10 } = GPR;
const OPERAND_INVALID = (reg: number) => withOperand(TDX_STATUS.TDX_OPERAND_INVALID, reg);
const ONE_GIB = 1n << 30n;
/** `MAX_TDMRS` (tdh_sys_config.c). */
const MAX_TDMRS = 64n;

const done = (status: bigint, detail?: string): LeafOutcome => ({ kind: 'completed', status, ...(detail ? { detail } : {}) });

/** TDH.SYS.INIT (33), tdh_sys_init.c. RCX is checked before the state. */
export function tdhSysInit(c: LeafContext): LeafOutcome {
  if (c.cpu.getReg(RCX) !== 0n) return done(OPERAND_INVALID(RCX), 'attributes must be 0');
  if (c.st.sysState !== 'SYSINIT_PENDING') return done(TDX_STATUS.TDX_SYS_INIT_NOT_PENDING, `state ${c.st.sysState}`);
  for (const r of [RCX, RDX, R8, R9, R10]) c.cpu.setReg(r, 0n);
  c.st.sysState = 'SYSINIT_DONE';
  return done(TDX_STATUS.TDX_SUCCESS, 'state → SYSINIT_DONE');
}

/** TDH.SYS.LP.INIT (35), tdh_sys_lp_init.c. SYS.INIT does not initialise the LP it ran on. */
export function tdhSysLpInit(c: LeafContext): LeafOutcome {
  if (c.st.sysState !== 'SYSINIT_DONE') return done(TDX_STATUS.TDX_SYS_LP_INIT_NOT_PENDING, `state ${c.st.sysState}`);
  if (c.st.lpInit[c.lp]) return done(TDX_STATUS.TDX_SYS_LP_INIT_DONE, `LP ${c.lp} already initialised`);
  c.st.lpInit[c.lp] = true;
  for (const r of [RCX, RDX, R8]) c.cpu.setReg(r, 0n);
  const left = c.st.lpInit.filter((x) => !x).length;
  return done(TDX_STATUS.TDX_SUCCESS, `LP ${c.lp} initialised${left ? `, ${left} to go` : ', all LPs done'}`);
}

/**
 * TDH.SYS.CONFIG (45), tdh_sys_config.c. TDMR_INFO is read as the kernel's `struct tdmr_info`
 * (base at +0, size at +8); that layout is not in the reference. CMR and PAMT checks are not
 * modelled.
 */
export function tdhSysConfig(c: LeafContext): LeafOutcome {
  if (c.st.sysState !== 'SYSINIT_DONE' || c.st.lpInit.some((x) => !x)) {
    return done(TDX_STATUS.TDX_SYS_CONFIG_NOT_PENDING, c.st.sysState !== 'SYSINIT_DONE' ? `state ${c.st.sysState}` : 'not every LP ran TDH.SYS.LP.INIT');
  }
  const array = c.cpu.getReg(RCX);
  const count = c.cpu.getReg(RDX);
  const hkid = c.cpu.getReg(R8);
  if (array & 511n || hkidBits(c, array) !== 0n || array >> BigInt(c.cfg.physAddrBits)) return done(OPERAND_INVALID(RCX), 'TDMR array PA not 512-byte aligned or not a shared HPA');
  if (count < 1n || count > MAX_TDMRS) return done(OPERAND_INVALID(RDX), `TDMR count ${count} (1..64)`);
  const { first, count: n } = c.cfg.privateHkids;
  if (hkid >> 16n || hkid < BigInt(first) || hkid >= BigInt(first + n)) return done(OPERAND_INVALID(R8), `HKID ${hkid} is not a private HKID (${first}..${first + n - 1})`);
  const tdmrs = [];
  let prevEnd = 0n;
  for (let i = 0; i < Number(count); i++) {
    const pa = readU64(c, array + 8n * BigInt(i));
    const base = readU64(c, pa);
    const size = readU64(c, pa + 8n);
    if (size === 0n || base % ONE_GIB || size % ONE_GIB) return done(withOperand(TDX_STATUS.TDX_INVALID_TDMR, i), `TDMR ${i} base/size not 1 GiB aligned`);
    if (base < prevEnd) return done(withOperand(TDX_STATUS.TDX_NON_ORDERED_TDMR, i), `TDMR ${i} below TDMR ${i - 1}`);
    prevEnd = base + size;
    tdmrs.push({ base, size, next: base });
  }
  c.st.tdmrs = tdmrs;
  c.st.globalHkid = Number(hkid);
  c.st.sysState = 'SYSCONFIG_DONE';
  return done(TDX_STATUS.TDX_SUCCESS, `${tdmrs.length} TDMR(s), global HKID ${hkid}; state → SYSCONFIG_DONE`);
}

/** TDH.SYS.KEY.CONFIG (31), tdh_sys_key_config.c: once per package; the last one makes SYS_READY. */
export function tdhSysKeyConfig(c: LeafContext): LeafOutcome {
  if (c.st.sysState !== 'SYSCONFIG_DONE') return done(TDX_STATUS.TDX_SYS_KEY_CONFIG_NOT_PENDING, `state ${c.st.sysState}`);
  const pkg = c.cfg.lpPackage[c.lp];
  if (c.st.packageKeyConfigured[pkg]) return done(TDX_STATUS.TDX_KEY_CONFIGURED, `package ${pkg} already configured`);
  c.st.packageKeyConfigured[pkg] = true;
  if (c.st.packageKeyConfigured.every((x) => x)) {
    c.st.sysState = 'SYS_READY';
    return done(TDX_STATUS.TDX_SUCCESS, `package ${pkg} configured; state → SYS_READY`);
  }
  return done(TDX_STATUS.TDX_SUCCESS, `package ${pkg} configured`);
}

/**
 * TDH.SYS.TDMR.INIT (36), tdh_sys_tdmr_init.c: RDX = 0 on entry; each call initialises
 * `tdmrInitChunk` bytes and returns the next address rounded down to 1 GiB, or the TDMR end.
 */
export function tdhSysTdmrInit(c: LeafContext): LeafOutcome {
  c.cpu.setReg(RDX, 0n);
  const base = c.cpu.getReg(RCX);
  const tdmr = c.st.tdmrs.find((t) => t.base === base);
  if (base % ONE_GIB || base >> BigInt(c.cfg.physAddrBits) || hkidBits(c, base) !== 0n || !tdmr) {
    return done(OPERAND_INVALID(RCX), `0x${base.toString(16)} is not the base of a configured TDMR`);
  }
  const end = tdmr.base + tdmr.size;
  if (tdmr.next >= end) return done(TDX_STATUS.TDX_TDMR_ALREADY_INITIALIZED);
  tdmr.next = tdmr.next + c.cfg.tdmrInitChunk >= end ? end : tdmr.next + c.cfg.tdmrInitChunk;
  const rdx = tdmr.next === end ? end : tdmr.next - (tdmr.next % ONE_GIB);
  c.cpu.setReg(RDX, rdx);
  return done(TDX_STATUS.TDX_SUCCESS, tdmr.next === end ? 'TDMR fully initialised' : `initialised up to 0x${tdmr.next.toString(16)}`);
}

/** TDH.SYS.RD (34), tdh_sys_rd.c: the calling LP must have run LP.INIT. */
export function tdhSysRd(c: LeafContext): LeafOutcome {
  if (!c.st.lpInit[c.lp]) return done(TDX_STATUS.TDX_SYS_LP_INIT_NOT_DONE, `LP ${c.lp} has not run TDH.SYS.LP.INIT`);
  const field = c.cpu.getReg(RDX);
  const v = c.cfg.sysMetadata.get(field);
  if (v === undefined) {
    c.cpu.setReg(R8, 0n);
    return done(TDX_STATUS.TDX_METADATA_FIELD_ID_INCORRECT, `field 0x${field.toString(16)} not in the global metadata table`);
  }
  c.cpu.setReg(R8, v);
  return done(TDX_STATUS.TDX_SUCCESS);
}

/** TDH.SYS.INFO (32) / TDH.SYS.RDALL (37): LP.INIT required, then the configured outputs. */
export function tdhSysInfoOrRdall(c: LeafContext): LeafOutcome {
  if (!c.st.lpInit[c.lp]) return done(TDX_STATUS.TDX_SYS_LP_INIT_NOT_DONE, `LP ${c.lp} has not run TDH.SYS.LP.INIT`);
  return configuredSuccess(c);
}

/** TDH.SYS.UPDATE (53), tdh_sys_update.c: SYSINIT_DONE with every LP initialised → SYS_READY. */
export function tdhSysUpdate(c: LeafContext): LeafOutcome {
  if (c.st.sysState !== 'SYSINIT_DONE' || c.st.lpInit.some((x) => !x)) return done(TDX_STATUS.TDX_SYS_STATE_INCORRECT, `state ${c.st.sysState}`);
  c.st.sysState = 'SYS_READY';
  return done(TDX_STATUS.TDX_SUCCESS, 'state → SYS_READY');
}

/** TDH.SYS.SHUTDOWN (52): afterwards every leaf but TDH.SYS.LP.SHUTDOWN gets TDX_SYS_SHUTDOWN. */
export function tdhSysShutdown(c: LeafContext): LeafOutcome {
  c.st.sysState = 'SYS_SHUTDOWN';
  return configuredSuccess(c, 'state → SYS_SHUTDOWN');
}

/** Every other leaf: success, with the outputs configured for it (`leafOutputs`). */
export function configuredSuccess(c: LeafContext, detail?: string): LeafOutcome {
  const outs = c.cfg.leafOutputs.get(c.leaf.name) ?? {};
  for (const [reg, v] of Object.entries(outs)) {
    const i = GPR[reg as keyof typeof GPR];
    if (i !== undefined && v !== undefined) c.cpu.setReg(i, v);
  }
  return done(TDX_STATUS.TDX_SUCCESS, detail);
}

function hkidBits(c: LeafContext, pa: bigint): bigint {
  const top = BigInt(c.cfg.physAddrBits);
  const low = top - BigInt(c.cfg.keyIdBits);
  return (pa >> low) & ((1n << (top - low)) - 1n);
}

function readU64(c: LeafContext, pa: bigint): bigint {
  return new DataView(c.cpu.readMemory(pa, 8).slice().buffer).getBigUint64(0, true);
}
