// The seeded mutation generator of the fuzz suites (test/engine/fuzz.test.ts, repair-safety.test.ts): header
// fields set to interesting values (around 2^53, QEMU's table limits, the file size), bytes and bits flipped,
// 8-byte table slots overwritten, the extension area and its first length. mutate() returns an undo list.

export const HEADER_FIELDS: [number, 1 | 4 | 8][] = [
  [4, 4], [8, 8], [16, 4], [20, 4], [24, 8], [32, 4], [36, 4], [40, 8], [48, 8], [56, 4], [60, 4], [64, 8], [72, 8], [80, 8], [88, 8], [96, 4], [100, 4], [104, 1],
];

export function interesting(r: () => number, size: number, fileSize: number): bigint {
  const picks: bigint[] = [0n, 1n, 2n, 7n, 8n, 9n, 12n, 21n, 64n, 112n, 512n, 4096n, 65536n, 0x7fffffffn, 0xffffffffn, BigInt(fileSize), BigInt(fileSize + 512), 1n << 62n, 1n << 63n, (1n << 64n) - 1n, BigInt(Math.floor(r() * fileSize)),
    // around 2^53, where numbers stop being exact; 2^55 (inside the L1/L2 offset mask); QEMU's table limits
    (1n << 53n) - 4096n, 1n << 53n, (1n << 53n) + 4096n, 1n << 55n, (1n << 56n) - 512n, 1n << 29n, 0x400000n, 0x400001n, 65537n];
  const v = picks[Math.floor(r() * picks.length)];
  return size === 8 ? v & ((1n << 64n) - 1n) : v & ((1n << BigInt(size * 8)) - 1n);
}

export function put(b: Uint8Array, off: number, size: number, v: bigint): void {
  for (let i = size - 1; i >= 0; i--) { b[off + i] = Number(v & 0xffn); v >>= 8n; }
}

/** Mutate `b` in place; returns the undo list. */
export function mutate(b: Uint8Array, r: () => number): [number, number][] {
  const undo: [number, number][] = [];
  const set = (off: number, v: number) => { if (off < b.length) { undo.push([off, b[off]]); b[off] = v; } };
  const n = 1 + Math.floor(r() * 3);
  for (let m = 0; m < n; m++) {
    const kind = Math.floor(r() * 6);
    if (kind === 0) {
      const [off, size] = HEADER_FIELDS[Math.floor(r() * HEADER_FIELDS.length)];
      const tmp = new Uint8Array(size);
      put(tmp, 0, size, interesting(r, size, b.length));
      tmp.forEach((v, i) => set(off + i, v));
    } else if (kind === 1) {
      set(Math.floor(r() * Math.min(b.length, 4096)), Math.floor(r() * 256));
    } else if (kind === 2) {
      // an 8-byte table slot in the metadata clusters near the front
      const off = Math.floor((r() * Math.min(b.length, 65536 * 8)) / 8) * 8;
      const tmp = new Uint8Array(8);
      put(tmp, 0, 8, interesting(r, 8, b.length));
      tmp.forEach((v, i) => set(off + i, v));
    } else if (kind === 3) {
      const off = Math.floor(r() * b.length);
      set(off, b[off] ^ (1 << Math.floor(r() * 8)));
    } else if (kind === 4) {
      // the extension area
      const off = 104 + Math.floor(r() * 600);
      set(off, Math.floor(r() * 256));
    } else {
      // the length of the first extension: past the cluster, up to it, or wild
      const hl = ((b[100] << 24) | (b[101] << 16) | (b[102] << 8) | b[103]) >>> 0;
      const at = (b[7] === 3 && hl >= 104 && hl < 4096 ? hl : 72) + 4;
      const cs = 2 ** Math.min(21, Math.max(9, b[23]));
      const lengths = [cs, cs - at - 4, cs - at - 3, 0xffffffff, 1 << 20, Math.floor(r() * 2 * cs)];
      const v = lengths[Math.floor(r() * lengths.length)] >>> 0;
      [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].forEach((x, i) => set(at + i, x));
    }
  }
  return undo;
}
