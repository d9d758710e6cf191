// Overview, the landing page: what the file is, its zones and its latest check at a glance, feature chips
// that flag danger, and a way into every view. For a file that cannot be
// decoded (a degraded session): why, where, the findings, and its first bytes.
import { useEffect, useState } from 'react';
import type { ImageSummary } from '../../shared/contract/dto';
import type { FeatureBit } from '../../shared/qcow2/features';
import { featureDisplayName } from '../../shared/qcow2/features';
import type { Finding } from '../../shared/qcow2/findings';
import { api } from '../api';
import { Size } from '../components/common';
import { hexOffset, hexPad } from '../format';
import { errorSentence } from '../gate';
import { useStore } from '../store';
import { CheckCard, ViewShortcuts, ZoneSummaryCard } from './overview-cards';
import { OverviewEmulators } from './overview-emulators';

function Chip({ b }: { b: FeatureBit }) {
  const cls = b.dangerous ? 'chip danger' : b.unknown ? 'chip unknown' : 'chip';
  return <span className={cls} title={`${b.kind} bit ${b.bit}`}>{b.dangerous ? '⚠ ' : b.unknown ? '? ' : ''}{featureDisplayName(b)}</span>;
}

export function Overview({ s }: { s: ImageSummary }) {
  if (s.degraded) return <DegradedOverview s={s} />;
  return <DecodedOverview s={s} />;
}

function DecodedOverview({ s }: { s: ImageSummary }) {
  const zones = useStore((st) => st.zones);
  const zonesError = useStore((st) => st.zonesError);
  const set = [...s.features.incompatible, ...s.features.compatible, ...s.features.autoclear].filter((b) => b.set);
  const errors = s.findings.filter((f) => f.severity === 'error').length;
  return (
    <section className="view overview" aria-label="Overview">
      <h2>{s.session.name}</h2>
      <p className="muted">{s.session.location}</p>
      <div className="ov-grid">
        <section className="card" aria-label="image facts">
          <h3>Image</h3>
          <dl className="facts">
            <dt>Format</dt><dd data-testid="ov-version">qcow2 version {s.version}{s.version === 3 ? ' (compat 1.1)' : ' (compat 0.10)'}</dd>
            <dt>Virtual size</dt><dd data-testid="ov-virtual-size"><Size bytes={s.virtualSize} /></dd>
            <dt>File size</dt><dd><Size bytes={s.fileSize} /></dd>
            <dt>Cluster size</dt><dd data-testid="ov-cluster-size"><Size bytes={s.clusterSize} /></dd>
            <dt>Refcount width</dt><dd>{s.refcountBits} bits</dd>
            <dt>Compression</dt><dd>{s.compressionType}</dd>
            <dt>Zoned</dt>
            <dd data-testid="ov-zoned">{s.zoned ? `yes: ${s.zoned.nrZones} zones of ${s.zoned.zoneSize} bytes, revision ${s.zoned.revision}` : 'no'}
              {zones && <span className="muted"> · write pointers {zones.wpByteOrder}</span>}</dd>
            <dt>Backing chain</dt>
            <dd>{s.backingFile ? <>{s.session.name} → {s.backingFile}{s.backingFormat ? ` (${s.backingFormat})` : ''}</> : 'none (standalone image)'}</dd>
            {s.dataFile && (<><dt>External data file</dt><dd>{s.dataFile}</dd></>)}
            <dt>Findings</dt><dd>{s.findings.length === 0 ? 'none on opening' : `${s.findings.length} (${errors} error${errors === 1 ? '' : 's'})`}</dd>
          </dl>
          <h3>Features set</h3>
          <div className="chips" data-testid="ov-features">{set.length === 0 ? <span className="muted">none</span> : set.map((b) => <Chip key={`${b.kind}${b.bit}`} b={b} />)}</div>
        </section>
        <div className="ov-side">
          {zones && <ZoneSummaryCard r={zones} />}
          {s.zoned && !zones && <section className="card" aria-label="zones summary"><h3>Zones <span className="muted">({s.zoned.nrZones})</span></h3><p className="muted">{zonesError ? `the zone report could not be read: ${zonesError.message}` : 'reading the zone report…'}</p></section>}
          <CheckCard s={s} />
        </div>
      </div>
      <h3>Views</h3>
      <ViewShortcuts s={s} />
      <OverviewEmulators s={s} />
    </section>
  );
}

/** How much of a degraded file the overview dumps. */
export const DUMP_BYTES = 512;

