// Tables: the L1 table (active or a snapshot's) beside the L2 table of the chosen entry, the refcount table
// beside the chosen refcount block, and the snapshot list. Every list is virtualised and paged from the
// engine; a host offset opens the hex view there.
import { useState } from 'react';
import type { ImageSummary, L1Row, L2Row, RefblockRow, RefcountTableRow, SnapshotRow } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { api } from '../api';
import { ErrorMessage } from '../components/common';
import { PagedList } from '../components/paged-list';
import { hexOffset, parseNumber } from '../format';
import { viewOffReason } from '../gate';
import { useStore } from '../store';
import { useAllocatedL2 } from './l2-allocated';
import type { AppError } from '../../shared/qcow2/findings';

interface Meta { size: number; offset: number; label: string; extra: string }

function HostLink({ offset, length, label }: { offset: number; length: number; label?: string }) {
  const showBytes = useStore((st) => st.showBytes);
  return (
    <button className="link mono" data-host={offset} title="show these bytes in the hex view"
      onClick={(e) => { e.stopPropagation(); showBytes(offset, length); }}>{label ?? hexOffset(offset)}</button>
  );
}

/** A "go to entry" box: an index, or (for guest-mapped tables) a guest offset with @. */
function JumpBox({ label, onJump }: { label: string; onJump(text: string): void }) {
  const [text, setText] = useState('');
  return (
    <input className="jump" aria-label={label} placeholder="entry # or @offset" value={text} size={14}
      onChange={(e) => setText(e.target.value)} onKeyDown={(e) => { if (e.key === 'Enter') onJump(text); }} />
  );
}

function useMeta(): [Meta | null, (m: Meta) => void, AppError | null, (e: AppError | null) => void] {
  const [meta, setMeta] = useState<Meta | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  return [meta, setMeta, error, setError];
}

/** Unwraps a page result, remembering the table's size and the first error. */
function pager<P, R>(call: () => Promise<Result<P>>, rows: (p: P) => R[], meta: (p: P) => Meta, setMeta: (m: Meta) => void, setError: (e: AppError | null) => void): Promise<R[] | null> {
  return call().then((r) => {
    if (!r.ok) { setError(r.error); return null; }
    setError(null);
    setMeta(meta(r.value));
    return rows(r.value);
  });
}

