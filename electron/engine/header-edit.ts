// Editing header fields and feature bits: a change is planned from the header's own field table (one
// offset per field, header.ts) and previewed as a byte diff plus decoded values. Writing it is the
// session's job (image-session.ts): backup of the first cluster, the write, the record for undo.
import { toHex } from '../../shared/bytes';
import type { EditPreview, HeaderEdit } from '../../shared/contract/dto';
import type { ByteSource } from '../../shared/qcow2/byte-source';
import { decodeHeader } from '../../shared/qcow2/header';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { OpenedImage } from '../../shared/qcow2/image';
import { parseQemuSize } from '../../shared/qcow2/create-options';

const MASK_OFFSETS = { incompatible: 72, compatible: 80, autoclear: 88 } as const;

export interface PlannedEdit {
  offset: number;
  before: Uint8Array;
  after: Uint8Array;
  field: string;
  beforeValue: string;
  afterValue: string;
  description: string;
}

function parseUnsigned(text: string, bytes: number): bigint {
  const t = text.trim();
  let v: bigint;
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) v = BigInt(t);
  else {
    // A size with a suffix (64M, 1.5G), as qemu-img and the rest of the tool read it; plain numbers stay
    // exact bigints, so a 64-bit mask above 2^53 is still typed as it is.
    const p = /[kKmMgGtTpPeEbB]$/.test(t) ? parseQemuSize(t) : null;
    if (!p?.ok) throw new Qcow2Error({ code: 'invalid-argument', message: `"${text}" is not a number (decimal, hex with 0x, or a size such as 64M)` });
    v = BigInt(p.value);
  }
  const max = (1n << BigInt(bytes * 8)) - 1n;
  if (v > max) throw new Qcow2Error({ code: 'invalid-argument', message: `${t} does not fit in ${bytes} byte(s) (at most ${max})` });
  return v;
}

function encode(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1, x = v; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

function decodeBE(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export async function planHeaderEdit(img: OpenedImage, src: ByteSource, edit: HeaderEdit): Promise<PlannedEdit> {
  if (edit.kind === 'field') {
    const f = img.header.fields.find((x) => x.name === edit.name);
    if (!f || f.name === 'padding') throw new Qcow2Error({ code: 'invalid-argument', message: `"${edit.name}" is not an editable header field` });
    if (!f.present) throw new Qcow2Error({ code: 'invalid-argument', message: `${f.name} lies beyond header_length in this image: raise header_length first` });
    const before = await src.read(f.offset, f.size);
    const after = encode(parseUnsigned(edit.value, f.size), f.size);
    return { offset: f.offset, before, after, field: f.name, beforeValue: decodeBE(before).toString(), afterValue: decodeBE(after).toString(), description: `${f.name}: ${decodeBE(before)} → ${decodeBE(after)}` };
  }
  if (img.header.version < 3) throw new Qcow2Error({ code: 'invalid-argument', message: 'version 2 images have no feature bits' });
  const offset = MASK_OFFSETS[edit.mask];
  const before = await src.read(offset, 8);
  const old = decodeBE(before);
  const bit = 1n << BigInt(edit.bit);
  const next = edit.set ? old | bit : old & ~bit;
  const field = `${edit.mask}_features`;
  return {
    offset, before, after: encode(next, 8), field,
    beforeValue: '0x' + old.toString(16).padStart(16, '0'), afterValue: '0x' + next.toString(16).padStart(16, '0'),
    description: `${edit.set ? 'set' : 'clear'} ${edit.mask} bit ${edit.bit}`,
  };
}

/**
 * A new virtual size on a zoned image: QEMU refuses to open it when nr_zones no longer equals
 * ceil(size / zone_size) (ZONED-FORMAT.md section 5.2, v9 open), and the header alone does not show that.
 */
function zonedSizeWarnings(img: OpenedImage, p: PlannedEdit): string[] {
  const z = img.zoned;
  if (p.field !== 'size' || !z || z.zoneSize <= 0) return [];
  const size = Number(p.afterValue);
  const want = Math.ceil(size / z.zoneSize);
  if (want === z.nrZones) return [];
  return [`size ${size} makes ceil(size / zone_size ${z.zoneSize}) = ${want} zones, but the zoned extension says nr_zones ${z.nrZones}: QEMU refuses to open the image until both agree`];
}

/** Findings the edited header would have that the current one does not. */
async function newWarnings(src: ByteSource, p: PlannedEdit): Promise<string[]> {
  const size = await src.size();
  const head = await src.read(0, 4096);
  const patched = head.slice();
  patched.set(p.after, p.offset);
  const was = new Set(decodeHeader(head, size).findings.map((f) => f.message));
  return decodeHeader(patched, size).findings.filter((f) => !was.has(f.message)).map((f) => f.message);
}

export async function previewHeaderEdit(img: OpenedImage, src: ByteSource, edit: HeaderEdit): Promise<EditPreview> {
  const p = await planHeaderEdit(img, src, edit);
  return { offset: p.offset, before: toHex(p.before), after: toHex(p.after), field: p.field, beforeValue: p.beforeValue, afterValue: p.afterValue, warnings: [...await newWarnings(src, p), ...zonedSizeWarnings(img, p)] };
}
