// Code generation from the instruction templates (table.ts): a form's template becomes the
// interpreter's specialised handler (operands read from the decoded instruction; one function
// per distinct generated source, so per operand shape) and, with the operands as constants,
// the inline code of a compiled block. A block is one JavaScript function for a run of
// instructions (straight-line, and on through direct jumps and calls and predicted returns:
// see InsnRecord.trace): those with a form are inlined, the others call their handler (a call
// site with a single target, which the engine can inline). Forms that cannot fault or touch
// memory skip the bookkeeping (RIP, in-flight index, attention check) that precise faults and
// watches need; every other instruction keeps it, so behaviour is exactly the interpreter's.

import type { Cpu } from '../cpu/cpu';
import { K, type Handler, type Insn } from '../decode/insn';
import type { Form } from './table';
import { RUNTIME, INTERPRETER_OPS, blockOps } from './template';
import { jccForm } from './control';

const RT_NAMES = Object.keys(RUNTIME);
const RT_VALUES = RT_NAMES.map((k) => RUNTIME[k]);

const handlers = new Map<string, Handler>();

/** The interpreter's handler for `i` in form `f`, shared by every instruction of the same shape. */
export function formHandler(f: Form, i: Insn): Handler {
  const src = f.src(INTERPRETER_OPS, i);
  let h = handlers.get(src);
  if (h === undefined) {
    const factory = new Function(...RT_NAMES, `'use strict'; return function form(c, x) { const R = c.r, M = c.mem;\n${src}\n};`);
    h = factory(...RT_VALUES) as Handler;
    handlers.set(src, h);
  }
  return h;
}

/**
 * Compiles a block: `run(c, end)` executes it and returns how many instructions of its last
 * pass completed — all of them, or fewer when one raised `c.attention` (a watch hit, a write
 * to code; RIP is then the next instruction's). A block whose closing branch goes back to its
 * own head is a loop: it repeats while the branch is taken and the budget (`end`, against
 * `c.icount`, which it advances by one pass each time round) allows another whole pass, so a
 * hot loop never goes back to the run loop. During a block, `c.blockIndex` names the
 * instruction in flight for a fault (RIP is put right by the run loop from it).
 */