function L1L2({ s }: { s: ImageSummary }) {
  const nav = useStore((st) => st.tables);
  const select = useStore((st) => st.select);
  const setNav = useStore((st) => st.setTables);
  const dataVersion = useStore((st) => st.dataVersion);
  const id = s.session.id;
  const [l1, setL1, l1Error, setL1Error] = useMeta();
  // An entry selected from elsewhere (the Layout view) is scrolled to when the view opens.
  const [l1Scroll, setL1Scroll] = useState<{ index: number; seq: number } | null>(() => (nav.l1Index !== null ? { index: nav.l1Index, seq: 1 } : null));
  const [l2Scroll, setL2Scroll] = useState<{ index: number; seq: number } | null>(() => (nav.l2Index !== null ? { index: nav.l2Index, seq: 2 } : null));
  const [allocOnly, setAllocOnly] = useState(false);
  const snap = nav.snapshot === null ? {} : { snapshot: nav.snapshot };
  // Until the first page answers: the header's l1_size (a snapshot's size arrives with its first page).
  const l1Size = l1?.size ?? (nav.snapshot === null ? Number(s.headerFields.find((x) => x.name === 'l1_size')?.value ?? 0) : 1);
  const extended = s.features.incompatible.some((b) => b.bit === 4 && b.set);
  const l2Entries = s.clusterSize / (extended ? 16 : 8);
  const guestPerL1 = l2Entries * s.clusterSize;
  const l1Key = `${id}:${dataVersion}:${nav.snapshot ?? 'active'}`;

  const jumpL1 = (text: string): void => {
    const t = text.trim();
    const n = t.startsWith('@') ? Math.floor(parseNumber(t.slice(1)) / guestPerL1) : parseNumber(t);
    if (!Number.isSafeInteger(n) || n < 0 || n >= l1Size) return;
    setNav({ l1Index: n, l2Index: null });
    setL1Scroll({ index: n, seq: Date.now() });
  };
  const jumpL2 = (text: string): void => {
    const t = text.trim();
    let n: number;
    if (t.startsWith('@')) {
      const g = parseNumber(t.slice(1));
      if (!Number.isSafeInteger(g)) return;
      const l1Index = Math.floor(g / guestPerL1);
      n = Math.floor((g % guestPerL1) / s.clusterSize);
      if (l1Index !== nav.l1Index) { setNav({ l1Index, l2Index: n }); setL1Scroll({ index: l1Index, seq: Date.now() }); setL2Scroll({ index: n, seq: Date.now() + 1 }); return; }
    } else n = parseNumber(t);
    if (!Number.isSafeInteger(n) || n < 0 || n >= l2Entries) return;
    setNav({ l2Index: n });
    setL2Scroll({ index: n, seq: Date.now() });
  };

  return (
    <div className="tables-split">
      <section className="table-pane" aria-label="L1 table">
        <div className="pane-head">
          <h3>{l1?.label ?? 'L1 table'}</h3>
          <span className="muted small" data-testid="l1-meta">{l1 ? `${l1.size} entries at ${hexOffset(l1.offset)} · ${l1.extra}` : ''}</span>
          <JumpBox label="go to L1 entry" onJump={jumpL1} />
        </div>
        {l1Error && <ErrorMessage error={l1Error} />}
        <PagedList<L1Row>
          label="L1 entries" testId="l1-list" total={l1Size} resetKey={l1Key} columns="minmax(28px, 40px) minmax(0, 84px) minmax(0, 92px) minmax(0, 46px) minmax(0, 1fr)"
          header={<><span>index</span><span>L2 table</span><span>guest</span><span>copied</span><span>raw</span></>}
          fetchPage={(start, count) => pager(() => api['tables:l1'](id, { ...snap, start, count }), (p) => p.rows,
            (p) => ({ size: p.size, offset: p.offset, label: p.label, extra: `guest ${hexOffset(p.guestPerL1)} per entry` }), setL1, setL1Error)}
          selected={nav.l1Index} scrollTo={l1Scroll}
          onSelect={(i, r) => {
            setNav({ l1Index: i, l2Index: null });
            if (r && l1) select({ kind: 'entry', title: `${l1.label} entry ${i}`, offset: l1.offset + i * 8, size: 8, data: r.l2Offset ? { offset: r.l2Offset, length: s.clusterSize } : null,
              facts: [['raw', r.raw], ['L2 table', r.l2Offset ? hexOffset(r.l2Offset) : 'none (unallocated)'], ['guest range', `${hexOffset(r.guestOffset)} + ${hexOffset(guestPerL1)}`], ['copied', r.copied ? 'yes (refcount 1)' : 'no'], ['reserved bits', r.reservedBits ? 'SET' : 'clear']] });
          }}
          renderRow={(r) => (
            <>
              <span className="num">{r.index}</span>
              <span>{r.l2Offset ? <HostLink offset={r.l2Offset} length={s.clusterSize} /> : <span className="muted">none</span>}</span>
              <code className="muted">{hexOffset(r.guestOffset)}</code>
              <span>{r.copied ? 'yes' : r.l2Offset ? 'no' : ''}</span>
              <code className={r.reservedBits ? 'invalid' : 'muted'} data-raw={r.raw} title={`raw 0x${r.raw}${r.reservedBits ? ' (reserved bits set)' : ''}`}>{r.raw}</code>
            </>
          )}
        />
      </section>
      {nav.l1Index === null
        ? <section className="table-pane" aria-label="L2 table"><h3>L2 table</h3><p className="muted">Choose an L1 entry to see its L2 table.</p></section>
        : <L2Pane key={`${l1Key}:${nav.l1Index}`} s={s} l1Index={nav.l1Index} snap={snap} l2Entries={l2Entries} extended={extended} scroll={l2Scroll} onJump={jumpL2} allocOnly={allocOnly} onAllocOnly={setAllocOnly} />}
    </div>
  );
}

