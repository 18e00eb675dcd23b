// A debuggee: the Image built from the launch configuration, a Machine laid out like a kernel
// (code at kernel-text addresses, a 16 KiB stack over a guard page, per-CPU data behind GS,
// struct arguments in memory), the TDX platform, and the entry function called with SysV
// arguments and a return address that ends the run. The CLI and the debug adapter share it.
// Size (over 450 lines): construction and the runtime API the CLI and the adapter read are one
// object's; its vocabulary (layout, stop records, options) is in sessionTypes.ts.

import { DEFAULT_RECENT, RecentLog, type RecentLogSnapshot } from '../platform/recentLog';
import { readFileSync, existsSync } from 'node:fs';
import { MAX_SOURCE_BYTES, fileNotFound, notRegularFile } from '../loader/files';
import { resolve, isAbsolute, join } from 'node:path';
import { Machine, type StopReason, type MachineSnapshot, type FaultHandler } from '../machine';
import { VECTOR_NAMES, type CpuFault } from '../cpu/fault';
import { addrToBig } from '../cpu/cpu';
import { ARCHITECTURAL_MSRS } from '../x86/registers';
import type { Insn } from '../decode/insn';
import { MachineStop } from '../cpu/system';
import { buildImage } from '../loader/buildImage';
import { LoadError, type Diagnostic } from '../loader/diagnostics';
import type { Image, ImageSymbol, LineEntry, FieldLayout } from '../loader/image';
import { Platform } from '../platform/platform';
import { resolvePlatform, type ExecContext } from '../platform/config';
import { ExceptionTable } from '../platform/extable';
import { installStubs, StubConfigError, type StubCalls, type StubStopDetail } from '../platform/stubs';
import { KernelHeap } from '../platform/kernelStubs';
import type { PlatformEvent, PlatformNote, TdxCallEvent } from '../platform/events';
import { catalogueConstant } from '../tdx/catalog';
import { FaultInjector, type FaultRule } from '../tdx/faultPlan';
import { ModelConfigError } from '../tdx/types';
import { ConfigError, DEFAULT_MAX_INSTRUCTIONS, validateConfig, type ArgSpec, type ValidConfig } from './config';
import { buildRealImage, generationOfTree, wantsRealImage } from './realImage';
import { kernelObjectFor, kernelObjectStaleness, type KernelTree } from '../loader/kernelTree';
import { installBugTable } from '../platform/bugTable';
import { initialiseData, perCpuTemplateSize, setUpPerCpu, KERNEL_MAP, type PerCpuLayout } from './kernelData';

export { LAYOUT, guessContext, type SessionStopReason, type SessionStop, type RunRecorder, type StructArg, type SessionOptions } from './sessionTypes';
import { LAYOUT, guessContext, type SessionStop, type RunRecorder, type StructArg, type SessionOptions } from './sessionTypes';
/** The fault record and handler type the adapter's fault gate works with. */
export type { CpuFault } from '../cpu/fault';
export type { FaultHandler } from '../machine';

/** Bytes of int3 at each stub's address (the stub's hook runs on the first). */
const STUB_BYTES = 16;

export class Session {
  readonly machine = new Machine();
  readonly platform: Platform;
  readonly extable: ExceptionTable;
  readonly structArgs: StructArg[] = [];
  /** Fixups, stub calls and log lines: the most recent `callHistory` in full (as the calls). */
  readonly notes: RecentLog<PlatformNote>;
  readonly entry: { name: string; address: bigint };
  /** RSP when the entry function is entered (its return address on top), also when `before` functions run first. */
  readonly entrySp = LAYOUT.stackTop - 8n;
  /** The per-CPU areas (CPU k's GS base is base + k × stride). */
  readonly perCpu: PerCpuLayout;
  /** The emulated kernel heap of the built-in kmalloc/page-allocator stubs. */
  readonly heap: KernelHeap;
  /** The stubs' call counts (sequences) and pending calls into the image. */
  readonly stubCalls: StubCalls;
  readonly context: ExecContext;
  readonly maxInstructions: number;
  /** Reverse execution's recorder (emulator/timetravel): runs are cut at its checkpoints. */
  recorder: RunRecorder | undefined;
  /** While true (time-travel replays), events still update `calls` and `notes` but reach no onEvent listener. */
  quiet = false;
  /** The exception-table delivery installed here; replays use it even when a debugger wraps machine.faultHandler. */
  readonly baseFaultHandler: FaultHandler | undefined;
  /** Warnings of the user's compiler or the kernel's make (ELF paths), for the Problems view. */
  readonly buildDiagnostics: Diagnostic[] = [];
  private readonly funcs: ImageSymbol[];
  private readonly listeners: ((e: PlatformEvent) => void)[] = [];
  private readonly initial: MachineSnapshot;
  private readonly initialPlatform: ReturnType<Session['platformSnapshot']>;

