// @vitest-environment jsdom
// The renderer's side of long work over the Electron bridge: progress events for the call's job id fill
// the busy state (others are ignored), Cancel sends job:cancel with that id, and a cancelled answer ends
// as "cancelled" rather than as an error. Also: refused zone operations are shown with their numbers.
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../shared/contract/dto';
import type { Result } from '../../shared/contract/result';

type Listener = (p: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
const calls: unknown[][] = [];
let finishJob: ((r: Result<unknown>) => void) | null = null;

beforeAll(() => {
  const api = new Proxy({}, {
    get: (_t, channel: string) => (...args: unknown[]) => {
      calls.push([channel, ...args]);
      if (channel === 'check:run') return new Promise((ok) => { finishJob = ok; });
      if (channel === 'job:cancel') {
        finishJob?.({ ok: false, error: { code: 'internal', message: 'the check cancelled: stopped before it finished', details: { cancelled: true } } });
        return Promise.resolve({ ok: true, value: true });
      }
      return Promise.resolve({ ok: true, value: null });
    },
  });
  window.qzs = {
    api: api as never,
    on: (event, cb) => {
      const set = listeners.get(event) ?? new Set<Listener>();
      set.add(cb);
      listeners.set(event, set);
      return () => { set.delete(cb); };
    },
    openDroppedFile: async () => ({ ok: false, error: { code: 'internal', message: 'x' } }),
    onMenu: () => () => {},
    onSessionOpened: () => () => {},
  };
});
afterEach(() => cleanup());

const emit = (p: JobProgress): void => { for (const cb of listeners.get('progress') ?? []) cb(p); };

describe('long work over the Electron bridge', () => {
  it('shows progress for its own job only, cancels by job id, and ends as cancelled', async () => {
    const { useStore } = await import('../../renderer/store');
    const running = useStore.getState().long('checking the image', (a, job) => a['check:run']('s1', job));
    const call = calls.find((c) => c[0] === 'check:run')!;
    const job = call[2] as string;
    expect(job).toMatch(/^j[0-9a-z]+$/);
    expect(useStore.getState().busy).toMatchObject({ label: 'checking the image', progress: null });
    emit({ job, phase: 'active tables', done: 10, total: 40 });
    emit({ job: 'jsomeoneelse', phase: 'writing', done: 1, total: 2 });
    expect(useStore.getState().busy?.progress).toEqual({ phase: 'active tables', done: 10, total: 40 });
    useStore.getState().busy!.cancel!();
    expect(useStore.getState().busy?.cancelling).toBe(true);
    const r = await running;
    expect(r.ok).toBe(false);
    expect(calls.filter((c) => c[0] === 'job:cancel')).toEqual([['job:cancel', job]]);
    expect(useStore.getState()).toMatchObject({ busy: null, error: null, cancelled: 'checking the image', status: 'checking the image: cancelled' });
    expect(listeners.get('progress')?.size ?? 0).toBe(0);
  });

  it('shows a refused zone operation with zone, state and limits', async () => {
    const { ZoneErrorDetails } = await import('../../renderer/components/zone-error');
    render(<ZoneErrorDetails error={{ code: 'zone-error', message: 'append zone 5 (empty): append of 131072 bytes exceeds max_append_bytes 65536', details: { kind: 'append-too-large', op: 'append', zone: 5, condition: 'empty', start: 20971520, wp: 20971520, length: 131072, limit: 65536, maxOpenZones: 0 } }} />);
    const alert = screen.getByRole('alert');
    expect(alert.getAttribute('data-kind')).toBe('append-too-large');
    expect(alert.textContent).toContain('Nothing was changed');
    expect(alert.querySelector('[data-detail=limit]')?.textContent).toContain('65536');
    expect(alert.querySelector('[data-detail=wp]')?.textContent).toContain('0x1400000');
    expect(alert.querySelector('[data-detail=maxOpenZones]')?.textContent).toContain('no limit');
  });
});
