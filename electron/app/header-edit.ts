// Editing header fields and feature bits: a change is previewed as a byte diff plus decoded values, applied
// only after the original first cluster has been copied to a backup file beside the image, and recorded so
// it can be undone. Undo restores the old bytes only if the bytes on disk are still what the edit wrote.
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { EditPreview, EditRecord, HeaderEdit } from '../../shared/contract/dto';
import { fromHex, toHex } from './hex';
import { decodeHeader } from '../../shared/qcow2/header';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { Session, SessionStore } from './sessions';

const MASK_OFFSETS = { incompatible: 72, compatible: 80, autoclear: 88 } as const;

interface PlannedEdit {
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
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw new Qcow2Error({ code: 'invalid-argument', message: `"${text}" is not a number (decimal, or hex with 0x)` });
  const v = BigInt(t);
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

async function plan(store: SessionStore, s: Session, edit: HeaderEdit): Promise<PlannedEdit> {
  const img = await store.image(s);
  if (edit.kind === 'field') {
    const f = img.header.fields.find((x) => x.name === edit.name);
    if (!f || f.name === 'padding') throw new Qcow2Error({ code: 'invalid-argument', message: `"${edit.name}" is not an editable header field` });
    if (!f.present) throw new Qcow2Error({ code: 'invalid-argument', message: `${f.name} lies beyond header_length in this image: raise header_length first` });
    const before = await s.source.read(f.offset, f.size);
    const after = encode(parseUnsigned(edit.value, f.size), f.size);
    return { offset: f.offset, before, after, field: f.name, beforeValue: decodeBE(before).toString(), afterValue: decodeBE(after).toString(), description: `${f.name}: ${decodeBE(before)} → ${decodeBE(after)}` };
  }
  if (img.header.version < 3) throw new Qcow2Error({ code: 'invalid-argument', message: 'version 2 images have no feature bits' });
  const offset = MASK_OFFSETS[edit.mask];
  const before = await s.source.read(offset, 8);
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

/** Findings the edited header would have that the current one does not. */
async function newWarnings(s: Session, p: PlannedEdit): Promise<string[]> {
  const size = await s.source.size();
  const head = await s.source.read(0, 4096);
  const patched = head.slice();
  patched.set(p.after, p.offset);
  const was = new Set(decodeHeader(head, size).findings.map((f) => f.message));
  return decodeHeader(patched, size).findings.filter((f) => !was.has(f.message)).map((f) => f.message);
}

export async function previewEdit(store: SessionStore, s: Session, edit: HeaderEdit): Promise<EditPreview> {
  const p = await plan(store, s, edit);
  return { offset: p.offset, before: toHex(p.before), after: toHex(p.after), field: p.field, beforeValue: p.beforeValue, afterValue: p.afterValue, warnings: await newWarnings(s, p) };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

export async function applyEdit(store: SessionStore, s: Session, edit: HeaderEdit): Promise<EditRecord> {
  if (!s.editing || !s.source.writable) throw new Qcow2Error({ code: 'read-only', message: 'editing is off for this image: switch it on first', file: s.path });
  const p = await plan(store, s, edit);
  const img = await store.image(s);
  const cluster0 = await s.source.read(0, Math.max(4096, img.header.clusterSize));
  const id = s.edits.length + 1;
  const backupPath = `${s.path}.qzs-backup-${stamp()}-${id}.bin`;
  await writeFile(backupPath, cluster0, { flag: 'wx' });
  await s.source.write(p.offset, p.after);
  await s.source.flush();
  store.invalidate(s);
  const rec: EditRecord = { id, description: p.description, offset: p.offset, before: toHex(p.before), after: toHex(p.after), backupName: basename(backupPath) };
  s.edits.push(rec);
  return rec;
}

export async function undoEdit(store: SessionStore, s: Session): Promise<EditRecord | null> {
  const rec = s.edits.at(-1);
  if (!rec) return null;
  if (!s.source.writable) throw new Qcow2Error({ code: 'read-only', message: 'editing is off for this image: switch it on to undo', file: s.path });
  const after = fromHex(rec.after);
  const now = await s.source.read(rec.offset, after.length);
  if (toHex(now) !== rec.after) {
    throw new Qcow2Error({ code: 'invalid-argument', message: `the bytes at offset ${rec.offset} changed since the edit (now ${toHex(now)}); restore from ${rec.backupName} by hand`, file: s.path });
  }
  await s.source.write(rec.offset, fromHex(rec.before));
  await s.source.flush();
  s.edits.pop();
  store.invalidate(s);
  return rec;
}
