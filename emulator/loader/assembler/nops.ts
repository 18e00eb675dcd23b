// Code-alignment padding exactly as GNU as 2.40 emits it for x86-64 (i386_generate_nops with
// the default generic64 tuning): the longest NOP is 11 bytes (66 66 2e 0f 1f 84 00…), a pad
// is 11-byte NOPs followed by one shorter NOP, and a pad of 88 bytes or more starts with a jmp
// over the rest. Checked against `as` padding for every length in the tests.

/** gas's alt_patt NOPs, indexed by length - 1. */
const PATTERNS: number[][] = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];
const MAX_NOP = 11;
/** gas jumps over the padding when it would take more than this many maximal NOPs. */
const MAX_NOPS = 7;

function fillNops(out: Uint8Array, at: number, count: number): void {
  while (count > 0) {
    const n = Math.min(count, MAX_NOP);
    out.set(PATTERNS[n - 1], at);
    at += n;
    count -= n;
  }
}

/** The bytes gas puts into `count` bytes of code padding. */
export function codePadding(count: number): Uint8Array {
  const out = new Uint8Array(count);
  let at = 0;
  if (Math.floor(count / MAX_NOP) > MAX_NOPS) {
    const disp = count - 2;
    if (disp <= 127) {
      out[0] = 0xeb;
      out[1] = disp;
      at = 2;
    } else {
      const rel = count - 5;
      out.set([0xe9, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff], 0);
      at = 5;
    }
  }
  fillNops(out, at, count - at);
  return out;
}
