// Compare (issue 12): this image against another open image or one of its own snapshots. The field table
// side by side, both zone maps with the changed zones marked, and the guest ranges whose bytes differ
// (each opening either image's hex view at the host bytes behind it), then the metadata-only ranges.
import { useEffect, useState } from 'react';
import { create } from 'zustand';
import type { DiffResult, ImageSummary, SessionInfo, SnapshotRow, ZoneReport } from '../../shared/contract/dto';
import type { ContentRange, GuestRange, RangeMapping, ZoneDifference, ZoneSideState } from '../../shared/qcow2/diff';
import { compareVerdictLines } from '../../shared/qcow2/diff';
import { api } from '../api';
import { useStore } from '../store';
import { precedenceOf } from '../zone-map/precedence';
import { ZoneMap } from '../zone-map/zone-map';

interface CompareTarget {
  /** Session B, and the snapshot of it (null = its active state). */
  other: string;
  snapshot: string | null;
}

interface CompareState {
  /** The result and what it was asked for (kept while the user visits the hex views of either side). */
  result: { a: string; target: CompareTarget; diff: DiffResult } | null;
  zonesA: ZoneReport | null;
  zonesB: ZoneReport | null;
  zone: number;
  set(p: Partial<Omit<CompareState, 'set'>>): void;
}

const useCompare = create<CompareState>()((set) => ({ result: null, zonesA: null, zonesB: null, zone: -1, set: (p) => set(p) }));

const hex = (n: number): string => '0x' + n.toString(16);


function mappingText(m: RangeMapping): string {
  const below = m.depth > 0 ? ` in backing file ${m.depth}` : '';
  if (m.kind === 'data') return `data @${hex(m.host ?? 0)}${below}`;
  if (m.kind === 'zero') return `zero cluster${below}`;
  return `${m.kind}${below}`;
}

function zoneText(z: ZoneSideState | null): string {
  return z ? `${z.condition}, wp ${hex(z.wp)}` : 'no such zone';
}

/** A thin strip under a zone map: one tick per changed zone, at its place in the map's order. */
function ChangeRuler({ count, changed, selected, onPick }: { count: number; changed: ZoneDifference[]; selected: number; onPick(i: number): void }) {
  return (
    <div className="compare-ruler" aria-label="changed zones" data-testid="changed-ruler" title={`changed zones, by zone number (0 to ${count - 1})`}>
      {changed.map((z) => (
        <button key={z.zone} className={'compare-tick' + (z.zone === selected ? ' selected' : '')} style={{ left: `${(z.zone / Math.max(1, count)) * 100}%` }}
          title={`zone ${z.zone}: ${z.changes.join(', ')}`} aria-label={`changed zone ${z.zone}`} onClick={() => onPick(z.zone)} />
      ))}
    </div>
  );
}

