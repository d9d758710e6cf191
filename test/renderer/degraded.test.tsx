// @vitest-environment jsdom
// A session whose file cannot be decoded (a degraded session): the overview says so, with the error's
// place in the file, the findings (each opening its bytes in the hex view) and a dump of the first 512
// bytes; only Overview, Header, Check and Hex are offered, and no view trips over the zeroed geometry.
// Also: the in-use and lock-warning banners under the toolbar.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, ImageSummary } from '../../shared/contract/dto';
import type { AppError } from '../../shared/qcow2/findings';
import { CLUSTER_BITS_FINDING, decoded, degraded } from './summaries';

const calls: unknown[][] = [];
/** Answers by channel; each test sets what it needs. */
let answers: Record<string, (...args: unknown[]) => unknown> = {};
/** The menu's command callback the window registered (Electron's accelerators raise these). */
let menu: ((c: import('../../shared/contract/menu').MenuCommand) => void) | null = null;

/** A header whose cluster_bits (bytes 20..23) say 40. */
const HEADER = (() => {
  const b = new Uint8Array(196_608);
  b.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3], 0);
  b.set([0, 0, 0, 40], 20);
  return b;
})();

beforeAll(() => {
  globalThis.ResizeObserver = class { observe(): void {} disconnect(): void {} unobserve(): void {} } as never;
  const api = new Proxy({}, {
    get: (_t, channel: string) => (...args: unknown[]) => {
      calls.push([channel, ...args]);
      const a = answers[channel];
      if (a) return Promise.resolve({ ok: true, value: a(...args) });
      if (channel === 'edit:history') return Promise.resolve({ ok: true, value: [] });
      return Promise.resolve({ ok: false, error: { code: 'internal', message: `${channel} not in this test` } });
    },
  });
  window.qzs = {
    api: api as never,
    on: () => () => {},
    openDroppedFile: async () => ({ ok: false, error: { code: 'internal', message: 'x' } }),
    onMenu: (cb) => { menu = cb; return () => { menu = null; }; },
    onSessionOpened: () => () => {},
  };
});

afterEach(async () => {
  cleanup();
  calls.length = 0;
  answers = {};
  const { useStore, initialState } = await import('../../renderer/store');
  useStore.setState(initialState, true);
});

const info = (sessions: ImageSummary[]): AppInfo => ({
  version: 'test', recent: [], sessions: sessions.map((s) => s.session),
  capabilities: { transport: 'electron', zoneReport: true, zoneOps: true, zoneWrite: true, create: true, check: true, repair: true, edit: true, openDialog: true },
});

const settle = (): Promise<void> => act(async () => { for (let k = 0; k < 5; k++) await new Promise((ok) => setTimeout(ok, 0)); });

/** Boot the whole window over these summaries (the first one is shown). */
async function boot(...summaries: ImageSummary[]): Promise<void> {
  const byId = new Map(summaries.map((s) => [s.session.id, s]));
  answers['app:info'] = () => info(summaries);
  answers['image:summary'] = (id) => byId.get(id as string);
  answers['image:read'] = (_id, offset, length) => HEADER.slice(offset as number, (offset as number) + (length as number));
  const { App } = await import('../../renderer/app');
  render(<App />);
  await settle();
}

const nav = (view: string): HTMLButtonElement => document.querySelector(`[data-nav=${view}]`) as HTMLButtonElement;

