// Overview: what the file is, at a glance, with feature chips that flag danger.
import type { ImageSummary } from '../../shared/contract/dto';
import type { FeatureBit } from '../../shared/qcow2/features';
import { featureDisplayName } from '../../shared/qcow2/features';
import { Size } from '../components/common';
import { useStore } from '../store';

function Chip({ b }: { b: FeatureBit }) {
  const cls = b.dangerous ? 'chip danger' : b.unknown ? 'chip unknown' : 'chip';
  return <span className={cls} title={`${b.kind} bit ${b.bit}`}>{b.dangerous ? '⚠ ' : b.unknown ? '? ' : ''}{featureDisplayName(b)}</span>;
}

export function Overview({ s }: { s: ImageSummary }) {
  const zones = useStore((st) => st.zones);
  const set = [...s.features.incompatible, ...s.features.compatible, ...s.features.autoclear].filter((b) => b.set);
  const errors = s.findings.filter((f) => f.severity === 'error').length;
  return (
    <section className="view overview" aria-label="Overview">
      <h2>{s.session.name}</h2>
      <p className="muted">{s.session.location}</p>
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
  );
}
