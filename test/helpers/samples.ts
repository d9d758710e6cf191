// The two images a patched QEMU wrote, kept with the reference material beside the repository
// (../shared/reference/samples), wherever the checkout lies.
import { join } from 'node:path';

export const SAMPLES = join(__dirname, '../../../shared/reference/samples');

export function sample(name: string): string {
  return join(SAMPLES, name);
}