describe('a degraded session', () => {
  it('shows why the file cannot be read, where, its findings and its first 512 bytes', async () => {
    const extra = { ...CLUSTER_BITS_FINDING, id: 'header.l1_size', field: 'l1_size', offset: 36, length: 4, severity: 'warning' as const, message: 'header l1_size at offset 36: found 0, expected at least 1' };
    await boot(degraded(undefined, [CLUSTER_BITS_FINDING, extra]));
    const panel = screen.getByTestId('degraded-panel');
    expect(panel.textContent).toContain('This file cannot be read as qcow2');
    // The sentence without the path the engine puts in front; the file is named on its own line.
    expect(screen.getByTestId('degraded-message').textContent).toBe(CLUSTER_BITS_FINDING.message);
    expect(panel.textContent).toContain('/images/broken.qcow2');
    expect(screen.getByTestId('degraded-structure').textContent).toBe('header');
    expect(screen.getByTestId('degraded-field').textContent).toBe('cluster_bits');
    expect(screen.getByTestId('degraded-offset').textContent).toContain('0x14');
    expect(screen.getByTestId('degraded-offset').textContent).toContain('(20), 4 bytes');
    expect(screen.getByTestId('degraded-found').textContent).toBe('40');
    expect(screen.getByTestId('degraded-expected').textContent).toBe('9 to 21');
    // The findings, the fatal one first.
    const items = within(screen.getByTestId('degraded-findings')).getAllByRole('button');
    expect(items.map((b) => b.getAttribute('data-finding'))).toEqual(['header.cluster_bits', 'header.l1_size']);
    // 512 bytes: 32 rows of 16, read once from offset 0; cluster_bits' four bytes highlighted.
    expect(calls.filter((c) => c[0] === 'image:read')).toEqual([['image:read', 's2', 0, 512]]);
    const dump = screen.getByTestId('degraded-dump');
    expect(dump.querySelectorAll('.hex-row')).toHaveLength(32);
    expect(Array.from(dump.querySelectorAll('.b.hl')).map((e) => e.getAttribute('data-off'))).toEqual(['20', '21', '22', '23']);
    expect(dump.querySelector('[data-off="23"]')!.textContent).toBe('28');
    // No decoded-image facts: no "v0", no 0 B virtual size.
    const facts = screen.getByTestId('file-facts').textContent!;
    expect(facts).toContain('broken.qcow2');
    expect(facts).toContain('not readable as qcow2');
    expect(facts).not.toMatch(/v0|0 B ·/);
  });

  it('links a finding to its bytes in the hex view', async () => {
    await boot(degraded());
    const { useStore } = await import('../../renderer/store');
    fireEvent.click(within(screen.getByTestId('degraded-findings')).getByRole('button'));
    await settle();
    expect(useStore.getState()).toMatchObject({ view: 'hex', hexTarget: { offset: 20, length: 4 }, selection: { kind: 'finding', finding: { id: 'header.cluster_bits' } } });
    expect(screen.getByTestId('hex-selection').textContent).toContain('0x14 (4 bytes)');
    expect(screen.getByTestId('finding-detail').textContent).toContain('cluster_bits');
  });

  it('offers only Overview, Header, Check and Hex, says why for the rest, and edits nothing', async () => {
    await boot(degraded());
    for (const v of ['overview', 'header', 'check', 'hex']) expect(nav(v).disabled, v).toBe(false);
    for (const v of ['extensions', 'features', 'zones', 'tables']) {
      expect(nav(v).disabled, v).toBe(true);
      expect(nav(v).title, v).toMatch(/cannot be read as qcow2/);
    }
    expect(screen.getByTestId('editing-toggle')).toHaveProperty('disabled', true);
    expect(screen.getByTestId('editing-toggle').title).toMatch(/inspected, not edited/);
    expect(screen.getByRole('button', { name: 'Check' })).toHaveProperty('disabled', true);
    // Asking for Zones anyway (Alt+5, the menu) does nothing; the overview stays.
    const { useStore } = await import('../../renderer/store');
    act(() => useStore.getState().setView('zones'));
    expect(useStore.getState().view).toBe('overview');
    expect(screen.getByTestId('degraded-panel')).toBeTruthy();
    // Ctrl+E (the menu's toggle-editing) does not ask the engine to edit an undecodable file; it says why.
    act(() => menu!('toggle-editing'));
    await settle();
    expect(calls.some((c) => c[0] === 'edit:enable')).toBe(false);
    expect(screen.getByTestId('status-text').textContent).toMatch(/inspected, not edited/);
  });

  it('Header shows a note when no field was decoded, the fields when some were; Check lists findings without buttons', async () => {
    await boot(degraded());
    fireEvent.click(nav('header'));
    expect(screen.getByTestId('no-header-fields').textContent).toContain('No header field could be decoded');
    fireEvent.click(nav('check'));
    expect(screen.getByTestId('check-degraded').textContent).toContain('cannot be read as qcow2');
    expect(screen.queryByRole('button', { name: /Run full check|Check again|Repair/ })).toBeNull();
    const card = screen.getByTestId('finding-groups').querySelector('[data-finding="header.cluster_bits"]')!;
    expect(card.textContent).toContain('cluster_bits');
    expect(card.querySelector('[data-severity]')!.getAttribute('data-severity')).toBe('error');
    expect(screen.queryByTestId('no-findings')).toBeNull();
    fireEvent.click(nav('hex'));
    await settle();
    expect(screen.getByTestId('hex-position').textContent).toContain('of 196608 bytes');
  });

  it('shows the header fields a degraded decoder got to, without edit buttons', async () => {
    const s = degraded();
    s.headerFields = [
      { name: 'magic', offset: 0, size: 4, raw: '514649fb', value: 0x514649fb, present: true, description: 'QFI\\xfb' },
      { name: 'cluster_bits', offset: 20, size: 4, raw: '00000028', value: 40, present: true, description: 'log2 of the cluster size' },
      { name: 'refcount_table_clusters', offset: 56, size: 4, raw: '00000001', value: 1, present: true, description: 'clusters of the refcount table' },
    ] as ImageSummary['headerFields'];
    await boot(s);
    fireEvent.click(nav('header'));
    expect(screen.getByTestId('header-degraded-note')).toBeTruthy();
    expect(screen.getByTestId('value-cluster_bits').getAttribute('data-value')).toBe('40');
    // The field the fatal finding names is marked with it.
    expect(document.querySelector('tr[data-field=cluster_bits]')!.className).toContain('has-problem');
    expect(screen.getByTestId('value-cluster_bits').querySelector('[data-problem="header.cluster_bits"]')).toBeTruthy();
    expect(document.querySelector('tr[data-field=magic] [data-problem]')).toBeNull();
    expect(screen.getByTestId('value-refcount_table_clusters').textContent).toBe('1');
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByTestId('extensions')).toBeNull();
  });

  it('a 0-byte file: no read, says it is empty', async () => {
    const f = { ...CLUSTER_BITS_FINDING, id: 'header.truncated', field: 'magic', offset: 0, length: 4, found: '0 bytes', expected: 'at least 72 bytes', message: 'the file is 0 bytes: too short for a qcow2 header' };
    const e: AppError = { code: 'truncated', message: f.message, finding: f };
    const s = degraded(e);
    s.fileSize = 0;
    await boot(s);
    expect(screen.getByTestId('degraded-empty').textContent).toContain('0 bytes');
    expect(calls.some((c) => c[0] === 'image:read')).toBe(false);
    fireEvent.click(nav('hex'));
    await settle();
    expect(screen.getByTestId('hex-empty')).toBeTruthy();
  });

  it('switching to a degraded image from the Zones view lands on its overview; back to the good one works', async () => {
    const good = decoded({}, { id: 's1', name: 'good.qcow2' });
    await boot(good, degraded());
    const { useStore } = await import('../../renderer/store');
    act(() => useStore.getState().setView('tables'));
    await act(() => useStore.getState().switchSession('s2'));
    await settle();
    expect(useStore.getState().view).toBe('overview');
    expect(screen.getByTestId('degraded-panel')).toBeTruthy();
    await act(() => useStore.getState().switchSession('s1'));
    await settle();
    expect(screen.getByTestId('ov-version').textContent).toContain('qcow2 version 3');
    expect(nav('tables').disabled).toBe(false);
    expect(screen.getByTestId('file-facts').textContent).toContain('v3');
    // Editing can be switched on for the good image although its handle is read-only until then.
    expect(useStore.getState().summary!.session.writable).toBe(false);
    expect((screen.getByTestId('editing-toggle') as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('session banners', () => {
  it('shows who holds the image, as given, and a lock warning', async () => {
    const text = 'in use by qemu-io (pid 1234); shown as read at 08:51:02';
    await boot(decoded({}, { inUse: text, lockWarning: "written without QEMU's locks: byte-range locks are not available" }));
    const banner = screen.getByTestId('in-use-banner');
    expect(banner.textContent).toBe(text);
    expect(banner.getAttribute('role')).toBe('status');
    expect(screen.getByTestId('lock-warning-banner').textContent).toContain("without QEMU's locks");
  });

  it('shows no banner for an image nobody else holds', async () => {
    await boot(decoded());
    expect(screen.queryByTestId('in-use-banner')).toBeNull();
    expect(screen.queryByTestId('lock-warning-banner')).toBeNull();
  });
});
