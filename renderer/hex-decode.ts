// The bytes at the hex view's cursor as the integers they could be: u8, u16, u32, u64 in little- and
// big-endian order (u64 exact, as a bigint), and as text. Pure.

export interface DecodedInt {
  type: 'u8' | 'u16' | 'u32' | 'u64';
  size: number;
  /** Null where fewer bytes than the type's size remain in the file. */
  le: bigint | null;
  be: bigint | null;
}

const TYPES: { type: DecodedInt['type']; size: number }[] = [{ type: 'u8', size: 1 }, { type: 'u16', size: 2 }, { type: 'u32', size: 4 }, { type: 'u64', size: 8 }];

export function decodeInts(bytes: Uint8Array): DecodedInt[] {
  return TYPES.map(({ type, size }) => {
    if (bytes.length < size) return { type, size, le: null, be: null };
    let le = 0n;
    let be = 0n;
    for (let i = 0; i < size; i++) {
      be = (be << 8n) | BigInt(bytes[i]);
      le = (le << 8n) | BigInt(bytes[size - 1 - i]);
    }
    return { type, size, le, be };
  });
}

/** "4660 (0x1234)". */
export function intText(v: bigint | null): string {
  return v === null ? '—' : `${v} (0x${v.toString(16)})`;
}
