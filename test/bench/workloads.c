/* Real workloads of the emulator benchmark: SHA-256, an in-place quicksort of 64-bit keys and
 * a bitwise CRC-32, freestanding (no libc), built by gcc at bench time. `work(kind, n)` runs one
 * with a size and returns a checksum; natively, _start calls it and exits with the checksum's
 * low 7 bits, so the emulator and the host can be compared. */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

static u8 buf[1 << 20];
static u64 keys[1 << 20];

#include "../fixtures/programs/sha256-k.h"

static u32 ror(u32 x, int n) { return (x >> n) | (x << (32 - n)); }

static void block(u32 *h, const u8 *p) {
  u32 w[64];
  for (int i = 0; i < 16; i++) w[i] = (u32)p[4 * i] << 24 | (u32)p[4 * i + 1] << 16 | (u32)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    u32 s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    u32 s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  u32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    u32 t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    u32 t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static u64 sha256(u64 n) { /* n bytes (a multiple of 64) of generated input; padding omitted */
  u32 h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  u64 done = 0;
  while (done < n) {
    u64 len = n - done > sizeof buf ? sizeof buf : n - done;
    for (u64 i = 0; i < len; i++) buf[i] = (u8)((done + i) * 131 + 7);
    for (u64 i = 0; i + 64 <= len; i += 64) block(h, buf + i);
    done += len;
  }
  return (u64)h[0] << 32 | h[7];
}

static void sort(u64 *a, long lo, long hi) {
  while (lo < hi) {
    u64 p = a[lo + (hi - lo) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { u64 t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { sort(a, lo, j); lo = i; } else { sort(a, i, hi); hi = j; }
  }
}

static u64 qsort64(u64 n) { /* n keys (at most 1M) */
  u64 x = 88172645463325252UL;
  for (u64 i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; keys[i] = x; }
  sort(keys, 0, (long)n - 1);
  u64 sum = 0;
  for (u64 i = 0; i < n; i++) sum = sum * 31 + keys[i];
  return sum;
}

static u64 crc32(u64 n) { /* n bytes */
  u32 crc = 0xffffffff;
  for (u64 i = 0; i < n; i++) {
    crc ^= (u8)(i * 7 + 1);
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc;
}

u64 work(u64 kind, u64 n) {
  return kind == 0 ? sha256(n) : kind == 1 ? qsort64(n) : crc32(n);
}

#ifdef NATIVE_MAIN
void _start(void) {
  u64 r = work(KIND, SIZE);
  __asm__ volatile("mov $60, %%eax\n\tsyscall" :: "D"(r & 0x7f));
  __builtin_unreachable();
}
#endif