export function compileBlock(insns: Insn[], allFlagsDead = false): (c: Cpu, end: number) => number {
  const names: string[] = [...RT_NAMES];
  const values: unknown[] = [...RT_VALUES];
  let body = '';
  const n = insns.length;
  const head = insns[0].addr, tailInsn = insns[n - 1];
  const loops = tailInsn.endsBlock && tailInsn.form !== null && tailInsn.k0 === K.IMM && tailInsn.target === head;
  const dead = deadFlags(insns, allFlagsDead);
  for (let k = 0; k < n; k++) {
    const x = insns[k];
    names.push(`h${k}`, `x${k}`);
    values.push(x.exec, x);
    const last = k === n - 1;
    const f = x.form;
    // A control transfer inside the block (a direct jump or call, a predicted return: see
    // InsnRecord.trace) has set RIP itself; a return leaves when it went elsewhere.
    const transfer = !last && x.endsBlock;
    const attention = transfer ? `if (c.attention) { ${WB} return ${k + 1}; }\n` : `if (c.attention) { ${WB} c.rip = ${x.next}; return ${k + 1}; }\n`;
    const leave = transfer && x.k0 !== K.IMM ? `if (c.rip !== ${insns[k + 1].addr}) { ${WB} return ${k + 1}; }\n` : '';
    // A handler works on c.r: it gets the registers and they are loaded again after it.
    if (f === null) body += SYNC;
    // A flag-setting form right before the block's closing Jcc: the branch is decided from the
    // form's own operands (the lazy flags are still written for whoever reads them later).
    const j = insns[k + 1];
    const fused = k === n - 2 && f !== null && f.fuse !== undefined && j.form === jccForm ? f.fuse(j.cc, x) : undefined;
    if (fused !== undefined) {
      names.push(`h${k + 1}`, `x${k + 1}`);
      values.push(j.exec, j);
      const branch = `c.rip = ${fused} ? ${j.target} : ${j.next};`;
      if (f!.faults) body += `c.blockIndex = ${k};\n`;
      body += flagSafe('{ ' + f!.src(blockOps(x, `x${k}`, dead[k]), x, f!.faults ? `if (c.attention) { ${WB} c.rip = ${x.next}; return ${k + 1}; } ${branch}` : branch) + ' }\n');
      break;
    }
    if (f !== null) {
      // Inline: RIP is only observable after the block, at a fault (the run loop sets it from
      // c.blockIndex) or at a watch hit (set on the way out).
      if (last) body += `c.rip = ${x.next};\n`;
      if (f.faults) body += `c.blockIndex = ${k};\n`;
      body += flagSafe('{ ' + f.src(blockOps(x, `x${k}`, dead[k]), x) + ' }\n');
      if (f.faults && !last) body += attention;
      body += leave;
      continue;
    }
    // A handler may read RIP (and sets it when it transfers control).
    body += `c.rip = ${x.next}; c.blockIndex = ${k};\n`;
    body += `h${k}(c, x${k});\n${RELOAD}`;
    if (!last) body += attention + leave;
  }
  // The lazy flags are kept in locals too (stored on the way out, as the registers) when
  // nothing in the block reaches them through `c` (a handler, a flag helper, c.flags) and
  // more than one instruction sets them: the locals cost a load of each field on entry and a
  // store on the way out, one instruction's own stores.
  const flagLocals = !/[\u0001\u0004]/.test(body) && (body.match(/\bc\.fop = /g)?.length ?? 0) >= 2;
  const [regs, code, all] = registerLocals(body + SYNC, flagLocals);
  const run = loops
    ? `for (;;) {\n${code}if (c.rip !== ${head}) return ${n};\nc.icount += ${n};\nif (end - c.icount < ${n}) return 0;\n}`
    : `${code}return ${n};`;
  // A fault (thrown by a memory access or a helper) finds c.r as the instructions before the
  // faulting one left it: the locals hold exactly that (a template writes registers only
  // after whatever may fault in it).
  const src = `const R = c.r, M = c.mem; let $a = 0;${regs}\n${all ? `try {\n${run}\n} catch (e) { ${all} throw e; }` : run}`;
  const factory = new Function(...names, `'use strict'; return function block(c, end) {\n${src}\n};`) as (...a: unknown[]) => (c: Cpu, end: number) => number;
  return factory(...values);
}

/**
 * Which instructions of a block may leave the status flags alone: those whose flags a later
 * instruction of the block sets in full (FlagUse 'def') before anything could read them — no
 * instruction that reads flags or runs as a handler in between, and no way out of the block
 * (a fault, a watch hit, a mispredicted return, the end of the block) on the way. `notOut`:
 * as if no flag were ever read outside the block (MachineOptions.allFlagsDead).
 */
function deadFlags(insns: Insn[], notOut: boolean): boolean[] {
  const dead = new Array<boolean>(insns.length).fill(false);
  let live = !notOut; // after the block, whatever runs next may read them
  for (let k = insns.length - 1; k >= 0; k--) {
    const x = insns[k], f = x.form;
    // A way out of the block right after k (attention, a return that went elsewhere).
    if (f === null || (!notOut && (f.faults || (x.endsBlock && x.k0 !== K.IMM)))) live = true;
    const use = f === null ? undefined : typeof f.flags === 'function' ? f.flags(x) : f.flags;
    if (use === undefined) { live = true; continue; }
    if (!live && use !== 'none') dead[k] = true;
    if (use === 'def') live = false;
    // A fault inside k leaves with the flags from before it.
    if (f!.faults && !notOut) live = true;
  }
  return dead;
}

