// The engine as the app uses it: the read path that always exists, plus every capability the engine
// helpers have delivered so far, wired in one place. Capabilities not listed here are not offered.
import { basename } from 'node:path';
import { checkImage } from '../../shared/qcow2/check';
import { createImageFile } from './create-ops';
import type { EnginePort } from './engine';
import { planSessionRepair, repairSession } from './repair-ops';
import { heldSource } from './test-hold';
import { runZoneOp, runZoneWrite, sessionZoneReport } from './zone-ops';

export interface AppEngineOptions {
  /** Test hook (electron/app/test-hold.ts): the check of the image with this file name pauses mid-walk until cancelled. */
  holdCheckOf?: string;
}

export async function appEngine(opts: AppEngineOptions = {}): Promise<EnginePort> {
  return {
    zoneReport: sessionZoneReport,
    zoneOp: runZoneOp,
    zoneWrite: runZoneWrite,
    check: async (_store, s, signal, onProgress) => {
      if (opts.holdCheckOf !== undefined && basename(s.path) === opts.holdCheckOf && signal) {
        let walking = false;
        const src = heldSource(s.source, () => walking, signal);
        const r = await checkImage(src, {
          signal,
          onProgress: (p) => { if ((p.phase === 'active tables' || p.phase === 'refcounts') && p.done > 0) walking = true; onProgress?.(p); },
        });
        return { findings: r.findings, complete: r.complete };
      }
      const r = await checkImage(s.source, { signal, onProgress });
      return { findings: r.findings, complete: r.complete };
    },
    planRepair: planSessionRepair,
    repair: repairSession,
    create: createImageFile,
  };
}
