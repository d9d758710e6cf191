// `qzs serve --open-dir DIR`: the browser lists and opens images under one folder of the serving host.
// Paths cross the boundary only relative to that folder ('' is the folder itself, '/' separates parts);
// the server resolves them and refuses anything that leaves it (electron/app/open-dir.ts).

export interface DirEntry {
  name: string;
  kind: 'dir' | 'file';
  /** Bytes (files); 0 for folders. */
  size: number;
  /** The file starts with qcow2's magic (QFI\xfb): the dialog lists these first and others dimmed. */
  qcow2: boolean;
}

export interface DirListing {
  /** The open folder's own name (display only: its full path stays on the server). */
  rootName: string;
  /** The listed folder, relative to the open folder ('' for the folder itself). */
  dir: string;
  entries: DirEntry[];
  /** True when the folder held more entries than one listing carries. */
  truncated: boolean;
}

/** Most entries one listing carries. */
export const MAX_DIR_ENTRIES = 2000;

/**
 * Null when `v` is a relative path we will even try to resolve: no absolute path, no drive letter, no
 * backslash, no NUL, no '..' part. The server still resolves symlinks and checks confinement itself.
 */
export function relPathProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 4096) return 'expected a path inside the open folder';
  if (v.includes('\0') || v.includes('\\')) return 'expected a path inside the open folder (no NUL or backslash)';
  if (v.startsWith('/') || /^[A-Za-z]:/.test(v)) return 'expected a path relative to the open folder, not an absolute path';
  if (v.split('/').some((p) => p === '..')) return "expected a path inside the open folder ('..' is refused)";
  return null;
}
