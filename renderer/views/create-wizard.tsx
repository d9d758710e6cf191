// Create wizard: Basics, Zoned, Review. Every keystroke runs the engine's own validation function
// (shared/qcow2/create-options.ts, never a copy); its messages appear under the field they concern, worded
// for the form (the control to change, not a CLI flag: wizard-text.ts), and the derived numbers stay
// visible on the right in the unit the user typed.
import { useMemo, useState } from 'react';
import { validateCreateOptions, type CreateMessage, type CreateValidation } from '../../shared/qcow2/create-options';
import { qemuImgCreateCommand } from '../../shared/qcow2/qemu-img-command';
import type { ZonedWriteLayout } from '../../shared/qcow2/zoned-types';
import { ZONED_TARGETS, zonedTarget } from '../../shared/qcow2/zoned-targets';
import { controlLabel, forUi, inUnit, unitOf, type SizeUnit } from './wizard-text';
import { isCancelled } from '../../shared/contract/channels';
import { copyText, Size } from '../components/common';
import { human } from '../format';
import { useStore } from '../store';
import { emulatorGeometryFromCreate } from '../../shared/qcow2/emulators';
import { EmulatorPanel } from './emulator-panel';
import { ImportReportDialog } from './wizard-import';
import { withImport } from './wizard-import-text';

export interface WizardPreset {
  id: string;
  label: string;
  options: Record<string, string>;
  layout?: ZonedWriteLayout;
}

export const PRESETS: WizardPreset[] = [
  { id: 'plain', label: 'Plain 10 GiB disk', options: { size: '10G' } },
  { id: 'smr', label: 'SMR-like disk (conventional zones)', options: { size: '4G', 'zone.mode': 'host-managed', 'zone.size': '256M', 'zone.conventional_zones': '2', 'zone.max_active_zones': '8', 'zone.max_open_zones': '8', 'zone.max_append_bytes': '65536' } },
  { id: 'zns', label: 'ZNS-like SSD (capacity < size)', options: { size: '2G', 'zone.mode': 'host-managed', 'zone.size': '64M', 'zone.capacity': '48M', 'zone.max_active_zones': '14', 'zone.max_open_zones': '14', 'zone.max_append_bytes': '131072' }, layout: 'v8' },
  { id: 'small', label: 'Small zoned test disk', options: { size: '64M', 'zone.mode': 'host-managed', 'zone.size': '4M', 'zone.conventional_zones': '1', 'zone.max_active_zones': '4', 'zone.max_open_zones': '3', 'zone.max_append_bytes': '65536' } },
];

type FieldKind = 'text' | 'select' | 'bool';
interface FieldSpec { key: string; label: string; kind: FieldKind; choices?: string[]; placeholder?: string; help: string }

const BASICS: FieldSpec[] = [
  { key: 'size', label: 'Virtual size', kind: 'text', placeholder: '10G', help: 'bytes, or with k, M, G, T suffix' },
  { key: 'cluster_size', label: 'Cluster size', kind: 'select', choices: ['', '512', '1024', '4096', '16384', '65536', '262144', '1048576', '2097152'], help: 'default 64 KiB' },
  { key: 'compat', label: 'Compat (version)', kind: 'select', choices: ['', '1.1', '0.10'], help: '1.1 = version 3 (default); 0.10 = version 2' },
  { key: 'refcount_bits', label: 'Refcount bits', kind: 'select', choices: ['', '1', '2', '4', '8', '16', '32', '64'], help: 'default 16' },
  { key: 'extended_l2', label: 'Extended L2 entries', kind: 'bool', help: '32 subclusters per cluster' },
  { key: 'compression_type', label: 'Compression type', kind: 'select', choices: ['', 'zlib', 'zstd'], help: 'default zlib' },
  { key: 'lazy_refcounts', label: 'Lazy refcounts', kind: 'bool', help: 'defer refcount updates (sets the dirty bit while open)' },
  { key: 'preallocation', label: 'Preallocation', kind: 'select', choices: ['', 'off', 'metadata'], help: 'metadata: write every L2 table and refcount now (large images take a while)' },
  { key: 'backing_file', label: 'Backing file', kind: 'text', placeholder: '(none)', help: 'stored as text in the image' },
  { key: 'backing_fmt', label: 'Backing format', kind: 'select', choices: ['', 'qcow2', 'raw'], help: 'required with a backing file' },
];

