// Writing ASCII text a command has encoded itself as bytes (zones --json, map --json) to the real stdout as
// it is, without the round trip through a JavaScript string that io.out would need.
import type { AsciiWriter } from '../../shared/ascii-writer';
import { nodeIo, stdoutClosed, type CliIo } from './io';

/**
 * A function that writes what an AsciiWriter holds to `io`'s output and empties the writer for reuse.
 * The buffer is reused, not copied (a fresh 64 KiB buffer per write costs page faults and collections):
 * when stdout could not take the whole chunk at once and keeps a reference to it, the writer moves on to
 * a new buffer instead. Once stdout has closed, output is dropped. Any other CliIo (tests, embedding) gets
 * the text decoded.
 */
export function asciiOut(io: CliIo): (w: AsciiWriter) => void {
  if (io === nodeIo) {
    return (w) => {
      if (w.length === 0) return;
      if (stdoutClosed()) {
        w.reset();
        return;
      }
      process.stdout.write(w.bytes());
      if (process.stdout.writableLength > 0) w.detach();
      else w.reset();
    };
  }
  const decoder = new TextDecoder('utf-8');
  return (w) => {
    if (w.length > 0) io.out(decoder.decode(w.bytes()));
    w.reset();
  };
}

/**
 * The same, for a producer that waits for stdout to drain between chunks: `write` hands the bytes over and
 * `release` (called after the wait) reuses the buffer when stdout has flushed it, which is the usual case,
 * so a long stream allocates no buffer per chunk.
 */
export function asciiStream(io: CliIo): { write(w: AsciiWriter): void; release(w: AsciiWriter): void } {
  if (io === nodeIo) {
    return {
      write: (w) => { if (w.length > 0 && !stdoutClosed()) process.stdout.write(w.bytes()); },
      release: (w) => { if (process.stdout.writableLength > 0 && !stdoutClosed()) w.detach(); else w.reset(); },
    };
  }
  const out = asciiOut(io);
  return { write: out, release: (w) => w.reset() };
}

/** Bytes the caller hands over for good (not reused) to `io`'s output: as they are to the real stdout. */
export function ownedBytesOut(io: CliIo): (b: Uint8Array) => void {
  if (io === nodeIo) {
    return (b) => { if (b.length > 0 && !stdoutClosed()) process.stdout.write(b); };
  }
  const decoder = new TextDecoder('utf-8');
  return (b) => { if (b.length > 0) io.out(decoder.decode(b)); };
}
