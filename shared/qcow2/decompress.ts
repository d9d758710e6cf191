// Compressed cluster payloads (docs/interop/qcow2.rst "Compressed Clusters Descriptor"): raw deflate with
// a 4 KiB window as QEMU's qcow2_zlib_decompress (inflateInit2(-12)), or one zstd frame as
// qcow2_zstd_decompress. The stored bytes run to the end of the descriptor's last sector, so trailing
// bytes after the stream are normal and ignored; the output must fill exactly one cluster.
import { inflateSync } from 'fflate';
import { Decompress as ZstdStream } from 'fzstd';
import type { CompressionMethod } from './compression';

export { compressionMethod, type CompressionMethod } from './compression';

export class DecompressError extends Error {}

/** Decompress one cluster. Throws DecompressError when the data does not yield a full cluster. */
export function decompressCluster(data: Uint8Array, clusterSize: number, method: CompressionMethod): Uint8Array {
  return method === 'zlib' ? inflateCluster(data, clusterSize) : unzstdCluster(data, clusterSize);
}

function inflateCluster(data: Uint8Array, clusterSize: number): Uint8Array {
  // QEMU accepts a stream that fills the buffer even without reaching its end marker.
  const out = new Uint8Array(clusterSize);
  let produced: Uint8Array;
  try {
    produced = inflateSync(data, { out });
  } catch (e) {
    throw new DecompressError(`deflate stream is invalid: ${(e as Error).message}`);
  }
  if (produced.length !== clusterSize) {
    throw new DecompressError(`deflate stream yields ${produced.length} bytes, expected a full cluster of ${clusterSize}`);
  }
  return produced;
}

function unzstdCluster(data: Uint8Array, clusterSize: number): Uint8Array {
  const out = new Uint8Array(clusterSize);
  let filled = 0;
  // Like QEMU, decoding stops mattering once the cluster is full; anything beyond is ignored.
  const stream = new ZstdStream((chunk) => {
    const n = Math.min(chunk.length, clusterSize - filled);
    out.set(chunk.subarray(0, n), filled);
    filled += n;
  });
  try {
    stream.push(data, true);
  } catch (e) {
    // The zero padding after the frame parses as a bad next frame; only a short cluster is an error.
    if (filled < clusterSize) throw new DecompressError(`zstd frame is invalid: ${(e as Error).message}`);
  }
  if (filled < clusterSize) throw new DecompressError(`zstd frame yields ${filled} bytes, expected a full cluster of ${clusterSize}`);
  return out;
}
