// The file layout map against the oracles: images made by qemu-img/qemu-io (and by our zoned writer, on a
// bit-5-cleared copy for stock QEMU), whose host offsets `qemu-img map --output=json` prints and whose
// leaks `qemu-img check` counts; and the corrupt corpus, whose every finding must sit on the map at the
// cluster it names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, statSync } from 'node:fs';
import { layoutFile } from '../../electron/engine/layout';
import { findingCluster, findingsOfRun, LAYOUT_KINDS, runAt, type FileLayout } from '../../shared/qcow2/layout';
import { buildBases, CORPUS, makeCorrupt, Patcher, stockCopy, type BaseName } from '../helpers/corrupt-corpus';
import { qzs } from '../helpers/cli';
import { qemuImg, qemuImgJson, qemuImgStatus, qemuIo, tmpDir, type TmpDir } from '../helpers/qemu';

let dir: TmpDir;
let bases: Record<BaseName, string>;

beforeAll(() => {
  dir = tmpDir('qzs-layout-');
  bases = buildBases(dir.path);
});
afterAll(() => dir.cleanup());

interface MapRange { start: number; length: number; data: boolean; offset?: number; compressed?: boolean }

/** Runs tile the file: contiguous from cluster 0, each non-empty, totals by kind equal to the runs'. */
function expectTiles(l: FileLayout, path: string): void {
  expect(l.clusters).toBe(Math.ceil(statSync(path).size / l.clusterSize));
  let next = 0;
  const byKind = new Map<string, number>();
  for (const r of l.runs) {
    expect(r.start).toBe(next);
    expect(r.clusters).toBeGreaterThan(0);
    next += r.clusters;
    byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.clusters);
  }
  expect(next).toBe(l.clusters);
  let sum = 0;
  for (const k of LAYOUT_KINDS) {
    expect(l.totals[k].clusters, k).toBe(byKind.get(k) ?? 0);
    sum += l.totals[k].clusters;
  }
  expect(sum).toBe(l.clusters);
}

/** "host cluster:guest offset" of every active data cluster, from qemu-img map (compressed data has no offset). */
function qemuDataClusters(path: string, cs: number): Set<string> {
  const out = new Set<string>();
  for (const e of qemuImgJson<MapRange[]>(['map', '--output=json', path])) {
    if (!e.data || e.offset === undefined) continue;
    for (let g = Math.floor(e.start / cs) * cs; g < e.start + e.length; g += cs) {
      const host = e.offset + Math.max(g, e.start) - e.start;
      out.add(`${Math.floor(host / cs)}:${g}`);
    }
  }
  return out;
}

/** The same pairs from the map: data runs the active tables own. */
function layoutDataClusters(l: FileLayout): Set<string> {
  const out = new Set<string>();
  for (const r of l.runs) {
    if (r.kind !== 'data' || r.snapshot !== undefined || r.guest === undefined) continue;
    for (let i = 0; i < r.clusters; i++) out.add(`${r.start + i}:${r.guest + i * l.clusterSize}`);
  }
  return out;
}

