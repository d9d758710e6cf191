// The only pages the app will ask the operating system to open (shell.openExternal in Electron): QEMU's
// documentation and the zoned proposal's public source. A link is accepted when it is https, carries no
// credentials or port, and starts with one of these prefixes; everything else is refused before any
// browser is involved. Add the project's own site here once it is published.
export const DOC_PREFIXES: readonly string[] = [
  'https://www.qemu.org/docs/',
  'https://qemu-project.gitlab.io/qemu/',
  'https://gitlab.com/qemu-project/qemu/-/blob/',
  'https://github.com/floatious/qemu/',
];

// Judged on the text itself (shared/ has no URL parser): one lower-case host, no user info or port (no
// '@' or ':' past the scheme), no backslash or white space, no dot segments, plain or percent-encoded.
const PLAIN = /^https:\/\/[a-z0-9.-]+\/[A-Za-z0-9._~/#?=&%+-]*$/;

/** Null when `v` is a documentation link we open, else why not (a Guard check). */
export function docsUrlProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 2048) return 'expected a documentation link';
  if (!PLAIN.test(v) || /\/\.\.?(\/|$|[?#])/.test(v) || /%2e|%2f|%5c/i.test(v)) return 'expected a plain https documentation link';
  return DOC_PREFIXES.some((p) => v.startsWith(p)) ? null : `not a documentation link this app opens (${DOC_PREFIXES.join(', ')})`;
}

export function isDocsUrl(v: unknown): v is string {
  return docsUrlProblem(v) === null;
}

/** The documentation the Help menu (Electron) and the About dialog (both) offer; each passes isDocsUrl. */
export const DOC_LINKS: readonly { title: string; url: string }[] = [
  { title: 'QEMU qcow2 format documentation', url: 'https://www.qemu.org/docs/master/interop/qcow2.html' },
  { title: 'QEMU qemu-img documentation', url: 'https://www.qemu.org/docs/master/tools/qemu-img.html' },
  { title: 'QEMU NVMe emulation (ZNS namespaces)', url: 'https://www.qemu.org/docs/master/system/devices/nvme.html' },
];
