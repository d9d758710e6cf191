// Export of a session's zone report to a file the user chose (Electron's save dialog; under `qzs serve`
// the page formats and downloads the same text itself). The text is shared/qcow2/zone-formats.ts's, the
// one `qzs zones --format` prints, written in slices of zones so a million zones never become one string.
import { open } from 'node:fs/promises';
import type { ZoneExportResult, ZoneReport } from '../../shared/contract/dto';
import { formatZoneFooter, formatZoneHeader, formatZoneRows, type ZoneFormatOptions, type ZoneReportFormat } from '../../shared/qcow2/zone-formats';

const SLICE = 65_536;

export async function writeZoneReport(r: ZoneReport, format: ZoneReportFormat, path: string, opts: ZoneFormatOptions = {}): Promise<ZoneExportResult> {
  const f = await open(path, 'w');
  let bytes = 0;
  const put = async (text: string): Promise<void> => {
    const b = Buffer.from(text, 'utf8');
    await f.write(b);
    bytes += b.length;
  };
  try {
    await put(formatZoneHeader(r, format, opts));
    for (let from = 0; from < r.nrZones; from += SLICE) await put(formatZoneRows(r, format, from, Math.min(r.nrZones, from + SLICE), 0, opts));
    await put(formatZoneFooter(r, format));
  } finally {
    await f.close();
  }
  return { path, bytes, format };
}
