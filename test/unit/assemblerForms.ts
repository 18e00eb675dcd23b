// Generates the instruction-coverage sources for the gas comparison: every mnemonic of the
// emulator's set with every operand form, size and addressing mode the selection table has.
// The text is ours; gas decides what the bytes must be.

const R: Record<number, string[]> = {
  8: ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r13b', 'r15b', 'ah'],
  16: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r15w'],
  32: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r12d', 'r13d', 'r15d'],
  64: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r12', 'r13', 'r15'],
};
/** Addressing modes: bases incl. %rsp/%rbp/%r12/%r13, index without base, RIP, disp8/disp32, segments. */
export const MEMS = [
  '(%rax)', '(%rsp)', '(%rbp)', '(%r12)', '(%r13)', '8(%rax)', '-8(%rbp)', '0x7f(%rsp)', '0x80(%rsp)', '-0x80(%r12)',
  '-0x81(%r13)', '0x1000(%r13)', '(%rax,%rbx)', '(%rax,%rbx,2)', '8(%r12,%r13,4)', '-0x100(%rsp,%rbp,8)', '(,%rcx,8)',
  '0x10(,%rdx,4)', '0x1234', 'data(%rip)', 'data+8(%rip)', '%gs:0x28', '%fs:(%rax)', '%gs:8(%rbx,%rcx,2)', '(%r15,%r14)',
  'data', 'data+4(%rax)', '16(%rip)', '(8*2)(%rdi)', '0(%rax)', '0(%rbp)',
];
const IMM: Record<number, string[]> = {
  8: ['$0', '$1', '$-1', '$127', '$-128', '$255', "$'a'"],
  16: ['$0', '$1', '$-1', '$127', '$128', '$-129', '$0x7fff', '$0xffff', '$-0x8000'],
  32: ['$0', '$1', '$-1', '$127', '$128', '$-128', '$-129', '$0x7fffffff', '$0xffffffff', '$-0x80000000', '$0x12345678', '$K', '$data'],
  64: ['$0', '$1', '$-1', '$127', '$128', '$-129', '$0x7fffffff', '$-0x80000000', '$K', '$data'],
};
const SFX: Record<number, string> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };
const SIZES = [8, 16, 32, 64];
const pick = <T>(xs: T[], n: number, seed: number) => Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[(seed + i * 5) % xs.length]);

function pairs(lines: string[], m: string, sizes: number[], opts: { imm?: boolean; acc?: boolean; load?: boolean } = {}) {
  for (const s of sizes) {
    const rs = R[s].filter((r) => !(r === 'ah' && false));
    for (let i = 0; i < rs.length; i++) {
      const a = rs[i];
      const b = rs[(i + 3) % rs.length];
      if ((a === 'ah' || b === 'ah') && [a, b].some((x) => /^(spl|bpl|sil|dil|r\d+b)$/.test(x))) continue;
      lines.push(`${m} %${a}, %${b}`);
    }
    for (const mem of pick(MEMS, 12, s)) {
      const r = R[s][(s + mem.length) % 8];
      lines.push(`${m} %${r}, ${mem}`);
      if (opts.load !== false) lines.push(`${m} ${mem}, %${r}`);
    }
    if (opts.imm) {
      for (const imm of IMM[s]) {
        lines.push(`${m}${SFX[s]} ${imm}, %${R[s][2]}`);
        lines.push(`${m}${SFX[s]} ${imm}, %${R[s][0]}`);
        lines.push(`${m}${SFX[s]} ${imm}, %${R[s][9]}`);
        lines.push(`${m}${SFX[s]} ${imm}, ${MEMS[(imm.length * 7 + s) % MEMS.length]}`);
      }
    }
  }
}

