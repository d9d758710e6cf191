// "Same device elsewhere": the QEMU NVMe ZNS namespace, the null_blk configfs device and the virtio-blk
// attachment that present the same zones (shared/qcow2/emulators.ts, the functions behind
// `qzs info --emulators`), each copyable, each with what does not carry over. Shown in the wizard's Review
// step for the image about to be created and on the Overview of an open zoned image.
import type { EmulatorGeometry, EmulatorIssueKind } from '../../shared/qcow2/emulators';
import { emulatorEquivalents } from '../../shared/qcow2/emulators';
import { copyText } from '../components/common';

const KIND_LABEL: Readonly<Record<EmulatorIssueKind, string>> = {
  refused: 'refused', differs: 'differs', guest: 'guest', requires: 'requires',
};

export function EmulatorPanel({ geometry, image }: { geometry: EmulatorGeometry; image: string }) {
  const targets = emulatorEquivalents(geometry, image);
  return (
    <section className="card emulators" aria-label="Same device elsewhere" data-testid="emulators">
      <h3>Same device elsewhere</h3>
      <p className="muted small">The same zones on an emulator, and what does not carry over.</p>
      {targets.map((t) => {
        const text = t.lines.join('\n');
        return (
          <div key={t.id} className="emulator" data-testid={`emulator-${t.id}`}>
            <h4>{t.title}{!t.accepted &&  <span className="badge error">refused as printed</span>}</h4>
            <div className="command">
              {/* A script of short lines scrolls rather than breaking a path; one long command line wraps. */}
              <pre className={t.lines.length > 2 ? 'script' : undefined}><code>{text}</code></pre>
              <button onClick={() => copyText(text)} aria-label={`copy the ${t.title} lines`}>Copy</button>
            </div>
            <ul className="small emulator-issues">
              {t.issues.map((i) => (
                <li key={i.option + i.message} data-kind={i.kind} className={i.kind === 'refused' ? 'invalid' : undefined}>
                  <span className={`issue-kind ${i.kind}`}>{KIND_LABEL[i.kind]}</span> <code>{i.option}</code>: {i.message}
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </section>
  );
}