function L2Pane({ s, l1Index, snap, l2Entries, extended, scroll, onJump, allocOnly, onAllocOnly }: {
  s: ImageSummary; l1Index: number; snap: { snapshot?: number }; l2Entries: number; extended: boolean;
  scroll: { index: number; seq: number } | null; onJump(text: string): void; allocOnly: boolean; onAllocOnly(on: boolean): void;
}) {
  const nav = useStore((st) => st.tables);
  const setNav = useStore((st) => st.setTables);
  const select = useStore((st) => st.select);
  const [l2, setL2, l2Error, setL2Error] = useMeta();
  const dataVersion = useStore((st) => st.dataVersion);
  const id = s.session.id;
  const allocated = useAllocatedL2(id, snap.snapshot, l1Index, l2Entries, allocOnly, dataVersion);
  // Filtered, the list's positions are positions among the allocated entries; the store keeps entry numbers.
  const filtered = allocOnly && allocated?.complete ? allocated.rows : null;
  const position = (entry: number | null): number | null => (entry === null || !filtered ? entry : filtered.findIndex((r) => r.index === entry));
  return (
    <section className="table-pane" aria-label="L2 table">
      <div className="pane-head">
        <h3>L2 table of L1 entry {l1Index}</h3>
        <span className="muted small" data-testid="l2-meta">{l2 ? (l2.offset ? `at ${hexOffset(l2.offset)} · ${l2.size} entries` : 'unallocated: this guest range reads from the backing file or as zeros') : ''}
          {filtered && ` · ${filtered.length} allocated`}{allocOnly && allocated && !allocated.complete && ` · reading ${allocated.read}/${allocated.total}…`}</span>
        <label className="l2-filter"><input type="checkbox" checked={allocOnly} onChange={(e) => onAllocOnly(e.target.checked)} /> allocated only</label>
        <JumpBox label="go to L2 entry" onJump={onJump} />
      </div>
      {l2Error && <ErrorMessage error={l2Error} />}
      {allocated?.error && <ErrorMessage error={allocated.error} />}
      <PagedList<L2Row>
        label="L2 entries" testId="l2-list" total={filtered ? filtered.length : allocOnly ? 0 : l2 && l2.offset === 0 ? 0 : l2Entries} resetKey={`${id}:${l1Index}:${filtered ? `alloc${filtered.length}` : allocOnly ? 'reading' : 'all'}`}
        columns="minmax(32px, 48px) minmax(0, 96px) minmax(0, 84px) minmax(0, 96px) minmax(0, 46px) minmax(0, 1fr)"
        header={<><span>index</span><span>guest offset</span><span>kind</span><span>host offset</span><span>copied</span><span>{extended ? 'subclusters' : 'raw'}</span></>}
        fetchPage={(start, count) => filtered ? Promise.resolve(filtered.slice(start, start + count)) : pager(() => api['tables:l2'](id, { ...snap, l1Index, start, count }), (p) => p.rows,
          (p) => ({ size: p.size, offset: p.tableOffset, label: 'L2', extra: '' }), setL2, setL2Error)}
        selected={position(nav.l2Index)} scrollTo={scroll && filtered ? { index: Math.max(0, position(scroll.index) ?? 0), seq: scroll.seq } : scroll}
        onSelect={(pos, r) => {
          const i = filtered ? (r?.index ?? pos) : pos;
          setNav({ l2Index: i });
          const size = extended ? 16 : 8;
          if (r && l2?.offset) select({ kind: 'entry', title: `L2 entry ${i} of L1 entry ${l1Index}`, offset: l2.offset + i * size, size,
            data: r.hostOffset !== null ? { offset: r.hostOffset, length: r.compressedSize ?? s.clusterSize } : null,
            facts: [['raw', r.raw], ...(r.bitmap ? [['bitmap', r.bitmap] as [string, string], ['subclusters', r.subclusters ?? '']] as [string, string][] : []),
              ['guest offset', hexOffset(r.guestOffset)], ['kind', r.kind], ['host offset', r.hostOffset !== null ? hexOffset(r.hostOffset) : 'none'],
              ...(r.compressedSize !== null ? [['compressed bytes', String(r.compressedSize)] as [string, string]] : []), ['copied', r.copied ? 'yes (refcount 1)' : 'no']] });
        }}
        renderRow={(r) => (
          <>
            <span className="num" data-entry={r.index}>{r.index}</span>
            <code title={`guest ${hexOffset(r.guestOffset)}`}>{hexOffset(r.guestOffset)}</code>
            <span className={`kind kind-${r.kind}`} data-kind={r.kind}>{r.kind}</span>
            <span>{r.hostOffset !== null ? <HostLink offset={r.hostOffset} length={r.compressedSize ?? s.clusterSize} /> : <span className="muted">—</span>}{r.compressedSize !== null && <span className="muted small"> {r.compressedSize} B</span>}</span>
            <span>{r.copied ? 'yes' : r.hostOffset !== null ? 'no' : ''}</span>
            {r.subclusters !== null ? <code className="subclusters" data-raw={r.raw} title={`raw 0x${r.raw}, bitmap 0x${r.bitmap}`}>{r.subclusters}</code> : <code className="muted" data-raw={r.raw} title={`raw 0x${r.raw}`}>{r.raw}</code>}
          </>
        )}
      />
    </section>
  );
}

