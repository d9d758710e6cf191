// qzs create --like FILE [--with-write-pointers]: shape the new image like the drive a saved zone report
// describes (parsing and the refusals: shared/qcow2/zone-report-import.ts), then restore each zone's write
// pointer by writing zeros up to it through the engine's zone write path.
import { readFile } from 'node:fs/promises';
import { Qcow2Error } from '../../../shared/qcow2/findings';
import { parseZoneReportText, shapeCreateOptions, shapeFromReport, type ZoneShape } from '../../../shared/qcow2/zone-report-import';
import { ZonedDevice } from '../../engine/zoned-device';

export interface LikePlan {
  shape: ZoneShape;
  /** The SIZE argument to create with. */
  size: string;
  /** Notes for the user: what does not carry over, which -o values override the report. */
  notes: string[];
}

/**
 * Read and shape the report, and fill `options` with its geometry where the user gave no -o value of
 * their own (theirs win, and are named in the notes).
 */
export async function planLike(path: string, options: Record<string, string>, size: string | undefined, lbaSizeText: string | undefined, withWritePointers: boolean): Promise<LikePlan> {
  const lbaSize = lbaSizeText === undefined ? 512 : Number(lbaSizeText);
  if (!Number.isSafeInteger(lbaSize) || lbaSize < 512 || (lbaSize & (lbaSize - 1)) !== 0) {
    throw new Qcow2Error({ code: 'invalid-argument', message: `--lba-size wants a power of two of at least 512 bytes, got "${lbaSizeText}"` });
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Qcow2Error({ code: 'invalid-argument', file: path, message: `--like: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` });
  }
  const shape = shapeFromReport(parseZoneReportText(text, { lbaSize }));
  if (size !== undefined || options.size !== undefined) {
    throw new Qcow2Error({ code: 'invalid-argument', message: `--like sets the size from the report (${shape.size} bytes): drop SIZE and -o size` });
  }
  const notes = [...shape.notes];
  for (const [k, v] of Object.entries(shapeCreateOptions(shape))) {
    if (options[k] === undefined) options[k] = v;
    else if (options[k] !== v) {
      if (withWritePointers && (k === 'zone.size' || k === 'zone.conventional_zones')) {
        throw new Qcow2Error({ code: 'invalid-argument', message: `--with-write-pointers restores the report's zones, so -o ${k}=${options[k]} cannot replace the report's ${v}` });
      }
      notes.push(`-o ${k}=${options[k]} is used instead of the report's ${v}`);
    }
  }
  return { shape, size: String(shape.size), notes };
}

const ZERO_CHUNK = 1 << 20;

/** Write zeros from each listed zone's start up to its write pointer; returns the bytes written. */
export async function restoreWritePointers(file: string, shape: ZoneShape): Promise<number> {
  const dev = await ZonedDevice.open(file);
  const zeros = new Uint8Array(ZERO_CHUNK);
  let written = 0;
  try {
    for (const { zone, wp } of shape.writePointers) {
      for (let off = zone * shape.zoneSize; off < wp; off += ZERO_CHUNK) {
        const len = Math.min(ZERO_CHUNK, wp - off);
        await dev.write(off, len === ZERO_CHUNK ? zeros : zeros.subarray(0, len));
        written += len;
      }
      // Close what the writes left open, so that a limit on open zones never refuses the next zone.
      if (dev.state.condition(zone) === 'implicit-open') await dev.closeZone(zone);
    }
  } finally {
    await dev.close();
  }
  return written;
}
