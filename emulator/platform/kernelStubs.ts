// Built-in stubs for the kernel helpers that TDX C code calls (issue 15), with their effects:
// spinlocks and mutexes that hold their lock word (a second lock of a held lock stops: it
// would deadlock), the sleeping/CPU-hotplug annotations, an emulated heap for kmalloc/kzalloc/
// kfree and the page allocators (direct-map addresses, `struct page *` in the vmemmap, every
// block on pages of its own; uninitialised memory is poisoned, double and foreign frees stop),
// memset/memcpy/memmove/memcmp/strlen when the image does not define them, smp_call_on_cpu
// running the function on the CPU's per-CPU area, and stack-protector failures.

import type { Machine } from '../machine';
import type { PlatformNote } from './events';

/** GFP flag that asks for zeroed memory (the same bit in 6.1 and 6.12). */
const GFP_ZERO = 0x100n;
/** What kmalloc'd memory holds before the code writes it: the kernel's slab poison byte. */
const POISON = 0x6b;
const PAGE = 0x1000n;

/** The per-CPU areas, for smp_call_on_cpu (CPU k's GS base is base + k × stride). */
export interface CpuAreas { base: bigint; stride: bigint; cpus: number }

/** The emulated kernel heap and page allocator: a bump allocator over a range of the direct map. */
export class KernelHeap {
  private next: bigint;
  /** Live blocks by address: size and which allocator gave them. */
  private live = new Map<bigint, { size: bigint; kind: 'slab' | 'pages' }>();
  private freed = new Set<bigint>();

  constructor(private readonly m: Machine, readonly base: bigint, readonly size: bigint, private readonly pageOffset: bigint, private readonly vmemmap: bigint) {
    this.next = base;
  }

  snapshot(): { next: bigint; live: [bigint, { size: bigint; kind: 'slab' | 'pages' }][]; freed: bigint[] } {
    return { next: this.next, live: [...this.live], freed: [...this.freed] };
  }

  restore(s: ReturnType<KernelHeap['snapshot']>): void {
    this.next = s.next;
    this.live = new Map(s.live);
    this.freed = new Set(s.freed);
  }

  /** A block of `size` bytes aligned to `align`, on pages of its own; 0 when the heap is exhausted (the kernel's NULL). */
  alloc(size: bigint, align: bigint, kind: 'slab' | 'pages', zero: boolean): bigint {
    if (size <= 0n) return kind === 'slab' ? 16n : 0n; // ZERO_SIZE_PTR
    const a = align > PAGE ? align : PAGE;
    const at = (this.next + a - 1n) / a * a;
    const span = (size + PAGE - 1n) / PAGE * PAGE;
    if (at + span > this.base + this.size) return 0n;
    this.next = at + span;
    this.m.map(at, Number(span), 'rw', kind === 'slab' ? 'kmalloc' : 'pages');
    this.m.writeBytes(at, new Uint8Array(Number(span)).fill(zero ? 0 : POISON));
    this.live.set(at, { size, kind });
    return at;
  }

  /** Frees a block; a message when the pointer was not allocated or is freed twice. */
  free(p: bigint, kind: 'slab' | 'pages'): string | undefined {
    const b = this.live.get(p);
    if (!b) return this.freed.has(p) ? `double free of 0x${p.toString(16)}` : `0x${p.toString(16)} was not allocated by the ${kind === 'slab' ? 'kmalloc' : 'page'} allocator`;
    this.live.delete(p);
    this.freed.add(p);
    const span = (b.size + PAGE - 1n) / PAGE * PAGE;
    this.m.unmap(p, Number(span)); // a use after free faults
    return undefined;
  }

  pageOf(virt: bigint): bigint { return this.vmemmap + ((virt - this.pageOffset) / PAGE) * 64n; }
  virtOfPage(page: bigint): bigint { return this.pageOffset + ((page - this.vmemmap) / 64n) * PAGE; }
  virtOfPfn(pfn: bigint): bigint { return this.pageOffset + pfn * PAGE; }
  get used(): bigint { return this.next - this.base; }
}

