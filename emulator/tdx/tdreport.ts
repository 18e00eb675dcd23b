// Builds the 1024-byte TDREPORT_STRUCT that TDG.MR.REPORT writes. The reference fixes only
// REPORTTYPE (type 0x81, subtype 0, version 0: TDX module tdg_*.c); the other offsets
// follow the TDX module ABI specification and are marked as such. The MAC is not a real MAC.

// node:crypto is required where used: loading it costs a worker thread ~7 ms at start.

/**
 * TDREPORT_STRUCT offsets. REPORTTYPE's contents come from the reference; every offset comes
 * from the TDX module ABI specification (REPORTMACSTRUCT 256 B, TEE_TCB_INFO 239 B, TDINFO 512 B).
 */
export const TDREPORT_LAYOUT = Object.freeze({
  SIZE: 1024,
  REPORTTYPE: 0, // 4 bytes: type, subtype, version, reserved
  CPUSVN: 16,
  TEE_TCB_INFO_HASH: 32,
  TEE_INFO_HASH: 80,
  REPORTDATA: 128,
  MAC: 224,
  TEE_TCB_INFO: 256,
  TEE_TCB_INFO_SIZE: 239,
  TDINFO: 512,
  TDINFO_SIZE: 512,
  TDINFO_ATTRIBUTES: 512,
  TDINFO_XFAM: 520,
  TDINFO_MRTD: 528,
  TDINFO_RTMR0: 720, // RTMR0..3, 48 bytes each
});

/** TDX's REPORTTYPE.TYPE for a TD report (TDX module tdg_*.c). */
export const TDREPORT_TYPE_TDX = 0x81;

export interface TdReportInputs {
  reportData: Uint8Array;
  attributes: bigint;
  xfam: bigint;
  mrtd: Uint8Array;
  rtmrs: readonly Uint8Array[];
}

function sha384(...parts: Uint8Array[]): Uint8Array {
  const h = (require('node:crypto') as typeof import('node:crypto')).createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Builds a TDREPORT_STRUCT; deterministic for the same inputs. */
export function buildTdReport(inp: TdReportInputs): Uint8Array {
  const L = TDREPORT_LAYOUT;
  const out = new Uint8Array(L.SIZE);
  const dv = new DataView(out.buffer);
  out[L.REPORTTYPE] = TDREPORT_TYPE_TDX; // subtype 0, version 0 (no service TDs bound)
  out.set(inp.reportData.subarray(0, 64), L.REPORTDATA);
  dv.setBigUint64(L.TDINFO_ATTRIBUTES, inp.attributes, true);
  dv.setBigUint64(L.TDINFO_XFAM, inp.xfam, true);
  out.set(inp.mrtd.subarray(0, 48), L.TDINFO_MRTD);
  inp.rtmrs.forEach((r, i) => out.set(r.subarray(0, 48), L.TDINFO_RTMR0 + 48 * i));
  out.set(sha384(out.subarray(L.TEE_TCB_INFO, L.TEE_TCB_INFO + L.TEE_TCB_INFO_SIZE)), L.TEE_TCB_INFO_HASH);
  out.set(sha384(out.subarray(L.TDINFO, L.TDINFO + L.TDINFO_SIZE)), L.TEE_INFO_HASH);
  // Stand-in for the CPU's MAC: a hash of the MAC'd part. Code under test must not verify it.
  out.set(sha384(out.subarray(0, L.MAC)).subarray(0, 32), L.MAC);
  return out;
}

/** RTMR extend: SHA-384(old RTMR || 48 bytes of extend data) (module tdg_mr_rtmr_extend.c). */
export function rtmrExtend(old: Uint8Array, data: Uint8Array): Uint8Array {
  return sha384(old, data.subarray(0, 48));
}
