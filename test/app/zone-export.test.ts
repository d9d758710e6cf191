// zones:export (issue 13): in Electron main asks the save dialog for a path and writes the report there in
// the text `qzs zones --format` prints; a cancelled dialog writes nothing; over HTTP the channel is refused
// (the page downloads the text itself).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELECTRON_ONLY } from '../../shared/contract/channels';
import type { ZoneExportResult, ZoneReport } from '../../shared/contract/dto';
import { zoneExportFileName } from '../../shared/contract/zone-export';
import { formatZoneReport, ZONE_REPORT_FORMATS } from '../../shared/qcow2/zone-formats';
import { createHandlers, dispatch } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { tmpDir } from '../helpers/qemu';
import { buildZonedImage, wpValue } from '../helpers/zoned-builder';

const MIB = 1 << 20;
const dir = tmpDir('qzs-export-');
const store = new SessionRegistry();
const asked: { name: string; extension: string }[] = [];
let answer: string | null = null;
const table = createHandlers(store, {
  transport: 'electron', version: 'test',
  exportDialog: async (name, extension) => { asked.push({ name, extension }); return answer; },
});
let id: string;

beforeAll(async () => {
  // 10 zones of 4 MiB, capacity 3 MiB, the last one short (2 MiB); 2 conventional; zone 3 closed, zone 4 full.
  const image = buildZonedImage({
    layout: 'v8', virtualSize: 38 * MIB, zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, conventionalZones: 2, maxOpenZones: 2, maxActiveZones: 3, maxAppendBytes: 65536,
    entry: (i, start) => (i < 2 ? wpValue(start, { conventional: true }) : i === 3 ? wpValue(start + MIB) : i === 4 ? wpValue(start + 3 * MIB) : wpValue(start)),
  });
  writeFileSync(dir.file('drive.qcow2'), image.bytes);
  const r = await dispatch(table, 'session:openDropped', [dir.file('drive.qcow2')]);
  if (!r.ok) throw new Error(r.error.message);
  id = (r.value as { id: string }).id;
});
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

describe('zones:export', () => {
  it('writes every format to the path the dialog chose, byte for byte what the shared formatter makes', async () => {
    const report = (await dispatch(table, 'zones:report', [id])) as { ok: true; value: ZoneReport };
    for (const format of ZONE_REPORT_FORMATS) {
      answer = dir.file(`out.${format}`);
      const r = await dispatch(table, 'zones:export', [id, format]);
      expect(r.ok, format).toBe(true);
      const done = (r as { value: ZoneExportResult }).value;
      const want = formatZoneReport(report.value, format, { name: 'drive.qcow2' });
      expect(readFileSync(answer, 'utf8'), format).toBe(want);
      expect(done).toEqual({ path: answer, bytes: Buffer.byteLength(want), format });
      expect(asked.at(-1)).toEqual({ name: zoneExportFileName('drive.qcow2', format), extension: expect.any(String) });
    }
    expect(asked.map((a) => a.name)).toContain('drive.zones.csv');
    expect(asked.map((a) => a.name)).toContain('drive.zones.blkzone.txt');
  });

  it('writes nothing when the dialog is cancelled, and refuses a format it does not know', async () => {
    answer = null;
    expect(await dispatch(table, 'zones:export', [id, 'csv'])).toEqual({ ok: true, value: null });
    expect(existsSync(dir.file('null'))).toBe(false);
    expect(await dispatch(table, 'zones:export', [id, 'xml'])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });

  it('is an Electron-only channel: serve mode refuses it (the page downloads instead)', async () => {
    expect(ELECTRON_ONLY.has('zones:export')).toBe(true);
    const r = await dispatch(table, 'zones:export', [id, 'csv'], {}, ELECTRON_ONLY);
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringContaining('not available over this transport') } });
  });
});
