// The launch request: the configuration is validated by the emulator's one validator (every
// error names the attribute), the program is built, and a build failure comes back as GNU-style
// `file:line:col: error: …` lines the user can click.

import { Session } from '../emulator/session/session';
import { ConfigError } from '../emulator/session/config';
import { LoadError, formatDiagnostic } from '../emulator/loader/diagnostics';
import { ErrorCode, userError } from './errors';
import { Target } from './target';

/** Builds the debuggee from launch arguments (a DAP `launch` or `restart` body). */
export async function createTarget(raw: unknown, progress?: (line: string) => void): Promise<Target> {
  const args = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const cwd = typeof args.cwd === 'string' ? args.cwd : process.cwd();
  try {
    // The client says whether the workspace is trusted; a toolchain or kernel build runs only
    // when it says exactly `true` (missing, "true", "false", 1: untrusted).
    const session = await Session.create(args, { cwd, trusted: args.__workspaceTrusted === true, onProgress: progress });
    return new Target(session, session.config.disassemblyFlavor ?? 'att', args);
  } catch (e) {
    if (e instanceof ConfigError) throw userError(ErrorCode.BadLaunchAttribute, e.message);
    if (e instanceof LoadError) {
      const errors = e.diagnostics.filter((d) => d.severity === 'error');
      const shown = (errors.length ? errors : e.diagnostics).slice(0, 20).map(formatDiagnostic).join('\n');
      throw userError(ErrorCode.BuildFailed, `the program does not assemble:\n${shown}`);
    }
    throw e;
  }
}
