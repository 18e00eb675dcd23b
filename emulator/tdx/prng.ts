// Deterministic pseudo-random 64-bit values for the hostile VMM and fault injection. Values are a
// pure function of (seed, stream, index), so a replayed or reversed run sees the same values
// without carrying generator state through snapshots.

import { U64_MASK } from './types';

/** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mixer. */
export function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e37_79b9_7f4a_7c15n) & U64_MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & U64_MASK;
  z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & U64_MASK;
  return z ^ (z >> 31n);
}

/**
 * The `index`-th value of stream `stream` under `seed`. Different (stream, index) pairs give
 * independent-looking values; the same triple always gives the same value.
 */
export function seededValue(seed: bigint, stream: bigint, index: bigint): bigint {
  return splitmix64(splitmix64(splitmix64(seed & U64_MASK) ^ (stream & U64_MASK)) ^ (index & U64_MASK));
}
