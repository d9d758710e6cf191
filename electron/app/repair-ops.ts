// Repair for the UI: the plan is shown first (what will be written, where the backup goes, or why no
// repair is offered); the repair itself runs through the session's write path (backup, undo log, re-check).
import { basename } from 'node:path';
import type { RepairPlan, RepairRequest, RepairResult } from '../../shared/contract/dto';
import type { ImageSession } from '../engine/image-session';

export async function planSessionRepair(s: ImageSession, req: RepairRequest): Promise<RepairPlan> {
  const plan = await s.planRepair(req.mode);
  const actions = [...new Set(plan.patches.map((p) => p.why))];
  return {
    backupPath: `${s.path}.backup-<date and time>`,
    actions: actions.length ? [...actions, ...plan.notes] : ['nothing to write: no finding this mode repairs', ...plan.notes],
    refused: plan.refused,
  };
}

export async function repairSession(s: ImageSession, req: RepairRequest): Promise<RepairResult> {
  const r = await s.repair(req.mode);
  return {
    backupName: r.backup ? basename(r.backup) : '',
    repaired: r.after['corruptions-fixed'] + r.after['leaks-fixed'],
    findings: r.after.findings,
  };
}
