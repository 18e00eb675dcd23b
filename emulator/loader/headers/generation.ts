// Kernel generations live with the TDX catalogue (emulator/tdx/generation.ts), whose entries
// are tagged with the generations that define them; this path keeps existing imports working.

export { GENERATIONS, inGenerations, type Generation } from '../../tdx/generation';