function qemuLeaks(path: string): number {
  const r = qemuImgStatus(['check', '--output=json', path]);
  if (![0, 2, 3].includes(r.status)) throw new Error(`qemu-img check exited ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { leaks?: number }).leaks ?? 0;
}

const IMAGES: [name: string, make: (f: string) => void, expectKinds: string[]][] = [
  ['writes, 64k clusters', (f) => { qemuImg(['create', '-q', '-f', 'qcow2', f, '64M']); qemuIo(f, ['write -P 1 0 192k', 'write -P 2 40M 64k', 'write -P 3 1M 4k']); }, ['header', 'l1', 'l2', 'refcount-table', 'refcount-block', 'data']],
  ['snapshots', (f) => {
    qemuImg(['create', '-q', '-f', 'qcow2', f, '16M']);
    qemuIo(f, ['write -P 1 0 128k', 'write -P 2 8M 64k']);
    qemuImg(['snapshot', '-c', 's1', f]);
    qemuIo(f, ['write -P 3 0 64k']);
    qemuImg(['snapshot', '-c', 's2', f]);
    qemuIo(f, ['write -P 4 8M 64k']);
  }, ['snapshot-table', 'snapshot-l1', 'snapshot-l2', 'l2', 'data']],
  ['compressed', (f) => {
    const src = `${f}.src`;
    qemuImg(['create', '-q', '-f', 'qcow2', src, '8M']);
    qemuIo(src, ['write -P 5 0 256k', 'write -P 6 2M 64k']);
    qemuImg(['convert', '-c', '-O', 'qcow2', src, f]);
    qemuIo(f, ['write -P 7 4M 64k']);
  }, ['compressed', 'data']],
  ['extended L2, subcluster writes', (f) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', f, '8M']); qemuIo(f, ['write -P 1 4k 4k', 'write -P 2 1M 64k', 'write -P 3 3M 2k']); }, ['l2', 'data']],
  ['bitmaps', (f) => { qemuImg(['create', '-q', '-f', 'qcow2', f, '8M']); qemuImg(['bitmap', '--add', f, 'b0']); qemuIo(f, ['write -P 1 0 64k']); qemuImg(['bitmap', '--add', f, 'b1']); }, ['bitmap-directory', 'bitmap-table']],
  ['preallocation=metadata, 4k clusters', (f) => qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata,cluster_size=4k', f, '8M']), ['data', 'l2']],
  ...[1, 2, 4, 8, 16, 32, 64].map((bits): [string, (f: string) => void, string[]] => [`refcount_bits=${bits}`, (f) => {
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', `refcount_bits=${bits},cluster_size=4k`, f, '8M']);
    qemuIo(f, ['write -P 1 0 12k', 'write -P 2 6M 4k']);
    if (bits > 1) qemuImg(['snapshot', '-c', 's1', f]);
  }, ['refcount-block', 'data']]),
];

describe('images made by qemu-img', () => {
  let seq = 0;
  it.each(IMAGES)('%s: runs tile the file, data matches qemu-img map, no leak or conflict where qemu-img check finds none', async (_name, make, kinds) => {
    const f = dir.file(`img${seq++}.qcow2`);
    make(f);
    const l = await layoutFile(f);
    expectTiles(l, f);
    for (const k of kinds) expect(l.totals[k as keyof FileLayout['totals']].clusters, k).toBeGreaterThan(0);
    expect(layoutDataClusters(l)).toEqual(qemuDataClusters(f, l.clusterSize));
    expect(l.totals.conflict.clusters).toBe(0);
    expect(l.totals.leaked.clusters).toBe(qemuLeaks(f));
  });
});

describe('our zoned writer', () => {
  it('zonedmeta and data by zone; data matches qemu-img map of the bit-5-cleared copy', async () => {
    const f = dir.file('ours-zoned.qcow2');
    const r = qzs(['create', '--zoned-layout', 'v8', '-o', 'zone.mode=host-managed,zone.size=1M,zone.conventional_zones=1', f, '8M']);
    expect(r.status, r.stderr).toBe(0);
    const w = qzs(['io', '-c', 'write -P 0x55 2M 192k', '-c', 'write -P 0x66 4M 64k', '-c', 'write -P 0x77 0 64k', f]);
    expect(w.status, w.stderr + w.stdout).toBe(0);
    const l = await layoutFile(f);
    expectTiles(l, f);
    expect(l.totals.zonedmeta.clusters).toBeGreaterThan(0);
    const data = l.runs.filter((x) => x.kind === 'data');
    expect(data.map((x) => [x.zone, x.guest])).toEqual(expect.arrayContaining([[2, 0x200000], [4, 0x400000], [0, 0]]));
    for (const x of data) expect(x.zone).toBe(Math.floor((x.guest ?? 0) / (1 << 20)));
    const stock = dir.file('ours-zoned-stock.qcow2');
    stockCopy(f, stock);
    expect(layoutDataClusters(l)).toEqual(qemuDataClusters(stock, l.clusterSize));
  });
});

describe('leaks', () => {
  it.each([1, 3])('%i cluster(s) with a refcount and no reference: as many leaked clusters as qemu-img check counts', async (n) => {
    const f = dir.file(`leak${n}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', f, '4M']);
    qemuIo(f, ['write -P 1 0 64k']);
    const p = new Patcher(f);
    const first = p.bytes.length / p.clusterSize;
    for (let i = 0; i < n; i++) p.set16(p.refcountOffset(first + i), 1);
    p.save();
    appendFileSync(f, new Uint8Array(n * p.clusterSize));
    const l = await layoutFile(f);
    expectTiles(l, f);
    expect(qemuLeaks(f)).toBe(n);
    expect(l.totals.leaked.clusters).toBe(n);
    expect(runAt(l.runs, first)).toMatchObject({ kind: 'leaked', start: first, clusters: n });
  });
});