function Refcounts({ s }: { s: ImageSummary }) {
  const nav = useStore((st) => st.tables);
  const select = useStore((st) => st.select);
  const setNav = useStore((st) => st.setTables);
  const dataVersion = useStore((st) => st.dataVersion);
  const id = s.session.id;
  const [rt, setRt, rtError, setRtError] = useMeta();
  const [scroll, setScroll] = useState<{ index: number; seq: number } | null>(() => (nav.refIndex !== null ? { index: nav.refIndex, seq: 1 } : null));
  const tableClusters = s.headerFields.find((x) => x.name === 'refcount_table_clusters');
  const rtSize = rt?.size ?? (Number(tableClusters?.value ?? 0) * s.clusterSize) / 8;
  const perBlock = (s.clusterSize * 8) / s.refcountBits;
  const key = `${id}:${dataVersion}`;
  const jump = (text: string): void => {
    const t = text.trim();
    // @offset: the table entry whose block counts that host cluster.
    const n = t.startsWith('@') ? Math.floor(parseNumber(t.slice(1)) / s.clusterSize / perBlock) : parseNumber(t);
    if (!Number.isSafeInteger(n) || n < 0 || n >= rtSize) return;
    setNav({ refIndex: n, blockIndex: null });
    setScroll({ index: n, seq: Date.now() });
  };
  return (
    <div className="tables-split">
      <section className="table-pane" aria-label="refcount table">
        <div className="pane-head">
          <h3>Refcount table</h3>
          <span className="muted small">{rt ? `${rt.size} entries at ${hexOffset(rt.offset)} · ${s.refcountBits}-bit refcounts, ${perBlock} per block` : ''}</span>
          <JumpBox label="go to refcount table entry" onJump={jump} />
        </div>
        {rtError && <ErrorMessage error={rtError} />}
        <PagedList<RefcountTableRow>
          label="refcount table entries" testId="reftable-list" total={rtSize} resetKey={key} columns="minmax(32px, 48px) minmax(0, 100px) minmax(0, 100px) minmax(0, 1fr)"
          header={<><span>index</span><span>block</span><span>clusters from</span><span>raw</span></>}
          fetchPage={(start, count) => pager(() => api['tables:refcounts'](id, { start, count }), (p) => p.rows, (p) => ({ size: p.size, offset: p.offset, label: 'refcounts', extra: '' }), setRt, setRtError)}
          selected={nav.refIndex} scrollTo={scroll}
          onSelect={(i, r) => {
            setNav({ refIndex: i, blockIndex: null });
            if (r && rt) select({ kind: 'entry', title: `refcount table entry ${i}`, offset: rt.offset + i * 8, size: 8, data: r.blockOffset ? { offset: r.blockOffset, length: s.clusterSize } : null,
              facts: [['raw', r.raw], ['refcount block', r.blockOffset ? hexOffset(r.blockOffset) : 'none'], ['counts clusters', `${r.firstCluster} to ${r.firstCluster + perBlock - 1}`]] });
          }}
          renderRow={(r) => (
            <>
              <span className="num">{r.index}</span>
              <span>{r.blockOffset ? <HostLink offset={r.blockOffset} length={s.clusterSize} /> : <span className="muted">none</span>}</span>
              <span className="num muted">{r.firstCluster}</span>
              <code className="muted" data-raw={r.raw} title={`raw 0x${r.raw}`}>{r.raw}</code>
            </>
          )}
        />
      </section>
      {nav.refIndex === null
        ? <section className="table-pane" aria-label="refcount block"><h3>Refcount block</h3><p className="muted">Choose a refcount table entry to see its block.</p></section>
        : <RefblockPane key={`${key}:${nav.refIndex}`} s={s} tableIndex={nav.refIndex} perBlock={perBlock} />}
    </div>
  );
}

function RefblockPane({ s, tableIndex, perBlock }: { s: ImageSummary; tableIndex: number; perBlock: number }) {
  const nav = useStore((st) => st.tables);
  const setNav = useStore((st) => st.setTables);
  const [rb, setRb, rbError, setRbError] = useMeta();
  return (
    <section className="table-pane" aria-label="refcount block">
      <div className="pane-head">
        <h3>Refcount block of entry {tableIndex}</h3>
        <span className="muted small">{rb ? (rb.offset ? `at ${hexOffset(rb.offset)}` : 'no block: these clusters have refcount 0') : ''}</span>
      </div>
      {rbError && <ErrorMessage error={rbError} />}
      <PagedList<RefblockRow>
        label="refcount block entries" testId="refblock-list" total={rb && rb.offset === 0 ? 0 : perBlock} resetKey={`${s.session.id}:${tableIndex}`} columns="90px 1fr 90px"
        header={<><span>cluster</span><span>host offset</span><span>refcount</span></>}
        fetchPage={(start, count) => pager(() => api['tables:refblock'](s.session.id, { tableIndex, start, count }), (p) => p.rows, (p) => ({ size: p.size, offset: p.blockOffset, label: 'block', extra: '' }), setRb, setRbError)}
        selected={nav.blockIndex} onSelect={(i) => setNav({ blockIndex: i })}
        renderRow={(r) => (
          <>
            <span className="num">{r.cluster}</span>
            <span><HostLink offset={r.hostOffset} length={s.clusterSize} /></span>
            <span className={'num' + (r.refcount === 0 ? ' muted' : '')}>{r.refcount}</span>
          </>
        )}
      />
    </section>
  );
}