function DegradedOverview({ s }: { s: ImageSummary }) {
  const e = s.degraded!;
  const f = e.finding;
  const select = useStore((st) => st.select);
  const showBytes = useStore((st) => st.showBytes);
  const open = (x: Finding): void => {
    select({ kind: 'finding', finding: x });
    showBytes(x.offset, Math.max(1, x.length));
  };
  const fatal = f ?? s.findings[0] ?? null;
  return (
    <section className="view overview" aria-label="Overview">
      <h2>{s.session.name}</h2>
      <p className="muted">{s.session.location}</p>
      <div className="degraded-panel" role="region" aria-label="cannot be read as qcow2" data-testid="degraded-panel">
        <h3>This file cannot be read as qcow2</h3>
        <p className="degraded-message" data-testid="degraded-message">{errorSentence(e)}</p>
        <dl className="facts" data-testid="degraded-facts">
          <dt>File</dt><dd>{e.file ?? s.session.name} <span className="muted">(<Size bytes={s.fileSize} />)</span></dd>
          {f && (<>
            <dt>Structure</dt><dd data-testid="degraded-structure">{f.structure}</dd>
            <dt>Field</dt><dd data-testid="degraded-field"><code>{f.field}</code></dd>
            <dt>Offset</dt><dd data-testid="degraded-offset"><button className="link mono" onClick={() => open(f)} title="show these bytes in the hex view">{hexOffset(f.offset)}</button> ({f.offset}), {f.length} byte{f.length === 1 ? '' : 's'}</dd>
            <dt>Found</dt><dd data-testid="degraded-found"><code>{f.found}</code></dd>
            <dt>Expected</dt><dd data-testid="degraded-expected"><code>{f.expected}</code></dd>
          </>)}
          <dt>Error</dt><dd className="muted">{e.code}</dd>
        </dl>
        <p className="muted small">The image is open for its bytes and its findings only: Overview, Header, Check and Hex show what could be read; nothing can be edited.</p>
      </div>
      <h3>Findings <span className="muted">({s.findings.length})</span></h3>
      {s.findings.length === 0 ? <p className="muted">none besides the error above</p> : (
        <ul className="findings" data-testid="degraded-findings">
          {s.findings.map((x, k) => (
            <li key={x.id + k} className={`finding ${x.severity}`}>
              <button className="finding-head" onClick={() => open(x)} data-finding={x.id} title="show its bytes in the hex view">
                <span className={`sev ${x.severity}`}>{x.severity === 'info' ? 'note' : x.severity}</span>
                <strong>{x.structure}</strong> · <code>{x.field}</code> — {x.message}
              </button>
              <div className="finding-body">found <code>{x.found}</code>, expected <code>{x.expected}</code> · bytes {hexOffset(x.offset)} (+{x.length})</div>
            </li>
          ))}
        </ul>
      )}
      <h3>First {Math.min(DUMP_BYTES, s.fileSize)} bytes</h3>
      <ByteDump s={s} mark={fatal} />
    </section>
  );
}

/** A static hex dump of the start of the file; the bytes of `mark` (the fatal finding) are highlighted. */
function ByteDump({ s, mark }: { s: ImageSummary; mark: Finding | null }) {
  const showBytes = useStore((st) => st.showBytes);
  const dataVersion = useStore((st) => st.dataVersion);
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const length = Math.min(DUMP_BYTES, s.fileSize);
  useEffect(() => {
    let live = true;
    setBytes(null);
    setProblem(null);
    if (length === 0) return;
    void api['image:read'](s.session.id, 0, length).then((r) => {
      if (!live) return;
      if (r.ok) setBytes(r.value);
      else setProblem(r.error.message);
    });
    return () => { live = false; };
  }, [s.session.id, length, dataVersion]);
  if (length === 0) return <p data-testid="degraded-empty">The file is empty (0 bytes): there is no header to read.</p>;
  if (problem) return <p className="invalid">The bytes could not be read: {problem}</p>;
  if (!bytes) return <p className="muted">reading…</p>;
  const marked = (off: number): boolean => !!mark && off >= mark.offset && off < mark.offset + Math.max(1, mark.length);
  const rows = [];
  for (let base = 0; base < bytes.length; base += 16) {
    const cells = [];
    const chars = [];
    for (let k = 0; k < 16 && base + k < bytes.length; k++) {
      const off = base + k;
      const b = bytes[off];
      const cls = (marked(off) ? 'hl ' : '') + (b === 0 ? 'zero' : '');
      cells.push(<span key={k} className={`b ${cls}`} data-off={off} onClick={() => showBytes(off, 1)}>{hexPad(b, 2)}</span>);
      chars.push(<span key={k} className={marked(off) ? 'hl' : ''}>{b >= 32 && b < 127 ? String.fromCharCode(b) : '.'}</span>);
    }
    rows.push(
      <div className="hex-row" key={base}>
        <span className="addr">{hexPad(base, 8)}</span>
        <span className="bytes">{cells}</span>
        <span className="ascii">{chars}</span>
      </div>,
    );
  }
  return (
    <div className="byte-dump" data-testid="degraded-dump">
      {rows}
      <p className="muted small">{mark ? <>Highlighted: {mark.structure} <code>{mark.field}</code> at {hexOffset(mark.offset)}. </> : null}
        <button className="link" onClick={() => showBytes(mark?.offset ?? 0, Math.max(1, mark?.length ?? 1))}>Open the hex view</button> for the whole file.</p>
    </div>
  );
}
