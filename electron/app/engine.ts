// The engine capabilities the handler table calls. Each panel works with what exists; a capability the
// engine does not have yet is simply absent, and app:info tells the renderer so (no pretend stubs).
import type { CheckResult, RepairPlan, RepairRequest, RepairResult, ZoneOpRequest, ZoneReport, ZoneWriteRequest, ZoneWriteResult } from '../../shared/contract/dto';
import type { ProgressStep } from './jobs';
import type { Session, SessionStore } from './sessions';
import { readZoneReport } from './zone-report';

export interface EnginePort {
  zoneReport(store: SessionStore, s: Session): Promise<ZoneReport>;
  zoneOp?: (store: SessionStore, s: Session, req: ZoneOpRequest) => Promise<ZoneReport>;
  /** Append to a zone or write at its write pointer (data: a recognisable pattern). */
  zoneWrite?: (store: SessionStore, s: Session, req: ZoneWriteRequest) => Promise<ZoneWriteResult>;
  /** A full check (tables, refcounts, zones); without it the check view shows the findings of opening. */
  check?: (store: SessionStore, s: Session, signal?: AbortSignal, onProgress?: (p: ProgressStep) => void) => Promise<CheckResult>;
  planRepair?: (store: SessionStore, s: Session, req: RepairRequest) => Promise<RepairPlan>;
  repair?: (store: SessionStore, s: Session, req: RepairRequest) => Promise<RepairResult>;
  /** Create an image at `path` from qemu-img style options. */
  create?: (path: string, options: Record<string, string>, zonedLayout: 'v7' | 'v8' | undefined, signal?: AbortSignal, onProgress?: (p: ProgressStep) => void) => Promise<void>;
}

export const defaultEngine: EnginePort = {
  zoneReport: async (store, s) => readZoneReport(await store.image(s)),
};
