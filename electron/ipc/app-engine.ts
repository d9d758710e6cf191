// The engine as the app uses it: the read path that always exists, plus every capability the engine
// helpers have delivered so far, wired in one place. Capabilities not listed here are not offered.
import { checkImage } from '../../shared/qcow2/check';
import { createImageFile } from './create-ops';
import type { EnginePort } from './engine';
import { planSessionRepair, repairSession } from './repair-ops';
import { runZoneOp, runZoneWrite, sessionZoneReport } from './zone-ops';

export async function appEngine(): Promise<EnginePort> {
  return {
    zoneReport: sessionZoneReport,
    zoneOp: runZoneOp,
    zoneWrite: runZoneWrite,
    check: async (_store, s, signal, onProgress) => {
      const r = await checkImage(s.source, { signal, onProgress });
      return { findings: r.findings, complete: r.complete };
    },
    planRepair: planSessionRepair,
    repair: repairSession,
    create: createImageFile,
  };
}
