// The instruction table: every mnemonic the assembler accepts, each with its operand forms
// in GNU as's template order (binutils 2.40 i386-opc.tbl), because gas takes the *first*
// template that matches — that order is what makes `add $1,%eax` 83 /0 ib, `mov %rax,%rbx`
// 48 89 c3 and `test $1,%eax` a9. Each form names the iced-x86 Code that encodes it, or raw
// bytes where iced wants implicit operands we do not model (string instructions).

/**
 * Operand patterns, Intel order. `rN`/`rmN`/`mN`: register/register-or-memory/memory of N bits;
 * `m`: memory of any size; `acc*`: the accumulator; `i8s`: constant fitting a sign-extended
 * byte; `iN`: N-bit immediate (`i32s`: sign-extended to 64); `one`: the constant 1;
 * `rel`: direct branch target; `ind`: `*reg`/`*mem` (or a bare register/memory) branch;
 * `mfar`: `*mem`, a far pointer (ljmp/lcall); `xlat`/`xlat32`/`xlatfs`/`xlatgs`: XLAT's explicit
 * table operand, `(%rbx)` or `%ds:(%rbx)` / `(%ebx)` / `%fs:(%rbx)` / `%gs:(%rbx)` (the encoding
 * has no operand bytes).
 */
export type Pat =
  | 'r8' | 'r16' | 'r32' | 'r64' | 'rm8' | 'rm16' | 'rm32' | 'rm64' | 'm' | 'm64' | 'm128'
  | 'al' | 'ax' | 'eax' | 'rax' | 'cl' | 'cr' | 'fs' | 'gs' | 'sreg'
  | 'i8' | 'i8s' | 'i16' | 'i32' | 'i32s' | 'i64' | 'one'
  | 'rel' | 'ind' | 'ind32' | 'moffs' | 'mfar' | 'xlat' | 'xlat32' | 'xlatfs' | 'xlatgs';

/** One encodable form of a mnemonic. */
export interface Form {
  ops: Pat[];
  /** Operation size the suffix must agree with; undefined for sizeless forms. */
  size?: 8 | 16 | 32 | 64;
  /** iced-x86 Code name, or `raw:<hex>` for fixed bytes. For relaxable branches, the rel8 form. */
  code: string;
  /** Relaxable branch: the rel32 Code it grows into. */
  near?: string;
  /** Operand order for the encoder, as indices into `ops` (swaps and duplicated registers). */
  order?: number[];
  /** Index (in `ops`) of a register the encoder takes as its 32-bit sibling (`movw %ax,%ss` is 8e d0). */
  regAs32?: number;
  /** Extra condition gas applies to this template. */
  when?: (regs: (string | undefined)[]) => boolean;
}

/** One mnemonic. */
export interface Entry {
  forms: Form[];
  /** Size suffixes (`bwlq`) the base name accepts. */
  suffixes?: string;
  /** Size assumed without a suffix or register operand (push/pop/branches in 64-bit mode). */
  defaultSize?: 8 | 16 | 32 | 64;
  /** Fixed size implied by the exact name (e.g. `movzbl` sizes the destination). */
  fixedSize?: 8 | 16 | 32 | 64;
  /** AT&T operand order equals Intel order (gas does not reverse `enter`). */
  noReverse?: boolean;
  /** Relative branch family: drives relaxation and the stub rule for undefined targets. */
  branch?: 'jmp' | 'jcc' | 'call' | 'rel8';
}

type Size = 8 | 16 | 32 | 64;
const SIZES: Size[] = [8, 16, 32, 64];
const ACC: Record<Size, Pat> = { 8: 'al', 16: 'ax', 32: 'eax', 64: 'rax' };
const ACCN: Record<Size, string> = { 8: 'AL', 16: 'AX', 32: 'EAX', 64: 'RAX' };
const r = (s: Size) => `r${s}` as Pat;
const rm = (s: Size) => `rm${s}` as Pat;
const imm = (s: Size): Pat => (s === 8 ? 'i8' : s === 16 ? 'i16' : s === 64 ? 'i32s' : 'i32');
const immBits = (s: Size) => Math.min(s, 32);
const cap = (n: string) => n[0].toUpperCase() + n.slice(1);

