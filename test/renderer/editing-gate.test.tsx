// @vitest-environment jsdom
// The editing gate in the UI: while editing is off, every control that changes the image (zone operations,
// append and write, repair, header edits, reset all) is disabled and says why; a 'read-only' refusal with
// details.gate that still comes back is shown as that sentence, not as a generic error. Zone operations
// take the report zones:op answers with instead of asking zones:report again; a refused repair plan shows
// its reason and no Repair button.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, ImageSummary, RepairPlan, ZoneReport } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';
import { EDITING_OFF } from '../../renderer/gate';
import { decoded } from './summaries';

const calls: unknown[][] = [];
let answers: Record<string, (...args: unknown[]) => Result<unknown>> = {};

beforeAll(() => {
  globalThis.ResizeObserver = class { observe(): void {} disconnect(): void {} unobserve(): void {} } as never;
  const api = new Proxy({}, {
    get: (_t, channel: string) => (...args: unknown[]) => {
      calls.push([channel, ...args]);
      const a = answers[channel];
      return Promise.resolve(a ? a(...args) : { ok: false, error: { code: 'internal', message: `${channel} not in this test` } });
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

afterEach(async () => {
  cleanup();
  calls.length = 0;
  answers = {};
  const { useStore, initialState } = await import('../../renderer/store');
  useStore.setState(initialState, true);
});

const INFO = { capabilities: { transport: 'electron', zoneReport: true, zoneOps: true, zoneWrite: true, create: true, check: true, repair: true, edit: true, openDialog: true } } as AppInfo;

function report(cond: number[]): ZoneReport {
  const n = cond.length;
  return {
    nrZones: n, zoneSize: 262144, zoneCapacity: 262144, conventionalZones: 1, deviceSize: n * 262144, maxOpenZones: 0, maxActiveZones: 0,
    maxAppendBytes: 0, wpByteOrder: 'little-endian', wp: Float64Array.from({ length: n }, (_, i) => i * 262144), cond: Uint8Array.from(cond),
  };
}

const GATE_REFUSAL = { ok: false as const, error: { code: 'read-only' as const, message: 'open zone 3: editing is off for this image: switch it on first; nothing was written', details: { gate: true } } };

async function setup(editing: boolean, extra: Partial<ImageSummary> = {}): Promise<ImageSummary> {
  const { useStore } = await import('../../renderer/store');
  const s = decoded(extra, { editing });
  useStore.setState({ info: INFO, current: s.session.id, sessions: [s.session], summary: s });
  return s;
}

const FIELDS = [
  { name: 'magic', offset: 0, size: 4, raw: '514649fb', value: 0x514649fb, present: true, description: 'magic' },
  { name: 'compatible_features', offset: 80, size: 8, raw: '0000000000000000', value: '0x0000000000000000', present: true, description: 'compatible features' },
] as ImageSummary['headerFields'];

describe('editing off: controls that change the image are disabled and say why', () => {
  it('zone operations, append and write at the write pointer', async () => {
    await setup(false);
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    render(<ZoneOpsPanel session="s1" r={report([0, 1, 1, 1])} i={3} clusters={null} />);
    for (const name of ['Open', 'Close', 'Finish', 'Reset', 'Append', 'Write at WP']) {
      const b = screen.getByRole('button', { name }) as HTMLButtonElement;
      expect(b.disabled, name).toBe(true);
      expect(b.title, name).toBe(EDITING_OFF);
    }
    // Enter in the length box does not write either.
    fireEvent.keyDown(screen.getByLabelText('length to append or write'), { key: 'Enter' });
    await act(async () => {});
    expect(calls.filter((c) => String(c[0]).startsWith('zones:'))).toEqual([]);
  });

  it('repair', async () => {
    const s = await setup(false);
    const { CheckView } = await import('../../renderer/views/check-view');
    render(<CheckView s={s} />);
    for (const name of ['Repair leaks…', 'Repair all…']) {
      const b = screen.getByRole('button', { name }) as HTMLButtonElement;
      expect(b.disabled, name).toBe(true);
      expect(b.title, name).toBe(EDITING_OFF);
    }
    expect((screen.getByRole('button', { name: 'Run full check' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('header edits', async () => {
    const s = await setup(false, { headerFields: FIELDS });
    const { HeaderView } = await import('../../renderer/views/header-view');
    render(<HeaderView s={s} />);
    const edits = screen.getAllByRole('button', { name: 'Edit' }) as HTMLButtonElement[];
    expect(edits).toHaveLength(2);
    for (const b of edits) { expect(b.disabled).toBe(true); expect(b.title).toBe(EDITING_OFF); }
    expect(screen.queryByTestId('field-editor')).toBeNull();
  });

  it('reset all zones', async () => {
    const zoned = { revision: 'v8' } as ImageSummary['zoned'];
    const s = await setup(false, { zoned });
    const { useStore } = await import('../../renderer/store');
    useStore.setState({ zones: report([0, 1, 4, 14]) });
    HTMLCanvasElement.prototype.getContext = (() => null) as never;
    const { ZonesView } = await import('../../renderer/views/zones-view');
    render(<ZonesView s={s} />);
    const b = screen.getByRole('button', { name: 'Reset all zones…' }) as HTMLButtonElement;
    expect(b.disabled).toBe(true);
    expect(b.title).toBe(EDITING_OFF);
  });

  it('the same controls are enabled once editing is on', async () => {
    const s = await setup(true, { headerFields: FIELDS });
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    const { HeaderView } = await import('../../renderer/views/header-view');
    const { CheckView } = await import('../../renderer/views/check-view');
    render(<><ZoneOpsPanel session="s1" r={report([0, 1, 1, 1])} i={3} clusters={null} /><HeaderView s={s} /><CheckView s={s} /></>);
    for (const name of ['Open', 'Close', 'Finish', 'Reset', 'Append', 'Write at WP', 'Repair leaks…', 'Repair all…']) {
      const b = screen.getByRole('button', { name }) as HTMLButtonElement;
      expect(b.disabled, name).toBe(false);
      expect(b.title, name).not.toBe(EDITING_OFF);
    }
    for (const b of screen.getAllByRole('button', { name: 'Edit' }) as HTMLButtonElement[]) expect(b.disabled).toBe(false);
    expect(screen.queryByTestId('zone-editing-off')).toBeNull();
  });
});

describe('answers from the engine', () => {
  it('a gate refusal that still comes back is shown as the editing-off sentence, not a generic error', async () => {
    await setup(true); // the UI believes editing is on; the engine (switched off elsewhere) refuses
    answers['zones:op'] = () => GATE_REFUSAL;
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    render(<ZoneOpsPanel session="s1" r={report([0, 1, 1, 1])} i={3} clusters={null} />);
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    await act(async () => {});
    const shown = screen.getByTestId('gate-refused');
    expect(shown.textContent).toContain(EDITING_OFF);
    expect(shown.textContent).toContain('Nothing was written');
    expect(screen.queryByTestId('zone-error')).toBeNull();
  });

  it('a gate refusal through the app-wide error line is shown the same way', async () => {
    const { ErrorMessage } = await import('../../renderer/components/common');
    render(<ErrorMessage error={GATE_REFUSAL.error} />);
    expect(screen.getByTestId('gate-refused').textContent).toContain(EDITING_OFF);
    expect(screen.queryByText('details')).toBeNull();
  });

  it('a zone operation takes the report zones:op answers with and does not ask zones:report again', async () => {
    await setup(true);
    const { useStore } = await import('../../renderer/store');
    const before = report([0, 1, 1, 1]);
    const after = report([0, 1, 1, 3]); // zone 3 explicitly open
    useStore.setState({ zones: before, dataVersion: 7 });
    answers['zones:op'] = () => ({ ok: true, value: after });
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    render(<ZoneOpsPanel session="s1" r={before} i={3} clusters={null} />);
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    await act(async () => {});
    expect(calls.map((c) => c[0])).toEqual(['zones:op']);
    expect(useStore.getState().zones).toBe(after);
    expect(useStore.getState().dataVersion).toBe(8);
    expect(useStore.getState().status).toBe('zone 3: open done');
  });

  it('zones:write still asks for the report afterwards (its answer is no report)', async () => {
    await setup(true);
    const { useStore } = await import('../../renderer/store');
    const after = report([0, 1, 1, 2]);
    answers['zones:write'] = () => ({ ok: true, value: { op: 'append', zone: 3, offset: 3 * 262144, length: 4096, wp: 3 * 262144 + 4096, implicitlyClosed: [] } });
    answers['zones:report'] = () => ({ ok: true, value: after });
    const { ZoneOpsPanel } = await import('../../renderer/views/zone-ops-panel');
    render(<ZoneOpsPanel session="s1" r={report([0, 1, 1, 1])} i={3} clusters={null} />);
    fireEvent.click(screen.getByRole('button', { name: 'Append' }));
    await act(async () => {});
    expect(calls.map((c) => c[0])).toEqual(['zones:write', 'zones:report']);
    expect(useStore.getState().zones).toBe(after);
  });

  it('a repair plan the analysis refused shows why, prominently, and no Repair button', async () => {
    const s = await setup(true);
    const plan: RepairPlan = { backupPath: '/images/disk.qcow2.backup-1', actions: [], refused: 'the L2 table at 0x50000 is beyond the end of the file: the analysis could not walk every table, so no repair is offered' };
    answers['check:planRepair'] = () => ({ ok: true, value: plan });
    const { CheckView } = await import('../../renderer/views/check-view');
    render(<CheckView s={s} />);
    fireEvent.click(screen.getByRole('button', { name: 'Repair all…' }));
    await act(async () => {});
    const refused = screen.getByTestId('repair-refused');
    expect(refused.getAttribute('role')).toBe('alert');
    expect(refused.textContent).toContain(plan.refused);
    expect(screen.queryByRole('button', { name: 'Repair with backup' })).toBeNull();
    expect(screen.queryByTestId('repair-confirm')).toBeNull();
  });

  it('a plan that is not refused still asks for confirmation with the backup path', async () => {
    const s = await setup(true);
    answers['check:planRepair'] = () => ({ ok: true, value: { backupPath: '/images/disk.qcow2.backup-1', actions: ['free 1 leaked cluster'], refused: null } });
    const { CheckView } = await import('../../renderer/views/check-view');
    render(<CheckView s={s} />);
    fireEvent.click(screen.getByRole('button', { name: 'Repair leaks…' }));
    await act(async () => {});
    expect(screen.getByTestId('repair-confirm').textContent).toContain('free 1 leaked cluster');
    expect((screen.getByRole('button', { name: 'Repair with backup' }) as HTMLButtonElement).disabled).toBe(false);
  });
});
