// The commands that run the emulator (`run`, `matrix`, `demo`): one module so that the shipped
// cli keeps them in one bundle, apart from `asm` (which needs only the assembler) and from the
// dispatcher in main.ts (which needs neither until a command is chosen).

export { runCommand } from './run';
export { matrixCommand } from './matrix';
export { demoCommand } from './demo';