/** Coverage source for data movement, ALU, shifts, bits, mul/div. */
export function coverageAlu(): string {
  const l: string[] = ['.text', 'K = 0x40', 'start:'];
  for (const m of ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']) pairs(l, m, SIZES, { imm: true });
  pairs(l, 'test', SIZES, { imm: true });
  pairs(l, 'mov', SIZES, { imm: true });
  for (const s of [8, 16, 32]) for (const r of R[s]) l.push(`mov $0x12, %${r}`);
  l.push('mov $0x123456789, %rax', 'mov $-0x80000001, %r9', 'movabs $0x1122334455667788, %r15', 'movabs $1, %rax', 'movq $data, %rdi', 'mov $data, %esi');
  l.push('mov %cr0, %rax', 'mov %cr3, %r9', 'mov %cr4, %rdx', 'mov %rax, %cr0', 'mov %r10, %cr3', 'mov %rbx, %cr4', 'movq %cr4, %rax');
  for (const [m, src, dsts] of [
    ['movzb', 8, [16, 32, 64]], ['movzw', 16, [32, 64]], ['movsb', 8, [16, 32, 64]], ['movsw', 16, [32, 64]],
  ] as const) {
    for (const d of dsts) {
      l.push(`${m}${SFX[d]} %${R[src][1]}, %${R[d][3]}`, `${m}${SFX[d]} %${R[src][9]}, %${R[d][9]}`, `${m}${SFX[d]} 8(%rsi), %${R[d][0]}`);
    }
  }
  l.push('movslq %eax, %rbx', 'movslq (%rdi), %r8', 'movslq %r9d, %r15', 'movsxd %ecx, %rdx');
  l.push('movzx %al, %ecx', 'movzx %ax, %r9', 'movsx %bl, %si', 'movsx %r8w, %rax', 'movzx (%rax), %eax');
  for (const s of [16, 32, 64]) for (const mem of pick(MEMS, 8, s)) l.push(`lea ${mem}, %${R[s][s % 7]}`);
  for (const s of SIZES) {
    for (const r of R[s]) if (r !== 'ah') l.push(`xchg %${R[s][0]}, %${r}`, `xchg %${r}, %${R[s][0]}`);
    l.push(`xchg %${R[s][1]}, %${R[s][5]}`, `xchg %${R[s][2]}, 8(%rsp)`, `xchg (%rdi), %${R[s][6]}`);
  }
  for (const r of [...R[32], ...R[64]]) l.push(`bswap %${r}`);
  for (const m of ['not', 'neg', 'inc', 'dec', 'mul', 'div', 'idiv', 'imul']) {
    for (const s of SIZES) {
      l.push(`${m} %${R[s][0]}`, `${m} %${R[s][9]}`, `${m}${SFX[s]} ${MEMS[s % MEMS.length]}`, `${m}${SFX[s]} ${MEMS[(s + 3) % MEMS.length]}`);
    }
  }
  for (const s of [16, 32, 64]) {
    const [a, b] = [R[s][1], R[s][9]];
    l.push(`imul %${a}, %${b}`, `imul 8(%rbp), %${a}`, `imul $3, %${a}, %${b}`, `imul $300, %${a}, %${b}`, `imul $-1, (%rax), %${a}`);
    l.push(`imul $5, %${b}`, `imul $0x1234, %${a}`);
  }
  for (const m of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'sal', 'shr', 'sar']) {
    for (const s of SIZES) {
      const r = R[s][3];
      l.push(`${m} %${r}`, `${m} $1, %${r}`, `${m} $4, %${r}`, `${m} %cl, %${r}`, `${m}${SFX[s]} $3, 8(%rax)`, `${m}${SFX[s]} (%rbx)`, `${m}${SFX[s]} %cl, (%r12)`);
    }
  }
  for (const m of ['shld', 'shrd']) {
    for (const s of [16, 32, 64]) l.push(`${m} $5, %${R[s][1]}, %${R[s][9]}`, `${m} %cl, %${R[s][2]}, (%rdi)`, `${m} %${R[s][3]}, %${R[s][0]}`);
  }
  for (const m of ['bt', 'bts', 'btr', 'btc']) {
    for (const s of [16, 32, 64]) l.push(`${m} %${R[s][1]}, %${R[s][9]}`, `${m} %${R[s][2]}, 8(%rdi)`, `${m} $7, %${R[s][3]}`, `${m}${SFX[s]} $63, (%rax)`);
  }
  for (const m of ['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt']) {
    for (const s of [16, 32, 64]) l.push(`${m} %${R[s][1]}, %${R[s][9]}`, `${m} 8(%rsp), %${R[s][2]}`);
  }
  for (const m of ['xadd', 'cmpxchg']) {
    for (const s of SIZES) l.push(`${m} %${R[s][1]}, %${R[s][9]}`, `lock ${m} %${R[s][2]}, (%rdi)`, `lock ${m}${SFX[s]} %${R[s][3]}, %gs:8(%rax)`);
  }
  l.push('cmpxchg16b (%rdi)', 'lock cmpxchg16b 16(%rsi)', 'cmpxchg8b (%rax)', 'lock; addl $1, (%rax)', 'lock incq (%rbx)', 'lock orw $0x100, (%rcx)');
  l.push('.data', 'data: .quad 0, 0');
  return l.join('\n') + '\n';
}