describe('referenced twice', () => {
  it('two active L2 entries on one data cluster: that cluster is a conflict, the one no longer referenced a leak', async () => {
    const f = dir.file('twice.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '4M']);
    qemuIo(f, ['write -P 1 0 64k', 'write -P 2 64k 64k']);
    const p = new Patcher(f);
    const a = p.dataOffset(0) / p.clusterSize;
    const b = p.dataOffset(1) / p.clusterSize;
    p.set64(p.l2EntryOffset(1), p.u64(p.l2EntryOffset(0)));
    p.save();
    const l = await layoutFile(f);
    expectTiles(l, f);
    expect(runAt(l.runs, a)).toMatchObject({ kind: 'conflict', refcount: { stored: 1, references: 2 } });
    expect(runAt(l.runs, b)?.kind).toBe('leaked');
    expect(l.totals.conflict.clusters).toBe(1);
    expect(l.totals.leaked.clusters).toBe(qemuLeaks(f));
  });
});

/** Findings the map shows as a conflict (or a leak) rather than at the bytes of a structure. */
const CONFLICT_IDS = new Set(['overlap.metadata', 'overlap.data', 'refcount.too-low', 'refcount.past-eof', 'reftable.past-eof']);

describe('corrupt corpus on the map', () => {
  for (const c of CORPUS) {
    it(`${c.name}: ${c.id} at the cluster it names`, async () => {
      const f = dir.file(`corrupt-${c.name}.qcow2`);
      const at = makeCorrupt(c, bases, f);
      const l = await layoutFile(f);
      if (!l.check.openable) {
        // Nothing to classify: the whole file (when its cluster size is known) is of unknown use.
        expect(l.runs.every((r) => r.kind === 'unknown')).toBe(true);
        return;
      }
      expectTiles(l, f);
      const hit = l.findings.find((x) => x.id === c.id && x.offset === at);
      expect(hit, JSON.stringify(l.findings.map((x) => [x.id, x.offset]))).toBeDefined();
      if (!hit) return;
      const k = findingCluster(l, hit);
      expect(k).not.toBeNull();
      if (k === null) return;
      // A finding that names a cluster is drawn there; any other at the cluster holding its bytes.
      const named = /cluster (\d+)\b/.exec(`${hit.field} ${hit.found} ${hit.message}`);
      expect(k).toBe(named ? Number(named[1]) : Math.floor(at / l.clusterSize));
      const run = runAt(l.runs, k);
      expect(run).not.toBeNull();
      if (!run) return;
      expect(findingsOfRun(l, run, l.findings)).toContainEqual(hit);
      if (CONFLICT_IDS.has(c.id)) expect(run.kind).toBe('conflict');
      if (c.id === 'refcount.leak') expect(run.kind === 'leaked' || (run.refcount && run.refcount.stored > run.refcount.references)).toBeTruthy();
    });
  }
});

describe('qzs layout', () => {
  it('--json prints the runs; the table sums the kinds to the file', () => {
    const f = dir.file('cli.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', f, '4M']);
    qemuIo(f, ['write -P 1 1M 64k']);
    const j = qzs(['layout', '--json', f]);
    expect(j.status, j.stderr).toBe(0);
    const l = JSON.parse(j.stdout) as FileLayout;
    expectTiles(l, f);
    expect(l.runs.find((r) => r.kind === 'data')).toMatchObject({ guest: 1 << 20, clusters: 1 });
    const h = qzs(['layout', f]);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`^total\\s+${l.clusters}\\s`, 'm'));
    expect(h.stdout).toMatch(/^data\s+1\s/m);
    const bad = dir.file('not-qcow2.img');
    appendFileSync(bad, new Uint8Array(4096));
    expect(qzs(['layout', bad]).status).toBe(1);
    expect(qzs(['layout']).status).toBe(2);
  });
});
