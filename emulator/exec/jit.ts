// Code generation from the instruction templates (table.ts): a form's template becomes the
// interpreter's specialised handler (operands read from the decoded instruction; one function
// per distinct generated source, so per operand shape) and, with the operands as constants,
// the inline code of a compiled block. A block is one JavaScript function for a straight-line
// run of instructions: those with a form are inlined, the others call their handler (a call
// site with a single target, which the engine can inline). Forms that cannot fault or touch
// memory skip the bookkeeping (RIP, in-flight index, attention check) that precise faults and
// watches need; every other instruction keeps it, so behaviour is exactly the interpreter's.

import type { Cpu } from '../cpu/cpu';
import type { Handler, Insn } from '../decode/insn';
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
 * Compiles a block. The function returns how many instructions completed: all of them, or
 * fewer when one raised `c.attention` (a watch hit, a write to code).
 */
export function compileBlock(insns: Insn[]): (c: Cpu) => number {
  const names: string[] = [...RT_NAMES];
  const values: unknown[] = [...RT_VALUES];
  let body = 'const R = c.r, M = c.mem;\n';
  const n = insns.length;
  for (let k = 0; k < n; k++) {
    const x = insns[k];
    names.push(`h${k}`, `x${k}`);
    values.push(x.exec, x);
    const last = k === n - 1;
    const f = x.form;
    // A flag-setting form right before the block's closing Jcc: the branch is decided from the
    // form's own operands (the lazy flags are still written for whoever reads them later).
    const j = insns[k + 1];
    const fused = k === n - 2 && f !== null && f.fuse !== undefined && j.form === jccForm ? f.fuse(j.cc, x) : undefined;
    if (fused !== undefined) {
      names.push(`h${k + 1}`, `x${k + 1}`);
      values.push(j.exec, j);
      const branch = `c.rip = ${fused} ? ${j.target} : ${j.next};`;
      if (f!.faults) body += `c.rip = ${x.next}; c.blockIndex = ${k};\n`;
      body += '{ ' + f!.src(blockOps(x, `x${k}`), x, f!.faults ? `if (c.attention) return ${k + 1}; ${branch}` : branch) + ' }\n';
      break;
    }
    if (f !== null && !f.faults) {
      // RIP is only observable after the block (or at a fault of a later instruction, which sets its own).
      if (last) body += `c.rip = ${x.next};\n`;
      body += '{ ' + f.src(blockOps(x, `x${k}`), x) + ' }\n';
      continue;
    }
    body += `c.rip = ${x.next}; c.blockIndex = ${k};\n`;
    body += f !== null ? '{ ' + f.src(blockOps(x, `x${k}`), x) + ' }\n' : `h${k}(c, x${k});\n`;
    if (!last) body += `if (c.attention) return ${k + 1};\n`;
  }
  body += `return ${n};`;
  const factory = new Function(...names, `'use strict'; return function block(c) {\n${body}\n};`) as (...a: unknown[]) => (c: Cpu) => number;
  return factory(...values);
}