export const TABLE = new Map<string, Entry>();
function def(names: string | string[], e: Entry): void {
  for (const n of typeof names === 'string' ? [names] : names) TABLE.set(n, e);
}

// ---- data movement -----------------------------------------------------------------------
function alu(name: string): void {
  const N = cap(name);
  const forms: Form[] = [];
  for (const s of SIZES) forms.push({ size: s, ops: [rm(s), r(s)], code: `${N}_rm${s}_r${s}` });
  for (const s of SIZES) forms.push({ size: s, ops: [r(s), 'm'], code: `${N}_r${s}_rm${s}` });
  for (const s of SIZES) if (s !== 8) forms.push({ size: s, ops: [rm(s), 'i8s'], code: `${N}_rm${s}_imm8` });
  for (const s of SIZES) forms.push({ size: s, ops: [ACC[s], imm(s)], code: `${N}_${ACCN[s]}_imm${immBits(s)}` });
  for (const s of SIZES) forms.push({ size: s, ops: [rm(s), imm(s)], code: `${N}_rm${s}_imm${immBits(s)}` });
  def(name, { forms, suffixes: 'bwlq' });
}
['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'].forEach(alu);

def('test', {
  suffixes: 'bwlq',
  forms: [
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), r(s)], code: `Test_rm${s}_r${s}` })),
    ...SIZES.map((s): Form => ({ size: s, ops: [r(s), 'm'], code: `Test_rm${s}_r${s}`, order: [1, 0] })),
    ...SIZES.map((s): Form => ({ size: s, ops: [ACC[s], imm(s)], code: `Test_${ACCN[s]}_imm${immBits(s)}` })),
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), imm(s)], code: `Test_rm${s}_imm${immBits(s)}` })),
  ],
});

def('mov', {
  suffixes: 'bwlq',
  forms: [
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), r(s)], code: `Mov_rm${s}_r${s}` })),
    ...SIZES.map((s): Form => ({ size: s, ops: [r(s), 'm'], code: `Mov_r${s}_rm${s}` })),
    { size: 64, ops: ['r64', 'cr'], code: 'Mov_r64_cr' },
    { size: 64, ops: ['cr', 'r64'], code: 'Mov_cr_r64' },
    // 32-bit code only (.code32); the encoder refuses them in 64-bit code.
    { size: 32, ops: ['r32', 'cr'], code: 'Mov_r32_cr' },
    { size: 32, ops: ['cr', 'r32'], code: 'Mov_cr_r32' },
    { size: 32, ops: ['sreg', 'r32'], code: 'Mov_Sreg_r32m16' },
    // gas drops the operand-size prefix and REX.W on moves to a segment register, and REX.W on moves from one.
    { size: 16, ops: ['sreg', 'r16'], code: 'Mov_Sreg_r32m16', regAs32: 1 },
    { size: 64, ops: ['sreg', 'r64'], code: 'Mov_Sreg_r32m16', regAs32: 1 },
    { size: 16, ops: ['r16', 'sreg'], code: 'Mov_rm16_Sreg' },
    { size: 64, ops: ['r64', 'sreg'], code: 'Mov_r32m16_Sreg', regAs32: 0 },
    { ops: ['sreg', 'm'], code: 'Mov_Sreg_r32m16' },
    { size: 32, ops: ['r32', 'sreg'], code: 'Mov_r32m16_Sreg' },
    { ops: ['m', 'sreg'], code: 'Mov_r32m16_Sreg' },
    ...([8, 16, 32] as Size[]).map((s): Form => ({ size: s, ops: [r(s), imm(s)], code: `Mov_r${s}_imm${s}` })),
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), imm(s)], code: `Mov_rm${s}_imm${immBits(s)}` })),
    { size: 64, ops: ['r64', 'i64'], code: 'Mov_r64_imm64' },
  ],
});
def('movabs', { suffixes: 'q', forms: [{ size: 64, ops: ['r64', 'i64'], code: 'Mov_r64_imm64' }] });

