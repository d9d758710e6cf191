// The zone device model and the ecosystem formats, as pure functions over a zone report. Each expected
// line is written from the tool's own printf, cited beside it (sources read through the search tool).
import { describe, expect, it } from 'vitest';
import type { ZoneReport } from '../../shared/contract/dto';
import { zoneCapacity as contractCapacity } from '../../shared/contract/zone-geometry';
import { formatZoneReport, formatZoneRows, humanWp, ZONE_REPORT_FORMATS, type FormattableZoneReport } from '../../shared/qcow2/zone-formats';
import { modelZoneCapacity, normalisedWp, wpDefined } from '../../shared/qcow2/zone-model';
import { ZONE_CONDITION_CODES as C } from '../../shared/qcow2/zoned-types';

const MiB = 1 << 20;

/**
 * 2 conventional zones, then: closed, full by writes (start + capacity), full by finish (start + zone
 * size), empty, implicitly open, and a short last zone of 2 MiB written to 1 MiB. Zone size 4 MiB,
 * capacity 3 MiB.
 */
function report(): ZoneReport {
  const zs = 4 * MiB;
  const nr = 9;
  const wp = new Float64Array(nr);
  const cond = new Uint8Array(nr);
  const set = (i: number, off: number, c: number) => { wp[i] = i * zs + off; cond[i] = c; };
  set(0, 0, C['not-wp']); set(1, 0, C['not-wp']);
  set(2, 128 * 1024, C.closed); set(3, 3 * MiB, C.full); set(4, zs, C.full); set(5, 0, C.empty);
  set(6, 512, C['implicit-open']); set(7, 0, C.empty); set(8, MiB, C.closed);
  return { nrZones: nr, zoneSize: zs, zoneCapacity: 3 * MiB, conventionalZones: 2, deviceSize: 8 * zs + 2 * MiB,
    maxOpenZones: 0, maxActiveZones: 0, maxAppendBytes: 0, wpByteOrder: 'little-endian', wp, cond };
}

describe('the zone device model (Linux drivers/nvme/host/zns.c nvme_zone_parse_entry, drivers/scsi/sd_zbc.c sd_zbc_parse_report, drivers/block/null_blk/zoned.c null_init_zoned_dev)', () => {
  const r = report();
  it('a conventional zone has no write pointer and its capacity is its length', () => {
    expect(wpDefined(r, 0, r.cond[0])).toBe(false);
    expect(normalisedWp(r, 0, r.wp[0], r.cond[0])).toBeNull();
    expect(modelZoneCapacity(r, 0)).toBe(4 * MiB);
    expect(contractCapacity(r, 1)).toBe(4 * MiB);
  });
  it('a full zone reports start + length, however QEMU stored it (start + capacity after writes, start + zone size after finish)', () => {
    expect(normalisedWp(r, 3, r.wp[3], r.cond[3])).toBe(4 * 4 * MiB);
    expect(normalisedWp(r, 4, r.wp[4], r.cond[4])).toBe(5 * 4 * MiB);
  });
  it('other sequential zones report the stored pointer; the short last zone its own length and capacity', () => {
    expect(normalisedWp(r, 2, r.wp[2], r.cond[2])).toBe(r.wp[2]);
    expect(modelZoneCapacity(r, 8)).toBe(2 * MiB);
    expect(modelZoneCapacity(r, 2)).toBe(3 * MiB);
  });
  it('the human cell: "—" without a pointer, stored and kernel value where they differ, the stored one alone otherwise', () => {
    expect(humanWp(r, 0)).toBe('—');
    expect(humanWp(r, 3)).toBe('15 MiB (kernel: 16 MiB)');
    expect(humanWp(r, 4)).toBe('20 MiB');
    expect(humanWp(r, 2)).toBe('8 MiB + 128 KiB');
  });
});