/** Coverage source for control flow, stack, string, system and TDX instructions. */
export function coverageControl(): string {
  const l: string[] = ['.text', 'start:'];
  const ccs = ['o', 'no', 'b', 'c', 'nae', 'ae', 'nb', 'nc', 'e', 'z', 'ne', 'nz', 'be', 'na', 'a', 'nbe', 's', 'ns', 'p', 'pe', 'np', 'po', 'l', 'nge', 'ge', 'nl', 'le', 'ng', 'g', 'nle'];
  for (const cc of ccs) {
    l.push(`j${cc} start`, `j${cc} far_label`, `j${cc} 1f`, '1:', `set${cc} %al`, `set${cc} %r9b`, `set${cc} (%rdi)`, `set${cc} %sil`);
    l.push(`cmov${cc} %rax, %rbx`, `cmov${cc} 8(%rsp), %ecx`, `cmov${cc}w %dx, %r9w`, `cmov${cc}q (%rax), %r15`);
  }
  for (const r of R[64]) l.push(`push %${r}`, `pop %${r}`, `jmp *%${r}`, `call *%${r}`);
  for (const m of pick(MEMS, 14, 1)) l.push(`pushq ${m}`, `popq ${m}`, `jmp *${m}`, `call *${m}`);
  l.push('push $1', 'push $-128', 'push $128', 'push $0x12345678', 'pushq $data', 'push %fs', 'push %gs', 'pop %fs', 'pop %gs');
  l.push('pushf', 'popf', 'pushfq', 'popfq', 'leave', 'leaveq', 'enter $16, $0', 'enter $0x1000, $1', 'ret', 'ret $8', 'retq', 'retq $0x10');
  l.push('call start', 'call far_label', 'call ext_fn', 'jmp ext_fn', 'jne ext_fn', 'jmp *ext_ptr(%rip)', 'call *ext_ptr(%rip)');
  l.push('2: jrcxz 2b', 'loop 2b', 'loope 2b', 'loopne 2b', 'loopz 2b', 'loopnz 2b', 'jecxz 2b');
  for (const s of ['b', 'w', 'l', 'q']) {
    for (const m of ['movs', 'stos', 'lods', 'cmps', 'scas']) l.push(`${m}${s}`, `rep ${m}${s}`);
    l.push(`repe cmps${s}`, `repne scas${s}`, `repz cmps${s}`, `repnz scas${s}`, `rep; stos${s}`);
  }
  l.push('cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'cbtw', 'cwtl', 'cltq', 'cwtd', 'cltd', 'cqto');
  l.push('clc', 'stc', 'cmc', 'cld', 'std', 'cli', 'sti', 'nop', 'nopl (%rax)', 'nopl 0(%rax,%rax,1)', 'nopw 0(%rax,%rax,1)', 'nopw %cs:0(%rax,%rax,1)', 'nopl 0x0(%rax)', 'nopq 8(%rax)');
  l.push('endbr64', 'pause', 'lfence', 'mfence', 'sfence', 'int3', 'int $3', 'int $0x80', 'ud2', 'hlt');
  l.push('cpuid', 'rdmsr', 'wrmsr', 'rdtsc', 'rdtscp', 'tdcall', 'seamcall', 'vmcall', 'vmxon (%rdi)', 'vmxon 8(%rsp)', 'vmxoff', 'vmlaunch', 'vmresume');
  l.push('.byte 0x66,0x0f,0x01,0xcc', '.byte 0x66,0x0f,0x01,0xcf', 'wbinvd', 'swapgs', 'lahf', 'sahf', 'clac', 'stac');
  // Segment and far-transfer instructions, and XLAT with its explicit table operand.
  l.push('lret', 'lretw', 'lretl', 'lretq', 'lret $8', 'lretw $2', 'lretl $0x10', 'lretq $0x18', 'iretw', 'iretl', 'iretq', 'syscall', 'sysretq', 'sysretl');
  for (const m of pick(MEMS, 8, 3)) l.push(`ljmp *${m}`, `lcall *${m}`, `ljmpw *${m}`, `lcallw *${m}`, `ljmpl *${m}`, `lss ${m}, %ecx`, `lfs ${m}, %r9w`, `lgs ${m}, %r12d`, `verr ${m}`, `verw ${m}`);
  l.push('rex64 ljmp *(%rax)', 'rex64 lss (%rax), %ecx', 'rex64 lcall *8(%rbx)', 'rex64 lgs (%rsi), %edx', 'verr %ax', 'verw %r9w', 'lar %eax, %ecx', 'lsl (%rax), %rdx');
  l.push('xlat', 'xlatb', 'xlat (%rbx)', 'xlatb (%rbx)', 'xlat %ds:(%rbx)', 'xlat (%ebx)', 'xlat %fs:(%rbx)', 'xlatb %gs:(%rbx)');
  l.push('.skip 200, 0x90', 'far_label: ret', '.data', 'data: .quad 0', 'ext_ptr: .quad 0');
  return l.join('\n') + '\n';
}
