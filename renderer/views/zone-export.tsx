// Export the zone report: CSV, JSON, blkzone, nvme-cli JSON, libzbd or the human table, in the text
// `qzs zones --format` prints (shared/qcow2/zone-formats.ts). In Electron main asks where to save and
// writes the file (zones:export); under `qzs serve` the page has the report already and downloads the text.
import { useState } from 'react';
import type { ImageSummary, ZoneReport } from '../../shared/contract/dto';
import { formatZoneFooter, formatZoneHeader, formatZoneRows, ZONE_FORMAT_FILES, type ZoneReportFormat } from '../../shared/qcow2/zone-formats';
import { zoneExportFileName } from '../../shared/contract/zone-export';
import { api, inElectron } from '../api';
import { useStore } from '../store';

const FORMATS: { format: ZoneReportFormat; label: string }[] = [
  { format: 'csv', label: 'CSV' },
  { format: 'json', label: 'JSON' },
  { format: 'blkzone', label: 'blkzone report' },
  { format: 'nvme-json', label: 'nvme zns report-zones (JSON)' },
  { format: 'zbd', label: 'zbd report (libzbd)' },
  { format: 'human', label: 'table (text)' },
];

const SLICE = 65_536;

/** The report as text parts (a Blob joins them: a million zones never become one string). */
export function zoneReportParts(r: ZoneReport, format: ZoneReportFormat, name: string): string[] {
  const units = useStore.getState().sizeUnit;
  const opts = { name, units };
  const parts = [formatZoneHeader(r, format, opts)];
  for (let from = 0; from < r.nrZones; from += SLICE) parts.push(formatZoneRows(r, format, from, Math.min(r.nrZones, from + SLICE), 0, opts));
  parts.push(formatZoneFooter(r, format));
  return parts;
}

export function ZoneExport({ s, report }: { s: ImageSummary; report: ZoneReport }) {
  const [format, setFormat] = useState<ZoneReportFormat>('csv');
  const [status, setStatus] = useState<string | null>(null);
  const run = async (): Promise<void> => {
    setStatus('exporting…');
    if (inElectron) {
      const r = await api['zones:export'](s.session.id, format);
      setStatus(!r.ok ? `export failed: ${r.error.message}` : r.value === null ? null : `saved ${r.value.bytes} bytes to ${r.value.path}`);
      return;
    }
    const name = zoneExportFileName(s.session.name, format);
    const blob = new Blob(zoneReportParts(report, format, s.session.name), { type: ZONE_FORMAT_FILES[format].mime });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    // The download has started from the URL; give it a moment before letting the blob go.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setStatus(`downloaded ${name} (${blob.size} bytes)`);
  };
  return (
    <span className="zone-export" role="group" aria-label="export zone report">
      <select aria-label="export format" value={format} onChange={(e) => setFormat(e.target.value as ZoneReportFormat)}>
        {FORMATS.map((f) => <option key={f.format} value={f.format}>{f.label}</option>)}
      </select>
      <button onClick={() => void run()} title={inElectron ? 'choose where to save the zone report' : 'download the zone report'}>Export…</button>
      {status && <span className="muted small" role="status" data-testid="export-status">{status}</span>}
    </span>
  );
}