/**
 * Markers in a block's code (see registerLocals): write back the registers changed since the
 * last SYNC, and forget them; write them back; load them all again; and code that reaches the
 * lazy flags through `c` other than by naming their fields (see flagSafe).
 */
const SYNC = '\u0001', WB = '\u0002', RELOAD = '\u0003', OPAQUE = '\u0004';
/** A register half in a block's code: `R[i]`, `R[i + 1]`, `R[i - 32]` (AH..BH), and whether it is assigned. */
const REG_REF = /R\[(\d+)(?: ([+-]) (\d+))?\](\s*(?:[|&^+*-]|>>>|>>|<<)?=(?!=))?/g;
/** A field of the lazy flags (cpu/flags.ts) in a block's code, and whether it is assigned. */
const FLAG_REF = /\bc\.(fop|fsz|faLo|faHi|fbLo|fbHi|frLo|frHi|fcf)\b(\s*(?:[|&^+*-]|>>>|>>|<<)?=(?!=))?/g;
/** Runtime helpers given `c` that never touch the lazy flags. */
const FLAG_FREE = new Set(['linear', 'segLinear', 'jumpTo', 'popShadow', 'addrOfStack', 'ea']);

/** Marks an inline instruction's code OPAQUE when it reaches the flags through `c` other than by naming their fields (c.flags, a helper given `c`). */
function flagSafe(code: string): string {
  if (/\bc\.flags\b/.test(code)) return OPAQUE + code;
  for (const m of code.matchAll(/\b(\w+)\(c[,)]/g)) if (!FLAG_FREE.has(m[1])) return OPAQUE + code;
  return code;
}

/**
 * Keeps the block's registers in local variables: each half the code uses is loaded once on
 * entry (and again after a handler, which works on `c.r`), and the halves written since the
 * last SYNC are stored back at the next SYNC (before a handler and at the end of the block)
 * and before every `return`. `flags`: the fields of the lazy flags the code names are kept in
 * locals the same way (the code must not reach them otherwise: no handler, nothing OPAQUE).
 * Returns the declarations, the code and the statement storing every local back (for a
 * fault); a block whose code names `R` otherwise keeps `R` as it is.
 */
function registerLocals(body: string, flags: boolean): [string, string, string] {
  /** Local name → what it stands for (R[i] or c.field). */
  const home = new Map<string, string>();
  let dirty = new Set<string>();
  const store = (set: Iterable<string>) => [...set].map((l) => `${home.get(l)} = ${l};`).join(' ');
  const use = (local: string, target: string, assign: string | undefined) => {
    home.set(local, target);
    if (assign !== undefined) dirty.add(local);
    return `${local}${assign ?? ''}`;
  };
  let out = '';
  for (const part of body.split(/([\u0001-\u0004])/)) {
    if (part === SYNC) { out += store(dirty); dirty = new Set(); }
    else if (part === WB) out += store(dirty);
    else if (part === RELOAD) out += '\u0005';
    else if (part === OPAQUE) continue;
    else {
      let t = part.replace(REG_REF, (_m, a: string, op: string | undefined, b: string | undefined, assign: string | undefined) => {
        const r = op === undefined ? Number(a) : op === '+' ? Number(a) + Number(b) : Number(a) - Number(b);
        return use(`r${r}`, `R[${r}]`, assign);
      });
      if (flags) t = t.replace(FLAG_REF, (_m, f: string, assign: string | undefined) => use(`$${f}`, `c.${f}`, assign));
      if (/\bR\b/.test(t)) return ['', body.replace(/[\u0001-\u0004]/g, ''), ''];
      out += t;
    }
  }
  const load = [...home].map(([l, h]) => `${l} = ${h}`).join(', ');
  return [home.size ? ` let ${load};` : '', out.replace(/\u0005/g, home.size ? `${load};` : ''), store(home.keys())];
}
