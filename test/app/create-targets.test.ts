// The create contract carries every zoned target the engine writes (issue 10): the guard of create:run
// takes the four canonical ids (aliases such as v9 are the CLI's, not the contract's), and a request with
// each target creates an image that reads back as that revision.
import { afterAll, describe, expect, it } from 'vitest';
import { GUARDS } from '../../shared/contract/channels';
import type { SessionInfo } from '../../shared/contract/dto';
import { ZONED_WRITE_LAYOUTS } from '../../shared/qcow2/zoned-types';
import { openImage } from '../../shared/qcow2/image';
import { createHandlers, dispatch } from '../../electron/app/handlers';
import { SessionRegistry } from '../../electron/app/sessions';
import { FileByteSource } from '../../electron/engine/file-source';
import { tmpDir } from '../helpers/qemu';

const dir = tmpDir('qzs-create-targets-');
const store = new SessionRegistry();
afterAll(async () => {
  await store.closeAll();
  dir.cleanup();
});

const ZONED = { size: '16M', 'zone.mode': 'host-managed', 'zone.size': '4M' };

describe('create:run and the zoned targets', () => {
  it('the guard takes v7, v8, v11 and respin, and nothing else', () => {
    for (const zonedLayout of ZONED_WRITE_LAYOUTS) expect(GUARDS['create:run']([{ fileName: 'ok.qcow2', options: ZONED, zonedLayout }, 'j1']), zonedLayout).toBeNull();
    for (const zonedLayout of ['v9', 'v10', 'v12', 'RESPIN', '']) expect(GUARDS['create:run']([{ fileName: 'ok.qcow2', options: ZONED, zonedLayout }, 'j1']), zonedLayout).not.toBeNull();
  });

  it.each([['v7', 'v5-v7'], ['v8', 'v8'], ['v11', 'v11'], ['respin', 'respin']] as const)('%s: the image created reads as %s', async (zonedLayout, revision) => {
    const t = createHandlers(store, { transport: 'http', version: 'test', createDirectory: dir.path });
    const fileName = `t-${zonedLayout}.qcow2`;
    const options = zonedLayout === 'v7' ? { ...ZONED, 'zone.max_append_bytes': '4k' } : ZONED;
    const r = await dispatch(t, 'create:run', [{ fileName, options, zonedLayout }, `j${zonedLayout}`]);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect((r as { value: SessionInfo }).value.name).toBe(fileName);
    const src = await FileByteSource.open(dir.file(fileName));
    try {
      expect((await openImage(src)).zoned?.revision).toBe(revision);
    } finally {
      await src.close();
    }
  });
});
