// qzs zone IMAGE OP [ZONE|OFFSET] [--bytes N | --data FILE] [--json]
// qzs zone IMAGE --script FILE|- [--json]
// Zone operations on a zoned image, one or a script of them in one session (open states and limits carry
// from step to step; they are dropped when the command ends, as when QEMU closes the image).
import { readFile } from 'node:fs/promises';
import type { ZoneReport } from '../../../shared/contract/dto';
import { conditionOf, zoneCapacity, zoneLength, zoneStart } from '../../../shared/contract/zone-geometry';
import { osErrorText, Qcow2Error, toAppError, type AppError } from '../../../shared/qcow2/findings';
import { normalisedWp } from '../../../shared/qcow2/zone-model';
import { parseByteCount, parseScript, patternBytes, ScriptSyntaxError, type ScriptStep } from '../../../shared/qcow2/zone-script';
import { jsonZone } from '../../../shared/qcow2/zone-formats';
import { ImageSession } from '../../engine/image-session';
import { EXIT_OK, EXIT_UNREADABLE, parse, printError, stdoutClosed, stdoutDrained, UsageError, type CliIo } from '../io';

const USAGE = 'qzs zone IMAGE OP [ZONE|OFFSET] [--bytes N | --data FILE] [--json]\n       qzs zone IMAGE --script FILE|- [--json]';
const HELP = `usage: ${USAGE}

Zone operations on a zoned qcow2 image (the image is written).
  OP           open Z | close Z | finish Z | reset Z | reset-all | append Z | write OFFSET | report
  --bytes N    length of an append or write (k, M, G, T suffixes)
  --data FILE  the data of an append or write (its length is the file's size)
  --script F   run the operations in F (- for stdin), one per line: open Z, close Z, finish Z, reset Z,
               reset-all, append Z LEN, write OFFSET LEN, report; # starts a comment
  --json       one JSON object per step and line:
               {"step":N,"op":"<line>","ok":true|false,"error":null|{code,message,details},"offset":N|null}
               report steps add "zones": [{"index","start","length","capacity","wp","wp-defined",
               "wp-normalised","type","condition"}] (the device model, as in qzs zones --json)
Without --data, written bytes follow a pattern: the byte at guest offset o is (floor(o / 512) XOR o) mod 256.
Sequential zones take writes only at their write pointer, in multiples of 512 bytes; appends return where
the data landed. Open states (implicit/explicit) live only for the duration of one command.
A failed step changes nothing and does not stop a script.
Exit codes: 0 every step succeeded, 1 a step failed or the image cannot be opened, 2 usage error.
`;

interface StepOutcome {
  ok: boolean;
  error: AppError | null;
  offset: number | null;
  zones?: ZoneReport;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean', default: false },
    bytes: { type: 'string' },
    data: { type: 'string' },
    script: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  }, USAGE);
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const json = values.json === true;
  const usage = (why: string): never => { throw new UsageError(`${why}\nusage: ${USAGE}`); };
  const [path, ...rest] = positionals;
  if (!path) usage('IMAGE is missing');

  let steps: ScriptStep[];
  let data: Uint8Array | null = null;
  if (values.script !== undefined) {
    if (rest.length > 0 || values.bytes !== undefined || values.data !== undefined) usage('--script takes no operation, --bytes or --data');
    const text = values.script === '-' ? await readStream(io.stdin) : await readFile(values.script, 'utf8').catch((e: NodeJS.ErrnoException) => usage(`cannot read script ${values.script}: ${osErrorText(e)}`));
    try {
      steps = parseScript(text);
    } catch (e) {
      if (e instanceof ScriptSyntaxError) usage(`script ${values.script === '-' ? '(stdin)' : values.script}, ${e.message}`);
      throw e;
    }
  } else {
    if (rest.length === 0) usage('an operation is missing');
    if (values.bytes !== undefined && values.data !== undefined) usage('give either --bytes or --data, not both');
    const [word, arg] = rest;
    if (rest.length > 2) usage(`unexpected argument "${rest[2]}"`);
    let length: number | null = null;
    if (values.data !== undefined) {
      data = await readFile(values.data).then((b) => new Uint8Array(b)).catch((e: NodeJS.ErrnoException) => usage(`cannot read --data ${values.data}: ${osErrorText(e)}`));
      length = data.length;
    } else if (values.bytes !== undefined) {
      length = parseByteCount(values.bytes) ?? usage(`--bytes "${values.bytes}" is not a byte count`);
    }
    const needsData = word === 'append' || word === 'write';
    if (needsData && length === null) usage(`${word} needs --bytes N or --data FILE`);
    if (!needsData && length !== null) usage(`${word} takes no --bytes or --data`);
    const line = [word, arg, needsData ? values.bytes ?? String(length) : undefined].filter((x) => x !== undefined).join(' ');
    try {
      const step = parseScript(line)[0];
      if (!step) usage('an operation is missing');
      steps = [step];
    } catch (e) {
      if (e instanceof ScriptSyntaxError) usage(e.message.replace(/^line 1: /, ''));
      throw e;
    }
  }

  let session: ImageSession;
  try {
    session = await ImageSession.open(path, { gate: false });
  } catch (e) {
    printError(io, e, json, path);
    return EXIT_UNREADABLE;
  }
  let failed = 0;
  try {
    try {
      if (session.degraded) throw new Qcow2Error(session.degraded);
      // Takes QEMU's write lock for the whole command, as a QEMU writer holds it while open.
      if (steps.some((s) => s.kind !== 'report')) await session.openForZoneOps();
      await session.zoneReport();
    } catch (e) {
      printError(io, e, json, path);
      return EXIT_UNREADABLE;
    }
    for (const [k, step] of steps.entries()) {
      const outcome = await runStep(session, step, data);
      if (!outcome.ok) failed++;
      await print(io, json, k + 1, step, outcome);
    }
  } finally {
    await session.close();
  }
  return failed === 0 ? EXIT_OK : EXIT_UNREADABLE;
}

