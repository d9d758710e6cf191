// The documentation allowlist (shared/contract/docs-links.ts) as the contract's guard applies it, and the
// served UI's engine: it never opens a browser on the host, whatever the link.
import { describe, expect, it } from 'vitest';
import { DOC_PREFIXES, docsUrlProblem } from '../../shared/contract/docs-links';
import { createHandlers, dispatch } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';

describe('docs links', () => {
  it('accepts pages under each allowlisted prefix', () => {
    for (const p of DOC_PREFIXES) expect(docsUrlProblem(`${p}index.html#section-2`), p).toBeNull();
    expect(docsUrlProblem('https://www.qemu.org/docs/master/interop/qcow2.html')).toBeNull();
  });

  it('refuses look-alike hosts, user info, ports, dot segments (plain or encoded), other schemes and non-strings', () => {
    for (const v of [
      'https://www.qemu.org.evil.example/docs/', 'https://evil.example/https://www.qemu.org/docs/', 'https://user@www.qemu.org/docs/',
      'https://www.qemu.org:444/docs/', 'https://www.qemu.org/docs/../admin', 'https://www.qemu.org/docs/./x', 'https://www.qemu.org/docs/%2e%2e/x',
      'https://www.qemu.org/docs/a%2fb', 'https://www.qemu.org/docs/a\\b', 'https://www.qemu.org/docs/a b', 'HTTPS://WWW.QEMU.ORG/docs/',
      'http://www.qemu.org/docs/', 'javascript:alert(1)//https://www.qemu.org/docs/', 'https://www.qemu.org/', 'x'.repeat(3000), null, 7,
    ]) expect(docsUrlProblem(v), String(v).slice(0, 60)).not.toBeNull();
  });

  it('over qzs serve, app:openDocs is refused even for an allowlisted link', async () => {
    const table = createHandlers(new SessionRegistry(), { transport: 'http', version: 'test' });
    const r = await dispatch(table, 'app:openDocs', ['https://www.qemu.org/docs/master/interop/qcow2.html']);
    expect(r).toMatchObject({ ok: false, error: { code: 'unsupported-feature', message: expect.stringContaining('not available here') } });
  });
});