export function CompareView({ s }: { s: ImageSummary }) {
  const sessions = useStore((st) => st.sessions);
  const long = useStore((st) => st.long);
  const fail = useStore((st) => st.fail);
  const showBytes = useStore((st) => st.showBytes);
  const switchSession = useStore((st) => st.switchSession);
  const cancelled = useStore((st) => st.cancelled);
  const { result, zonesA, zonesB, zone, set } = useCompare();
  const [snapshots, setSnapshots] = useState<SnapshotRow[]>([]);
  const others = sessions.filter((x) => x.id !== s.session.id);
  const [choice, setChoice] = useState<string>('');
  const id = s.session.id;

  useEffect(() => {
    let live = true;
    void api['tables:snapshots'](id, { start: 0, count: 1000 }).then((r) => { if (live && r.ok) setSnapshots(r.value.rows); });
    return () => { live = false; };
  }, [id]);
  const options: { key: string; label: string; target: CompareTarget }[] = [
    ...others.map((o: SessionInfo) => ({ key: `s:${o.id}`, label: o.name, target: { other: o.id, snapshot: null } })),
    ...snapshots.map((sn) => ({ key: `n:${sn.id}`, label: `${s.session.name}@${sn.name} (snapshot ${sn.id})`, target: { other: id, snapshot: sn.id } })),
  ];
  const picked = options.find((o) => o.key === choice) ?? options[0];

  const run = async (): Promise<void> => {
    if (!picked) return;
    const t = picked.target;
    const r = await long('comparing the images', (a, job) => a['diff:run'](id, { other: t.other, snapshotB: t.snapshot }, job));
    if (!r.ok) return;
    let za: ZoneReport | null = null;
    let zb: ZoneReport | null = null;
    if (r.value.zones) {
      const [ra, rb] = await Promise.all([api['zones:report'](id), api['zones:report'](t.other)]);
      if (ra.ok) za = ra.value; else fail(ra.error);
      if (rb.ok) zb = rb.value; else fail(rb.error);
    }
    set({ result: { a: id, target: t, diff: r.value }, zonesA: za, zonesB: zb, zone: r.value.zones?.[0]?.zone ?? -1 });
    useStore.setState({ status: `compared ${r.value.a} with ${r.value.b}: ${r.value.different ? 'they differ' : 'nothing differs'}` });
  };

  /** The bytes behind a side of a range, in that image's hex view. */
  const open = async (side: 'a' | 'b', m: RangeMapping, length: number): Promise<void> => {
    if (!result || m.host === null) return;
    const sid = side === 'a' ? result.a : result.target.other;
    if (useStore.getState().current !== sid) await switchSession(sid);
    showBytes(m.host, Math.max(1, Math.min(length, 1 << 20)));
  };
  const hostTitle = (m: RangeMapping): string | null =>
    m.kind !== 'data' ? `no host bytes: ${m.kind}` : m.depth > 0 ? 'the bytes are in a backing file, which is not open here' : null;

  const d = result?.diff ?? null;
  const stale = result !== null && result.a !== id && result.target.other !== id;
  const g = d?.guest;
  const zoneDiffs = d?.zones ?? [];
  return (
    <section className="view compare" aria-label="Compare">
      <h2>Compare</h2>
      <div className="actions">
        <span>{s.session.name} with</span>
        {options.length === 0
          ? <span className="note">Open a second image (or take a snapshot of this one) to compare with.</span>
          : <select aria-label="compare with" value={picked?.key} onChange={(e) => setChoice(e.target.value)}>
              {options.map((o) => <option key={o.key} value={o.key}>{o.label}</option>)}
            </select>}
        <button className="primary" disabled={!picked} onClick={() => void run()} data-testid="compare-run">Compare</button>
      </div>
      {cancelled === 'comparing the images' && <p className="note" role="status" data-testid="compare-cancelled">The comparison was cancelled before it finished{d ? '; the result below is of the comparison before it' : ''}.</p>}
      {!d && <p className="muted">Header fields, extensions, feature bits, zones and guest data are compared; only the guest data the two mappings cannot decide on is read.</p>}
      {d && g && (
        <>
          {stale && <p className="note">The result below is of {d.a} against {d.b}.</p>}
          <p data-testid="compare-summary">
            <strong>{d.a}</strong> against <strong>{d.b}</strong>: {d.different ? `${d.fields.length} field(s), ${d.zoneDifferenceCount} zone(s), ${g.contentRangeCount} guest range(s) of other data (${g.differingBytes} bytes), ${g.layoutRangeCount} metadata-only range(s) differ.` : 'nothing differs.'}
            {' '}<span className="muted">qemu-img compare: {compareVerdictLines(g).join(' ')} · read {g.readA} + {g.readB} bytes of {Math.max(g.sizeA, g.sizeB)}.</span>
          </p>

          <h3>Fields</h3>
          {d.fields.length === 0 ? <p className="muted">No header field, feature bit or extension differs.</p> : (
            <table className="grid compact" data-testid="compare-fields">
              <thead><tr><th>where</th><th>field</th><th>offset A</th><th>{d.a}</th><th>offset B</th><th>{d.b}</th></tr></thead>
              <tbody>{d.fields.map((f, i) => (
                <tr key={i}>
                  <td>{f.area}</td><td>{f.field}</td>
                  <td className="num">{f.offsetA === null ? '—' : <button className="link" onClick={() => void open('a', { kind: 'data', depth: 0, host: f.offsetA, file: null }, 8)}>{hex(f.offsetA)}</button>}</td>
                  <td className="diff-line">{f.a ?? '(absent)'}</td>
                  <td className="num">{f.offsetB === null ? '—' : <button className="link" onClick={() => void open('b', { kind: 'data', depth: 0, host: f.offsetB, file: null }, 8)}>{hex(f.offsetB)}</button>}</td>
                  <td className="diff-line">{f.b ?? '(absent)'}</td>
                </tr>
              ))}</tbody>
            </table>
          )}

          {(d.zones || d.zonesNote) && <h3>Zones</h3>}
          {d.zonesNote && <p className="note">{d.zonesNote}</p>}
          {d.zones && (
            <>
              {zoneDiffs.length === 0 ? <p className="muted">No zone differs.</p> : (
                <table className="grid compact" data-testid="compare-zones">
                  {zoneDiffs.length < d.zoneDifferenceCount && <caption>{d.zoneDifferenceCount} zones differ, the first {zoneDiffs.length} listed</caption>}
                  <thead><tr><th>zone</th><th>{d.a}</th><th>{d.b}</th><th>what differs</th></tr></thead>
                  <tbody>{zoneDiffs.map((z) => (
                    <tr key={z.zone} className={z.zone === zone ? 'selected' : ''} onClick={() => set({ zone: z.zone })} data-zone={z.zone}>
                      <td className="num">{z.zone}</td><td>{zoneText(z.a)}</td><td>{zoneText(z.b)}</td><td>{z.changes.join(', ')}</td>
                    </tr>
                  ))}</tbody>
                </table>
              )}
              {zonesA && zonesB && (
                <div className="compare-maps">
                  {[{ label: d.a, r: zonesA }, { label: d.b, r: zonesB }].map((m) => (
                    <div key={m.label} className="compare-map" data-testid={`compare-map-${m.label === d.a ? 'a' : 'b'}`}>
                      <div className="muted">{m.label}{zone >= 0 ? ` · zone ${zone}` : ''}</div>
                      <ZoneMap report={m.r} selected={zone} filter={null} precedence={precedenceOf(m.r, null)} onSelect={(i) => set({ zone: i })} />
                      <ChangeRuler count={m.r.nrZones} changed={zoneDiffs} selected={zone} onPick={(i) => set({ zone: i })} />
                    </div>
                  ))}
                </div>
              )}
            </>
          )}

          <h3>Guest data</h3>
          {g.contentRangeCount === 0 ? <p className="muted">Every guest byte is the same{g.sizeA !== g.sizeB ? ' (the larger image reads as zeros past the smaller one\'s end)' : ''}.</p> : (
            <RangeTable kind="content" ranges={g.content} total={g.contentRangeCount} a={d.a} b={d.b} open={open} hostTitle={hostTitle} samples />
          )}
          {g.layoutRangeCount > 0 && (
            <>
              <h3>Metadata only <span className="muted">same guest data, other layout</span></h3>
              <RangeTable kind="layout" ranges={g.layout} total={g.layoutRangeCount} a={d.a} b={d.b} open={open} hostTitle={hostTitle} />
            </>
          )}
        </>
      )}
    </section>
  );
}

