// The inspector: whatever is selected (a field, a zone, a finding, a byte range), in detail, with the
// actions that apply to it.
import { useEffect, useState } from 'react';
import type { ImageSummary, ZoneClusters, ZoneReport } from '../../shared/contract/dto';
import { api } from '../api';
import { conditionOf, zoneLength, zoneStart } from '../../shared/contract/zone-geometry';
import { modelZoneCapacity } from '../../shared/qcow2/zone-model';
import { formatSize } from '../units';
import { Offset, Size } from '../components/common';
import { regionsAt, regionsOf, zoneEntryAt } from '../regions';
import { useStore } from '../store';
import { CONDITION_STYLE } from '../zone-map/palette';
import { ZoneOpsPanel } from './zone-ops-panel';

function ZoneDetail({ s, r, i }: { s: ImageSummary; r: ZoneReport; i: number }) {
  const showBytes = useStore((st) => st.showBytes);
  const dataVersion = useStore((st) => st.dataVersion);
  const [clusters, setClusters] = useState<ZoneClusters | null>(null);
  useEffect(() => {
    let live = true;
    setClusters(null);
    void api['zones:clusters'](s.session.id, i).then((res) => { if (live && res.ok) setClusters(res.value); });
    return () => { live = false; };
  }, [s.session.id, i, dataVersion, r]);
  const cond = conditionOf(r.cond[i]);
  const conventional = i < r.conventionalZones;
  const unit = useStore((st) => st.sizeUnit);
  // Offsets stay in exact bytes and hex; the app's size unit (sectors for blkzone users) goes beside them.
  const inUnit = (v: number): string => (unit === 'bytes' || unit === 'human' ? '' : ` · ${formatSize(v, unit)} ${unit === 'hex' ? 'sectors' : ''}`.trimEnd());
  return (
    <div data-testid="zone-detail">
      <h3>Zone <span data-testid="zone-index">{i}</span></h3>
      <dl className="facts small">
        <dt>condition</dt><dd data-testid="zone-condition"><span className="swatch" style={{ background: CONDITION_STYLE[cond].color }} /> {cond} <code className="muted">{CONDITION_STYLE[cond].abbr}</code></dd>
        <dt>type</dt><dd>{conventional ? 'conventional' : 'sequential write required'}</dd>
        <dt>start</dt><dd data-testid="zone-start">{zoneStart(r, i)} <Offset value={zoneStart(r, i)} />{inUnit(zoneStart(r, i))}</dd>
        <dt>length</dt><dd>{unit === 'human' ? <Size bytes={zoneLength(r, i)} /> : formatSize(zoneLength(r, i), unit)}</dd>
        <dt>capacity</dt><dd>{unit === 'human' ? <Size bytes={modelZoneCapacity(r, i)} /> : formatSize(modelZoneCapacity(r, i), unit)}</dd>
        <dt>write pointer</dt><dd data-testid="zone-wp">{conventional ? 'none (conventional)' : <>{r.wp[i]} <Offset value={r.wp[i]} />{inUnit(r.wp[i])}</>}</dd>
        {!conventional && <><dt>written</dt><dd>{unit === 'human' ? <Size bytes={Math.max(0, r.wp[i] - zoneStart(r, i))} /> : formatSize(Math.max(0, r.wp[i] - zoneStart(r, i)), unit)}</dd></>}
      </dl>
      {s.zoned && <button className="link" onClick={() => showBytes(s.zoned!.zonedmetaOffset + 8 * i, 8)}>show its write-pointer entry in the hex view</button>}
      <h4>Clusters in this zone</h4>
      {!clusters ? <p className="muted small">reading the mapping…</p> : (
        <div data-testid="zone-clusters">
          <p className="small"><Size bytes={clusters.allocatedBytes} /> allocated in the file</p>
          <ul className="extents small">
            {clusters.extents.filter((e) => e.hostOffset !== null || e.type !== 'unallocated-plain').slice(0, 12).map((e) => (
              <li key={e.start}>
                guest 0x{e.start.toString(16)} +{e.length}: {e.type}
                {e.hostOffset !== null && <> at <button className="link" onClick={() => showBytes(e.hostOffset!, Math.min(e.length, 4096))}>0x{e.hostOffset.toString(16)}</button></>}
              </li>
            ))}
          </ul>
          {clusters.truncated && <p className="muted small">(list cut at 256 runs)</p>}
        </div>
      )}
      <ZoneOpsPanel session={s.session.id} r={r} i={i} clusters={clusters} />
      <p className="muted small">Open states exist while the image is open here; QEMU reads them back as closed.</p>
    </div>
  );
}

