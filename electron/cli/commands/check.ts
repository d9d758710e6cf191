// Placeholder until the check command lands (it is being written now); exits as a usage error.
import type { CliIo } from '../io';

export async function run(_argv: string[], io: CliIo): Promise<number> {
  io.err('qzs check: not available in this build yet\n');
  return 2;
}