/** What a built-in stub may use. */
export interface BuiltinContext {
  m: Machine;
  heap: KernelHeap;
  cpus: CpuAreas;
  note: (n: PlatformNote) => void;
  arg: (k: number) => bigint;
  /** Returns to the caller with RAX = value. */
  ret: (value?: bigint) => void;
  /** Calls `fn(args)` in the image; `then` runs when it returns (RAX = its result), and must return to the stub's caller. */
  callImage: (fn: bigint, args: bigint[], then: () => void) => void;
  stop: (message: string) => never;
}

/** The names the built-in stubs answer, for the documentation and the closing note. */
export const BUILTIN_STUBS = [
  '_raw_spin_lock', '_raw_spin_unlock', '_raw_spin_lock_irq', '_raw_spin_unlock_irq', '_raw_spin_lock_irqsave', '_raw_spin_unlock_irqrestore',
  'mutex_lock', 'mutex_unlock', 'mutex_lock_interruptible', 'mutex_lock_killable',
  '__might_sleep', '__might_resched', '__might_fault', '__SCT__cond_resched', '__SCT__might_resched', 'preempt_schedule', 'preempt_schedule_notrace',
  'cpus_read_lock', 'cpus_read_unlock', 'lockdep_assert_cpus_held', 'get_online_mems', 'put_online_mems', 'wbinvd_on_all_cpus',
  'kmalloc', '__kmalloc', '__kmalloc_noprof', 'kmalloc_trace', 'kmalloc_trace_noprof', '__kmalloc_cache_noprof', 'kmalloc_large', 'kmalloc_large_noprof', 'kfree', 'kvfree', 'kfree_sensitive',
  '__get_free_pages', '__get_free_pages_noprof', 'get_zeroed_page', 'get_zeroed_page_noprof', 'free_pages',
  'alloc_pages_exact', 'alloc_pages_exact_noprof', 'free_pages_exact', 'alloc_contig_pages', 'alloc_contig_pages_noprof', 'free_contig_range',
  'memset', 'memcpy', 'memmove', 'memcmp', 'strlen', '__memset', '__memcpy',
  'smp_call_on_cpu', '__stack_chk_fail', 'sort',
] as const;

const ENOMEM = -12n;