export function Inspector({ s }: { s: ImageSummary | null }) {
  const selection = useStore((st) => st.selection);
  const zones = useStore((st) => st.zones);
  const showBytes = useStore((st) => st.showBytes);
  if (!s) return <aside className="inspector" aria-label="Inspector"><p className="muted">No image open.</p></aside>;
  let body;
  if (!selection) body = <p className="muted">Select a field, a zone, a finding or a byte to see it here.</p>;
  else if (selection.kind === 'zone' && zones && selection.index < zones.nrZones) body = <ZoneDetail s={s} r={zones} i={selection.index} />;
  else if (selection.kind === 'field') {
    const f = s.headerFields.find((x) => x.name === selection.name);
    // A part of a field (one byte of a feature mask): its own raw bytes, and the whole field beside them.
    const part = f && f.present && (selection.offset !== f.offset || selection.size !== f.size) && selection.offset >= f.offset && selection.offset + selection.size <= f.offset + f.size;
    const raw = f ? (part ? f.raw.slice(2 * (selection.offset - f.offset), 2 * (selection.offset - f.offset + selection.size)) : f.raw) : '';
    body = (
      <div data-testid="field-detail">
        <h3>{selection.label}</h3>
        <dl className="facts small">
          <dt>offset</dt><dd><Offset value={selection.offset} /> ({selection.offset})</dd>
          <dt>size</dt><dd data-testid="field-size">{selection.size} byte{selection.size === 1 ? '' : 's'}</dd>
          {f && <><dt>raw</dt><dd><code data-testid="field-raw">{raw}</code></dd>
            {part && <><dt>in field</dt><dd>byte {selection.offset - f.offset} of <code>{f.name}</code> ({f.size} bytes, raw <code>{f.raw}</code>)</dd></>}
            <dt>{part ? 'field value' : 'value'}</dt><dd>{String(f.value)}</dd><dt>meaning</dt><dd>{f.description}</dd></>}
        </dl>
        <button onClick={() => showBytes(selection.offset, selection.size)}>Show bytes</button>
      </div>
    );
  } else if (selection.kind === 'finding') {
    const f = selection.finding;
    body = (
      <div data-testid="finding-detail">
        <h3>{f.severity}: {f.structure} {f.field}</h3>
        <p>{f.message}</p>
        <dl className="facts small">
          <dt>found</dt><dd>{f.found}</dd><dt>expected</dt><dd>{f.expected}</dd>
          <dt>bytes</dt><dd><Offset value={f.offset} />, {f.length}</dd><dt>fix</dt><dd>{f.fix}</dd>
        </dl>
        <button onClick={() => showBytes(f.offset, Math.max(1, f.length))}>Show bytes</button>
      </div>
    );
  } else if (selection.kind === 'bytes') {
    const names = regionsAt(regionsOf(s), selection.offset);
    const zone = zoneEntryAt(s, selection.offset);
    body = (
      <div data-testid="bytes-detail">
        <h3>Bytes at <Offset value={selection.offset} /></h3>
        <p>{selection.length} byte(s) from offset {selection.offset}</p>
        {names.length > 0 ? <ul>{names.map((n) => <li key={n.name + n.offset}>{n.name} <span className="muted">(0x{n.offset.toString(16)}, {n.length} bytes)</span></li>)}</ul>
          : <p className="muted">No decoded structure covers this byte (guest data or free space).</p>}
        {zone >= 0 && <p>write pointer entry of zone {zone}</p>}
      </div>
    );
  } else if (selection.kind === 'entry') {
    body = (
      <div data-testid="entry-detail">
        <h3>{selection.title}</h3>
        <dl className="facts small">
          <dt>entry at</dt><dd><Offset value={selection.offset} /> ({selection.size} bytes)</dd>
          {selection.facts.map(([k, v]) => <div key={k} className="fact" data-fact={k}><dt>{k}</dt><dd>{v}</dd></div>)}
        </dl>
        <button onClick={() => showBytes(selection.offset, selection.size)}>Show entry bytes</button>{' '}
        {selection.data && <button onClick={() => showBytes(selection.data!.offset, selection.data!.length)}>Show data</button>}
      </div>
    );
  } else body = null;
  return <aside className="inspector" aria-label="Inspector"><h2 className="pane-title">Inspector</h2>{body}</aside>;
}