const ZONED: FieldSpec[] = [
  { key: 'zone.size', label: 'Zone size', kind: 'text', placeholder: '256M', help: 'default 256 MiB from v8 on; required for the seed v7' },
  { key: 'zone.capacity', label: 'Zone capacity', kind: 'text', placeholder: '= zone size', help: 'writable bytes per zone' },
  { key: 'zone.conventional_zones', label: 'Conventional zones', kind: 'text', placeholder: '0', help: 'the first zones, randomly writable' },
  { key: 'zone.max_open_zones', label: 'Max open zones', kind: 'text', placeholder: '0 (no limit)', help: 'taken only together with max active zones' },
  { key: 'zone.max_active_zones', label: 'Max active zones', kind: 'text', placeholder: '0 (no limit)', help: 'open + closed zones' },
  { key: 'zone.max_append_bytes', label: 'Max append bytes', kind: 'text', placeholder: '(revision default)', help: 'largest zone append (seed v7 default 0, v8 and v11 default 64 KiB; the respin has no limit)' },
];

/** "Invalid zoned device options" sums up the refusals shown at their own controls: listed in the review only. */
const isSummary = (m: CreateMessage): boolean => m.code === 'zone-invalid';

function Messages({ v, keys }: { v: CreateValidation; keys: string[] }) {
  const match = (m: CreateMessage): boolean => keys.includes(m.option) && !isSummary(m);
  const errs = v.errors.filter(match);
  const warns = v.warnings.filter(match);
  if (errs.length + warns.length === 0) return null;
  return (
    <div className="msgs">
      {errs.map((m) => <p key={m.code + m.message} className="invalid" role="alert" data-option={m.option}>{forUi(m.message)}</p>)}
      {warns.map((m) => <p key={m.code + m.message} className="warning-text" data-option={m.option}>⚠ {forUi(m.message)}</p>)}
    </div>
  );
}

function Field({ f, options, set, v }: { f: FieldSpec; options: Record<string, string>; set(k: string, val: string): void; v: CreateValidation }) {
  const id = `opt-${f.key}`;
  const value = options[f.key] ?? '';
  return (
    <div className="form-row">
      <label htmlFor={id}>{f.label}</label>
      <div>
        {f.kind === 'text' && <input id={id} value={value} placeholder={f.placeholder} onChange={(e) => set(f.key, e.target.value)} />}
        {f.kind === 'select' && (
          <select id={id} value={value} onChange={(e) => set(f.key, e.target.value)}>
            {f.choices!.map((c) => <option key={c} value={c}>{c === '' ? '(default)' : c}</option>)}
          </select>
        )}
        {f.kind === 'bool' && <input id={id} type="checkbox" checked={value === 'on'} onChange={(e) => set(f.key, e.target.checked ? 'on' : '')} />}
        <span className="muted small"> {f.help}</span>
      </div>
      <Messages v={v} keys={[f.key]} />
    </div>
  );
}

export function Derived({ v, layout, unit, zoneUnit }: { v: CreateValidation; layout: ZonedWriteLayout; unit: SizeUnit | null; zoneUnit: SizeUnit | null }) {
  const d = v.derived;
  const n = v.normalized;
  const z = n?.zoned ?? null;
  return (
    <aside className="derived" aria-label="derived values" data-testid="derived">
      <h3>Derived</h3>
      {!d || !n ? <p className="muted">Fix the errors to see the layout.</p> : (
        <dl className="facts small">
          <dt>virtual size</dt><dd data-testid="derived-size">{inUnit(n.size, unit)}</dd>
          <dt>cluster size</dt><dd><Size bytes={n.clusterSize} /></dd>
          <dt>version</dt><dd>{n.version}</dd>
          <dt>L1 entries</dt><dd>{d.l1Entries} at 0x{d.l1Offset.toString(16)}</dd>
          <dt>metadata</dt><dd data-testid="derived-metadata">{inUnit(d.metadataBytes, unit)}</dd>
          <dt>new file size</dt><dd data-testid="derived-file-size">{inUnit(d.fileSize, unit)}</dd>
          <dd className="muted small explain" data-testid="derived-explain">
            metadata: the whole clusters reserved for the header, refcounts, L1/L2 tables{z ? ' and write pointers' : ''} ({d.metadataBytes / n.clusterSize} clusters of {human(n.clusterSize)}).
            New file size: the bytes actually written; the file ends where its last table ends, so it can be shorter than the clusters reserved{n.preallocation === 'metadata' ? '' : ', and it grows as the guest writes'}.
          </dd>
          {d.nrZones !== null && <>
            <dt>nr_zones</dt><dd data-testid="derived-nr-zones">{d.nrZones}</dd>
            <dt>sequential zones</dt><dd>{d.sequentialZones}</dd>
            <dt>zonedmeta</dt><dd>{d.zonedmetaSize} bytes in {d.zonedmetaClusters} cluster(s) at 0x{(d.zonedmetaOffset ?? 0).toString(16)}</dd>
            {z && <><dt>zone size</dt><dd data-testid="derived-zone-size">{inUnit(z.zoneSize, zoneUnit)}{z.zoneCapacity !== z.zoneSize ? `, capacity ${inUnit(z.zoneCapacity, zoneUnit)}` : ''}</dd></>}
            <dt>target revision</dt><dd data-testid="derived-revision">{zonedTarget(layout).name}</dd>
          </>}
        </dl>
      )}
      {v.errors.length > 0 && <p className="invalid" data-testid="error-count">{v.errors.length} problem(s) to fix: {[...new Set(v.errors.filter((m) => !isSummary(m)).map((m) => controlLabel(m.option)))].join(', ')}</p>}
    </aside>
  );
}