describe('blkzone: util-linux sys-utils/blkzone.c blkzone_report()', () => {
  // printf("  start: 0x%09"PRIx64", len 0x%06"PRIx64", cap 0x%06"PRIx64", wptr 0x%06"PRIx64
  //        " reset:%u non-seq:%u, zcond:%2u(%s) [type: %u(%s)]\n", start, len, cap,
  //        (type == 0x1) ? 0 : wp - start, ...) — 512-byte sectors, wp the kernel's.
  const lines = formatZoneReport(report(), 'blkzone').split('\n');
  it('one line per zone, nothing else', () => {
    expect(lines).toHaveLength(10);
    expect(lines[9]).toBe('');
  });
  it('a conventional zone: wptr 0, capacity = length, nw, CONVENTIONAL', () => {
    expect(lines[0]).toBe('  start: 0x000000000, len 0x002000, cap 0x002000, wptr 0x000000 reset:0 non-seq:0, zcond: 0(nw) [type: 1(CONVENTIONAL)]');
  });
  it('a closed zone: wptr relative to the zone start', () => {
    expect(lines[2]).toBe('  start: 0x000004000, len 0x002000, cap 0x001800, wptr 0x000100 reset:0 non-seq:0, zcond: 4(cl) [type: 2(SEQ_WRITE_REQUIRED)]');
  });
  it('a full zone written to capacity: wptr = len (the kernel normalises it), zcond 14(fu)', () => {
    expect(lines[3]).toBe('  start: 0x000006000, len 0x002000, cap 0x001800, wptr 0x002000 reset:0 non-seq:0, zcond:14(fu) [type: 2(SEQ_WRITE_REQUIRED)]');
    expect(lines[4]).toBe('  start: 0x000008000, len 0x002000, cap 0x001800, wptr 0x002000 reset:0 non-seq:0, zcond:14(fu) [type: 2(SEQ_WRITE_REQUIRED)]');
  });
  it('implicitly open (oi), empty (em), and the short last zone with its own len and cap', () => {
    expect(lines[6]).toBe('  start: 0x00000c000, len 0x002000, cap 0x001800, wptr 0x000001 reset:0 non-seq:0, zcond: 2(oi) [type: 2(SEQ_WRITE_REQUIRED)]');
    expect(lines[7]).toBe('  start: 0x00000e000, len 0x002000, cap 0x001800, wptr 0x000000 reset:0 non-seq:0, zcond: 1(em) [type: 2(SEQ_WRITE_REQUIRED)]');
    expect(lines[8]).toBe('  start: 0x000010000, len 0x001000, cap 0x001000, wptr 0x000800 reset:0 non-seq:0, zcond: 4(cl) [type: 2(SEQ_WRITE_REQUIRED)]');
  });
});

describe('zbd: libzbd tools/cli/zbd.c zbd_print_zone(), lib/zbd.c zbd_zone_type_str()/zbd_zone_cond_str() (abbreviated)', () => {
  // conventional: "Zone %05u: %s, ofst %014llu, len %014llu, cap %014llu\n"
  // sequential:   "... cap %014llu, wp %014llu, %s, non_seq %01d, reset %01d\n"; unit 1 byte by default.
  const lines = formatZoneReport(report(), 'zbd').split('\n');
  it('conventional zones print no write pointer', () => {
    expect(lines[1]).toBe('Zone 00001: cnv, ofst 00000004194304, len 00000004194304, cap 00000004194304');
  });
  it('sequential zones print the kernel write pointer in bytes and the abbreviated condition', () => {
    expect(lines[3]).toBe('Zone 00003: swr, ofst 00000012582912, len 00000004194304, cap 00000003145728, wp 00000016777216, fu, non_seq 0, reset 0');
    expect(lines[6]).toBe('Zone 00006: swr, ofst 00000025165824, len 00000004194304, cap 00000003145728, wp 00000025166336, oi, non_seq 0, reset 0');
    expect(lines[8]).toBe('Zone 00008: swr, ofst 00000033554432, len 00000002097152, cap 00000002097152, wp 00000034603008, cl, non_seq 0, reset 0');
  });
});

