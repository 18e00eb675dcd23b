// Scalar extensions beyond the base integer set: BMI1, BMI2, ADX, LAHF/SAHF, MOVBE, CMPXCHG8B,
// XLAT, CRC32, UD0/UD1.

import type { InsnRecord } from './table';

export const records: InsnRecord[] = [];