const SHOWN = 500;

function RangeTable({ kind, ranges, total, a, b, open, hostTitle, samples }: {
  kind: string; ranges: (GuestRange | ContentRange)[]; total: number; a: string; b: string;
  open(side: 'a' | 'b', m: RangeMapping, length: number): Promise<void>; hostTitle(m: RangeMapping): string | null; samples?: boolean;
}) {
  const side = (which: 'a' | 'b', r: GuestRange) => {
    const m = which === 'a' ? r.a : r.b;
    const why = hostTitle(m);
    return (
      <td>
        {mappingText(m)}{' '}
        <button className="link" disabled={why !== null} title={why ?? `show these bytes in the hex view of ${which === 'a' ? a : b}`} onClick={() => void open(which, m, r.length)} data-testid={`open-${which}`}>bytes</button>
      </td>
    );
  };
  return (
    <table className="grid compact" data-testid={`compare-${kind}`}>
      <caption>{total} range(s){ranges.length < total ? `, the first ${ranges.length} listed` : ''}</caption>
      <thead><tr><th>guest offset</th><th>length</th><th>{a}</th><th>{b}</th>{samples && <th>first bytes ({a} / {b})</th>}</tr></thead>
      <tbody>{ranges.slice(0, SHOWN).map((r) => (
        <tr key={r.start} data-start={r.start}>
          <td className="num">{hex(r.start)}</td><td className="num">{r.length}</td>
          {side('a', r)}{side('b', r)}
          {samples && 'sampleA' in r && <td className="diff-line small">{r.sampleA.slice(0, 32)}<br />{r.sampleB.slice(0, 32)}</td>}
        </tr>
      ))}</tbody>
    </table>
  );
}
