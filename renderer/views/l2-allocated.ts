// "Allocated only" for an L2 table: its entries read page by page through tables:l2 (one table is at
// most cluster_size / 8 entries) and kept when they map a host cluster, or cannot be decoded.
import { useEffect, useState } from 'react';
import { MAX_PAGE_ROWS } from '../../shared/contract/channels';
import type { L2Row } from '../../shared/contract/dto';
import type { AppError } from '../../shared/qcow2/findings';
import { api } from '../api';

export function isAllocated(r: L2Row): boolean {
  return r.hostOffset !== null || r.kind === 'invalid';
}

export interface AllocatedRows {
  rows: L2Row[];
  /** Entries read so far, of `total`. */
  read: number;
  total: number;
  complete: boolean;
  error: AppError | null;
}

export function useAllocatedL2(session: string, snapshot: number | undefined, l1Index: number, total: number, on: boolean, version: number): AllocatedRows | null {
  const [state, setState] = useState<AllocatedRows | null>(null);
  useEffect(() => {
    setState(null);
    if (!on) return;
    let live = true;
    void (async () => {
      const rows: L2Row[] = [];
      for (let start = 0; start < total; start += MAX_PAGE_ROWS) {
        const snap = snapshot === undefined ? {} : { snapshot };
        const r = await api['tables:l2'](session, { ...snap, l1Index, start, count: Math.min(MAX_PAGE_ROWS, total - start) });
        if (!live) return;
        if (!r.ok) { setState({ rows, read: start, total, complete: false, error: r.error }); return; }
        if (r.value.tableOffset === 0) break;
        for (const row of r.value.rows) if (isAllocated(row)) rows.push(row);
        setState({ rows: rows.slice(), read: start + r.value.rows.length, total, complete: false, error: null });
      }
      if (live) setState({ rows, read: total, total, complete: true, error: null });
    })();
    return () => { live = false; };
  }, [session, snapshot, l1Index, total, on, version]);
  return state;
}
