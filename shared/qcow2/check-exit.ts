// The exit code of `qzs check`, in qemu-img check's convention (qemu-img.c img_check: 0 clean, 1 the image
// could not be checked, 2 corruptions, 3 leaks only; 63 "format does not support checks" never applies to
// qcow2), judged from the report alone so that the CLI, the server and the tests agree
// (docs/DECISIONS.md, issue 11).
import type { CheckReport } from './check';
import type { Finding } from './findings';

export const EXIT_CLEAN = 0;
/** qemu-img check could not check the image: it cannot open it, or the check itself failed. */
export const EXIT_CHECK_FAILED = 1;
export const EXIT_CORRUPTIONS = 2;
export const EXIT_LEAKS = 3;
/**
 * Ours, not qemu-img's: the qcow2 structures are clean by qemu-img's rules (stock qemu-img on a copy with
 * incompatible bit 5 cleared would exit 0), but the zoned metadata has errors. It replaces only a 0: a
 * qcow2 problem keeps qemu-img's code.
 */
export const EXIT_ZONED_ERRORS = 4;

/**
 * Findings for which stock qemu-img 7.2 cannot open the image (qcow2_do_open, qcow2_read_extensions, the
 * backing chain), so `qemu-img check -f qcow2` prints "Could not open …" and exits 1. Findings about
 * tables QEMU refuses during the check itself count as check errors in the report instead.
 */
const QEMU_REFUSES_OPEN: ReadonlySet<string> = new Set([
  'header.compression_type', // "Unknown compression type", "Compression type incompatible feature bit must not be set"
  'header.compression-bit',
  'header.backing_file_size', // "Backing file name too long"
  'header.backing_file_offset',
  'header.backing-file-name',
  'header.crypt_method', // "Unsupported encryption method: N"
  'header.crypt-aes', // "Parameter 'encrypt.key-secret' is required for cipher"
  'header.extended-l2-cluster-size', // "Unsupported subcluster size"
  'header.data-file-missing', // "'data-file' is required for this image"
  'header.data-file-raw-without-data-file',
  'header.crypto-header-missing',
  'features.unknown-incompatible', // "Unsupported qcow2 feature(s): …"
  'zoned.bit-without-extension', // "Unsupported qcow2 feature(s): Unknown incompatible feature: 20"
  'extension.backing-format-too-long', // "ERROR: ext_backing_format: len=… too large (>=16)"
  'extension.bitmaps-reserved', // "bitmaps_ext: Reserved field is not zero"
  'extension.bitmaps-count',
  'extension.bitmaps-directory-size',
  'extension.bitmaps-directory-offset',
  'extension.bitmaps.length',
  'extension.crypto.length',
  'extension.crypto-unexpected',
  'extension.crypto-offset',
  'bitmaps.entry-invalid', // "Could not read bitmap_table table from image" (bitmaps load at open)
  'backing.missing', // "Could not open backing file: …"
  'data-file.missing', // "Could not open 'FILE': No such file or directory"
  'extension.overrun', // "Header extension too large" (openImage refuses it too)
]);

/** Stock qemu-img cannot open the image because of this finding (exit 1). */
export function qemuRefusesOpen(f: Finding): boolean {
  return f.severity === 'error' && QEMU_REFUSES_OPEN.has(f.id);
}

/**
 * A finding about the zoned metadata only: stock QEMU does not see it on a copy with bit 5 cleared (bit 5
 * without any zoned extension is not one: that image opens nowhere).
 */
export function zonedOnly(f: Finding): boolean {
  return f.id.startsWith('zoned.') && f.id !== 'zoned.bit-without-extension';
}

/**
 * 1 when the image cannot be checked (we cannot read it, qemu-img cannot open it, the check had errors, or
 * the walk missed tables so neither "clean" nor "leaks only" can be claimed); 2 on corruptions or any
 * other error finding (some are beyond qemu-img: docs/DECISIONS.md, issue 11); 3 on leaks only; 4 when
 * only zoned findings are errors; else 0.
 */
export function checkExitCode(r: CheckReport): number {
  if (!r.openable || r['check-errors'] > 0 || r.findings.some(qemuRefusesOpen)) return EXIT_CHECK_FAILED;
  if (r.corruptions > 0 || r.findings.some((f) => f.severity === 'error' && !zonedOnly(f))) return EXIT_CORRUPTIONS;
  if (!r.complete) return EXIT_CHECK_FAILED;
  if (r.leaks > 0) return EXIT_LEAKS;
  if (r.findings.some((f) => f.severity === 'error')) return EXIT_ZONED_ERRORS;
  return EXIT_CLEAN;
}
