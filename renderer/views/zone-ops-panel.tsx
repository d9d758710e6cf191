// The operations of one zone: open, close, finish, reset, and the data operations append and write at the
// write pointer with a length. What an operation did (where the data landed) or why it was refused (the
// typed zone error: zone, state, limits, numbers) stays shown under the buttons until the next one.
import { useState } from 'react';
import type { ZoneClusters, ZoneOp, ZoneReport } from '../../shared/contract/dto';
import { api } from '../api';
import type { AppError } from '../../shared/qcow2/findings';
import { Offset, Size } from '../components/common';
import { useGate } from '../components/gate';
import { ZoneErrorDetails } from '../components/zone-error';
import { parseNumber } from '../format';
import { useStore } from '../store';

const OPS: { op: ZoneOp; label: string; title: string }[] = [
  { op: 'open', label: 'Open', title: 'explicitly open the zone (session-only state)' },
  { op: 'close', label: 'Close', title: 'close an open zone' },
  { op: 'finish', label: 'Finish', title: 'move the write pointer to the zone end: the zone becomes full' },
  { op: 'reset', label: 'Reset', title: 'rewind the write pointer to the zone start and free its data' },
];

/** Host file offset of guest byte `guest`, from the zone's mapping (null when unmapped or not read yet). */
function hostOf(clusters: ZoneClusters | null, guest: number): number | null {
  const e = clusters?.extents.find((x) => x.hostOffset !== null && guest >= x.start && guest < x.start + x.length && x.type === 'normal');
  return e ? e.hostOffset! + (guest - e.start) : null;
}

export function ZoneOpsPanel({ session, r, i, clusters }: { session: string; r: ZoneReport; i: number; clusters: ZoneClusters | null }) {
  const info = useStore((st) => st.info);
  const showBytes = useStore((st) => st.showBytes);
  const afterWrite = useStore((st) => st.afterZoneWrite);
  const outcome = useStore((st) => st.zoneOutcome);
  const lengthText = useStore((st) => st.zoneWriteLength);
  const setLengthText = useStore((st) => st.setZoneWriteLength);
  const [running, setRunning] = useState(false);
  const gate = useGate();
  const length = parseNumber(lengthText);
  const lengthOk = Number.isSafeInteger(length) && length > 0;
  const refused = (error: AppError): void => {
    useStore.setState({ zoneOutcome: { zone: i, error } });
    // QEMU (or another writer) holds the image: the banner says who.
    if (error.code === 'locked') void useStore.getState().refreshSession();
  };

  const run = async (op: ZoneOp): Promise<void> => {
    if (gate.off) return;
    setRunning(true);
    const res = await api['zones:op'](session, { op, zone: i });
    setRunning(false);
    if (!res.ok) { refused(res.error); return; }
    // zones:op answers with the new report: no second round trip for it.
    await afterWrite(`zone ${i}: ${op} done`, res.value);
    useStore.setState({ zoneOutcome: { zone: i, text: `${op} done` } });
  };
  const write = async (op: 'append' | 'write'): Promise<void> => {
    if (!lengthOk || gate.off) return;
    setRunning(true);
    const res = await api['zones:write'](session, { op, zone: i, length });
    setRunning(false);
    if (!res.ok) { refused(res.error); return; }
    const w = res.value;
    await afterWrite(`zone ${i}: ${op === 'append' ? 'appended' : 'wrote'} ${w.length} bytes at guest 0x${w.offset.toString(16)}`);
    useStore.setState({ zoneOutcome: { zone: i, write: w } });
  };

  const mine = outcome && outcome.zone === i ? outcome : null;
  if (!info?.capabilities.zoneOps) return <p className="muted">Zone operations arrive with the zone writer; this build reads zones only.</p>;
  return (
    <div className="zone-ops-panel">
      {i >= r.conventionalZones && (
        <div className="zone-ops" role="group" aria-label="zone operations">
          {OPS.map((o) => <button key={o.op} title={gate.off ? gate.title : o.title} disabled={running || gate.off} onClick={() => void run(o.op)}>{o.label}</button>)}
        </div>
      )}
      {info.capabilities.zoneWrite && (
        <div className="zone-write" role="group" aria-label="zone data operations">
          <label>Length <input aria-label="length to append or write" value={lengthText} size={8} onChange={(e) => setLengthText(e.target.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') void write(i < r.conventionalZones ? 'write' : 'append'); }} /></label>
          {i >= r.conventionalZones && <button disabled={running || !lengthOk || gate.off} onClick={() => void write('append')} title={gate.off ? gate.title : 'zone append: the data goes where the write pointer is; the device says where'}>Append</button>}
          <button disabled={running || !lengthOk || gate.off} onClick={() => void write('write')} title={gate.off ? gate.title : "a regular write at the zone's write pointer"}>Write at WP</button>
          {!lengthOk && <p className="invalid small">Give a length in bytes (e.g. 4096, 4K, 64K).</p>}
          {gate.off && <p className="muted small" data-testid="zone-editing-off">{gate.title}.</p>}
          <p className="muted small">Data is a pattern naming each 512-byte block ("qzs append zone {i} @offset").</p>
        </div>
      )}
      {mine?.error && <ZoneErrorDetails error={mine.error} />}
      {mine?.write && (
        <div className="zone-landed" role="status" data-testid="zone-landed">
          {mine.write.op === 'append' ? 'Appended' : 'Wrote'} <Size bytes={mine.write.length} /> at guest offset{' '}
          <span data-testid="landed-offset">{mine.write.offset}</span> <Offset value={mine.write.offset} />; write pointer now {mine.write.wp}.
          {(() => {
            const host = hostOf(clusters, mine.write.offset);
            return host === null ? null : <> In the file at <button className="link" data-testid="landed-host" onClick={() => showBytes(host, Math.min(mine.write!.length, 4096))}>{`0x${host.toString(16)}`}</button>.</>;
          })()}
          {mine.write.implicitlyClosed.length > 0 && <> Implicitly closed: zone {mine.write.implicitlyClosed.join(', ')}.</>}
        </div>
      )}
      {mine?.text && <p className="small" role="status">{mine.text}</p>}
    </div>
  );
}
