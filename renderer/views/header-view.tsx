// Header: every field with offset, size, raw bytes, decoded value and what it means. Selecting a field
// highlights its bytes in the hex view; with editing on, a field can be changed (diff preview, backup, undo).
import { Fragment, useState } from 'react';
import type { EditPreview, ImageSummary } from '../../shared/contract/dto';
import type { Field } from '../../shared/qcow2/field';
import type { AppError } from '../../shared/qcow2/findings';
import { api } from '../api';
import { GateRefusal, Offset } from '../components/common';
import { useGate } from '../components/gate';
import { decodedValue } from '../decode-field';
import { hexOffset } from '../format';
import { EDITING_OFF, errorSentence, isGateRefusal } from '../gate';
import { useStore } from '../store';

const NOT_EDITABLE = new Set(['padding']);

export function HeaderView({ s }: { s: ImageSummary }) {
  const select = useStore((st) => st.select);
  const selection = useStore((st) => st.selection);
  const showBytes = useStore((st) => st.showBytes);
  const info = useStore((st) => st.info);
  const editing = s.session.editing;
  const gate = useGate('change this field (diff preview first, backup before writing)');
  // Edit buttons show wherever editing could be switched on; while it is off they say so.
  const editable = !s.degraded && info?.capabilities.edit !== false;
  // Fields a finding names (the fatal one of a degraded session among them) are marked.
  const problems = new Map(s.findings.filter((x) => x.structure === 'header' && x.severity !== 'info').map((x) => [x.field, x]));
  const [editField, setEditField] = useState<string | null>(null);
  if (s.degraded && s.headerFields.length === 0) {
    return (
      <section className="view" aria-label="Header">
        <h2>Header</h2>
        <p className="note" data-testid="no-header-fields">No header field could be decoded: {errorSentence(s.degraded)}. The bytes are in the Hex view; the findings in Check.</p>
      </section>
    );
  }
  return (
    <section className="view" aria-label="Header">
      <h2>Header <span className="muted">({s.headerFields.length} fields{s.degraded ? ', decoded as far as the decoder got' : `, version ${s.version}`})</span></h2>
      {s.degraded && <p className="note" data-testid="header-degraded-note">This file cannot be read as qcow2 ({errorSentence(s.degraded)}): these are the fields read before the decoder stopped.</p>}
      <table className="grid fields" data-testid="header-table">
        <thead><tr><th>Field</th><th>Offset</th><th>Size</th><th>Raw</th><th>Value</th><th>Meaning</th>{editable && <th />}</tr></thead>
        <tbody>
          {s.headerFields.map((f) => {
            const sel = selection?.kind === 'field' && selection.name === f.name;
            const problem = problems.get(f.name);
            return (
              <Fragment key={f.name}>
                <tr data-field={f.name} className={(sel ? 'selected ' : '') + (f.present ? '' : 'absent ') + (problem ? `has-problem ${problem.severity}` : '')}
                  onClick={() => select({ kind: 'field', name: f.name, offset: f.offset, size: f.size, label: `header ${f.name}` })}
                  onDoubleClick={() => showBytes(f.offset, f.size)}>
                  <td><code>{f.name}</code></td>
                  <td><Offset value={f.offset} /></td>
                  <td>{f.size}</td>
                  <td><code className="raw">{f.present ? f.raw : '—'}</code></td>
                  <td data-testid={`value-${f.name}`} data-value={f.present ? String(f.value) : ''}>{f.present ? decodedValue(f, s) : <span className="muted">absent (beyond header_length)</span>}
                    {problem && <div className="field-problem" data-problem={problem.id}>⚠ {problem.message}</div>}</td>
                  <td className="muted">{f.description}</td>
                  {editable && <td>{!NOT_EDITABLE.has(f.name) && f.present && <button disabled={gate.off} title={gate.title} onClick={(e) => { e.stopPropagation(); setEditField(f.name); }}>Edit</button>}</td>}
                </tr>
                {editing && editField === f.name && (
                  <tr key={f.name + '-edit'} className="edit-row"><td colSpan={7}><FieldEditor s={s} f={f} onDone={() => setEditField(null)} /></td></tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      {!s.degraded && <ExtensionsList s={s} />}
    </section>
  );
}

export function FieldEditor({ s, f, onDone }: { s: ImageSummary; f: Field; onDone: () => void }) {
  const [text, setText] = useState(String(f.value ?? ''));
  const [preview, setPreview] = useState<EditPreview | null>(null);
  const [problem, setProblem] = useState<AppError | null>(null);
  const afterWrite = useStore((st) => st.afterWrite);
  const gate = useGate();
  const doPreview = async (): Promise<void> => {
    const r = await api['edit:preview'](s.session.id, { kind: 'field', name: f.name, value: text });
    if (r.ok) { setPreview(r.value); setProblem(null); } else { setPreview(null); setProblem(r.error); }
  };
  const apply = async (): Promise<void> => {
    const r = await api['edit:apply'](s.session.id, { kind: 'field', name: f.name, value: text });
    if (!r.ok) { setProblem(r.error); return; }
    onDone();
    await afterWrite(`${r.value.description} written; backup: ${r.value.backupName}`);
  };
  return (
    <div className="editor" data-testid="field-editor">
      <label>New value for <code>{f.name}</code> ({f.size} byte{f.size > 1 ? 's' : ''}, decimal, 0x hex, or a size such as 64M){' '}
        <input aria-label={`new value for ${f.name}`} value={text} onChange={(e) => { setText(e.target.value); setPreview(null); }} onKeyDown={(e) => { if (e.key === 'Enter') void doPreview(); }} />
      </label>
      <button onClick={() => void doPreview()}>Preview</button>
      <button onClick={onDone}>Cancel</button>
      {problem && (isGateRefusal(problem) ? <GateRefusal error={problem} /> : <p className="invalid" role="alert">{problem.message}</p>)}
      {preview && <DiffPreview p={preview} onApply={() => void apply()} off={gate.off} />}
    </div>
  );
}

export function DiffPreview({ p, onApply, off = false }: { p: EditPreview; onApply: () => void; off?: boolean }) {
  return (
    <div className="diff" data-testid="diff-preview">
      <div>At <code>0x{p.offset.toString(16)}</code> ({p.field}):</div>
      <div className="diff-line del">− <code>{p.before}</code> = {p.beforeValue}</div>
      <div className="diff-line add">+ <code>{p.after}</code> = {p.afterValue}</div>
      {p.warnings.length > 0 && <ul className="warnings">{p.warnings.map((w) => <li key={w}>⚠ {w}</li>)}</ul>}
      <p className="muted">Applying first copies the image's first cluster to a backup file beside it; the change can be undone.</p>
      <button className="primary" onClick={onApply} disabled={off} title={off ? EDITING_OFF : 'write the change; a backup is made first'}>Apply with backup</button>
    </div>
  );
}

export function ExtensionsList({ s }: { s: ImageSummary }) {
  const select = useStore((st) => st.select);
  return (
    <>
      <h3 id="extensions">Header extensions</h3>
      {s.extensions.length === 0 && <p className="muted">none</p>}
      <ul className="extensions" data-testid="extensions">
        {s.extensions.map((e) => (
          <li key={e.offset} onClick={() => select({ kind: 'field', name: e.name, offset: e.offset, size: 8 + e.paddedLength, label: `extension ${e.name}` })}>
            <div className="ext-line"><span><strong>{e.name}</strong> <code>0x{e.magic.toString(16).padStart(8, '0')}</code> at <code>{hexOffset(e.offset)}</code>, {e.length} bytes</span></div>
            <ExtensionContent e={e} />
          </li>
        ))}
      </ul>
      <h3>Feature name table</h3>
      {s.extensions.some((e) => e.content.kind === 'feature-table') ? (
        <table className="grid" data-testid="feature-table">
          <thead><tr><th>Type</th><th>Bit</th><th>Name</th><th>Offset</th></tr></thead>
          <tbody>{s.extensions.flatMap((e) => (e.content.kind === 'feature-table' ? e.content.entries : [])).map((t) => (
            <tr key={t.offset}><td>{t.kind}</td><td>{t.bit}</td><td>{t.name}</td><td><Offset value={t.offset} /></td></tr>
          ))}</tbody>
        </table>
      ) : <p className="muted">The image has no feature name table.</p>}
    </>
  );
}

function ExtensionContent({ e }: { e: ImageSummary['extensions'][number] }) {
  const c = e.content;
  switch (c.kind) {
    case 'backing-format': return <div>format: <code>{c.format}</code></div>;
    case 'data-file': return <div>path: <code>{c.path}</code></div>;
    case 'feature-table': return <div>{c.entries.length} entries (below)</div>;
    case 'bitmaps': return <div>{c.bitmaps.nbBitmaps} bitmap(s), directory at 0x{c.bitmaps.bitmapDirectoryOffset.toString(16)} ({c.bitmaps.bitmapDirectorySize} bytes)</div>;
    case 'crypto': return <div>encryption header at 0x{c.crypto.offset.toString(16)}, {c.crypto.length} bytes</div>;
    case 'zoned': return c.zoned ? (
      <table className="grid compact" data-testid="zoned-fields">
        <caption>revision {c.zoned.revision}: {c.zoned.revisionReason}</caption>
        <thead><tr><th>Field</th><th>Offset</th><th>Raw</th><th>Value</th><th>Meaning</th></tr></thead>
        <tbody>{c.zoned.fields.map((f) => <tr key={f.name}><td><code>{f.name}</code></td><td><code>0x{f.offset.toString(16)}</code></td><td><code className="raw">{f.raw}</code></td><td>{String(f.value)}</td><td className="muted">{f.description}</td></tr>)}</tbody>
      </table>
    ) : <div>undecodable zoned extension: <code className="raw">{e.raw}</code></div>;
    case 'end': return null;
    default: return <div>unknown extension, raw: <code className="raw wrap">{e.raw || '(empty)'}</code></div>;
  }
}