function ext(name: string, kind: 'Movzx' | 'Movsx' | 'Movsxd', src: Size, dst: Size): void {
  def(name, { fixedSize: dst, forms: [{ size: dst, ops: [r(dst), rm(src)], code: `${kind}_r${dst}_rm${src}` }] });
}
ext('movzbw', 'Movzx', 8, 16); ext('movzbl', 'Movzx', 8, 32); ext('movzbq', 'Movzx', 8, 64);
ext('movzwl', 'Movzx', 16, 32); ext('movzwq', 'Movzx', 16, 64);
ext('movsbw', 'Movsx', 8, 16); ext('movsbl', 'Movsx', 8, 32); ext('movsbq', 'Movsx', 8, 64);
ext('movswl', 'Movsx', 16, 32); ext('movswq', 'Movsx', 16, 64);
ext('movslq', 'Movsxd', 32, 64);
for (const [name, kind] of [['movzx', 'Movzx'], ['movsx', 'Movsx']] as const) {
  // Without a suffix gas sizes the source from its register, or takes a byte for memory.
  const forms: Form[] = [];
  for (const d of [16, 32, 64] as Size[]) {
    forms.push({ size: d, ops: [r(d), 'r8'], code: `${kind}_r${d}_rm8` });
    if (d !== 16) forms.push({ size: d, ops: [r(d), 'r16'], code: `${kind}_r${d}_rm16` });
    forms.push({ size: d, ops: [r(d), 'm'], code: `${kind}_r${d}_rm8` });
  }
  def(name, { forms });
}
def('movsxd', { forms: [{ size: 64, ops: ['r64', 'rm32'], code: 'Movsxd_r64_rm32' }] });

def('lea', { suffixes: 'wlq', forms: ([16, 32, 64] as Size[]).map((s) => ({ size: s, ops: [r(s), 'm'], code: `Lea_r${s}_m` })) });

const notSameEax = (regs: (string | undefined)[]) => !(regs[0] === 'eax' && regs[1] === 'eax');
def('xchg', {
  suffixes: 'bwlq',
  forms: [
    // gas assembles `xchg %rax,%rax` as a plain nop (no REX.W).
    { size: 64, ops: ['rax', 'rax'], code: 'raw:90' },
    ...([16, 32, 64] as Size[]).flatMap((s): Form[] => [
      { size: s, ops: [r(s), ACC[s]], code: `Xchg_r${s}_${ACCN[s]}`, when: notSameEax },
      { size: s, ops: [ACC[s], r(s)], code: `Xchg_r${s}_${ACCN[s]}`, order: [1, 0], when: notSameEax },
    ]),
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), r(s)], code: `Xchg_rm${s}_r${s}` })),
    ...SIZES.map((s): Form => ({ size: s, ops: [r(s), 'm'], code: `Xchg_rm${s}_r${s}`, order: [1, 0] })),
  ],
});
def('bswap', { suffixes: 'lq', forms: [{ size: 32, ops: ['r32'], code: 'Bswap_r32' }, { size: 64, ops: ['r64'], code: 'Bswap_r64' }] });

// ---- condition codes -----------------------------------------------------------------------
/** Condition names as iced spells them, with every gas alias. */
export const CONDITIONS: Record<string, string> = {
  o: 'o', no: 'no', b: 'b', c: 'b', nae: 'b', ae: 'ae', nb: 'ae', nc: 'ae', e: 'e', z: 'e', ne: 'ne', nz: 'ne',
  be: 'be', na: 'be', a: 'a', nbe: 'a', s: 's', ns: 'ns', p: 'p', pe: 'p', np: 'np', po: 'np',
  l: 'l', nge: 'l', ge: 'ge', nl: 'ge', le: 'le', ng: 'le', g: 'g', nle: 'g',
};
for (const [cc, ic] of Object.entries(CONDITIONS)) {
  const C = cap(ic);
  def(`j${cc}`, { branch: 'jcc', forms: [{ ops: ['rel'], code: `J${ic}_rel8_64`, near: `J${ic}_rel32_64` }] });
  def(`set${cc}`, { fixedSize: 8, forms: [{ size: 8, ops: ['rm8'], code: `Set${ic}_rm8` }] });
  def(`cmov${cc}`, { suffixes: 'wlq', forms: ([16, 32, 64] as Size[]).map((s) => ({ size: s, ops: [r(s), rm(s)], code: `Cmov${ic}_r${s}_rm${s}` })) });
  void C;
}