/** The handler of a built-in stub, or undefined when `name` has none. */
export function builtinStub(name: string, x: BuiltinContext): (() => void) | undefined {
  const { m, heap } = x;
  const u64 = (a: bigint) => new DataView(m.readBytes(a, 8).slice().buffer).getBigUint64(0, true);
  const w32 = (a: bigint, v: bigint) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, Number(BigInt.asUintN(32, v)), true); m.writeBytes(a, b); };
  const r32 = (a: bigint) => BigInt(new DataView(m.readBytes(a, 4).slice().buffer).getUint32(0, true));
  const w64 = (a: bigint, v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); m.writeBytes(a, b); };
  const access = <T>(what: string, f: () => T): T => {
    try { return f(); } catch (e) { return x.stop(`${name}: ${what}: ${(e as Error).message}`); }
  };
  const spinLock = () => {
    const lock = x.arg(0);
    access(`the lock at 0x${lock.toString(16)}`, () => {
      if (r32(lock) !== 0n) x.stop(`${name}(0x${lock.toString(16)}): the spinlock is already held — this CPU would spin forever (deadlock)`);
      w32(lock, 1n);
    });
  };
  const spinUnlock = () => {
    const lock = x.arg(0);
    access(`the lock at 0x${lock.toString(16)}`, () => {
      if (r32(lock) === 0n) x.stop(`${name}(0x${lock.toString(16)}): the spinlock is not held`);
      w32(lock, 0n);
    });
  };
  const current = 1n; // the mutex owner word holds a task pointer; one task runs here
  switch (name) {
    case '_raw_spin_lock': case '_raw_spin_lock_irq': return () => { spinLock(); x.ret(0n); };
    case '_raw_spin_lock_irqsave': return () => { spinLock(); x.ret(0x202n); };
    case '_raw_spin_unlock': case '_raw_spin_unlock_irq': case '_raw_spin_unlock_irqrestore': return () => { spinUnlock(); x.ret(0n); };
    case 'mutex_lock': case 'mutex_lock_interruptible': case 'mutex_lock_killable': return () => {
      const lock = x.arg(0);
      access(`the mutex at 0x${lock.toString(16)}`, () => {
        if (u64(lock) !== 0n) x.stop(`${name}(0x${lock.toString(16)}): the mutex is already held — the task would sleep forever (deadlock)`);
        w64(lock, current);
      });
      x.ret(0n);
    };
    case 'mutex_unlock': return () => {
      const lock = x.arg(0);
      access(`the mutex at 0x${lock.toString(16)}`, () => {
        if (u64(lock) === 0n) x.stop(`mutex_unlock(0x${lock.toString(16)}): the mutex is not held`);
        w64(lock, 0n);
      });
      x.ret(0n);
    };
    case '__might_sleep': case '__might_resched': case '__might_fault': case '__SCT__cond_resched': case '__SCT__might_resched':
    case 'preempt_schedule': case 'preempt_schedule_notrace': case 'cpus_read_lock': case 'cpus_read_unlock': case 'lockdep_assert_cpus_held':
    case 'get_online_mems': case 'put_online_mems': case 'wbinvd_on_all_cpus':
      return () => x.ret(0n);
    // kmalloc(size, flags) and its slab-cache forms (cache, flags, size).
    case 'kmalloc': case '__kmalloc': case '__kmalloc_noprof': case 'kmalloc_large': case 'kmalloc_large_noprof':
      return () => x.ret(heap.alloc(x.arg(0), 8n, 'slab', (x.arg(1) & GFP_ZERO) !== 0n));
    case 'kmalloc_trace': case 'kmalloc_trace_noprof': case '__kmalloc_cache_noprof':
      return () => x.ret(heap.alloc(x.arg(2), 8n, 'slab', (x.arg(1) & GFP_ZERO) !== 0n));
    case 'kfree': case 'kvfree': case 'kfree_sensitive': return () => {
      const p = x.arg(0);
      if (p > 16n) { const e = heap.free(p, 'slab'); if (e) x.stop(`${name}: ${e}`); }
      x.ret(0n);
    };
    case '__get_free_pages': case '__get_free_pages_noprof': return () => {
      const order = x.arg(1) & 63n;
      x.ret(heap.alloc(PAGE << order, PAGE << order, 'pages', (x.arg(0) & GFP_ZERO) !== 0n));
    };
    case 'get_zeroed_page': case 'get_zeroed_page_noprof': return () => x.ret(heap.alloc(PAGE, PAGE, 'pages', true));
    case 'free_pages': return () => { const p = x.arg(0); if (p) { const e = heap.free(p, 'pages'); if (e) x.stop(`free_pages: ${e}`); } x.ret(0n); };
    case 'alloc_pages_exact': case 'alloc_pages_exact_noprof': return () => {
      const size = x.arg(0);
      x.ret(heap.alloc(size, PAGE, 'pages', (x.arg(1) & GFP_ZERO) !== 0n));
    };
    case 'free_pages_exact': return () => { const e = heap.free(x.arg(0), 'pages'); if (e) x.stop(`free_pages_exact: ${e}`); x.ret(0n); };
    case 'alloc_contig_pages': case 'alloc_contig_pages_noprof': return () => {
      // (nr_pages, gfp, nid, nodemask) → struct page *, aligned to the size's power of two as the allocator's ranges are.
      const n = x.arg(0);
      let align = PAGE;
      while (align < n * PAGE && align < 1n << 30n) align <<= 1n;
      const v = heap.alloc(n * PAGE, align, 'pages', (x.arg(1) & GFP_ZERO) !== 0n);
      x.ret(v ? heap.pageOf(v) : 0n);
    };
    case 'free_contig_range': return () => { const e = heap.free(heap.virtOfPfn(x.arg(0)), 'pages'); if (e) x.stop(`free_contig_range: ${e}`); x.ret(0n); };
    case 'memset': case '__memset': return () => {
      const [d, c, n] = [x.arg(0), x.arg(1), x.arg(2)];
      access(`writing ${n} bytes at 0x${d.toString(16)}`, () => { if (n) m.writeBytes(d, new Uint8Array(Number(n)).fill(Number(c & 0xffn))); });
      x.ret(d);
    };
    case 'memcpy': case '__memcpy': case 'memmove': return () => {
      const [d, s, n] = [x.arg(0), x.arg(1), x.arg(2)];
      access(`copying ${n} bytes from 0x${s.toString(16)} to 0x${d.toString(16)}`, () => { if (n) m.writeBytes(d, m.readBytes(s, Number(n)).slice()); });
      x.ret(d);
    };
    case 'memcmp': return () => {
      const [a, b, n] = [x.arg(0), x.arg(1), x.arg(2)];
      const r = access(`comparing ${n} bytes at 0x${a.toString(16)} and 0x${b.toString(16)}`, () => {
        const p = m.readBytes(a, Number(n)), q = m.readBytes(b, Number(n));
        for (let k = 0; k < p.length; k++) if (p[k] !== q[k]) return BigInt(p[k] - q[k]);
        return 0n;
      });
      x.ret(BigInt.asUintN(64, r));
    };
    case 'strlen': return () => {
      const s = x.arg(0);
      let n = 0n;
      access(`reading the string at 0x${s.toString(16)}`, () => { while (m.readBytes(s + n, 1)[0] !== 0) n++; });
      x.ret(n);
    };
    case 'smp_call_on_cpu': return () => {
      // (cpu, func, par, phys): func(par) on that CPU's per-CPU area, its int result returned.
      const cpu = x.arg(0), fn = x.arg(1), par = x.arg(2);
      if (cpu >= BigInt(x.cpus.cpus)) { x.ret(BigInt.asUintN(64, -6n)); return; } // -ENXIO: no such CPU
      const gs = m.getReg('gs_base');
      m.setReg('gs_base', x.cpus.base + cpu * x.cpus.stride);
      x.callImage(fn, [par], () => { m.setReg('gs_base', gs); x.ret(); });
    };
    case 'sort': return () => {
      // (base, num, size, cmp, swap): a bubble sort whose comparisons call cmp in the image; swap NULL swaps bytes.
      const [base, num, size, cmp, swapFn] = [x.arg(0), x.arg(1), x.arg(2), x.arg(3), x.arg(4)];
      if (num < 2n) { x.ret(0n); return; }
      if (num > 4096n || size === 0n || size > 4096n) x.stop(`sort(num=${num}, size=${size}): more than the built-in stub sorts (4096 elements of up to 4096 bytes)`);
      if (swapFn !== 0n) x.stop('sort() with a swap function: the built-in stub swaps bytes only (give "sort" a stub in "stubs")');
      let pass = 0n, j = 0n;
      const step = (): void => {
        if (j >= num - 1n - pass) { pass++; j = 0n; }
        if (pass >= num - 1n) { x.ret(0n); return; }
        const a = base + j * size, b = a + size;
        x.callImage(cmp, [a, b], () => {
          if (BigInt.asIntN(32, m.getReg('rax') & 0xffffffffn) > 0n) {
            access(`swapping elements at 0x${a.toString(16)}`, () => { const p = m.readBytes(a, Number(size)).slice(), q = m.readBytes(b, Number(size)).slice(); m.writeBytes(a, q); m.writeBytes(b, p); });
          }
          j++;
          step();
        });
      };
      step();
    };
    case '__stack_chk_fail':
      return () => x.stop('Kernel panic - not syncing: stack-protector: Kernel stack is corrupted');
  }
  return undefined;
}

export { ENOMEM };