export function CreateWizard() {
  const info = useStore((s) => s.info);
  const openSession = useStore((s) => s.openSession);
  const long = useStore((s) => s.long);
  const [step, setStep] = useState(0);
  const [fileName, setFileName] = useState('new-image.qcow2');
  const [options, setOptions] = useState<Record<string, string>>({ size: '10G' });
  const [layout, setLayout] = useState<ZonedWriteLayout>('v7');
  const [problem, setProblem] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const [imported, setImported] = useState<string | null>(null);
  const clean = useMemo(() => Object.fromEntries(Object.entries(options).filter(([, x]) => x !== '')), [options]);
  const v = useMemo(() => validateCreateOptions({ options: clean, zonedLayout: layout }), [clean, layout]);
  const set = (k: string, val: string): void => setOptions((o) => ({ ...o, [k]: val }));
  const zoned = options['zone.mode'] === 'host-managed';
  const nameOk = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(fileName);
  const canCreate = !!info?.capabilities.create && v.ok && nameOk;
  const command = qemuImgCreateCommand({ options: clean, zonedLayout: layout }, nameOk ? fileName : 'IMAGE.qcow2');
  const unit = unitOf(options.size);
  const zoneUnit = unitOf(options['zone.size']) ?? unit;
  const target = zonedTarget(layout);

  const create = async (): Promise<void> => {
    setProblem(null);
    const r = await long(`creating ${fileName}`, (a, job) => a['create:run']({ fileName, options: clean, ...(zoned ? { zonedLayout: layout } : {}) }, job));
    if (!r.ok) { setProblem(isCancelled(r.error) ? `Creating ${fileName} was cancelled; no file was left behind.` : r.error.message); return; }
    await openSession(r.value);
    useStore.getState().setView('overview');
  };

  return (
    <section className="view" aria-label="New image">
      <h2>New image</h2>
      <div className="steps" role="tablist">
        {['Basics', 'Zoned', 'Review'].map((t, k) => <button key={t} role="tab" aria-selected={step === k} className={step === k ? 'active' : ''} onClick={() => setStep(k)}>{k + 1}. {t}</button>)}
      </div>
      <div className="wizard">
        <div>
          {step === 0 && <>
            <div className="presets" aria-label="presets">
              {PRESETS.map((p) => <button key={p.id} onClick={() => { setOptions({ ...p.options }); setLayout(p.layout ?? 'v7'); setImported(null); }}>{p.label}</button>)}
              <button onClick={() => setImporting(true)}>Import from a zone report…</button>
            </div>
            {imported && <p className="small" data-testid="import-summary">{imported} Check the Zoned step: the target revision stays yours to choose.</p>}
            <div className="form-row">
              <label htmlFor="file-name">File name</label>
              <div><input id="file-name" value={fileName} onChange={(e) => setFileName(e.target.value)} />
                <span className="muted small"> {info?.capabilities.transport === 'http' ? 'created in the folder qzs serve was given (--create-dir)' : 'you choose the folder when creating'}</span></div>
              {!nameOk && <div className="msgs"><p className="invalid">Use a plain file name: letters, digits, . _ + - (no folders).</p></div>}
            </div>
            {BASICS.map((f) => <Field key={f.key} f={f} options={options} set={set} v={v} />)}
            <Messages v={v} keys={['data_file', 'data_file_raw']} />
          </>}
          {step === 1 && <>
            <div className="form-row">
              <label htmlFor="opt-zone.mode">Zoned (host-managed)</label>
              <div><input id="opt-zone.mode" type="checkbox" checked={zoned} onChange={(e) => set('zone.mode', e.target.checked ? 'host-managed' : '')} />
                <span className="muted small"> zone.mode=host-managed: the image emulates a zoned block device</span></div>
              <Messages v={v} keys={['zone.mode']} />
            </div>
            <fieldset className="form-row targets" disabled={!zoned} data-testid="zone-targets">
              <legend>Target revision</legend>
              <div>
                {ZONED_TARGETS.map((t) => (
                  <label key={t.layout} className="target" data-layout={t.layout}>
                    {/* Named by the target alone (its description mentions "zone size", which must not match the Zone size field). */}
                    <input type="radio" name="zone-layout" value={t.layout} aria-label={t.name} aria-describedby={`target-${t.layout}`} checked={layout === t.layout} onChange={() => setLayout(t.layout)} />
                    <span id={`target-${t.layout}`} className="small"><strong>{t.name}</strong>: {t.what}<br /><span className="muted">Read by: {t.readBy}.</span></span>
                  </label>
                ))}
                <span className="muted small">The revisions are not cross-readable: pick the one your QEMU build carries.</span>
              </div>
              <Messages v={v} keys={['layout']} />
            </fieldset>
            {ZONED.map((f) => <Field key={f.key} f={f} options={options} set={set} v={v} />)}
          </>}
          {step === 2 && <>
            <h3>Review</h3>
            <p>Creates <code>{fileName}</code> as qcow2 {v.normalized ? `version ${v.normalized.version}, ${inUnit(v.normalized.size, unit)}` : ''}{zoned ? `, zoned with the ${target.name} layout` : ', not zoned'}.</p>
            {v.errors.length > 0 && <ul data-testid="review-errors">{v.errors.map((m) => <li key={m.message} className="invalid"><strong>{controlLabel(m.option)}</strong>: {forUi(m.message)}</li>)}</ul>}
            {v.warnings.length > 0 && <ul data-testid="review-warnings">{v.warnings.map((m) => <li key={m.message} className="warning-text">⚠ <strong>{controlLabel(m.option)}</strong>: {forUi(m.message)}</li>)}</ul>}
            <h4>Equivalent command</h4>
            <div className="command">
              <code data-testid="qemu-img-command">{command}</code>
              <button onClick={() => copyText(command)} aria-label="copy the qemu-img command">Copy</button>
            </div>
            <p className="muted small">{zoned ? `Runs on a qemu-img carrying the zoned series (${target.name}): ${target.readBy}. Stock qemu-img rejects the zone options.` : 'Runs on stock qemu-img.'}</p>
            {zoned && v.normalized && (() => { const g = emulatorGeometryFromCreate(v.normalized); return g && <EmulatorPanel geometry={g} image={nameOk ? fileName : 'IMAGE.qcow2'} />; })()}
            {!info?.capabilities.create && <p className="muted">Creating images is not available here{info?.capabilities.transport === 'http' ? ' (start qzs serve with --create-dir)' : ''}.</p>}
            <button className="primary" disabled={!canCreate} onClick={() => void create()}>Create and open</button>
            {problem && <p className="invalid" role="alert">{problem}</p>}
          </>}
          <div className="actions">
            {step > 0 && <button onClick={() => setStep(step - 1)}>Back</button>}
            {step < 2 && <button onClick={() => setStep(step + 1)}>Next</button>}
          </div>
        </div>
        <Derived v={v} layout={layout} unit={unit} zoneUnit={zoneUnit} />
      </div>
      {importing && <ImportReportDialog fileName={nameOk ? fileName : 'IMAGE.qcow2'} layout={layout}
        onApply={(o, summary) => { setOptions((cur) => withImport(cur, o)); setImported(summary); setImporting(false); }} onClose={() => setImporting(false)} />}
    </section>
  );
}
