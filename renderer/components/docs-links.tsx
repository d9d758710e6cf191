// The documentation links (shared/contract/docs-links.ts). In Electron a click asks main to open the page
// (app:openDocs: the window itself never navigates or opens windows); under qzs serve the page is already in
// a browser, so it is a plain link opening a new tab that gets no handle on this one.
import { useState } from 'react';
import { DOC_LINKS } from '../../shared/contract/docs-links';
import { inElectron, openDocs } from '../api';

export function DocsLinks({ electron = inElectron }: { electron?: boolean }) {
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <nav aria-label="documentation" data-testid="docs-links">
      <h3>Documentation</h3>
      <ul className="small">
        {DOC_LINKS.map((d) => (
          <li key={d.url}>
            {electron
              ? <button className="link" title={d.url} onClick={() => { void openDocs(d.url).then((r) => setProblem(r.ok ? null : r.error.message)); }}>{d.title}</button>
              : <a href={d.url} target="_blank" rel="noopener noreferrer">{d.title}</a>}
          </li>
        ))}
      </ul>
      {problem && <p className="invalid" role="alert">{problem}</p>}
    </nav>
  );
}
