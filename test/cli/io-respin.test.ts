// qzs io on a respin image (issue 10): the driver refusals as the respin tree words and numbers them
// (ZONED-REVISIONS-2026.md 4c, from floatious/qemu block/qcow2.c @bb1a3580 and block/io.c @69d49e8f):
// -EIO for a write off the write pointer and past the capacity ("end_offset: 0x…" with its space), the
// writable end capped at the device end, "zone mgmt operation 0x%x is not allowed on a conventional zone",
// "the device capacity" spelt with its space, -EINVAL for opening a full zone, -ENOSPC for an append at
// the device end, no append limit, the iovec check left to the block layer (no message); `qzs info` says
// the revision has no append limit. Needs `npm run build:cli` first.
import { afterAll, describe, expect, it } from 'vitest';
import { qzs } from '../helpers/cli';
import { tmpDir } from '../helpers/qemu';

const tmp = tmpDir('qzs-io-respin-');
afterAll(() => tmp.cleanup());
let n = 0;

/** 1 MiB zones (0x800 sectors), capacity 768 KiB (0x600), zone 0 conventional, 4.5 MiB: a short last zone of 512 KiB. */
function respin(extra = ''): string {
  const f = tmp.file(`respin${n++}.qcow2`);
  const r = qzs(['create', '-q', '--zoned-layout', 'respin', f, '4608k', '-o', `zone.mode=host-managed,zone.size=1M,zone.capacity=768k,zone.conventional_zones=1${extra}`]);
  expect(r.status, r.stderr).toBe(0);
  return f;
}

function io(file: string, cmds: string[]): { out: string[]; err: string[]; status: number } {
  const r = qzs(['io', ...cmds.flatMap((c) => ['-c', c]), file]);
  const split = (t: string): string[] => t.split('\n').filter((l) => l !== '' && !/ ops; /.test(l));
  return { out: split(r.stdout), err: split(r.stderr), status: r.status };
}

describe('qzs io: the respin driver\'s refusals', () => {
  it('writes: off the write pointer and past the capacity are -EIO, in the respin\'s words; the short last zone is full at the device end', () => {
    const f = respin();
    const r = io(f, ['write 1M 4k', 'write 1M 4k', 'write 0x101000 768k', 'write 4M 768k', 'write 4M 512k', 'zrp 4M 1']);
    expect(r.out).toEqual([
      'wrote 4096/4096 bytes at offset 1048576',
      // The respin reports cap = capacity, capped for the short last zone; a fully written last zone is full.
      'wrote 524288/524288 bytes at offset 4194304',
      'start: 0x2000, len 0x400, cap 0x400, wptr 0x2400, zcond:14, [type: 2]',
    ]);
    expect(r.err).toEqual([
      'qemu-io: Offset 0x100000 of regular writes must be equal to the zone write pointer 0x101000',
      'qemu-io: write failed: Input/output error',
      // 0x101000 + 768 KiB = sector 0xe08 past the writable end 0xe00 (start 0x800 + capacity 0x600).
      'qemu-io: write exceeds zone capacity with end_offset: 0xe08, end_zone: 0xe00',
      'qemu-io: write failed: Input/output error',
      // Past the device end the block layer refuses first (blk_check_byte_request, no message).
      'qemu-io: write failed: Input/output error',
    ]);
  });

  it('management: conventional zones by op code, the device capacity, a full zone cannot be opened', () => {
    const f = respin();
    const r = io(f, ['zo 0 1M', 'zc 0 1M', 'zf 0 1M', 'zrs 0 1M', 'zf 2M 1M', 'zo 2M 1M', 'zrp 2M 1']);
    expect(r.out).toEqual(['start: 0x1000, len 0x800, cap 0x600, wptr 0x1600, zcond:14, [type: 2]']);
    expect(r.err).toEqual([
      'qemu-io: zone mgmt operation 0x0 is not allowed on a conventional zone', 'qemu-io: zone open failed: Input/output error',
      'qemu-io: zone mgmt operation 0x1 is not allowed on a conventional zone', 'qemu-io: zone close failed: Input/output error',
      'qemu-io: zone mgmt operation 0x2 is not allowed on a conventional zone', 'qemu-io: zone finish failed: Input/output error',
      'qemu-io: zone mgmt operation 0x3 is not allowed on a conventional zone', 'qemu-io: zone reset failed: Input/output error',
      // finish set wp = start + capacity; opening that full zone is -EINVAL, silently, in the driver.
      'qemu-io: zone open failed: Invalid argument',
    ]);
  });

  it('appends: no append limit, -EINVAL without a message for a length that is not whole sectors', () => {
    const f = respin(',zone.max_active_zones=2');
    const r = io(f, ['zap -p 1M 700k', 'zap -p 2M 1000', 'zap -p 2M 512 512']);
    expect(r.out).toEqual(['After zap done, the append sector is 0x800', 'After zap done, the append sector is 0x1000']);
    expect(r.err).toEqual(['qemu-io: zone append failed: Invalid argument']);
  });

  it('a v8 image keeps the v9 texts (the difference is the revision\'s, not the image\'s geometry)', () => {
    const f = tmp.file(`v8-${n++}.qcow2`);
    expect(qzs(['create', '-q', '--zoned-layout', 'v8', f, '4608k', '-o', 'zone.mode=host-managed,zone.size=1M,zone.capacity=768k,zone.conventional_zones=1,zone.max_append_bytes=4k']).status).toBe(0);
    const r = io(f, ['write 1M 4k', 'write 1M 4k', 'zo 0 1M']);
    expect(r.err).toEqual([
      'qemu-io: Offset 0x100000 of regular writes must be equal to the zone write pointer 0x101000',
      'qemu-io: write failed: Invalid argument',
      'qemu-io: zone mgmt operations are not allowed for conventional zones',
      'qemu-io: zone open failed: Input/output error',
    ]);
  });
});

describe('qzs info on a respin image', () => {
  it('says the revision has no append limit instead of "max append 0"', () => {
    const r = qzs(['info', respin()]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no append limit (this revision stores none');
    expect(r.stdout).not.toMatch(/max append 0/);
    const v8 = tmp.file(`v8info${n++}.qcow2`);
    qzs(['create', '-q', '--zoned-layout', 'v8', v8, '16M', '-o', 'zone.mode=host-managed,zone.size=4M']);
    expect(qzs(['info', v8]).stdout).toContain('max append 65536 bytes');
  });
});
