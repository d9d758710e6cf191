// Repair for a session: the plan is shown first (what will be written, where the backup goes); the repair
// itself runs in place only after a backup copy exists beside the image (electron/engine/repair.ts).
import { basename } from 'node:path';
import type { RepairPlan, RepairRequest, RepairResult } from '../../shared/contract/dto';
import { analyzeImage } from '../../shared/qcow2/check';
import { planRepair } from '../../shared/qcow2/repair';
import { repairFile } from '../engine/repair';
import type { Session, SessionStore } from './sessions';
import { dropDevice } from './zone-ops';

export async function planSessionRepair(_store: SessionStore, s: Session, req: RepairRequest): Promise<RepairPlan> {
  // The session's own handle: the plan reads from the analysed source, so it must stay open meanwhile.
  const analysis = await analyzeImage(s.source);
  const plan = await planRepair(analysis, req.mode);
  const actions = [...new Set(plan.patches.map((p) => p.why))];
  return {
    backupPath: `${s.path}.backup-<date and time>`,
    actions: actions.length ? [...actions, ...plan.notes] : ['nothing to write: no finding this mode repairs', ...plan.notes],
  };
}

export async function repairSession(store: SessionStore, s: Session, req: RepairRequest): Promise<RepairResult> {
  await dropDevice(s);
  const r = await repairFile(s.path, { mode: req.mode, inPlace: true });
  store.invalidate(s);
  return {
    backupName: r.backup ? basename(r.backup) : '',
    repaired: r.after['corruptions-fixed'] + r.after['leaks-fixed'],
    findings: r.after.findings,
  };
}