describe('nvme-json: nvme-cli nvme-print-json.c json_nvme_zns_report_zones(), json_zns_finish_zone_list()', () => {
  const out = JSON.parse(formatZoneReport(report(), 'nvme-json')) as { nr_zones: number; zone_list: Record<string, unknown>[] };
  it('{"nr_zones", "zone_list"} with slba, wp, cap, state, type, attrs, attrs_info in that order, in logical blocks', () => {
    expect(out.nr_zones).toBe(9);
    expect(Object.keys(out.zone_list[2])).toEqual(['slba', 'wp', 'cap', 'state', 'type', 'attrs', 'attrs_info']);
    expect(out.zone_list[2]).toEqual({ slba: 0x4000, wp: 0x4100, cap: 0x1800, state: 'CLOSED', type: 'SEQWRITE_REQ', attrs: 0, attrs_info: 0 });
  });
  it('a full zone\'s wp is start + capacity however QEMU stored it, as QEMU\'s NVMe ZNS device keeps it (hw/nvme/ctrl.c nvme_zrm_finish)', () => {
    expect(out.zone_list[3]).toMatchObject({ slba: 0x6000, wp: 0x6000 + 0x1800, state: 'FULL' });
    expect(out.zone_list[4]).toMatchObject({ slba: 0x8000, wp: 0x8000 + 0x1800, state: 'FULL' });
  });
  it('states by nvme_zone_state_to_string(); a conventional zone, which ZNS lacks, as type 1 / state 0 print', () => {
    expect(out.zone_list.map((z) => z.state)).toEqual(['Unknown State', 'Unknown State', 'CLOSED', 'FULL', 'FULL', 'EMPTY', 'IMP_OPENED', 'EMPTY', 'CLOSED']);
    expect(out.zone_list[0].type).toBe('Unknown');
  });
  it('a 4096-byte LBA format divides every field by 4096', () => {
    const big = JSON.parse(formatZoneReport(report(), 'nvme-json', { lbaSize: 4096 })) as typeof out;
    expect(big.zone_list[2]).toMatchObject({ slba: 0x4000 / 8, wp: 0x4100 / 8, cap: 0x1800 / 8 });
  });
});

describe('json and csv', () => {
  it('json: stored wp beside the model keys; parses as JSON', () => {
    const out = JSON.parse(formatZoneReport(report(), 'json')) as { zones: Record<string, unknown>[] };
    expect(out.zones[0]).toEqual({ index: 0, start: 0, length: 4 * MiB, capacity: 4 * MiB, wp: 0, 'wp-defined': false, 'wp-normalised': null, type: 'conventional', condition: 'not-wp' });
    expect(out.zones[3]).toMatchObject({ wp: 15 * MiB, 'wp-defined': true, 'wp-normalised': 16 * MiB, condition: 'full' });
  });
  it('csv: a header, then one zone a line; an undefined pointer is an empty cell', () => {
    const lines = formatZoneReport(report(), 'csv').trim().split('\n');
    expect(lines[0]).toBe('index,start,length,capacity,wp,wp_defined,wp_normalised,type,condition');
    expect(lines[1]).toBe(`0,0,${4 * MiB},${4 * MiB},0,false,,conventional,not-wp`);
    expect(lines[4]).toBe(`3,${12 * MiB},${4 * MiB},${3 * MiB},${15 * MiB},true,${16 * MiB},sequential,full`);
  });
  it('rows stream in pieces that join to the whole report', () => {
    const r: FormattableZoneReport = report();
    for (const f of ZONE_REPORT_FORMATS) {
      const whole = formatZoneReport(r, f);
      const pieces = formatZoneRows(r, f, 0, 4, 0) + formatZoneRows(r, f, 4, 9, 0);
      expect(whole).toContain(pieces);
    }
  });
});
