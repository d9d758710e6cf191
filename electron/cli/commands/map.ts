// qzs map [--json] IMAGE: guest ranges to host offsets. --json prints exactly what qemu-img 7.2's
// map --output=json prints; the table is qemu-img map's, except that compressed data (which qemu-img
// refuses to tabulate) is listed with "compressed" in place of a host offset.
import { hostExtentProbe } from '../../engine/host-extents';
import { openChain } from '../../engine/open-chain';
import { mapExtentJsonText, mapImage, type MapEntry } from '../../../shared/qcow2/map';
import { EXIT_OK, EXIT_UNREADABLE, parse, printError, UsageError, type CliIo } from '../io';

const USAGE = 'qzs map [--json] IMAGE';

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
    chain = await openChain(path);
  } catch (e) {
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  const probe = hostExtentProbe();
  // Output is buffered in pieces so that a map of millions of extents streams.
  let buf = '';
  const flush = (force = false): void => {
    if (force || buf.length > 1 << 16) {
      io.out(buf);
      buf = '';
    }
  };
  try {
    if (json) {
      buf += '[';
      let first = true;
      for await (const e of mapImage(chain.top, { probe })) {
        buf += (first ? '' : ',\n') + mapExtentJsonText(e);
        first = false;
        flush();
      }
      buf += ']\n';
    } else {
      buf += `${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n`;
      let pending: MapEntry | null = null;
      const emit = (e: MapEntry): void => {
        if (!e.data || e.zero) return;
        const mapped = e.offset !== undefined ? hex0(e.offset) : 'compressed';
        buf += `${hex0(e.start).padEnd(16)}${hex0(e.length).padEnd(16)}${mapped.padEnd(16)}${e.filename ?? ''}\n`;
      };
      // The table ignores the difference between unallocated, zero and zero-with-data, as qemu-img does,
      // so neighbours that differ only there are merged first.
      for await (const e of mapImage(chain.top, { probe })) {
        const shown = e.data && !e.zero;
        if (pending && shown && pending.data && !pending.zero && pending.filename === e.filename && pending.depth === e.depth && pending.offset !== undefined && e.offset !== undefined && pending.offset + pending.length === e.offset) {
          pending.length += e.length;
          continue;
        }
        if (pending) emit(pending);
        pending = { ...e };
        flush();
      }
      if (pending) emit(pending);
    }
    flush(true);
  } catch (e) {
    flush(true);
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  } finally {
    await chain.close();
  }
  return EXIT_OK;
}
