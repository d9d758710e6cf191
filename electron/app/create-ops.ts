// Creating an image for the wizard: the engine's createImage (validation, write plan, atomic write),
// never overwriting. Validation failures come back as one readable error naming the option.
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';
import { Qcow2Error } from '../../shared/qcow2/findings';
import type { ZonedWriteLayout } from '../../shared/qcow2/zoned-types';
import { createImage } from '../engine/create';
import type { ProgressStep } from './jobs';

export async function createImageFile(path: string, options: Record<string, string>, zonedLayout: ZonedWriteLayout | undefined, signal?: AbortSignal, onProgress?: (p: ProgressStep) => void): Promise<void> {
  if (signal?.aborted) throw new Qcow2Error({ code: 'internal', message: 'creation cancelled', file: path });
  // Preallocated images are written table by table: progress per write, cancellation between writes
  // (the engine writes to a temporary file, so a cancelled create leaves nothing behind).
  const r = await createImage({ file: path, options, zonedLayout, signal, onProgress });
  if (!r.ok || !r.written) {
    const first = r.validation.errors[0];
    throw new Qcow2Error({ code: 'invalid-argument', message: first ? `${first.option}: ${first.message}` : 'the options are not valid', file: path, details: { errors: r.validation.errors.length } });
  }
}

/** The create options that name files (create-options.ts CREATE_OPTION_NAMES). */
const PATH_OPTIONS = new Set(['backing_file', 'data_file']);

/**
 * The real path `name` names, resolved against `root` (a real path) one component at a time as the
 * kernel would: every component that exists is replaced by its realpath, so that "link/.." goes where
 * the link points, not back lexically. Components past the first one that does not exist are joined as
 * they are. null when an existing component cannot be resolved (a dangling or unreadable link, EACCES):
 * where it points cannot be known, so it cannot be allowed.
 */
function resolveReal(root: string, name: string): string | null {
  let cur = isAbsolute(name) ? sep : root;
  let missing = false;
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      cur = cur === sep ? sep : cur.slice(0, Math.max(cur.lastIndexOf(sep), 1));
      continue;
    }
    const next = cur === sep ? sep + part : cur + sep + part;
    if (missing) {
      cur = next;
      continue;
    }
    try {
      lstatSync(next);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
      missing = true;
      cur = next;
      continue;
    }
    try {
      cur = realpathSync(next);
    } catch {
      return null;
    }
  }
  return cur;
}

/**
 * Keep the files a create request names inside `createDir` (qzs serve --create-dir). A client of the
 * HTTP server must not create a data file elsewhere, nor probe the host through a backing file (a raw
 * backing file's size is its file size; "Could not open" tells whether a path exists). Relative names are
 * taken relative to `createDir`, where the image is created (qemu-img resolves a relative backing file
 * against the image's directory); every existing component is resolved with realpath, so a symbolic link
 * cannot lead out. Protocol names ("file:", "nbd:", "json:") are refused, as is anything else that does
 * not end inside `createDir`, with one message whether or not the outside path exists.
 *
 * Returns the options to create with: a relative data_file becomes the absolute path inside `createDir`
 * (qemu-img would create it relative to the process's working directory); everything else is unchanged.
 */
export function confineCreateOptions(createDir: string, options: Record<string, string>): Record<string, string> {
  const root = realpathSync(createDir);
  const out: Record<string, string> = { ...options };
  for (const [key, value] of Object.entries(options)) {
    if (!PATH_OPTIONS.has(key.replace(/-/g, '_'))) continue;
    if (value === '') continue; // an empty value names no file (as for qemu-img)
    const refuse = (): Qcow2Error => new Qcow2Error({
      code: 'invalid-argument',
      message: `${key}: "${value}" is not a file inside the folder images are created in; a created image may only name files there`,
      details: { option: key },
    });
    // qemu's path_has_protocol: "proto:…" before any slash is not a file name.
    if (/^[^:/]*:/.test(value) || value.includes('\0')) throw refuse();
    const real = resolveReal(root, value);
    if (real === null || real === root || !real.startsWith(root === sep ? sep : root + sep)) throw refuse();
    if (key.replace(/-/g, '_') === 'data_file' && !isAbsolute(value)) out[key] = real;
  }
  return out;
}