  private constructor(readonly config: ValidConfig, readonly image: Image, readonly programPath: string) {
    const m = this.machine;
    const src = image.sources.get(programPath) ?? '';
    this.context = config.context ?? guessContext(src);
    this.maxInstructions = config.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
    this.funcs = image.symbols.filter((s) => s.type !== 'section' && s.type !== 'file').sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));

    // Sections, with the permissions their flags give; a page two sections share gets both.
    const pagePerms = new Map<bigint, Set<string>>();
    for (const sec of image.sections) {
      if (!sec.alloc || sec.bytes.length === 0 || sec.perCpu) continue;
      // As the flags say: "awx" (self-modifying code, trampolines) is writable and executable.
      const perms = `r${sec.write ? 'w' : ''}${sec.exec ? 'x' : ''}`;
      for (let p = sec.address & ~0xfffn; p < sec.address + BigInt(sec.bytes.length); p += 0x1000n) {
        const set = pagePerms.get(p) ?? new Set<string>();
        for (const ch of perms) set.add(ch);
        pagePerms.set(p, set);
      }
    }
    for (const [page, set] of pagePerms) m.map(page, 0x1000, [...set].join(''), 'image');
    for (const sec of image.sections) if (sec.alloc && sec.bytes.length && !sec.perCpu) writeOnFreshPages(m, sec.address, sec.bytes);
    const stubs = image.undefinedSymbols.map((name) => {
      const s = image.symbols.find((x) => x.name === name);
      if (!s) throw new LoadError([{ severity: 'error', message: `undefined symbol '${name}' has no stub address in the image` }]);
      return { name, address: s.address };
    });
    for (const s of stubs) {
      // ELF stubs may follow data on the same page: that page must be executable too.
      const shared = pagePerms.get(s.address & ~0xfffn);
      if (shared && !shared.has('x')) { shared.add('r').add('x'); m.map(s.address & ~0xfffn, 0x1000, [...shared].join(''), 'image'); }
      if (!m.mem.isMapped(Number(BigInt.asIntN(64, s.address)))) m.map(s.address, STUB_BYTES, 'rx', 'stubs');
      m.writeBytes(s.address, new Uint8Array(STUB_BYTES).fill(0xcc));
    }
    m.map(LAYOUT.stackTop - BigInt(LAYOUT.stackSize), LAYOUT.stackSize, 'rw', 'stack');
    m.map(LAYOUT.structs, LAYOUT.structsSize, 'rw', 'structs');
    // Per-CPU areas: the zero-based template copied to each CPU's GS base (CPU 0 runs the entry function).
    const cpus = config.cpus ?? 1;
    const templ = perCpuTemplateSize(image);
    const stride = BigInt(Math.max(LAYOUT.percpuSize, Math.ceil(templ / 0x1000) * 0x1000));
    this.perCpu = { base: LAYOUT.percpu, stride, cpus, size: templ };
    if (LAYOUT.percpu + stride * BigInt(cpus) > LAYOUT.heap) throw new ConfigError('cpus', `${cpus} per-CPU areas of ${stride} bytes do not fit below the heap`);
    setUpPerCpu(m, image, this.perCpu);
    m.map(LAYOUT.returnTrap, 4096, 'rx', 'return trap');
    m.writeBytes(LAYOUT.returnTrap, new Uint8Array([0xcc]));
    m.returnAddress = Number(BigInt.asIntN(64, LAYOUT.returnTrap));
    m.setReg('gs_base', LAYOUT.percpu);

    const lps = config.tdxModule?.numLps;
    if (typeof lps === 'number' && lps < cpus) throw new ConfigError('tdxModule.numLps', `is ${lps}, fewer than the ${cpus} CPUs of "cpus": every CPU is a logical processor the TDX module knows (leave numLps out to follow "cpus")`);

    // RDRAND/RDSEED draw from a generator seeded by the launch `seed` (same seed, same values).
    m.cpu.rngState = BigInt.asUintN(64, (BigInt(config.seed ?? 0) + 1n) * 0x9e3779b97f4a7c15n) || 1n;
    // Platform, exception table, stubs.
    this.notes = new RecentLog<PlatformNote>(config.callHistory ?? DEFAULT_RECENT, (n) => n.kind);
    const note = (n: PlatformNote) => { this.notes.push(n); this.emit(n); };
    try {
      this.platform = new Platform(m, {
        state: resolvePlatform(this.context, config.platform ?? {}),
        // One logical processor per emulated CPU unless the module's configuration says otherwise.
        module: config.cpus !== undefined && config.tdxModule?.numLps === undefined ? { ...config.tdxModule, numLps: cpus } : config.tdxModule,
        vmm: config.vmm, faults: config.faultRules, seed: BigInt(config.seed ?? 0),
        symbolize: (a) => this.symbolize(a),
        currentLp: () => this.currentCpu(),
        callHistory: config.callHistory,
      });
    } catch (e) {
      // The VMM and module models name the bad entry by its launch-configuration path.
      if (e instanceof ModelConfigError) throw new ConfigError(e.path, e.detail);
      throw e;
    }
    this.platform.onEvent((e) => { if (e.kind !== 'call') this.notes.push(e); this.emit(e); });
    this.extable = new ExceptionTable(image.exTable, note);
    this.extable.attach(m);
    installBugTable(m, image.sections, note, (a) => this.describe(a));
    this.baseFaultHandler = m.faultHandler;
    this.heap = new KernelHeap(m, LAYOUT.heap, BigInt(LAYOUT.heapSize), KERNEL_MAP.pageOffset, KERNEL_MAP.vmemmap);
    const trampoline = LAYOUT.returnTrap + 16n;
    m.writeBytes(trampoline, new Uint8Array([0xcc]));
    try {
      this.stubCalls = installStubs(m, stubs, config.stubs ?? {}, note, {
        constant: (t) => image.constants.get(t) ?? image.symbols.find((x) => x.name === t)?.address,
        functionAddress: (t) => image.symbols.find((x) => x.name === t && x.type === 'func' && !image.undefinedSymbols.includes(t))?.address,
        heap: this.heap, cpus: { base: this.perCpu.base, stride: this.perCpu.stride, cpus: this.perCpu.cpus }, trampoline,
        definedIn: (t) => image.treeDefinitions?.get(t),
      });
    } catch (e) {
      if (e instanceof StubConfigError) throw new ConfigError(e.attribute, e.message);
      throw e;
    }
    // Undefined data: defaults the memory map implies, then the `data` attribute.
    const cpu = { cpuid: (l: number, k: number) => m.cpuid(l, k), context: this.context, tdxBios: this.platform.state.tdxBios, generation: config.generation };
    const allocate = (n: number) => this.heap.alloc(BigInt(n), 64n, 'slab', true);
    for (const d of initialiseData(m, image, this.perCpu, config.data ?? {}, (t, a) => this.resolveValue(t, a), { cpu, allocate, stackTop: LAYOUT.stackTop })) {
      note({ kind: 'stub', name: `undefined data symbol ${d.name}`, address: 0n, text: d.text.replace(`undefined data symbol ${d.name}: `, '') });
    }

    // The call: entry symbol, SysV arguments, return trap on the stack.
    this.entry = this.findEntry(config.entry);
    const argRegs = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
    let structCursor = LAYOUT.structs;
    (config.args ?? []).forEach((a, k) => {
      if (typeof a === 'object' && 'buffer' in a) {
        // A buffer from the emulated heap, as the kernel's callers kmalloc them.
        const b = this.heap.alloc(BigInt(a.buffer), BigInt(a.align ?? 8), 'slab', true);
        if (!b) throw new ConfigError(`args[${k}].buffer`, `${a.buffer} bytes do not fit the emulated heap`);
        if (a.init) { if (a.init.length > a.buffer) throw new ConfigError(`args[${k}].init`, `gives ${a.init.length} bytes for a ${a.buffer}-byte buffer`); m.writeBytes(b, Uint8Array.from(a.init)); }
        m.setReg(argRegs[k], b);
        return;
      }
      const v = this.argValue(a, k, () => {
        const addr = structCursor;
        return addr;
      }, (size) => { structCursor += BigInt((size + 63) & ~63); });
      m.setReg(argRegs[k], v);
    });
    const sp = LAYOUT.stackTop - 8n;
    m.writeBytes(sp, le64(LAYOUT.returnTrap));
    m.setReg('rsp', sp);
    m.setReg('rflags', 0x202n);
    m.setReg('rip', this.entry.address);
    this.callBefore(config.before ?? [], argRegs.map((r) => m.getReg(r)));
    this.initial = m.snapshot();
    this.initialPlatform = this.platformSnapshot();
  }

  /** Builds the Image and the machine. Throws ConfigError (bad attribute) or LoadError (the program does not assemble). */
  static async create(rawConfig: unknown, opts: SessionOptions = {}): Promise<Session> {
    const config = validateConfig(rawConfig);
    const cwd = opts.cwd ?? process.cwd();
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
    const program = abs(config.program);
    // kernelSource/kernelBuild name the tree of a .S whose object is stale in an untrusted
    // workspace (no make may run): the built-in assembler takes the tree's headers and flags.
    const namedTree = config.kernelSource !== undefined && config.kernelBuild !== undefined ? { source: abs(config.kernelSource), build: abs(config.kernelBuild) } : undefined;
    const treeAsm = namedTree && opts.trusted === false && /\.S$/.test(config.program) && !(config.objects?.length) && untrustedStale(config.program, namedTree, abs);
    if (wantsRealImage(config, program) && !treeAsm) {
      // ELF object or executable, the user's toolchain, or a kernel tree (emulator/session/realImage.ts).
      const r = await buildRealImage(config, config.program, { cwd, base: LAYOUT.text, trusted: opts.trusted !== false, onProgress: opts.onProgress });
      const s = new Session(r.config, r.image, r.programPath);
      s.buildDiagnostics.push(...r.diagnostics);
      return s;
    }
    const programFile = treeAsm && namedTree && !existsSync(program) ? join(namedTree.source, config.program) : program;
    if (opts.text === undefined) { const why = notRegularFile(programFile, MAX_SOURCE_BYTES); if (why) throw new ConfigError('program', why); }
    for (const [k, list] of [['includePaths', config.includePaths], ['headers', config.headers]] as const) {
      (list ?? []).forEach((p, i) => { if (!existsSync(abs(p))) throw new ConfigError(`${k}[${i}]`, fileNotFound(abs(p), 'a path')); });
    }
    if (config.asmOffsets && !existsSync(abs(config.asmOffsets))) throw new ConfigError('asmOffsets', fileNotFound(abs(config.asmOffsets)));
    const defines: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.defines ?? {})) defines[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    const r = await buildImage(programFile, {
      includePaths: (config.includePaths ?? []).map(abs), headers: (config.headers ?? []).map(abs),
      asmOffsets: config.asmOffsets ? abs(config.asmOffsets) : undefined, defines, generation: config.generation,
      base: LAYOUT.text, text: opts.text,
      // A .S of a configured kernel tree: the tree's headers and kbuild's flags (no make runs).
      kernelTreeFrom: treeAsm && namedTree ? namedTree : 'discover',
    });
    if (r.kernelTree) opts.onProgress?.(`kernel tree ${r.kernelTree.source} (build ${r.kernelTree.build}): the tree's headers and the flags of ${r.kernelTree.sibling ? `${r.kernelTree.sibling} (a sibling: this file's object has no .cmd yet)` : r.kernelTree.cmdFile}`);
    if (!r.image) throw new LoadError(r.diagnostics.length ? r.diagnostics : [{ severity: 'error', message: `${program}: the assembler produced no image` }]);
    if (!r.image.sources.has(programFile)) r.image.sources.set(programFile, opts.text ?? readFileSync(programFile, 'utf8'));
    const generation = config.generation ?? (r.kernelTree ? generationOfTree(r.kernelTree.source) : undefined);
    return new Session(generation && !config.generation ? { ...config, generation } : config, r.image, programFile);
  }

  /** Warnings of the build (kept for the Problems view). */
  static diagnosticsOf(e: unknown): Diagnostic[] {
    return e instanceof LoadError ? e.diagnostics : [];
  }

  onEvent(l: (e: PlatformEvent) => void): void {
    this.listeners.push(l);
  }

  private emit(e: PlatformEvent): void {
    if (this.quiet) return;
    for (const l of this.listeners) l(e);
  }

  /** The calls kept in full, oldest first (`platform.calls` is the log: it counts every call made and the dropped ones). */
  get calls(): readonly TdxCallEvent[] {
    return this.platform.calls.toArray();
  }

  // ---- setup helpers ------------------------------------------------------------------------

  /**
   * `before`: functions of the image called with no arguments ahead of the entry function, as
   * the kernel's callers do (tdx_cpu_enable before tdx_enable); a non-zero int result stops.
   */
  private callBefore(names: string[], entryArgs: bigint[]): void {
    if (!names.length) return;
    const m = this.machine;
    const fns = names.map((n, k) => {
      const s = this.image.symbols.find((x) => x.name === n && x.type === 'func' && !this.image.undefinedSymbols.includes(n));
      if (!s) throw new ConfigError(`before[${k}]`, `names '${n}', which is not a function of the program`);
      return s;
    });
    const trampoline = LAYOUT.returnTrap + 16n;
    const start = (k: number): void => {
      const rsp = m.getReg('rsp');
      this.stubCalls.pending.push({
        rsp, then: () => {
          const r = BigInt.asIntN(32, m.getReg('rax') & 0xffffffffn);
          if (r !== 0n) throw new MachineStop('platform', `"before": ${fns[k].name} returned ${r}, so ${this.entry.name} is not called`, true, { kind: 'stub-stop', message: `${fns[k].name} returned ${r}`, symbol: fns[k].name } satisfies StubStopDetail);
          if (k + 1 < fns.length) { start(k + 1); return; }
          ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'].forEach((reg, j) => m.setReg(reg, entryArgs[j]));
          m.setReg('rip', this.entry.address);
        },
      });
      m.writeBytes(rsp - 16n, le64(trampoline));
      m.setReg('rsp', rsp - 16n);
      m.setReg('rip', fns[k].address);
    };
    start(0);
  }

  private findEntry(name: string | undefined): { name: string; address: bigint } {
    const funcs = this.image.symbols.filter((s) => s.type === 'func' && !this.image.undefinedSymbols.includes(s.name));
    if (name) {
      const s = this.image.symbols.find((x) => x.name === name && !this.image.undefinedSymbols.includes(x.name));
      if (!s) {
        const list = funcs.map((f) => f.name).slice(0, 20).join(', ');
        throw new ConfigError('entry', `names '${name}', which the program does not define${list ? ` (functions: ${list})` : ''}`);
      }
      return { name, address: s.address };
    }
    const g = funcs.find((f) => f.binding === 'global') ?? funcs[0] ?? this.image.symbols.find((s) => s.section === '.text' && s.binding === 'global');
    if (!g) throw new ConfigError('entry', 'is not given and the program has no function symbol to start at');
    return { name: g.name, address: g.address };
  }

  /** A constant (integer #define, .set symbol, asm-offsets) or a number. */
  resolveValue(text: string | number, attribute: string): bigint {
    if (typeof text === 'number') {
      if (!Number.isSafeInteger(text)) throw new ConfigError(attribute, `${text} is not a safe integer (write large values as "0x…" strings)`);
      return BigInt.asUintN(64, BigInt(text));
    }
    const t = text.trim();
    if (/^-?(0x[0-9a-f]+|0b[01]+|\d+)$/i.test(t)) return BigInt.asUintN(64, t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t));
    const c = this.image.constants.get(t);
    if (c !== undefined) return BigInt.asUintN(64, c);
    const s = this.image.symbols.find((x) => x.name === t);
    if (s) return s.address;
    // A TDX name every generation means the same number by (an early kernel kept TDVMCALL_MAP_GPA in a .c file).
    const k = catalogueConstant(t);
    if (k !== undefined) return k;
    throw new ConfigError(attribute, `"${t}" is neither a number nor a constant or symbol of the program`);
  }

  private argValue(a: ArgSpec, k: number, at: () => bigint, advance: (size: number) => void): bigint {
    if (typeof a !== 'object') return this.resolveValue(a, `args[${k}]`);
    if ('buffer' in a) throw new ConfigError(`args[${k}]`, 'is a buffer, laid out on the heap');
    const layout = this.image.structs.get(a.struct) ?? this.image.structs.get(a.struct.replace(/^struct\s+/, ''));
    if (!layout) {
      throw new ConfigError(`args[${k}].struct`, `"${a.struct}" is not a known struct (known: ${[...this.image.structs.keys()].join(', ')})`);
    }
    const address = at();
    if (address + BigInt(layout.size) > LAYOUT.structs + BigInt(LAYOUT.structsSize)) throw new ConfigError(`args[${k}]`, 'the struct arguments do not fit in the 64 KiB struct area');
    advance(layout.size);
    for (const [field, value] of Object.entries(a.init ?? {})) {
      const f = findField(layout.fields, field);
      if (!f) throw new ConfigError(`args[${k}].init.${field}`, `is not a field of ${layout.name} (fields: ${layout.fields.map((x) => x.name).filter(Boolean).join(', ')})`);
      if (f.bitWidth !== undefined) throw new ConfigError(`args[${k}].init.${field}`, 'is a bit-field; initialise the containing storage instead');
      const v = this.resolveValue(value, `args[${k}].init.${field}`);
      const bytes = new Uint8Array(f.size);
      for (let b = 0; b < f.size && b < 8; b++) bytes[b] = Number((v >> BigInt(8 * b)) & 0xffn);
      this.machine.writeBytes(address + BigInt(f.offset), bytes);
    }
    const used = this.structArgs.length;
    this.structArgs.push({ index: k, name: a.name ?? (used === 0 ? 'args' : `args${used}`), layout, address });
    return address;
  }

  // ---- running ------------------------------------------------------------------------------

  /** Runs until a stop, at most `budget` instructions (the run's overall limit applies too). */
  run(budget = Infinity): SessionStop {
    const left = this.maxInstructions - this.machine.instructionCount;
    if (left <= 0) return this.limitStop();
    const n = Math.min(budget, left);
    if (this.recorder) {
      const s = this.runRecorded(n, n === left);
      this.recorder.ran(s);
      return s;
    }
    const r = this.machine.run(n);
    if (r.kind === 'budget' && n === left) return this.limitStop();
    return this.translate(r);
  }

  /** One instruction; null when it completed normally. */
  step(): SessionStop | null {
    if (this.machine.instructionCount >= this.maxInstructions) return this.limitStop();
    const rec = this.recorder;
    if (rec && rec.room() <= 0) rec.checkpoint();
    const r = this.machine.step();
    const s = r ? this.translate(r) : null;
    rec?.ran(s);
    return s;
  }

  /** A run cut at the recorder's checkpoints; stops exactly where an uncut run would. */
  private runRecorded(n: number, toLimit: boolean): SessionStop {
    const m = this.machine, rec = this.recorder as RunRecorder;
    const start = m.instructionCount;
    for (;;) {
      const done = m.instructionCount - start;
      if (rec.room() <= 0) {
        rec.checkpoint();
        // Machine.run never stops on its first instruction's breakpoint: a cut must not hide one.
        const rip = m.getReg('rip');
        if (done > 0 && !m.cpu.repPending && m.hasBreakpoint(rip)) return this.translate({ kind: 'breakpoint', address: rip, message: `breakpoint at ${hex(rip)}` });
      }
      const chunk = Math.min(n - done, rec.room());
      if (chunk <= 0) {
        if (toLimit) return this.limitStop();
        const rip = m.getReg('rip');
        return this.translate({ kind: 'budget', address: rip, message: `instruction budget of ${n} exhausted` });
      }
      const r = m.run(chunk);
      if (r.kind !== 'budget') return this.translate(r);
    }
  }

  private limitStop(): SessionStop {
    const address = this.machine.getReg('rip');
    const r: StopReason = { kind: 'budget', address, message: '' };
    return { reason: 'limit', address, machine: r, message: `instruction limit of ${this.maxInstructions.toLocaleString('en-US')} reached at ${this.describe(address)} (runaway code? raise "maxInstructions")` };
  }

  private translate(r: StopReason): SessionStop {
    const base = { address: r.address, machine: r };
    switch (r.kind) {
      case 'returned': {
        const rax = this.machine.getReg('rax');
        // An int-returning kernel function's negative errno reads better as a number.
        const asInt = rax >> 32n === 0n && rax & 0x80000000n ? ` (int ${Number(BigInt.asIntN(32, rax))})` : '';
        return { ...base, reason: 'returned', message: `${this.entry.name} returned ${hex(rax)}${asInt}` };
      }
      case 'breakpoint': case 'int3': return { ...base, reason: 'breakpoint', message: r.message };
      case 'watch': return { ...base, reason: 'watch', message: r.message };
      case 'budget': return { ...base, reason: 'budget', message: r.message };
      case 'halt': return { ...base, reason: 'halt', message: `hlt at ${this.describe(r.address)}: the CPU halted (no interrupt will wake it)` };
      case 'not-emulated': return { ...base, reason: 'not-emulated', message: r.message };
      case 'fault': {
        const v = r.vector ?? 0;
        const guard = r.vector === 14 && r.faultAddress !== undefined && r.faultAddress < LAYOUT.stackTop - BigInt(LAYOUT.stackSize) && r.faultAddress >= LAYOUT.stackTop - BigInt(LAYOUT.stackSize) - 0x1000n;
        const what = guard ? 'kernel stack overflow (guard page hit)' : r.message.replace(/ at 0x[0-9a-f]+$/, '');
        return {
          ...base, reason: 'exception', vector: v, errorCode: r.errorCode, faultAddress: r.faultAddress,
          message: `unhandled ${VECTOR_NAMES[v] ?? `vector ${v}`} at ${this.describe(r.address)}: ${what} — no exception-table entry, the kernel would oops`,
        };
      }
      case 'platform': {
        const d = r.detail as (StubStopDetail | { kind: 'td-exit'; call: TdxCallEvent } | { kind: 'fatal-error'; call: TdxCallEvent }) | undefined;
        if (d?.kind === 'panic') return { ...base, reason: 'panic', message: r.message };
        if (d?.kind === 'undefined-symbol') return { ...base, reason: 'undefined-symbol', message: r.message };
        if (d?.kind === 'stub-stop') return { ...base, reason: 'stub-stop', message: r.message };
        if (d?.kind === 'td-exit') return { ...base, reason: 'td-exit', message: r.message, call: d.call };
        if (d?.kind === 'fatal-error') return { ...base, reason: 'fatal-error', message: r.message, call: d.call };
        return { ...base, reason: 'not-emulated', message: r.message };
      }
    }
  }

  /** Back to the state right after launch (restart). */
  reset(): void {
    this.machine.restore(this.initial);
    this.restorePlatform(this.initialPlatform);
    this.notes.clear();
  }

  /**
   * Adds a fault rule while the program runs (the debugger's "inject fault"): it fires on the
   * next matching call (a rule without `@N` gets N = 1, counted from now). reset() forgets it
   * (its counter is not in the launch snapshot); the adapter's restart builds a new Session.
   */
  injectFault(rule: FaultRule): void {
    const old = this.platform.injector;
    const next = new FaultInjector([...old.rules, { ...rule, nth: rule.nth ?? 1 }], old.seed);
    next.restore({ counts: [...old.snapshot().counts, 0] });
    (this.platform as { injector: FaultInjector }).injector = next;
  }

  platformSnapshot(): { module: unknown; vmm: unknown; injector: unknown; calls: RecentLogSnapshot; state: Platform['state']; heap: unknown; stubs: unknown } {
    const p = this.platform;
    return {
      module: p.module.snapshot(), vmm: p.vmm.snapshot(), injector: p.injector.snapshot(), calls: p.calls.snapshot(), state: { ...p.state },
      heap: this.heap.snapshot(), stubs: this.stubCalls.snapshot(),
    };
  }

  restorePlatform(s: ReturnType<Session['platformSnapshot']>): void {
    const p = this.platform;
    p.module.restore(s.module as ReturnType<typeof p.module.snapshot>);
    p.vmm.restore(s.vmm as ReturnType<typeof p.vmm.snapshot>);
    p.injector.restore(s.injector as ReturnType<typeof p.injector.snapshot>);
    p.calls.truncate(s.calls.length, s.calls);
    Object.assign(p.state, s.state);
    this.heap.restore(s.heap as ReturnType<KernelHeap['snapshot']>);
    this.stubCalls.restore(s.stubs as ReturnType<StubCalls['snapshot']>);
  }

  // ---- what the adapter reads (it never touches the CPU or memory objects) -------------------

  /** Calls made and not yet returned (the shadow call stack's depth, overflowed entries counted). */
  get callDepth(): number {
    return this.machine.cpu.ssN;
  }

  /** The recorded calls, outermost first: each CALL's return address and the RSP it was pushed at. */
  callStack(): { returnAddress: bigint; sp: bigint }[] {
    const c = this.machine.cpu;
    const out: { returnAddress: bigint; sp: bigint }[] = [];
    for (let i = 0; i < Math.min(c.ssN, c.ssRet.length); i++) out.push({ returnAddress: addrToBig(c.ssRet[i]), sp: addrToBig(c.ssSp[i]) });
    return out;
  }

  /** How many 4 KiB pages are mapped (what a checkpoint of the whole state visits). */
  get mappedPages(): number {
    return this.machine.mem.pages.size;
  }

  /** How many of `len` bytes from `address` are mapped, from the start (0 when not canonical). */
  mappedLength(address: bigint, len: number): number {
    try {
      return this.machine.mem.mappedLength(Number(BigInt.asIntN(64, address)), len);
    } catch {
      return 0;
    }
  }

  /** The MSRs the CPU models, by number, with their values. */
  msrs(): { id: number; value: bigint }[] {
    const m = this.machine;
    const ids = [...new Set([...m.cpu.msrs.keys(), ...ARCHITECTURAL_MSRS])].sort((a, b) => a - b);
    return ids.map((id) => ({ id, value: m.rdmsr(m.cpu, id) ?? 0n }));
  }

  /**
   * Delivers a fault the adapter held back (to stop on it first) through `handler`, the fault
   * handler the machine had; when handled, the faulting instruction counts as executed, as it
   * does when the machine delivers the fault itself.
   */
  deliverHeldFault(handler: FaultHandler, fault: CpuFault, insn: Insn | undefined): boolean {
    if (!handler(fault, insn)) return false;
    this.machine.cpu.icount++;
    return true;
  }

  /** The CPU whose per-CPU area GS points into (smp_call_on_cpu switches it); 0 outside every area. */
  currentCpu(): number {
    const off = this.machine.getReg('gs_base') - this.perCpu.base;
    if (off < 0n || off >= this.perCpu.stride * BigInt(this.perCpu.cpus)) return 0;
    return Number(off / this.perCpu.stride);
  }

  // ---- symbols and lines --------------------------------------------------------------------

  /** The symbol an address is in (nearest preceding function or object). */
  symbolize(address: bigint): { name: string; offset: bigint } | undefined {
    let lo = 0, hi = this.funcs.length - 1, best: ImageSymbol | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.funcs[mid].address <= address) { best = this.funcs[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    if (!best) return undefined;
    // Stay within the symbol: its size, else its section, else a stub's bytes. Past that end
    // (the return trap, another mapping) `_printk+0x7e5ffeb0` would be a made-up name.
    const off = address - best.address;
    if (off >= this.symbolExtent(best)) return undefined;
    return { name: best.name, offset: off };
  }

  private symbolExtent(sym: ImageSymbol): bigint {
    if (sym.size) return BigInt(sym.size);
    const sec = sym.section === undefined ? undefined : this.image.sections.find((x) => x.name === sym.section && x.address <= sym.address && sym.address < x.address + BigInt(x.bytes.length));
    return sec ? sec.address + BigInt(sec.bytes.length) - sym.address : BigInt(STUB_BYTES);
  }

  /** `name+0x1c (0xffffffff8100001c)` for messages. */
  describe(address: bigint): string {
    if (address === LAYOUT.returnTrap) return `the return trap (${hex(address)})`;
    const s = this.symbolize(address);
    return s ? `${s.name}${s.offset ? `+0x${s.offset.toString(16)}` : ''} (${hex(address)})` : hex(address);
  }

  /** The line-table entry covering an address. */
  lineAt(address: bigint): LineEntry | undefined {
    return this.image.lines.find((l) => address >= l.address && address < l.address + BigInt(l.length));
  }
}

function findField(fields: FieldLayout[], path: string): FieldLayout | undefined {
  const [head, ...rest] = path.split('.');
  for (const f of fields) {
    if (f.name === head) return rest.length ? findField(f.fields ?? [], rest.join('.')) : f;
    if (f.name === '' && f.fields) { const x = findField(f.fields, path); if (x) return x; }
  }
  return undefined;
}

const ZERO_CHUNK = new Uint8Array(4096);

/**
 * Writes `bytes` at `address` on pages just mapped (all zero, counted as written, no decoded
 * code), leaving out the chunks that are all zero: Machine.writeBytes goes byte by byte, and a
 * C program's 9 MiB .bss took ~190 ms of every launch.
 */
function writeOnFreshPages(m: Machine, address: bigint, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; off += ZERO_CHUNK.length) {
    const part = bytes.subarray(off, Math.min(off + ZERO_CHUNK.length, bytes.length));
    if (!Buffer.from(part.buffer, part.byteOffset, part.length).equals(ZERO_CHUNK.subarray(0, part.length))) m.writeBytes(address + BigInt(off), part);
  }
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

function hex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}


/** Whether the object of a tree's `.S` needs the kernel's make (missing or older than what kbuild recorded). */
function untrustedStale(program: string, tree: KernelTree, abs: (p: string) => string): boolean {
  try {
    const file = isAbsolute(program) ? program : existsSync(abs(program)) ? abs(program) : program;
    return kernelObjectStaleness(kernelObjectFor(file, tree), tree) !== undefined;
  } catch {
    return false;
  }
}
