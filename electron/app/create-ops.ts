// Creating an image for the wizard: the engine's createImage (validation, write plan, atomic write),
// never overwriting. Validation failures come back as one readable error naming the option.
import { Qcow2Error } from '../../shared/qcow2/findings';
import { createImage } from '../engine/create';
import type { ProgressStep } from './jobs';

export async function createImageFile(path: string, options: Record<string, string>, zonedLayout: 'v7' | 'v8' | undefined, signal?: AbortSignal, onProgress?: (p: ProgressStep) => void): Promise<void> {
  if (signal?.aborted) throw new Qcow2Error({ code: 'internal', message: 'creation cancelled', file: path });
  // Preallocated images are written table by table: progress per write, cancellation between writes
  // (the engine writes to a temporary file, so a cancelled create leaves nothing behind).
  const r = await createImage({ file: path, options, zonedLayout, signal, onProgress });
  if (!r.ok || !r.written) {
    const first = r.validation.errors[0];
    throw new Qcow2Error({ code: 'invalid-argument', message: first ? `${first.option}: ${first.message}` : 'the options are not valid', file: path, details: { errors: r.validation.errors.length } });
  }
}
