// Zone report for the UI: the engine's columnar zone table (shared/qcow2/zonedmeta.ts) handed over as it
// is — typed arrays, no per-zone objects — with the effective limits beside it.
import type { ZoneReport } from '../../shared/contract/dto';
import type { OpenedImage } from '../../shared/qcow2/image';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { ZoneTable } from '../../shared/qcow2/zone-table';
import { effectiveLimits } from '../../shared/qcow2/zoned-info';
import { readZonedmeta } from '../../shared/qcow2/zonedmeta';

export function tableToReport(img: OpenedImage, t: ZoneTable, wpByteOrder: string): ZoneReport {
  const z = img.zoned;
  if (!z) throw new Qcow2Error({ code: 'invalid-argument', message: 'the image is not zoned', file: img.source.name });
  const eff = effectiveLimits(z);
  return {
    nrZones: t.count,
    zoneSize: t.zoneSize,
    zoneCapacity: t.zoneCapacity,
    conventionalZones: t.conventionalZones,
    deviceSize: t.deviceSize,
    maxOpenZones: eff.maxOpenZones,
    maxActiveZones: eff.maxActiveZones,
    maxAppendBytes: eff.maxAppendBytes,
    wpByteOrder,
    wp: t.wp,
    cond: t.condition,
  };
}

export async function readZoneReport(img: OpenedImage): Promise<ZoneReport> {
  const z = img.zoned;
  if (!z) throw new Qcow2Error({ code: 'invalid-argument', message: 'the image is not zoned: it has no zoned extension with mode 1', file: img.source.name });
  const r = await readZonedmeta(img.source, z, img.header.size, img.header.clusterSize, img.fileSize);
  return tableToReport(img, r.table, r.byteOrder.order);
}
