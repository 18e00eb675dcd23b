// What in a launch configuration would run a program of the user's machine (a compiler, the
// kernel's make) rather than our built-in assembler and emulator: those parts are refused in
// untrusted workspaces (Restricted Mode), with this text as the reason. Pure: unit-tested.

/** Why a configuration needs a trusted workspace, or undefined when it runs nothing of the machine. */
export function toolchainUse(config: Record<string, unknown>): string | undefined {
  const program = typeof config.program === 'string' ? config.program : '';
  if (config.kernelSource !== undefined || config.kernelBuild !== undefined) return 'builds with the kernel\'s make ("kernelSource"/"kernelBuild")';
  if (config.toolchain !== undefined) return `builds with your compiler ("toolchain")`;
  if (/\.c$/i.test(program)) return 'builds a C program with your compiler';
  const objects = Array.isArray(config.objects) ? config.objects.filter((o): o is string => typeof o === 'string') : [];
  const sources = objects.filter((o) => /\.(c|S|s|sx)$/.test(o));
  if (sources.length) return `builds ${sources.join(', ')} (in "objects") with your compiler`;
  return undefined;
}

/** The message shown when Restricted Mode refuses a configuration. */
export function restrictedMessage(why: string): string {
  return `TDX: this configuration ${why}, which runs a program of this machine on the workspace's files: off in Restricted Mode. ` +
    'Trust the workspace to allow it. Debugging .S files with the built-in assembler needs no trust (the emulator runs nothing of the machine).';
}
