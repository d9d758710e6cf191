// @vitest-environment jsdom
// The zone inspector's length box keeps what the user typed when the inspector is rendered anew (after a
// visit to the hex view, after a zone operation), instead of falling back to 4K; writes use that length.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, ZoneReport } from '../../shared/contract/dto';
import { decoded } from './summaries';

const calls: unknown[][] = [];

beforeAll(() => {
  const api = new Proxy({}, {
    get: (_t, channel: string) => (...args: unknown[]) => {
      calls.push([channel, ...args]);
      if (channel === 'zones:write') return Promise.resolve({ ok: true, value: { op: 'append', zone: 3, offset: 3 * 65536, length: 65536, wp: 4 * 65536, implicitlyClosed: [] } });
      return Promise.resolve({ ok: false, error: { code: 'internal', message: 'not in this test' } });
    },
  });
  window.qzs = {
    api: api as never,
    on: () => () => {},
    openDroppedFile: async () => ({ ok: false, error: { code: 'internal', message: 'x' } }),
    onMenu: () => () => {},
    onSessionOpened: () => () => {},
  };
});
afterEach(() => cleanup());

const r: ZoneReport = {
  nrZones: 8, zoneSize: 65536 * 4, zoneCapacity: 65536 * 4, conventionalZones: 1, deviceSize: 8 * 65536 * 4, maxOpenZones: 0, maxActiveZones: 0,
  maxAppendBytes: 0, wpByteOrder: 'be', wp: Float64Array.from({ length: 8 }, (_, i) => i * 65536 * 4), cond: Uint8Array.from({ length: 8 }, (_, i) => (i === 0 ? 0 : 1)),
};

describe('zone inspector length box', () => {
  it('keeps the typed length across a re-render of the inspector and writes with it', async () => {
    const { useStore } = await import('../../renderer/store');
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    useStore.setState({ info: { capabilities: { zoneOps: true, zoneWrite: true } } as AppInfo, summary: decoded({}, { editing: true }) });
    const first = render(<ZoneOpsPanel session="s1" r={r} i={3} clusters={null} />);
    const box = (): HTMLInputElement => screen.getByLabelText('length to append or write');
    expect(box().value).toBe('4K');
    fireEvent.change(box(), { target: { value: '64K' } });
    expect(box().value).toBe('64K');
    // The inspector goes away (the hex view is shown) and comes back.
    first.unmount();
    render(<ZoneOpsPanel session="s1" r={r} i={5} clusters={null} />);
    expect(box().value).toBe('64K');
    fireEvent.click(screen.getByRole('button', { name: 'Append' }));
    await new Promise((ok) => setTimeout(ok, 0));
    expect(calls.find((c) => c[0] === 'zones:write')).toEqual(['zones:write', 's1', { op: 'append', zone: 5, length: 65536 }]);
  });
});