// ---- arithmetic ----------------------------------------------------------------------------
for (const name of ['not', 'neg', 'inc', 'dec', 'mul', 'div', 'idiv']) {
  def(name, { suffixes: 'bwlq', forms: SIZES.map((s) => ({ size: s, ops: [rm(s)], code: `${cap(name)}_rm${s}` })) });
}
def('imul', {
  suffixes: 'bwlq',
  forms: [
    ...SIZES.map((s): Form => ({ size: s, ops: [rm(s)], code: `Imul_rm${s}` })),
    ...([16, 32, 64] as Size[]).flatMap((s): Form[] => [
      { size: s, ops: [r(s), rm(s)], code: `Imul_r${s}_rm${s}` },
      { size: s, ops: [r(s), rm(s), 'i8s'], code: `Imul_r${s}_rm${s}_imm8` },
      { size: s, ops: [r(s), rm(s), imm(s)], code: `Imul_r${s}_rm${s}_imm${immBits(s)}` },
      { size: s, ops: [r(s), 'i8s'], code: `Imul_r${s}_rm${s}_imm8`, order: [0, 0, 1] },
      { size: s, ops: [r(s), imm(s)], code: `Imul_r${s}_rm${s}_imm${immBits(s)}`, order: [0, 0, 1] },
    ]),
  ],
});

for (const name of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'sal', 'shr', 'sar']) {
  const N = name === 'sal' ? 'Shl' : cap(name); // gas encodes sal as shl (/4)
  def(name, {
    suffixes: 'bwlq',
    forms: [
      ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), 'one'], code: `${N}_rm${s}_1` })),
      ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), 'i8'], code: `${N}_rm${s}_imm8` })),
      ...SIZES.map((s): Form => ({ size: s, ops: [rm(s), 'cl'], code: `${N}_rm${s}_CL` })),
      ...SIZES.map((s): Form => ({ size: s, ops: [rm(s)], code: `${N}_rm${s}_1`, order: [0, -1] })),
    ],
  });
}
for (const name of ['shld', 'shrd']) {
  const N = cap(name);
  def(name, {
    suffixes: 'wlq',
    forms: ([16, 32, 64] as Size[]).flatMap((s): Form[] => [
      { size: s, ops: [rm(s), r(s), 'i8'], code: `${N}_rm${s}_r${s}_imm8` },
      { size: s, ops: [rm(s), r(s), 'cl'], code: `${N}_rm${s}_r${s}_CL` },
      { size: s, ops: [rm(s), r(s)], code: `${N}_rm${s}_r${s}_CL`, order: [0, 1, -2] },
    ]),
  });
}

// ---- bits ----------------------------------------------------------------------------------
for (const name of ['bt', 'bts', 'btr', 'btc']) {
  const N = cap(name);
  def(name, {
    suffixes: 'wlq',
    forms: [
      ...([16, 32, 64] as Size[]).map((s): Form => ({ size: s, ops: [rm(s), r(s)], code: `${N}_rm${s}_r${s}` })),
      ...([16, 32, 64] as Size[]).map((s): Form => ({ size: s, ops: [rm(s), 'i8'], code: `${N}_rm${s}_imm8` })),
    ],
  });
}
for (const name of ['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt']) {
  def(name, { suffixes: 'wlq', forms: ([16, 32, 64] as Size[]).map((s) => ({ size: s, ops: [r(s), rm(s)], code: `${cap(name)}_r${s}_rm${s}` })) });
}
def('xadd', { suffixes: 'bwlq', forms: SIZES.map((s) => ({ size: s, ops: [rm(s), r(s)], code: `Xadd_rm${s}_r${s}` })) });
def('cmpxchg', { suffixes: 'bwlq', forms: SIZES.map((s) => ({ size: s, ops: [rm(s), r(s)], code: `Cmpxchg_rm${s}_r${s}` })) });
def('cmpxchg16b', { forms: [{ ops: ['m'], code: 'Cmpxchg16b_m128' }] });
def('cmpxchg8b', { forms: [{ ops: ['m'], code: 'Cmpxchg8b_m64' }] });
for (const name of ['adcx', 'adox']) {
  def(name, { suffixes: 'lq', forms: ([32, 64] as Size[]).map((s) => ({ size: s, ops: [r(s), rm(s)], code: `${cap(name)}_r${s}_rm${s}` })) });
}
def('movbe', {
  suffixes: 'wlq',
  forms: ([16, 32, 64] as Size[]).flatMap((s): Form[] => [
    { size: s, ops: [r(s), 'm'], code: `Movbe_r${s}_m${s}` },
    { size: s, ops: ['m', r(s)], code: `Movbe_m${s}_r${s}` },
  ]),
});
// UD0/UD1 take a ModRM operand pair in GNU as (a bare `ud1` is an operand-count error there).
for (const name of ['ud0', 'ud1']) {
  def(name, { suffixes: 'wlq', forms: ([16, 32, 64] as Size[]).map((s) => ({ size: s, ops: [r(s), rm(s)], code: `${cap(name)}_r${s}_rm${s}` })) });
}
def(['xlat', 'xlatb'], {
  forms: [
    { ops: [], code: 'raw:d7' }, { ops: ['xlat'], code: 'raw:d7' }, { ops: ['xlat32'], code: 'raw:67d7' },
    { ops: ['xlatfs'], code: 'raw:64d7' }, { ops: ['xlatgs'], code: 'raw:65d7' },
  ],
});

