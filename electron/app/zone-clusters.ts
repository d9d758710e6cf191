// Where a zone's data lives: its guest range walked with the engine's own cluster mapping (the same
// qcow2_get_host_offset logic `qzs map` uses), merged into runs, capped so a huge zone stays cheap.
import type { ZoneClusters, ZoneExtent } from '../../shared/contract/dto';
import { getHostOffset, openQcow2Layer } from '../../shared/qcow2/cluster-reader';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { OpenedImage } from '../../shared/qcow2/image';

const MAX_EXTENTS = 256;
/** Mapping types that occupy clusters in the file. */
const ALLOCATED = new Set(['normal', 'compressed', 'zero-alloc']);

export async function zoneClusters(img: OpenedImage, zone: number): Promise<ZoneClusters> {
  const z = img.zoned;
  const file = img.source.name;
  if (!z) throw new Qcow2Error({ code: 'invalid-argument', message: 'the image is not zoned', file });
  if (zone >= z.nrZones) throw new Qcow2Error({ code: 'invalid-argument', message: `zone ${zone} does not exist (the image has ${z.nrZones})`, file });
  const layer = await openQcow2Layer(img);
  const start = zone * z.zoneSize;
  const end = Math.min(img.header.size, start + z.zoneSize);
  const extents: ZoneExtent[] = [];
  let allocatedBytes = 0;
  let off = start;
  let truncated = false;
  while (off < end) {
    const m = await getHostOffset(layer, off, end - off);
    const bytes = Math.max(1, Math.min(m.bytes, end - off));
    if (ALLOCATED.has(m.type)) allocatedBytes += bytes;
    const last = extents.at(-1);
    const host = m.type === 'normal' || m.type === 'zero-alloc' ? m.hostOffset : null;
    if (last && last.type === m.type && (host === null ? last.hostOffset === null : last.hostOffset !== null && last.hostOffset + last.length === host)) {
      last.length += bytes;
    } else if (extents.length < MAX_EXTENTS) {
      extents.push({ start: off, length: bytes, type: m.type, hostOffset: host });
    } else {
      truncated = true;
    }
    off += bytes;
  }
  return { zone, allocatedBytes, extents, truncated };
}
