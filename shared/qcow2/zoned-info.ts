// The "zoned" section of `qzs info --json` (dashed keys), raw values as stored plus the effective limits
// after the v8 clamp order (ZONED-FORMAT.md section 5.1, section 7 item 7).
// NOTE: initial version; the zoned read work refines it (byte order detection etc.).
import type { ZonedExtension } from './zoned-types';

export interface ZonedInfoJson {
  revision: string;
  'revision-reason': string;
  mode: string;
  'zone-size': number;
  'zone-capacity': number;
  'conventional-zones': number;
  'nr-zones': number;
  'max-open-zones': number;
  'max-active-zones': number;
  'max-append-bytes': number;
  'zonedmeta-offset': number;
  'zonedmeta-size': number;
  'wp-byte-order': string;
  effective: { 'max-open-zones': number; 'max-active-zones': number; 'max-append-bytes': number; clamps: string[] };
}

export function effectiveLimits(z: ZonedExtension): { maxOpenZones: number; maxActiveZones: number; maxAppendBytes: number; clamps: string[] } {
  const clamps: string[] = [];
  let active = z.maxActiveZones;
  let open = z.maxOpenZones;
  const seq = z.nrZones - z.conventionalZones;
  if (active > z.nrZones) { clamps.push(`max-active-zones ${active} > nr-zones ${z.nrZones}: ${z.nrZones}`); active = z.nrZones; }
  if (open > seq) { clamps.push(`max-open-zones ${open} > sequential zones ${seq}: ${seq}`); open = seq; }
  if (open > active) { clamps.push(`max-open-zones ${open} > max-active-zones ${active}: ${active}`); open = active; }
  return { maxOpenZones: open, maxActiveZones: active, maxAppendBytes: z.maxAppendBytes, clamps };
}

export function zonedInfoJson(z: ZonedExtension, wpByteOrder: string): ZonedInfoJson {
  const eff = effectiveLimits(z);
  return {
    revision: z.revision,
    'revision-reason': z.revisionReason,
    mode: z.mode === 1 ? 'host-managed' : z.mode === 0 ? 'none' : `unknown (${z.mode})`,
    'zone-size': z.zoneSize,
    'zone-capacity': z.zoneCapacity,
    'conventional-zones': z.conventionalZones,
    'nr-zones': z.nrZones,
    'max-open-zones': z.maxOpenZones,
    'max-active-zones': z.maxActiveZones,
    'max-append-bytes': z.maxAppendBytes,
    'zonedmeta-offset': z.zonedmetaOffset,
    'zonedmeta-size': z.zonedmetaSize,
    'wp-byte-order': wpByteOrder,
    effective: { 'max-open-zones': eff.maxOpenZones, 'max-active-zones': eff.maxActiveZones, 'max-append-bytes': eff.maxAppendBytes, clamps: eff.clamps },
  };
}