function Snapshots({ s }: { s: ImageSummary }) {
  const setNav = useStore((st) => st.setTables);
  const dataVersion = useStore((st) => st.dataVersion);
  const [meta, setMeta, error, setError] = useMeta();
  const [problems, setProblems] = useState<string[]>([]);
  const [sel, setSel] = useState<number | null>(null);
  const nb = s.headerFields.find((x) => x.name === 'nb_snapshots');
  const total = meta?.size ?? Number(nb?.value ?? 0);
  const open = (i: number): void => setNav({ tab: 'l1', snapshot: i, l1Index: null, l2Index: null });
  return (
    <section className="table-pane single" aria-label="snapshots">
      <div className="pane-head"><h3>Snapshots</h3><span className="muted small">{total} snapshot(s)</span></div>
      {error && <ErrorMessage error={error} />}
      {problems.map((p) => <p key={p} className="warning-text">⚠ {p}</p>)}
      {total === 0 ? <p className="muted" data-testid="no-snapshots">This image has no internal snapshots.</p> : (
        <PagedList<SnapshotRow>
          label="snapshots" testId="snapshot-list" total={total} resetKey={`${s.session.id}:${dataVersion}`} columns="48px 60px 1fr 170px 140px 90px 110px"
          header={<><span>#</span><span>id</span><span>name</span><span>date (UTC)</span><span>L1 table</span><span>VM state</span><span>disk size</span></>}
          fetchPage={(start, count) => pager(() => api['tables:snapshots'](s.session.id, { start, count }), (p) => { setProblems(p.problems); return p.rows; }, (p) => ({ size: p.size, offset: 0, label: '', extra: '' }), setMeta, setError)}
          selected={sel} onSelect={setSel} onActivate={open}
          renderRow={(r) => (
            <>
              <span className="num">{r.index}</span>
              <span>{r.id}</span>
              <span>{r.name}</span>
              <span>{new Date(r.dateSec * 1000).toISOString().replace('T', ' ').slice(0, 19)}</span>
              <span><button className="link" onClick={(e) => { e.stopPropagation(); open(r.index); }} title="show this snapshot's L1 table">{r.l1Size} at {hexOffset(r.l1TableOffset)}</button></span>
              <span className="num">{r.vmStateSize}</span>
              <span className="num">{r.diskSize}</span>
            </>
          )}
        />
      )}
    </section>
  );
}

export function TablesView({ s }: { s: ImageSummary }) {
  const nav = useStore((st) => st.tables);
  const setNav = useStore((st) => st.setTables);
  // The tables need a decoded header (cluster size, offsets): a degraded session has none.
  const off = viewOffReason(s, 'tables') ?? (s.clusterSize > 0 ? null : 'The header gives no cluster size: the tables cannot be located.');
  if (off) return <section className="view tables" aria-label="Tables"><h2>Tables</h2><p className="note">{off}</p></section>;
  const tabs: { id: typeof nav.tab; label: string }[] = [
    { id: 'l1', label: 'L1 / L2' }, { id: 'refcounts', label: 'Refcounts' }, { id: 'snapshots', label: 'Snapshots' },
  ];
  return (
    <section className="view tables" aria-label="Tables">
      <div className="tables-head">
        <h2>Tables</h2>
        <div className="steps" role="tablist" aria-label="table kind">
          {tabs.map((t) => <button key={t.id} role="tab" aria-selected={nav.tab === t.id} className={nav.tab === t.id ? 'active' : ''} onClick={() => setNav({ tab: t.id })}>{t.label}</button>)}
        </div>
        {nav.tab === 'l1' && nav.snapshot !== null && (
          <span className="note">showing the L1 table of snapshot #{nav.snapshot} <button className="link" onClick={() => setNav({ snapshot: null, l1Index: null, l2Index: null })}>back to the active table</button></span>
        )}
      </div>
      {nav.tab === 'l1' && <L1L2 s={s} />}
      {nav.tab === 'refcounts' && <Refcounts s={s} />}
      {nav.tab === 'snapshots' && <Snapshots s={s} />}
    </section>
  );
}
