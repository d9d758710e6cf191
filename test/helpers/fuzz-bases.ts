// The images the seeded mutation suites start from (test/engine/fuzz.test.ts, repair-safety.test.ts): one of
// each structure qemu-img makes (snapshots, compression, extended L2, 1-bit refcounts, a bitmap) plus a zoned
// image a patched QEMU wrote. Small (1-2 MiB, 4 KiB clusters) so that thousands of mutations stay fast.
import { readFileSync } from 'node:fs';
import { qemuImg, qemuIo, type TmpDir } from './qemu';
import { sample } from './samples';

export interface FuzzBase { name: string; bytes: Uint8Array }

/** Make the bases in `dir` and read them into memory (the files may be removed afterwards). */
export function makeFuzzBases(dir: TmpDir): FuzzBase[] {
  const bases: FuzzBase[] = [];
  const mk = (name: string, make: (p: string) => void) => {
    const p = dir.file(`${name}.qcow2`);
    make(p);
    bases.push({ name, bytes: new Uint8Array(readFileSync(p)) });
  };
  mk('plain', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '2M']); qemuIo(p, ['write -P 1 0 8k', 'write -P 2 1M 4k']); });
  mk('snap', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '2M']); qemuIo(p, ['write -P 1 0 8k']); qemuImg(['snapshot', '-c', 's', p]); qemuIo(p, ['write -P 3 0 4k']); });
  mk('compressed', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p + '.src', '1M']); qemuIo(p + '.src', ['write -P 1 0 16k']); qemuImg(['convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', p + '.src', p]); });
  mk('extended', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on,cluster_size=16k', p, '2M']); qemuIo(p, ['write -P 1 0 2k', 'write -P 2 64k 16k']); });
  mk('refcount1', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'refcount_bits=1,cluster_size=4096', p, '1M']); qemuIo(p, ['write -P 1 0 4k']); });
  mk('bitmap', (p) => { qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', p, '1M']); qemuImg(['bitmap', '--add', p, 'b']); qemuIo(p, ['write -P 1 0 4k']); });
  bases.push({ name: 'zoned', bytes: new Uint8Array(readFileSync(sample('sample-v8-fresh.qcow2'))) });
  return bases;
}
