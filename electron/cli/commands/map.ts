// qzs map [--json] IMAGE: guest ranges to host offsets. --json prints exactly what qemu-img 7.2's
// map --output=json prints; the table is qemu-img map's, except that compressed data (which qemu-img
// refuses to tabulate) is listed with "compressed" in place of a host offset.
import { openChain } from '../../engine/open-chain';
import { AsciiWriter, asciiBytes } from '../../../shared/ascii-writer';
import type { Layer } from '../../../shared/qcow2/cluster-reader';
import { eachMapExtent, putMapExtentJson, type AllocationProbe, type MapEntry } from '../../../shared/qcow2/map';
import { asciiOut, ownedBytesOut } from '../byte-out';
import { EXIT_OK, EXIT_UNREADABLE, OutputClosed, parse, printError, stdoutClosed, stdoutDrained, UsageError, type CliIo } from '../io';

const USAGE = 'qzs map [--json] IMAGE';
/** Bytes of output per write. */
const CHUNK = 1 << 16;
const SEPARATOR = asciiBytes(',\n');
const END = asciiBytes(']\n');

function hex0(v: number): string {
  // printf("%#x") prints 0 without the prefix.
  return v === 0 ? '0' : '0x' + v.toString(16);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    io.out(`usage: ${USAGE}\n\nLists guest ranges and where they live: the same JSON as qemu-img map --output=json with --json.\n`);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError(`expected exactly one IMAGE\nusage: ${USAGE}`);
  const path = positionals[0];
  const json = values.json === true;
  let chain;
  try {
    chain = await openChain(path, { syncReads: true });
  } catch (e) {
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  const probe = lazyExtentProbe();
  try {
    if (json) await writeJson(io, chain.top, probe);
    else await writeHuman(io, chain.top, probe);
  } catch (e) {
    if (e instanceof OutputClosed) throw e; // not an error: qzs ends quietly (qzs.ts)
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  } finally {
    await chain.close();
  }
  return EXIT_OK;
}

/**
 * hostExtentProbe, loaded on first use: only metadata-preallocated images ask for host extents, and the
 * module brings node:child_process (for filefrag) with it.
 */
function lazyExtentProbe(): AllocationProbe {
  let real: Promise<AllocationProbe> | null = null;
  return async (source, offset) => {
    real ??= import('../../engine/host-extents').then((m) => m.hostExtentProbe());
    return (await real)(source, offset);
  };
}

/**
 * Output of a map --json kept in memory until the walk ends. A map up to this size (some ten thousand
 * extents) is walked once; a larger one is walked twice, first to the end without output, to know that
 * the walk succeeds, then streamed. Buffering it all instead would cost more than the second walk
 * (measured on 100,000 scattered clusters, 21 MB of JSON: +25 % CPU and +20 MB RSS buffered, +10 % CPU
 * walked twice; the streaming walk alone is 0.44 s CPU there).
 */
const MAX_BUFFERED = 1 << 20;

/**
 * Back-pressure for a walk that streams: after a step of the walk that wrote, wait for stdout to drain,
 * and stop (OutputClosed) once its reader has gone (`qzs map --json big.qcow2 | head`). Without it a fast
 * walk queues its whole output in memory, and walks on after the reader left.
 */
function drainedAfterWrites(io: CliIo): { wrote(): void; wait(): Promise<void> } {
  let pending = false;
  return {
    wrote: () => { pending = true; },
    wait: async () => {
      if (!pending) return;
      pending = false;
      await stdoutDrained(io);
      if (stdoutClosed()) throw new OutputClosed();
    },
  };
}

/**
 * qemu-img map --output=json, as bytes: a map of a million extents would otherwise be a million strings.
 * stdout gets one complete JSON document or nothing: the error of a walk that fails goes to stderr only
 * (qemu-img prints the extents it mapped before the error; a partial "[" document helps no JSON reader).
 */
async function writeJson(io: CliIo, top: Layer, probe: AllocationProbe): Promise<void> {
  const w = new AsciiWriter(CHUNK + 512);
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  let overflow = false;
  let first = true;
  const put = (e: MapEntry): void => {
    if (!first) w.put(SEPARATOR);
    first = false;
    putMapExtentJson(w, e);
  };
  // First walk: into memory until the output passes MAX_BUFFERED, then on to the end without output.
  w.byte(0x5b);
  await eachMapExtent(top, (e) => {
    if (overflow) return;
    put(e);
    if (w.length >= CHUNK) {
      buffered += w.length;
      chunks.push(w.bytes());
      w.detach(); // the chunk keeps the buffer
      if (buffered > MAX_BUFFERED) {
        overflow = true;
        chunks.length = 0;
      }
    }
  }, { probe });
  const out = asciiOut(io);
  if (!overflow) {
    w.put(END);
    const owned = ownedBytesOut(io);
    for (const c of chunks) owned(c);
    out(w);
    return;
  }
  // Second walk, streamed: the first one succeeded over the same bytes, and the walk is a function of
  // them. Should it fail anyway (the file changed in between), the array is closed so that stdout still
  // holds one valid document, and the error goes to stderr as usual.
  w.reset();
  w.byte(0x5b);
  first = true;
  try {
    const drained = drainedAfterWrites(io);
    await eachMapExtent(top, (e) => {
      put(e);
      if (w.length >= CHUNK) {
        out(w);
        drained.wrote();
      }
    }, { probe }, drained.wait);
  } finally {
    w.put(END);
    out(w);
  }
}

/** qemu-img map's table. */
async function writeHuman(io: CliIo, top: Layer, probe: AllocationProbe): Promise<void> {
  let buf = `${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n`;
  const drained = drainedAfterWrites(io);
  const flush = (force = false): void => {
    if (force || buf.length > CHUNK) {
      io.out(buf);
      buf = '';
      drained.wrote();
    }
  };
  let pending: MapEntry | null = null;
  const emit = (e: MapEntry): void => {
    if (!e.data || e.zero) return;
    const mapped = e.offset !== undefined ? hex0(e.offset) : 'compressed';
    buf += `${hex0(e.start).padEnd(16)}${hex0(e.length).padEnd(16)}${mapped.padEnd(16)}${e.filename ?? ''}\n`;
  };
  try {
    // The table ignores the difference between unallocated, zero and zero-with-data, as qemu-img does,
    // so neighbours that differ only there are merged first.
    await eachMapExtent(top, (e) => {
      const shown = e.data && !e.zero;
      if (pending && shown && pending.data && !pending.zero && pending.filename === e.filename && pending.depth === e.depth && pending.offset !== undefined && e.offset !== undefined && pending.offset + pending.length === e.offset) {
        pending.length += e.length;
        return;
      }
      if (pending) emit(pending);
      pending = { ...e }; // the walker reuses e
      flush();
    }, { probe }, drained.wait);
    if (pending) emit(pending);
  } finally {
    flush(true);
  }
}
