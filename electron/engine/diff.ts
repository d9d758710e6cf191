// The file side of a diff: opening each side (a path, or `path@snapshot`) with its backing chain, its zone
// table and its header facts, then handing both to the pure diff (shared/qcow2/diff.ts).
import { stat } from 'node:fs/promises';
import { diffImages, findSnapshot, imageMeta, snapshotLayer, snapshotMeta, type DiffSide, type GuestDiffOptions, type ImageDiff } from '../../shared/qcow2/diff';
import type { OpenedImage } from '../../shared/qcow2/image';
import type { AllocationProbe } from '../../shared/qcow2/map';
import { readSnapshotTable } from '../../shared/qcow2/snapshots';
import { readZonedmeta } from '../../shared/qcow2/zonedmeta';
import { ZONE_TYPE_CONVENTIONAL, ZONE_TYPE_SEQUENTIAL, type ZoneTable } from '../../shared/qcow2/zone-table';
import type { ZoneReport } from '../../shared/contract/dto';
import type { ImageSession } from './image-session';
import { openChain } from './open-chain';

export interface DiffTarget {
  path: string;
  /** Snapshot id or name, null for the active state. */
  snapshot: string | null;
}

/**
 * `IMAGE` or `IMAGE@SNAPSHOT`. A name that exists as a file is a file even when it holds an '@'; otherwise
 * the part after the last '@' names the snapshot.
 */
export async function parseDiffTarget(spec: string): Promise<DiffTarget> {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) return { path: spec, snapshot: null };
  const isFile = await stat(spec).then((s) => s.isFile(), () => false);
  return isFile ? { path: spec, snapshot: null } : { path: spec.slice(0, at), snapshot: spec.slice(at + 1) };
}

/** The columnar zone table behind a session's zone report (types follow the conventional zone count). */
export function reportTable(r: ZoneReport): ZoneTable {
  const type = new Uint8Array(r.nrZones);
  for (let i = 0; i < r.nrZones; i++) type[i] = i < r.conventionalZones ? ZONE_TYPE_CONVENTIONAL : ZONE_TYPE_SEQUENTIAL;
  return { zoneSize: r.zoneSize, zoneCapacity: r.zoneCapacity, deviceSize: r.deviceSize, count: r.nrZones, conventionalZones: r.conventionalZones, wp: r.wp, condition: r.cond, type, persisted: null };
}

interface OpenedSide {
  side: DiffSide;
  close(): Promise<void>;
}

interface SideOptions {
  syncReads?: boolean;
  /** The image already open (a session's), and its zone table with the session's open states. */
  top?: OpenedImage;
  zones?: ZoneTable | null;
  /** Label a snapshot side `label@NAME` (the app asks by id; the CLI's label is what the user typed). */
  nameSnapshot?: boolean;
}

async function openSide(target: DiffTarget, label: string, opts: SideOptions): Promise<OpenedSide> {
  const chain = await openChain(target.path, { syncReads: opts.syncReads, top: opts.top });
  try {
    const img = chain.img;
    if (target.snapshot !== null) {
      const { snapshots } = await readSnapshotTable(img);
      const s = findSnapshot(snapshots, target.snapshot, target.path);
      const layer = await snapshotLayer(chain.top, s);
      const named = opts.nameSnapshot ? `${label}@${s.name}` : label;
      return { side: { meta: snapshotMeta(img, s, named), layer, zones: null, zoned: img.zoned !== null }, close: chain.close };
    }
    let zones: ZoneTable | null = null;
    if (opts.zones !== undefined) zones = opts.zones;
    else if (img.zoned) zones = (await readZonedmeta(img.source, img.zoned, img.header.size, img.header.clusterSize, img.fileSize)).table;
    return { side: { meta: imageMeta(img, label), layer: chain.top, zones, zoned: img.zoned !== null }, close: chain.close };
  } catch (e) {
    await chain.close();
    throw e;
  }
}

/** hostExtentProbe, loaded on first use: only metadata-preallocated images ask (as in qzs map). */
function lazyProbe(): AllocationProbe {
  let real: Promise<AllocationProbe> | null = null;
  return async (source, offset) => {
    real ??= import('./host-extents').then((m) => m.hostExtentProbe());
    return (await real)(source, offset);
  };
}

/** memcmp over two byte views (no copy). */
export function bytesEqual(x: Uint8Array, y: Uint8Array): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.length).equals(Buffer.from(y.buffer, y.byteOffset, y.length));
}

/** Diff two images named on the command line (each `IMAGE` or `IMAGE@SNAPSHOT`). */
export async function diffPaths(a: string, b: string, opts: GuestDiffOptions = {}): Promise<ImageDiff> {
  opts = { bytesEqual, probe: lazyProbe(), ...opts };
  const sa = await openSide(await parseDiffTarget(a), a, { syncReads: true });
  try {
    const sb = await openSide(await parseDiffTarget(b), b, { syncReads: true });
    try {
      return await diffImages(sa.side, sb.side, opts);
    } finally {
      await sb.close();
    }
  } finally {
    await sa.close();
  }
}

export interface SessionSide {
  session: ImageSession;
  /** The image's name; a snapshot side is labelled `name@SNAPSHOT-NAME`. */
  label: string;
  snapshot: string | null;
}

/**
 * Diff two open images (or one against its snapshot), each read through its session: its decoded image,
 * its zone report with the open states, and serialised with its writes. Sessions are entered in path
 * order, so that two diffs of the same pair in opposite directions cannot wait on each other.
 */
export async function diffSessions(a: SessionSide, b: SessionSide, opts: GuestDiffOptions = {}): Promise<ImageDiff> {
  opts = { bytesEqual, probe: lazyProbe(), ...opts };
  const work = async (): Promise<ImageDiff> => {
    const side = async (s: SessionSide): Promise<OpenedSide> => {
      const top = await s.session.image();
      const zones = s.snapshot === null && top.zoned ? reportTable(await s.session.zoneReport()) : null;
      return openSide({ path: s.session.path, snapshot: s.snapshot }, s.label, { top, zones, nameSnapshot: true });
    };
    const sa = await side(a);
    try {
      const sb = await side(b);
      try {
        return await diffImages(sa.side, sb.side, opts);
      } finally {
        await sb.close();
      }
    } finally {
      await sa.close();
    }
  };
  if (a.session === b.session) return a.session.inspect(work);
  const [first, second] = a.session.path < b.session.path ? [a.session, b.session] : [b.session, a.session];
  return first.inspect(() => second.inspect(work));
}
