// Stack frames from the machine's shadow call stack (CALL pushes, RET pops): frame 0 at RIP,
// then one frame per return address. Code expanded from a macro gets inline frames, innermost
// first — the macro-body line, then the line that invoked it — like inlined C functions.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { hex } from './format';
import type { Target } from './target';

/** What a frame id stands for, until the next resume. */
export interface FrameInfo {
  address: bigint;
  /** Physical frame index (0 = top). */
  level: number;
}

export function stackTrace(t: Target, args: DebugProtocol.StackTraceArguments, frames: Map<number, FrameInfo>): DebugProtocol.StackTraceResponse['body'] {
  const pcs = [t.rip, ...t.session.callStack().reverse().map((f) => f.returnAddress)];
  const all: DebugProtocol.StackFrame[] = [];
  frames.clear();
  pcs.forEach((pc, level) => {
    // A caller's line is the line of its CALL, which ends just before the return address.
    const lookup = level === 0 ? pc : pc - 1n;
    const pos = t.positions(lookup);
    // Name the frame by the same address as its line: a CALL that ends a noreturn function is in it, not in the next symbol.
    const sym = t.session.symbolize(lookup);
    const func = sym ? sym.name : hex(pc);
    for (let k = pos.length - 1; k >= 0; k--) {
      const id = frames.size + 1;
      frames.set(id, { address: pc, level });
      const inline = k > 0;
      all.push({
        id, name: inline ? `${func} (macro expansion)` : func, source: t.source(pos[k].file), line: pos[k].line, column: 1,
        instructionPointerReference: hex(pc), ...(inline ? { presentationHint: 'subtle' as const } : {}),
      });
    }
    if (pos.length === 0) {
      const id = frames.size + 1;
      frames.set(id, { address: pc, level });
      all.push({ id, name: sym ? `${func}+0x${sym.offset.toString(16)}` : func, line: 0, column: 0, instructionPointerReference: hex(pc), presentationHint: 'subtle' });
    }
  });
  const start = Number.isInteger(args.startFrame) && args.startFrame! > 0 ? args.startFrame! : 0;
  const levels = Number.isInteger(args.levels) && args.levels! > 0 ? args.levels! : all.length;
  return { stackFrames: all.slice(start, start + levels), totalFrames: all.length };
}
