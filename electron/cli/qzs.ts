// qzs: the command-line face of the engine. Each command lives in its own module, loaded on demand so
// that `qzs info` never pays for the code of `qzs serve`.
import { EXIT_OK, EXIT_USAGE, exitStatus, nodeIo, OutputClosed, printError, stdoutIsPlainFile, UsageError, watchStdout, type CliIo, type Command } from './io';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: Command }>;
}

const COMMANDS: Record<string, CommandEntry> = {
  info: { summary: 'header, extensions, feature bits, zoned extension (qemu-img info compatible with --json)', load: () => import('./commands/info') },
  map: { summary: 'guest ranges to host offsets (qemu-img map compatible with --json)', load: () => import('./commands/map') },
  zones: { summary: 'zone report of a zoned image', load: () => import('./commands/zones') },
  check: { summary: 'check metadata and zones; repair with -r', load: () => import('./commands/check') },
  create: { summary: 'create an image (qemu-img create options, zone.* options)', load: () => import('./commands/create') },
  zone: { summary: 'zone operations: open, close, finish, reset, reset-all, append, write, or --script', load: () => import('./commands/zone') },
  io: { summary: 'the zone commands of a patched qemu-io: -c CMD or a qemu-io> session on stdin', load: () => import('./commands/io') },
  serve: { summary: 'serve the UI and the engine over HTTP on 127.0.0.1', load: () => import('./commands/serve') },
  convert: { summary: 'rewrite a zoned image into another revision: --zoned-layout v7|v8|v11|respin IN OUT', load: () => import('./commands/convert') },
  diff: { summary: 'what differs between two images or an image and a snapshot (qemu-img compare exit codes)', load: () => import('./commands/diff') },
  layout: { summary: 'every host cluster of the file by owner (free, leaked, conflicts), as runs', load: () => import('./commands/layout') },
};

const USAGE = `usage: qzs <command> [options] IMAGE

commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`).join('\n')}

Run "qzs <command> --help" for a command's options.
`;

export async function main(argv: string[], io: CliIo = nodeIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version' || name === '-V') {
    io.out('qzs (Qcow2 Zone Studio) 0.1.0\n');
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`qzs: unknown command "${name}"\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest, io);
  } catch (e) {
    // Output stopped because its reader went away: not an error (see watchStdout).
    if (e instanceof OutputClosed) return EXIT_OK;
    if (e instanceof UsageError) {
      io.err(`qzs ${name}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    printError(io, e, rest.includes('--json'));
    return 1;
  }
}

const isEntry = typeof process !== 'undefined' && process.argv[1] && /qzs(\.m?js|\.ts)?$/.test(process.argv[1]);
if (isEntry || process.env.QZS_FORCE_MAIN === '1') {
  // A reader that stops early (`qzs layout big.qcow2 | head`) is not an error: output stops and the command
  // ends quietly with the status it decides (io.ts watchStdout). A file or the null device has no reader
  // to stop, and is written without building process.stdout.
  if (!stdoutIsPlainFile()) watchStdout();
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = exitStatus(code); },
    (e) => { printError(nodeIo, e, false); process.exitCode = 1; },
  );
}