// ---- stack and control flow ------------------------------------------------------------------
def('push', {
  suffixes: 'wq',
  defaultSize: 64,
  forms: [
    { size: 64, ops: ['r64'], code: 'Push_r64' },
    { size: 16, ops: ['r16'], code: 'Push_r16' },
    { size: 64, ops: ['fs'], code: 'Pushq_FS' },
    { size: 64, ops: ['gs'], code: 'Pushq_GS' },
    { size: 16, ops: ['fs'], code: 'Pushw_FS' },
    { size: 16, ops: ['gs'], code: 'Pushw_GS' },
    { size: 64, ops: ['i8s'], code: 'Pushq_imm8' },
    { size: 64, ops: ['i32s'], code: 'Pushq_imm32' },
    { size: 16, ops: ['i8s'], code: 'Pushw_imm8' },
    { size: 16, ops: ['i16'], code: 'Push_imm16' },
    { size: 64, ops: ['rm64'], code: 'Push_rm64' },
    { size: 16, ops: ['rm16'], code: 'Push_rm16' },
  ],
});
def('pop', {
  suffixes: 'wq',
  defaultSize: 64,
  forms: [
    { size: 64, ops: ['r64'], code: 'Pop_r64' },
    { size: 16, ops: ['r16'], code: 'Pop_r16' },
    { size: 64, ops: ['fs'], code: 'Popq_FS' },
    { size: 64, ops: ['gs'], code: 'Popq_GS' },
    { size: 16, ops: ['fs'], code: 'Popw_FS' },
    { size: 16, ops: ['gs'], code: 'Popw_GS' },
    { size: 64, ops: ['rm64'], code: 'Pop_rm64' },
    { size: 16, ops: ['rm16'], code: 'Pop_rm16' },
  ],
});
def(['pushf', 'pushfq'], { forms: [{ ops: [], code: 'Pushfq' }] });
def(['popf', 'popfq'], { forms: [{ ops: [], code: 'Popfq' }] });
def('pushfw', { forms: [{ ops: [], code: 'Pushfw' }] });
def('popfw', { forms: [{ ops: [], code: 'Popfw' }] });
def(['leave', 'leaveq'], { forms: [{ ops: [], code: 'Leaveq' }] });
def('leavew', { forms: [{ ops: [], code: 'Leavew' }] });
def(['enter', 'enterq'], { noReverse: true, forms: [{ ops: ['i16', 'i8'], code: 'Enterq_imm16_imm8' }] });
def('enterw', { noReverse: true, forms: [{ ops: ['i16', 'i8'], code: 'Enterw_imm16_imm8' }] });
def('jmp', {
  suffixes: 'q',
  defaultSize: 64,
  branch: 'jmp',
  forms: [
    { ops: ['rel'], code: 'Jmp_rel8_64', near: 'Jmp_rel32_64' },
    { size: 64, ops: ['ind'], code: 'Jmp_rm64' },
  ],
});
def('call', {
  suffixes: 'q',
  defaultSize: 64,
  branch: 'call',
  forms: [
    { ops: ['rel'], code: 'Call_rel32_64' },
    { size: 64, ops: ['ind'], code: 'Call_rm64' },
  ],
});
def(['ret', 'retq'], { forms: [{ ops: [], code: 'Retnq' }, { ops: ['i16'], code: 'Retnq_imm16' }] });
def('jrcxz', { branch: 'rel8', forms: [{ ops: ['rel'], code: 'Jrcxz_rel8_64' }] });
def('jecxz', { branch: 'rel8', forms: [{ ops: ['rel'], code: 'Jecxz_rel8_64' }] });
def('loop', { branch: 'rel8', forms: [{ ops: ['rel'], code: 'Loop_rel8_64_RCX' }] });
def(['loope', 'loopz'], { branch: 'rel8', forms: [{ ops: ['rel'], code: 'Loope_rel8_64_RCX' }] });
def(['loopne', 'loopnz'], { branch: 'rel8', forms: [{ ops: ['rel'], code: 'Loopne_rel8_64_RCX' }] });

