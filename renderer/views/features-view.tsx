// Feature bits: the three 64-bit masks as grids, each bit named from our table and the image's own feature
// name table. With editing on, a bit can be flipped (diff preview, backup, undo).
import { useState } from 'react';
import type { EditPreview, ImageSummary } from '../../shared/contract/dto';
import { KNOWN_FEATURES, type FeatureBit, type FeatureKind } from '../../shared/qcow2/features';
import type { AppError } from '../../shared/qcow2/findings';
import { api } from '../api';
import { GateRefusal } from '../components/common';
import { EDITING_OFF, isGateRefusal, viewOffReason } from '../gate';
import { useStore } from '../store';
import { DiffPreview } from './header-view';

const KINDS: { kind: FeatureKind; offset: number }[] = [
  { kind: 'incompatible', offset: 72 },
  { kind: 'compatible', offset: 80 },
  { kind: 'autoclear', offset: 88 },
];

interface Pending { kind: FeatureKind; bit: number; set: boolean; preview: EditPreview }

export function FeaturesView({ s }: { s: ImageSummary }) {
  const [namedOnly, setNamedOnly] = useState(false);
  const [picked, setPicked] = useState<{ kind: FeatureKind; bit: number } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [problem, setProblem] = useState<AppError | null>(null);
  const select = useStore((st) => st.select);
  const afterWrite = useStore((st) => st.afterWrite);
  const editing = s.session.editing;

  const pick = async (kind: FeatureKind, offset: number, bit: number, set: boolean): Promise<void> => {
    setPicked({ kind, bit });
    setProblem(null);
    select({ kind: 'field', name: `${kind}_features`, offset: offset + 7 - Math.floor(bit / 8), size: 1, label: `${kind} feature bit ${bit}` });
    if (!editing) { setPending(null); return; }
    const r = await api['edit:preview'](s.session.id, { kind: 'feature-bit', mask: kind, bit, set: !set });
    if (r.ok) setPending({ kind, bit, set: !set, preview: r.value });
    else setProblem(r.error);
  };
  const apply = async (): Promise<void> => {
    if (!pending) return;
    const r = await api['edit:apply'](s.session.id, { kind: 'feature-bit', mask: pending.kind, bit: pending.bit, set: pending.set });
    setPending(null);
    if (!r.ok) { setProblem(r.error); return; }
    await afterWrite(`${r.value.description} written; backup: ${r.value.backupName}`);
  };

  const off = viewOffReason(s, 'features');
  if (off) return <section className="view" aria-label="Feature bits"><h2>Feature bits</h2><p className="note">{off}</p></section>;
  return (
    <section className="view" aria-label="Feature bits">
      <h2>Feature bits</h2>
      <label className="toggle"><input type="checkbox" checked={namedOnly} onChange={(e) => setNamedOnly(e.target.checked)} data-testid="named-only" /> Show named and set bits only</label>
      {s.version < 3 && <p className="muted">Version 2 images have no feature bits; the grids show zeros.</p>}
      {KINDS.map(({ kind, offset }) => {
        const bits = new Map<number, FeatureBit>(s.features[kind].map((b) => [b.bit, b]));
        const list = namedOnly ? [...bits.values()].sort((a, b) => b.bit - a.bit) : Array.from({ length: 64 }, (_, i) => 63 - i).map((bit) => bits.get(bit) ?? null);
        return (
          <div key={kind} className="feature-block">
            <h3>{kind} <code className="muted">{s.masks[kind]}</code> <span className="muted">at offset {offset}</span></h3>
            <div className={namedOnly ? 'bit-list' : 'bit-grid'} data-testid={`bits-${kind}`}>
              {list.map((b, k) => {
                const bit = b ? b.bit : 63 - k;
                const name = b ? (b.knownName ?? b.imageName ?? `unknown bit ${bit}`) : (KNOWN_FEATURES.find((f) => f.kind === kind && f.bit === bit)?.name ?? '');
                const cls = ['bit', b?.set ? 'set' : '', b?.dangerous ? 'danger' : '', b?.unknown && b.set ? 'unknown' : '', picked?.kind === kind && picked.bit === bit ? 'picked' : ''].join(' ');
                return (
                  <button key={bit} className={cls} data-bit={bit} aria-pressed={!!b?.set}
                    title={`${kind} bit ${bit}${name ? `: ${name}` : ''}${b?.imageName && b.imageName !== b.knownName ? ` (image calls it "${b.imageName}")` : ''}`}
                    onClick={() => void pick(kind, offset, bit, !!b?.set)}>
                    <span className="bitno">{bit}</span>
                    {(namedOnly || name) && <span className="bitname">{name}{b?.disagreement ? ' ≠ ' + b.imageName : ''}</span>}
                  </button>
                );
              })}
              {namedOnly && list.length === 0 && <span className="muted">no bit set or named</span>}
            </div>
          </div>
        );
      })}
      {problem && (isGateRefusal(problem) ? <GateRefusal error={problem} /> : <p className="invalid" role="alert">{problem.message}</p>)}
      {pending && <DiffPreview p={pending.preview} onApply={() => void apply()} off={!editing} />}
      {!editing && <p className="muted" data-testid="bits-editing-off">{EDITING_OFF}; a bit can then be flipped by clicking it.</p>}
    </section>
  );
}
