// The create wizard's "Import from a zone report" dialog: paste a saved report or pick its file (read in
// the page), see what it derives and from which format (or why qcow2 cannot represent the drive), and
// apply it to the wizard's fields. Restoring the drive's write pointers is `qzs create --like
// --with-write-pointers` only: the dialog gives that command line.
import { Fragment, useEffect, useRef, useState } from 'react';
import type { ZonedWriteLayout } from '../../shared/qcow2/zoned-types';
import { copyText } from '../components/common';
import { importZoneReport, likeCommand, noteForUi, type ReportImport } from './wizard-import-text';

export interface ImportDialogProps {
  fileName: string;
  layout: ZonedWriteLayout;
  onApply(options: Record<string, string>, summary: string): void;
  onClose(): void;
}

export function ImportReportDialog({ fileName, layout, onApply, onClose }: ImportDialogProps) {
  const [text, setText] = useState('');
  const [reportName, setReportName] = useState('REPORT.txt');
  const [lba, setLba] = useState('512');
  const [result, setResult] = useState<ReportImport | null>(null);
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => { first.current?.focus(); }, []);
  const lbaSize = Number(lba);
  const lbaOk = Number.isSafeInteger(lbaSize) && lbaSize >= 512 && (lbaSize & (lbaSize - 1)) === 0;

  const run = (t: string): void => { setResult(t.trim() === '' ? null : importZoneReport(t, lbaOk ? lbaSize : 512)); };
  const pick = (f: File | undefined): void => {
    if (!f) return;
    setReportName(f.name);
    void f.text().then((t) => { setText(t); run(t); });
  };
  const command = result?.ok ? likeCommand(reportName, fileName, result.shape, lbaSize, layout) : '';

  return (
    <div className="modal" role="dialog" aria-label="Import from a zone report" data-testid="import-dialog"
      onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); onClose(); } }}>
      <div className="modal-box import-box">
        <h2>Import from a zone report</h2>
        <p className="small muted">A saved <code>blkzone report</code>, <code>nvme zns report-zones -o json</code>, <code>zbd report</code> or qemu-io <code>zone_report</code> of a drive: the wizard takes its size, zone size, capacity, zone count, conventional zones and (where the report has them) its open/active limits.</p>
        <div className="form-row">
          <label htmlFor="import-file">Report file</label>
          <div><input id="import-file" type="file" accept=".txt,.json,.log,text/plain,application/json" onChange={(e) => pick(e.target.files?.[0])} /></div>
        </div>
        <div className="form-row">
          <label htmlFor="import-text">or paste it</label>
          <textarea id="import-text" ref={first} rows={7} wrap="off" spellCheck={false} value={text} placeholder="start: 0x000000000, len 0x080000, cap 0x080000, wptr 0x000000 reset:0 non-seq:0, zcond: 1(em) [type: 2(SEQ_WRITE_REQUIRED)]"
            onChange={(e) => { setText(e.target.value); setResult(null); }} />
        </div>
        <div className="form-row">
          <label htmlFor="import-lba">NVMe block size</label>
          <div><input id="import-lba" value={lba} onChange={(e) => { setLba(e.target.value); setResult(null); }} />
            <span className="muted small"> bytes per logical block of an nvme report (it does not say; others ignore this)</span>
            {!lbaOk && <p className="invalid">A power of two of at least 512 bytes.</p>}</div>
        </div>
        <div className="actions">
          <button onClick={() => run(text)} disabled={text.trim() === '' || !lbaOk}>Read report</button>
        </div>
        {result && !result.ok && <p className="invalid" role="alert" data-testid="import-refusal">qcow2 cannot present this drive: {result.message}</p>}
        {result?.ok && <div data-testid="import-result">
          <p>Read as <strong data-testid="import-source">{result.sourceName}</strong>:</p>
          <dl className="facts small">{result.facts.map(([k, v]) => <Fragment key={k}><dt>{k}</dt><dd data-fact={k}>{v}</dd></Fragment>)}</dl>
          {result.shape.notes.length > 0 && <ul className="small" data-testid="import-notes">{result.shape.notes.map((n) => <li key={n} className="warning-text">{noteForUi(n)}</li>)}</ul>}
          <p className="small">To also restore every zone&apos;s write pointer (zeros written up to it, so a guest sees the drive&apos;s state), create the image with the command line instead; the wizard creates the zones empty:</p>
          <div className="command">
            <code data-testid="import-like-command">{command}</code>
            <button onClick={() => copyText(command)} aria-label="copy the qzs create --like command">Copy</button>
          </div>
        </div>}
        <div className="actions">
          <button className="primary" disabled={!result?.ok} onClick={() => { if (result?.ok) onApply(result.options, `Imported from a ${result.sourceName} (${reportName}): ${result.shape.nrZones} zones.`); }}>Use these values</button>
          <button onClick={onClose}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
