// Wording of the create wizard: the engine's validation messages name options and CLI flags (they serve
// `qzs create` too); in the form they name the control to change. Sizes are shown in the unit the user
// typed. Pure functions, so the wizard and its tests share them.
import { human } from '../format';
import { parseQemuSize } from '../../shared/qcow2/create-options';
import { zonedTarget } from '../../shared/qcow2/zoned-targets';
import { ZONED_LAYOUT_ALIASES } from '../../shared/qcow2/create-options';

/** The label of the form control for each option (and the controls that are not options). */
export const CONTROL_LABELS: Readonly<Record<string, string>> = {
  size: 'Virtual size', cluster_size: 'Cluster size', compat: 'Compat (version)', refcount_bits: 'Refcount bits',
  extended_l2: 'Extended L2 entries', compression_type: 'Compression type', lazy_refcounts: 'Lazy refcounts',
  preallocation: 'Preallocation', backing_file: 'Backing file', backing_fmt: 'Backing format',
  data_file: 'Data file', data_file_raw: 'Data file raw',
  'zone.mode': 'Zoned (host-managed)', 'zone.size': 'Zone size', 'zone.capacity': 'Zone capacity',
  'zone.conventional_zones': 'Conventional zones', 'zone.max_open_zones': 'Max open zones',
  'zone.max_active_zones': 'Max active zones', 'zone.max_append_bytes': 'Max append bytes',
  layout: 'Target revision',
};

export function controlLabel(option: string): string {
  return CONTROL_LABELS[option] ?? option;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Option names that cannot be mistaken for English words (they hold a dot or an underscore). */
const OPTION_WORDS = Object.keys(CONTROL_LABELS).filter((k) => /[._]/.test(k)).sort((a, b) => b.length - a.length);
const OPTION_RE = new RegExp(`'?\\b(${OPTION_WORDS.map(escape).join('|')})'?(?:=([^\\s,;:)]+))?`, 'g');

function targetName(id: string): string {
  const layout = Object.prototype.hasOwnProperty.call(ZONED_LAYOUT_ALIASES, id) ? ZONED_LAYOUT_ALIASES[id] : undefined;
  return layout ? zonedTarget(layout).name : id;
}

/**
 * A validation message in the form's words: CLI flags become the control that does the same, option
 * names become control labels ("zone.size" → "Zone size"), qemu-img's "use version=v3" becomes the
 * Compat control. QEMU's own quoted texts keep their spelling (their field names use no dots).
 */
export function forUi(message: string): string {
  return message
    .replace(/\s*\((?:use )?--strict[^)]*\)/g, '')
    .replace(/use --zoned-layout (\w+)/g, (_m, id: string) => `choose "${targetName(id)}" as the Target revision`)
    .replace(/--zoned-layout (\w+)/g, (_m, id: string) => `the Target revision "${targetName(id)}"`)
    .replace(/\(use version=v3 or greater\)/g, '(set Compat (version) to 1.1)')
    .replace(OPTION_RE, (_m, key: string, value: string | undefined) => `"${controlLabel(key)}"${value !== undefined ? ` ${value}` : ''}`)
    .replace(/\bcompat=([\d.]+)/g, 'Compat (version) $1');
}

export interface SizeUnit { factor: number; name: string }

const UNITS: Record<string, SizeUnit> = {
  k: { factor: 1024, name: 'KiB' }, m: { factor: 1024 ** 2, name: 'MiB' }, g: { factor: 1024 ** 3, name: 'GiB' },
  t: { factor: 1024 ** 4, name: 'TiB' }, p: { factor: 1024 ** 5, name: 'PiB' }, e: { factor: 1024 ** 6, name: 'EiB' },
};

/** The unit a size was typed in ("768M" → MiB); null for plain bytes or text that is not a size. */
export function unitOf(text: string | undefined): SizeUnit | null {
  if (!text || !parseQemuSize(text).ok) return null;
  const m = /([kKmMgGtTpPeE])\s*$/.exec(text.trim());
  return m ? UNITS[m[1].toLowerCase()] : null;
}

/**
 * A size in the user's unit ("768 MiB"), with the exact bytes beside it when it is not a whole number of
 * that unit; below one unit (metadata of a large image) the nearest binary unit, always with its bytes.
 */
export function inUnit(bytes: number, unit: SizeUnit | null): string {
  if (!unit) return bytes < 1024 ? `${bytes} bytes` : `${bytes} bytes (${human(bytes)})`;
  if (bytes < unit.factor) return bytes < 1024 ? `${bytes} bytes` : `${human(bytes)} (${bytes} bytes)`;
  const v = bytes / unit.factor;
  if (Number.isInteger(v)) return `${v} ${unit.name}`;
  return `${Number(v.toFixed(3))} ${unit.name} (${bytes} bytes)`;
}
