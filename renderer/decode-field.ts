// A header field's value as a person reads it: units, names, hex for offsets, bits named.
import type { ImageSummary } from '../shared/contract/dto';
import type { Field } from '../shared/qcow2/field';
import { featureDisplayName } from '../shared/qcow2/features';
import { human } from './format';

export function decodedValue(f: Field, s: ImageSummary): string {
  if (!f.present) return 'absent (beyond header_length)';
  const v = f.value;
  if (v === null) return '—';
  if (f.name === 'magic') return `0x${f.raw} ${f.raw === '514649fb' ? "(QFI\\xfb: qcow)" : '(not qcow)'}`;
  if (typeof v !== 'number') {
    if (f.name.endsWith('_features')) {
      const kind = f.name.replace('_features', '') as 'incompatible' | 'compatible' | 'autoclear';
      const set = s.features[kind]?.filter((b) => b.set).map(featureDisplayName) ?? [];
      return `${v}${set.length ? ` (${set.join(', ')})` : ' (none)'}`;
    }
    return String(v);
  }
  switch (f.name) {
    case 'cluster_bits': return v <= 30 ? `${v} (${human(2 ** v)} clusters)` : String(v);
    case 'size': return `${v} (${human(v)})`;
    case 'crypt_method': return `${v} (${['none', 'AES', 'LUKS'][v] ?? 'unknown'})`;
    case 'compression_type': return `${v} (${['zlib', 'zstd'][v] ?? 'unknown'})`;
    case 'refcount_order': return v <= 6 ? `${v} (${2 ** v}-bit refcounts)` : String(v);
    case 'refcount_table_clusters': return s.clusterSize > 0 ? `${v} (${human(v * s.clusterSize)})` : String(v);
    case 'header_length': return `${v} bytes`;
    default:
      return f.name.endsWith('_offset') ? `${v} (0x${v.toString(16)})` : String(v);
  }
}
