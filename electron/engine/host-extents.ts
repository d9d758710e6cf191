// Where a host file has data and where it has holes, as lseek(SEEK_DATA/SEEK_HOLE) would say: qemu-img map
// asks that for images it considers metadata-preallocated (and those include small images whose clusters
// are partly written). Node has no SEEK_DATA, so the extent list comes from filefrag (e2fsprogs, FIEMAP),
// read once per file. Without filefrag the probe answers "unknown", which is what QEMU does on file
// systems without SEEK_DATA (every byte counts as data).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ByteSource } from '../../shared/qcow2/byte-source';
import type { AllocationProbe } from '../../shared/qcow2/map';

const run = promisify(execFile);
const FILEFRAG = ['filefrag', '/usr/sbin/filefrag', '/sbin/filefrag'];

export interface Extents {
  /** Sorted, merged [start, end) byte ranges holding data. */
  ranges: [number, number][];
  size: number;
}

/** Parse `filefrag -v -e` output; unwritten (preallocated) extents read as holes, like SEEK_DATA on ext4/xfs. */
export function parseFilefrag(text: string): Extents | null {
  const head = /is (\d+) \(\d+ blocks? of (\d+) bytes\)/.exec(text);
  if (!head) return null;
  const size = Number(head[1]);
  const bs = Number(head[2]);
  const ranges: [number, number][] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*\S*\.\.\s*\S*:\s*(\d+):(.*)$/.exec(line);
    if (!m || /unwritten/.test(m[4])) continue;
    const start = Number(m[1]) * bs;
    const end = Math.min((Number(m[2]) + 1) * bs, size);
    if (end <= start) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] >= start) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  return { ranges, size };
}

export async function readExtents(path: string): Promise<Extents | null> {
  for (const bin of FILEFRAG) {
    try {
      const { stdout } = await run(bin, ['-v', '-e', path], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: 'C' } });
      return parseFilefrag(stdout);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return null;
    }
  }
  return null;
}

/** find_allocation over an extent list. */
export function findAllocation(ext: Extents, offset: number): { data: number; hole: number } | 'enxio' {
  for (const [start, end] of ext.ranges) {
    if (end <= offset) continue;
    if (start > offset) return { data: start, hole: offset };
    return { data: offset, hole: end };
  }
  return 'enxio';
}

/** An AllocationProbe that reads each file's extents once. */
export function hostExtentProbe(): AllocationProbe {
  const cache = new Map<string, Promise<Extents | null>>();
  return async (source: ByteSource, offset: number) => {
    let p = cache.get(source.name);
    if (!p) {
      p = readExtents(source.name);
      cache.set(source.name, p);
    }
    const ext = await p;
    return ext ? findAllocation(ext, offset) : null;
  };
}
