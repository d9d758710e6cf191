// Numbers as people read them: human units with the exact bytes beside them, offsets in hex.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function human(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  const text = u === 0 ? String(v) : v.toFixed(v >= 100 || Number.isInteger(v) ? 0 : v >= 10 ? 1 : 2);
  return `${text} ${UNITS[u]}`;
}

/** "64 MiB (67108864)"; plain bytes when below 1 KiB. */
export function sizeExact(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${human(bytes)} (${bytes})`;
}

export function hexOffset(n: number): string {
  return '0x' + n.toString(16);
}

export function hexPad(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Parse "123", "0x7b", "64M", "1.5G" (powers of 1024). NaN when not a number. */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(t);
  if (!m) return NaN;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  const v = Number(m[1]) * mult[m[2].toLowerCase()];
  return Number.isSafeInteger(v) ? v : NaN;
}
