// The bundled demo: a zoned image made by the engine itself on first start, with conventional zones holding
// data, and sequential zones empty, partly written (closed) and full, capacity below the zone size (so the
// unusable tail shows hatched). Open states cannot be stored in a file (they are session-only), so
// openDemoStates() opens a few zones explicitly and implicitly in the session that shows the demo.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ZonedDevice } from '../engine/zoned-device';
import { createImageFile } from './create-ops';
import type { ImageSession } from '../engine/image-session';

const MIB = 1 << 20;
const ZONE = MIB;
const CAP = 768 * 1024;
export const DEMO_ZONES = 48;

export const DEMO_OPTIONS: Record<string, string> = {
  size: String(DEMO_ZONES * ZONE),
  cluster_size: '65536',
  'zone.mode': 'host-managed',
  'zone.size': String(ZONE),
  'zone.capacity': String(CAP),
  'zone.conventional_zones': '4',
  'zone.max_active_zones': '10',
  'zone.max_open_zones': '6',
  'zone.max_append_bytes': '65536',
};

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + (i >> 9)) & 0xff;
  return b;
}

/** Written fraction of capacity for each sequential zone (by index); absent = empty. */
const PLAN: Record<number, number | 'finish'> = {
  5: 0.25, 6: 1, 8: 0.5, 9: 'finish', 12: 0.1, 13: 1, 14: 0.75, 17: 'finish', 20: 0.33, 21: 1, 24: 0.6, 30: 1, 31: 0.05, 40: 'finish',
};

export async function ensureDemoImage(path: string): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.part-${process.pid}`;
  await createImageFile(tmp, DEMO_OPTIONS, 'v7');
  const dev = await ZonedDevice.open(tmp, { durable: false });
  try {
    for (let z = 0; z < 4; z++) await dev.write(z * ZONE + 64 * 1024 * z, pattern(64 * 1024, z + 1));
    for (const [k, what] of Object.entries(PLAN)) {
      const z = Number(k);
      if (what === 'finish') { await dev.write(z * ZONE, pattern(128 * 1024, z)); await dev.finishZone(z); }
      else { await dev.write(z * ZONE, pattern(Math.round((CAP * what) / 65536) * 65536, z)); await dev.closeZone(z); }
    }
  } finally {
    await dev.close();
  }
  const { rename } = await import('node:fs/promises');
  await rename(tmp, path);
}

/**
 * Session-only states for the demo: two zones explicitly open, one implicitly open by a write. The app
 * asks for these on its own demo image, so they pass outside the user's editing gate (never the lock).
 */
export async function openDemoStates(s: ImageSession): Promise<void> {
  await s.prepare(async () => {
    await s.zoneOp({ op: 'open', zone: 10 });
    await s.zoneOp({ op: 'open', zone: 26 });
    // An implicit open needs a write; keep the zone from filling up over many starts.
    const report = await s.zoneReport();
    if (report.wp[33] + 64 * 1024 > 33 * ZONE + CAP) await s.zoneOp({ op: 'reset', zone: 33 });
    await s.zoneOp({ op: 'append', zone: 33, length: 64 * 1024 }, pattern(64 * 1024, 33));
  });
}

/** Where the demo lives: beside the built UI (dist/demo), created on first start. */
export function demoPathFor(uiDir: string): string {
  return join(uiDir, '..', 'demo', 'demo.qcow2');
}
