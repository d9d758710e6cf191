// @vitest-environment jsdom
// The daily views as components over a fake engine: Check shows qemu-img's summary and one expandable
// group per kind with a severity filter; the inspector never keeps another view's selection; a feature
// bit's inspector shows the one byte it lives in; ? opens the shortcuts list and Escape closes it; the
// theme switch sets and remembers the theme.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, CheckResult, ImageSummary } from '../../shared/contract/dto';
import type { Field } from '../../shared/qcow2/field';
import type { Finding } from '../../shared/qcow2/findings';
import { decoded } from './summaries';

let answers: Record<string, (...args: unknown[]) => unknown> = {};

beforeAll(() => {
  globalThis.ResizeObserver = class { observe(): void {} disconnect(): void {} unobserve(): void {} } as never;
  const api = new Proxy({}, {
    get: (_t, channel: string) => (...args: unknown[]) => {
      const a = answers[channel];
      if (a) return Promise.resolve({ ok: true, value: a(...args) });
      if (channel === 'edit:history') return Promise.resolve({ ok: true, value: [] });
      return Promise.resolve({ ok: false, error: { code: 'internal', message: `${channel} not in this test` } });
    },
  });
  window.qzs = { api: api as never, on: () => () => {}, openDroppedFile: async () => ({ ok: false, error: { code: 'internal', message: 'x' } }), onMenu: () => () => {}, onSessionOpened: () => () => {} };
});

afterEach(async () => {
  cleanup();
  answers = {};
  const { useStore, initialState } = await import('../../renderer/store');
  useStore.setState(initialState, true);
});

const settle = (): Promise<void> => act(async () => { for (let k = 0; k < 5; k++) await new Promise((ok) => setTimeout(ok, 0)); });
const nav = (view: string): HTMLButtonElement => document.querySelector(`[data-nav=${view}]`) as HTMLButtonElement;

const info = (s: ImageSummary): AppInfo => ({
  version: 'test', recent: [], sessions: [s.session],
  capabilities: { transport: 'electron', zoneReport: true, zoneOps: true, zoneWrite: true, create: true, check: true, repair: true, edit: true, openDialog: true },
});

const field = (name: string, offset: number, size: number, raw: string, value: number | string): Field =>
  ({ name, offset, size, raw, value, present: true, description: name }) as Field;

async function boot(s: ImageSummary): Promise<void> {
  answers['app:info'] = () => info(s);
  answers['image:summary'] = () => s;
  answers['image:read'] = (_id, _o, n) => new Uint8Array(n as number);
  const { App } = await import('../../renderer/app');
  render(<App />);
  await settle();
}

const leak = (c: number): Finding => ({ id: 'refcount.leak', severity: 'warning', structure: 'refcount block', field: `refcount of cluster ${c}`, offset: 0x20000 + 2 * c, length: 2, found: '1', expected: '0', message: `cluster ${c} leaked`, fix: 'set it to 0' });
const note: Finding = { ...leak(0), id: 'zoned.note', severity: 'info', structure: 'zoned extension', field: 'x', message: 'a note' };

describe('Check', () => {
  it('shows the counts as qemu-img check does, 51 leaks as one group that expands, and filters by severity', async () => {
    const check: CheckResult = {
      findings: [...Array.from({ length: 51 }, (_, i) => leak(8 + i)), note], complete: true,
      counts: { 'check-errors': 0, 'image-end-offset': 3866624, corruptions: 0, leaks: 51, 'corruptions-fixed': 0, 'leaks-fixed': 0, 'total-clusters': 1024, 'allocated-clusters': 2, 'fragmented-clusters': 0, 'compressed-clusters': 0 },
    };
    answers['check:run'] = () => check;
    await boot(decoded());
    fireEvent.click(nav('check'));
    fireEvent.click(screen.getByRole('button', { name: 'Run full check' }));
    await settle();
    expect(screen.getByTestId('check-verdict').textContent).toBe('51 leaked clusters were found on the image. This means waste of disk space, but no harm to data.');
    expect(screen.getByTestId('sum-line').textContent).toBe('2/1024 = 0.20% allocated, 0.00% fragmented, 0.00% compressed clusters');
    expect(screen.getByTestId('sum-end').textContent).toContain('3866624');
    const group = document.querySelector('[data-group="refcount.leak"]')!;
    expect(group.getAttribute('data-count')).toBe('51');
    expect(group.querySelectorAll('.finding')).toHaveLength(0);
    fireEvent.click(group.querySelector('.kind-head')!);
    expect(group.querySelectorAll('.finding')).toHaveLength(51);
    // The single note is a card of its own; the filter shows one severity at a time.
    expect(document.querySelector('[data-finding="zoned.note"]')).not.toBeNull();
    fireEvent.click(document.querySelector('[data-filter=info]')!);
    expect(document.querySelector('[data-group="refcount.leak"]')).toBeNull();
    expect(document.querySelector('[data-finding="zoned.note"]')).not.toBeNull();
    expect((document.querySelector('[data-filter=error]') as HTMLButtonElement).disabled).toBe(true);
    // The badge of a warning is the warning colour, never the error one.
    expect(group.querySelector('[data-severity]')!.className).toBe('sev warning');
  });
});

describe('Inspector', () => {
  const s = decoded({
    headerFields: [field('l1_size', 36, 4, '00000001', 1), field('incompatible_features', 72, 8, '0000000000000020', '0x20')],
  });

  it('is cleared when the view changes, and shows a feature bit as the one byte it lives in', async () => {
    await boot(s);
    fireEvent.click(nav('header'));
    fireEvent.click(document.querySelector('tr[data-field=l1_size]')!);
    expect(screen.getByTestId('field-detail').textContent).toContain('header l1_size');
    fireEvent.click(nav('features'));
    expect(screen.queryByTestId('field-detail')).toBeNull();
    // Bit 5 of the mask at 72..79 (big-endian) is in byte 79.
    fireEvent.click(screen.getByTestId('bits-incompatible').querySelector('[data-bit="5"]')!);
    await settle();
    expect(screen.getByTestId('field-size').textContent).toBe('1 byte');
    expect(screen.getByTestId('field-raw').textContent).toBe('20');
    expect(screen.getByTestId('field-detail').textContent).toContain('byte 7 of incompatible_features');
    fireEvent.click(nav('hex'));
    expect(screen.queryByTestId('field-detail')).toBeNull();
  });
});

describe('keys and theme', () => {
  it('? opens every shortcut, Escape closes it; the theme is set on <html> and remembered', async () => {
    await boot(decoded());
    fireEvent.keyDown(window, { key: '?' });
    const overlay = screen.getByTestId('shortcuts');
    const { SHORTCUTS } = await import('../../renderer/components/shortcuts');
    for (const g of SHORTCUTS) for (const k of g.items) expect(overlay.textContent).toContain(k.keys);
    fireEvent.keyDown(overlay, { key: 'Escape' });
    expect(screen.queryByTestId('shortcuts')).toBeNull();
    fireEvent.change(screen.getByTestId('theme-switch'), { target: { value: 'dark' } });
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(window.localStorage.getItem('qzs.theme')).toBe('dark');
    fireEvent.change(screen.getByTestId('theme-switch'), { target: { value: 'system' } });
    expect(window.localStorage.getItem('qzs.theme')).toBe('system');
  });
});