async function runStep(session: ImageSession, step: ScriptStep, data: Uint8Array | null): Promise<StepOutcome> {
  try {
    if (step.kind === 'report') return { ok: true, error: null, offset: null, zones: await session.zoneReport() };
    const { result } = await session.zoneOp(step.op, data ?? patternBytes);
    return { ok: true, error: null, offset: result.offset };
  } catch (e) {
    return { ok: false, error: toAppError(e, session.path), offset: null };
  }
}

/** Zones per chunk of a report step's output (written, then stdout drained). */
const CHUNK_ZONES = 2048;

async function print(io: CliIo, json: boolean, n: number, step: ScriptStep, o: StepOutcome): Promise<void> {
  const r = o.zones;
  if (json) {
    const head = JSON.stringify({ step: n, op: step.text, ok: o.ok, error: o.error, offset: o.offset });
    if (!r) {
      io.out(head + '\n');
      return;
    }
    // Streamed with the rows of `qzs zones --json`: one line per step still, never one string of all zones.
    io.out(`${head.slice(0, -1)},"zones":[`);
    for (let i = 0; i < r.nrZones && !stdoutClosed(); i += CHUNK_ZONES) {
      let s = '';
      for (let z = i; z < Math.min(r.nrZones, i + CHUNK_ZONES); z++) s += (z > 0 ? ',' : '') + jsonZone(r, z);
      io.out(s);
      await stdoutDrained(io);
    }
    io.out(']}\n');
    return;
  }
  if (!o.ok) {
    io.out(`${n}: ${step.text}: failed: ${o.error?.message ?? 'unknown error'}\n`);
    return;
  }
  if (r) {
    io.out(`${n}: ${step.text}:\n`);
    const row = (c: string[]): string => `  ${c[0].padStart(5)} ${c[1].padStart(14)} ${c[2].padStart(11)} ${c[3].padStart(11)} ${c[4].padStart(14)}  ${c[5].padEnd(13)} ${c[6]}\n`;
    io.out(row(['zone', 'start', 'length', 'capacity', 'wp', 'condition', 'type']));
    // As qzs zones shows them: "—" without a write pointer, the kernel's beside the stored one for a full zone.
    for (let i = 0; i < r.nrZones && !stdoutClosed(); i += CHUNK_ZONES) {
      let s = '';
      for (let z = i; z < Math.min(r.nrZones, i + CHUNK_ZONES); z++) {
        const wp = r.wp[z];
        const norm = normalisedWp(r, z, wp, r.cond[z]);
        const wpCell = norm === null ? '—' : norm === wp ? String(wp) : `${wp} (kernel: ${norm})`;
        s += row([String(z), String(zoneStart(r, z)), String(zoneLength(r, z)), String(zoneCapacity(r, z)), wpCell, conditionOf(r.cond[z]), z < r.conventionalZones ? 'conventional' : 'sequential']);
      }
      io.out(s);
      await stdoutDrained(io);
    }
    return;
  }
  io.out(`${n}: ${step.text}: ok${o.offset !== null ? `, data at ${o.offset} (0x${o.offset.toString(16)})` : ''}\n`);
}

async function readStream(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