// ---- string instructions (raw: iced wants implicit memory operands) --------------------------
const STR: [string, number][] = [['movs', 0xa4], ['cmps', 0xa6], ['stos', 0xaa], ['lods', 0xac], ['scas', 0xae]];
for (const [name, op] of STR) {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  def(`${name}b`, { forms: [{ ops: [], code: `raw:${hex(op)}` }] });
  def(`${name}w`, { forms: [{ ops: [], code: `raw:66${hex(op + 1)}` }] });
  def(`${name}l`, { forms: [{ ops: [], code: `raw:${hex(op + 1)}` }] });
  def(`${name}q`, { forms: [{ ops: [], code: `raw:48${hex(op + 1)}` }] });
}
def('movsd', { forms: [{ ops: [], code: 'raw:a5' }] });

// ---- conversions, flags, barriers, system ----------------------------------------------------
const SIMPLE: Record<string, string> = {
  cbw: 'Cbw', cbtw: 'Cbw', cwde: 'Cwde', cwtl: 'Cwde', cdqe: 'Cdqe', cltq: 'Cdqe',
  cwd: 'Cwd', cwtd: 'Cwd', cdq: 'Cdq', cltd: 'Cdq', cqo: 'Cqo', cqto: 'Cqo',
  clc: 'Clc', stc: 'Stc', cmc: 'Cmc', cld: 'Cld', std: 'Std', cli: 'Cli', sti: 'Sti',
  endbr64: 'Endbr64', pause: 'Pause', lfence: 'Lfence', mfence: 'Mfence', sfence: 'Sfence',
  int3: 'Int3', ud2: 'Ud2', hlt: 'Hlt', cpuid: 'Cpuid', rdmsr: 'Rdmsr', wrmsr: 'Wrmsr',
  rdtsc: 'Rdtsc', rdtscp: 'Rdtscp', tdcall: 'Tdcall', seamcall: 'Seamcall', vmcall: 'Vmcall',
  vmxoff: 'Vmxoff', vmlaunch: 'Vmlaunch', vmresume: 'Vmresume', wbinvd: 'Wbinvd', swapgs: 'Swapgs',
  lahf: 'Lahf', sahf: 'Sahf', iretq: 'Iretq', clac: 'Clac', stac: 'Stac',
};
// System, SGX and AVX state instructions without operands.
Object.assign(SIMPLE, {
  syscall: 'Syscall', sysretq: 'Sysretq', sysretl: 'Sysretd', lretq: 'Retfq', lret: 'Retfd', lretl: 'Retfd', lretw: 'Retfw',
  iretl: 'Iretd', iret: 'Iretd', iretw: 'Iretw', enclu: 'Enclu', encls: 'Encls', enclv: 'Enclv', vzeroupper: 'VEX_Vzeroupper',
  vzeroall: 'VEX_Vzeroall', xgetbv: 'Xgetbv', xsetbv: 'Xsetbv', invd: 'Invd', serialize: 'Serialize',
  rdpkru: 'Rdpkru', wrpkru: 'Wrpkru', emms: 'Emms', rdpmc: 'Rdpmc', vmfunc: 'Vmfunc',
  pushfq: 'Pushfq', popfq: 'Popfq', leave: 'Leaveq', leaveq: 'Leaveq',
});
for (const [n, c] of Object.entries(SIMPLE)) if (!TABLE.has(n)) def(n, { forms: [{ ops: [], code: c }] });
// Far returns with an immediate (bytes to release), far branches through a memory far pointer
// (gas: `ljmp *mem` is m16:32, `ljmpw` m16:16; m16:64 only with an explicit rex.W prefix).
for (const [n, code] of [['lret', 'Retfd'], ['lretl', 'Retfd'], ['lretw', 'Retfw'], ['lretq', 'Retfq']]) {
  TABLE.get(n)!.forms.push({ ops: ['i16'], code: `${code}_imm16` });
}
for (const n of ['ljmp', 'lcall']) {
  const N = n === 'ljmp' ? 'Jmp' : 'Call';
  def(n, { suffixes: 'wl', forms: [{ size: 32, ops: ['mfar'], code: `${N}_m1632` }, { size: 16, ops: ['mfar'], code: `${N}_m1616` }] });
}
// LSS/LFS/LGS r16/r32, m16:16/m16:32 (gas takes no r64 form: rex.W spells that).
for (const n of ['lss', 'lfs', 'lgs']) {
  const N = cap(n);
  def(n, { suffixes: 'wl', forms: [{ size: 32, ops: ['r32', 'm'], code: `${N}_r32_m1632` }, { size: 16, ops: ['r16', 'm'], code: `${N}_r16_m1616` }] });
}
// Descriptor tables, cache lines, prefetches: one memory operand.
const MEM1: Record<string, string> = {
  lgdt: 'Lgdt_m1664', lidt: 'Lidt_m1664', sgdt: 'Sgdt_m1664', sidt: 'Sidt_m1664', invlpg: 'Invlpg_m',
  clflush: 'Clflush_m8', clflushopt: 'Clflushopt_m8', clwb: 'Clwb_m8', prefetcht0: 'Prefetcht0_m8',
  prefetcht1: 'Prefetcht1_m8', prefetcht2: 'Prefetcht2_m8', prefetchnta: 'Prefetchnta_m8', prefetchw: 'Prefetchw_m8',
  fxsave: 'Fxsave_m512byte', fxrstor: 'Fxrstor_m512byte', fxsave64: 'Fxsave64_m512byte', fxrstor64: 'Fxrstor64_m512byte',
  xsave: 'Xsave_mem', xrstor: 'Xrstor_mem', xsaves: 'Xsaves_mem', xrstors: 'Xrstors_mem', xsaveopt: 'Xsaveopt_mem',
  xsave64: 'Xsave64_mem', xrstor64: 'Xrstor64_mem', xsaves64: 'Xsaves64_mem', xrstors64: 'Xrstors64_mem', xsaveopt64: 'Xsaveopt64_mem',
  ldmxcsr: 'Ldmxcsr_m32', stmxcsr: 'Stmxcsr_m32', vmptrld: 'Vmptrld_m64', vmptrst: 'Vmptrst_m64', vmclear: 'Vmclear_m64',
};
for (const [n, c] of Object.entries(MEM1)) def(n, { forms: [{ ops: ['m'], code: c }] });
for (const name of ['lsl', 'lar']) {
  def(name, {
    suffixes: 'wlq',
    forms: ([16, 32, 64] as Size[]).flatMap((s): Form[] => [
      { size: s, ops: [r(s), r(s)], code: `${cap(name)}_r${s}_${s === 16 ? 'rm16' : `r${s}m16`}` },
      { size: s, ops: [r(s), 'm'], code: `${cap(name)}_r${s}_${s === 16 ? 'rm16' : `r${s}m16`}` },
    ]),
  });
}
// LTR/LLDT take r16 or m16 (gas encodes the register without 66); STR/SLDT store to m16, r16
// (with 66), r32, or r64 (gas leaves out REX.W: the result is zero-extended either way).
for (const [name, store] of [['lldt', false], ['ltr', false], ['str', true], ['sldt', true]] as const) {
  const N = cap(name);
  const forms: Form[] = [{ ops: ['m'], code: `${N}_r32m16` }];
  if (store) forms.push({ size: 16, ops: ['r16'], code: `${N}_rm16` }, { size: 32, ops: ['r32'], code: `${N}_r32m16` }, { size: 64, ops: ['r64'], code: `${N}_r32m16`, regAs32: 0 });
  else forms.push({ size: 16, ops: ['r16'], code: `${N}_r32m16`, regAs32: 0 });
  def(name, { suffixes: 'w', forms });
}
for (const n of ['verr', 'verw']) def(n, { forms: [{ ops: ['m'], code: `${cap(n)}_r32m16` }, { ops: ['r16'], code: `${cap(n)}_r32m16`, regAs32: 0 }] });
def('movnti', { suffixes: 'lq', forms: [{ size: 32, ops: ['m', 'r32'], code: 'Movnti_m32_r32' }, { size: 64, ops: ['m', 'r64'], code: 'Movnti_m64_r64' }] });
def('crc32b', { forms: [{ ops: ['r32', 'rm8'], code: 'Crc32_r32_rm8' }, { ops: ['r64', 'rm8'], code: 'Crc32_r64_rm8' }] });
def('crc32w', { forms: [{ ops: ['r32', 'rm16'], code: 'Crc32_r32_rm16' }] });
def('crc32l', { forms: [{ ops: ['r32', 'rm32'], code: 'Crc32_r32_rm32' }] });
def('crc32q', { forms: [{ ops: ['r64', 'rm64'], code: 'Crc32_r64_rm64' }] });
// Without a suffix the source register sizes the operation.
def('crc32', {
  forms: [
    { ops: ['r32', 'r8'], code: 'Crc32_r32_rm8' }, { ops: ['r32', 'r16'], code: 'Crc32_r32_rm16' }, { ops: ['r32', 'r32'], code: 'Crc32_r32_rm32' },
    { ops: ['r64', 'r8'], code: 'Crc32_r64_rm8' }, { ops: ['r64', 'r64'], code: 'Crc32_r64_rm64' },
  ],
});
for (const n of ['rdgsbase', 'wrgsbase', 'rdfsbase', 'wrfsbase', 'rdrand', 'rdseed', 'rdpid']) {
  const N = cap(n);
  const forms: Form[] = n === 'rdpid' ? [{ size: 64, ops: ['r64'], code: 'Rdpid_r64' }]
    : n.startsWith('rd') && n.endsWith('base') || n.startsWith('wr') ? [{ size: 32, ops: ['r32'], code: `${N}_r32` }, { size: 64, ops: ['r64'], code: `${N}_r64` }]
    : [{ size: 16, ops: ['r16'], code: `${N}_r16` }, { size: 32, ops: ['r32'], code: `${N}_r32` }, { size: 64, ops: ['r64'], code: `${N}_r64` }];
  def(n, { suffixes: 'wlq', forms });
}
// gas turns `int $3` into int3 (cc), every other vector into cd ib.
def('int', { forms: [{ ops: ['i8'], code: 'Int_imm8' }] });
def('vmxon', { forms: [{ ops: ['m'], code: 'Vmxon_m64' }] });
def('nop', {
  suffixes: 'wlq',
  forms: [
    { ops: [], code: 'Nopd' },
    { size: 16, ops: ['rm16'], code: 'Nop_rm16' },
    { size: 32, ops: ['rm32'], code: 'Nop_rm32' },
    { size: 64, ops: ['rm64'], code: 'Nop_rm64' },
  ],
});

/** Prefix mnemonics that may stand alone (`rep; movsb`) or lead an instruction. */
export const PREFIXES: Record<string, number> = {
  lock: 0xf0, rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2,
  cs: 0x2e, ds: 0x3e, es: 0x26, ss: 0x36, fs: 0x64, gs: 0x65, data16: 0x66, addr32: 0x67, rex64: 0x48,
};

/** All mnemonic spellings (for "did you mean" suggestions). */
export function allMnemonics(): string[] {
  const out: string[] = [];
  for (const [n, e] of TABLE) {
    out.push(n);
    for (const s of e.suffixes ?? '') out.push(n + s);
  }
  return out;
}
