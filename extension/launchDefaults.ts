// Launch configurations the extension writes itself, without VS Code: the F5 default for the
// active file (entry = the function under the cursor or the first global one; context from what
// the file executes), one configuration per function for "Select and Start Debugging", and the
// arguments a TDX entry usually takes (a struct for the hypercall/module-call shapes). The
// context guess (`guessContext` of emulator/session) is passed in: that module loads the
// emulator, which the extension only loads when it is needed.

import type { ArgSpec, LaunchConfig } from '../emulator/session/config';
import type { ExecContext } from '../emulator/platform/config';
import { findFunctions, functionAt } from './asmScan';
import { DEBUG_TYPE } from './ids';

/** A launch configuration as VS Code holds it. */
export type TdxDebugConfiguration = LaunchConfig & { type: string; request: 'launch'; name: string };

/**
 * The struct argument a function most likely takes, from the asm-offsets symbols it uses
 * (`TDX_MODULE_*` → `struct tdx_module_args`, `TDX_HYPERCALL_*` → `struct tdx_hypercall_args`),
 * in the register that the symbols are used with (`TDX_MODULE_rcx(%rsi)` → second argument).
 */
export function guessArgs(text: string): ArgSpec[] | undefined {
  const m = /\b(TDX_MODULE|TDX_HYPERCALL)_\w+\s*\(\s*%(rdi|rsi|rdx|rcx|r8|r9)\s*\)/.exec(text);
  if (!m) return undefined;
  const struct = m[1] === 'TDX_MODULE' ? 'tdx_module_args' : 'tdx_hypercall_args';
  const pos = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'].indexOf(m[2]);
  const args: ArgSpec[] = [];
  for (let i = 0; i < pos; i++) args.push(0);
  args.push({ struct });
  return args;
}

/** The F5 default for a file: undefined when the file has no function to call. */
export function defaultConfiguration(program: string, text: string, context: ExecContext, cursorLine?: number): TdxDebugConfiguration | undefined {
  const fns = findFunctions(text);
  const fn = (cursorLine !== undefined ? functionAt(fns, cursorLine) : undefined) ?? fns.find((f) => f.global) ?? fns[0];
  if (!fn) return undefined;
  return configurationFor(program, text, context, fn.name, fn.line, fn.endLine);
}

/** A configuration that debugs `entry` of `program`. */
export function configurationFor(program: string, text: string, context: ExecContext, entry: string, fromLine?: number, toLine?: number): TdxDebugConfiguration {
  const body = fromLine !== undefined ? text.split('\n').slice(fromLine, (toLine ?? fromLine) + 1).join('\n') : text;
  const args = guessArgs(body);
  return {
    type: DEBUG_TYPE,
    request: 'launch',
    name: `TDX: ${entry} (${context === 'guest' ? 'TD guest' : context === 'host' ? 'VMX-root host' : 'no VMX'})`,
    program,
    entry,
    context,
    ...(args ? { args } : {}),
    // A file that makes TDX calls stops before the first one (the call card, the overlay);
    // other code stops on entry.
    ...(context === 'none' ? { stopOnEntry: true } : { stopOnCall: true }),
  };
}

/** One configuration per function of the file (dynamic configurations). */
export function configurationsForFile(program: string, text: string, context: ExecContext): TdxDebugConfiguration[] {
  return findFunctions(text).map((f) => configurationFor(program, text, context, f.name, f.line, f.endLine));
}
