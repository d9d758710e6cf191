// Hex text ↔ bytes for edit records (the shared toHex covers one direction only).
export { toHex } from '../../shared/bytes';

export function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
