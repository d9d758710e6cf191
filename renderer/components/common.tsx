// Small pieces every view uses: exact sizes, hex offsets with a copy button, readable errors.
import { Fragment, useState } from 'react';
import type { AppError } from '../../shared/qcow2/findings';
import { hexOffset, sizeExact } from '../format';
import { EDITING_OFF, errorSentence, isGateRefusal } from '../gate';

export function Size({ bytes }: { bytes: number }) {
  return <span className="num">{sizeExact(bytes)}</span>;
}

export function copyText(text: string): void {
  void navigator.clipboard?.writeText(text).catch(() => {});
}

export function Offset({ value }: { value: number }) {
  return (
    <span className="offset">
      <code>{hexOffset(value)}</code>
      <button className="icon" title="Copy offset" aria-label={`copy offset ${hexOffset(value)}`} onClick={(e) => { e.stopPropagation(); copyText(hexOffset(value)); }}>copy</button>
    </span>
  );
}

/** A refusal by the editing gate (editing was off when the change reached the engine): nothing was written. */
export function GateRefusal({ error, onClose }: { error: AppError; onClose?: () => void }) {
  return (
    <div className="gate-refused" role="alert" data-testid="gate-refused">
      <div className="error-line">
        <strong>{EDITING_OFF}.</strong> <span>Nothing was written.</span>
        {onClose && <button className="icon" aria-label="dismiss" onClick={onClose}>✕</button>}
      </div>
      {error.message && <div className="muted small">{error.message}</div>}
    </div>
  );
}

export function ErrorMessage({ error, onClose }: { error: AppError; onClose?: () => void }) {
  const [open, setOpen] = useState(false);
  if (isGateRefusal(error)) return <GateRefusal error={error} onClose={onClose} />;
  const f = error.finding;
  return (
    <div className="error-message" role="alert">
      <div className="error-line">
        <span className="error-text"><strong>{error.file ? `${error.file.split('/').pop()}: ` : ''}</strong>{errorSentence(error)}</span>
        <button className="link" onClick={() => setOpen(!open)}>{open ? 'hide details' : 'details'}</button>
        {onClose && <button className="icon" aria-label="dismiss" onClick={onClose}>✕</button>}
      </div>
      {open && (
        <dl className="error-details">
          <dt>code</dt><dd>{error.code}</dd>
          {error.file && (<><dt>file</dt><dd>{error.file}</dd></>)}
          {f && (<>
            <dt>structure</dt><dd>{f.structure}</dd>
            <dt>field</dt><dd>{f.field}</dd>
            <dt>offset</dt><dd>{hexOffset(f.offset)} ({f.offset}), {f.length} byte(s)</dd>
            <dt>found</dt><dd>{f.found}</dd>
            <dt>expected</dt><dd>{f.expected}</dd>
            <dt>fix</dt><dd>{f.fix}</dd>
          </>)}
          {error.details && Object.entries(error.details).map(([k, v]) => (<Fragment key={k}><dt>{k}</dt><dd>{String(v)}</dd></Fragment>))}
        </dl>
      )}
    </div>
  );
}
