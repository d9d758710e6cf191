// The compression_type header field (docs/interop/qcow2.rst): which codec compressed clusters use. Kept
// apart from decompress.ts so that naming the method does not load the codecs (fflate builds its tables
// when imported, a few milliseconds that `qzs info` and `qzs map` would pay for nothing).

export type CompressionMethod = 'zlib' | 'zstd';

export function compressionMethod(compressionType: number): CompressionMethod | null {
  return compressionType === 0 ? 'zlib' : compressionType === 1 ? 'zstd' : null;
}
