// Feature bits, named from our built-in table and from the image's own feature name table
// (docs/interop/qcow2.rst "Feature name table"); disagreements between the two are reported.

export type FeatureKind = 'incompatible' | 'compatible' | 'autoclear';

export const FEATURE_KIND_CODES: Record<FeatureKind, number> = { incompatible: 0, compatible: 1, autoclear: 2 };

export interface KnownFeature {
  kind: FeatureKind;
  bit: number;
  /** The name QEMU writes into its feature name table. */
  name: string;
  description: string;
  /** True when we can read images with it set (incompatible bits only matter). */
  supported: boolean;
  proposed?: boolean;
}

export const KNOWN_FEATURES: readonly KnownFeature[] = [
  { kind: 'incompatible', bit: 0, name: 'dirty bit', description: 'refcounts may be stale (lazy refcounts in use, image not closed cleanly)', supported: true },
  { kind: 'incompatible', bit: 1, name: 'corrupt bit', description: 'QEMU found corruption: image is read-only until repaired', supported: true },
  { kind: 'incompatible', bit: 2, name: 'external data file', description: 'guest data lives in an external data file', supported: true },
  { kind: 'incompatible', bit: 3, name: 'compression type', description: 'compression_type field is non-zero (zstd)', supported: true },
  { kind: 'incompatible', bit: 4, name: 'extended L2 entries', description: 'L2 entries are 128 bits with 32 subclusters per cluster', supported: true },
  { kind: 'incompatible', bit: 5, name: 'zoned format', description: 'the image emulates a zoned device (proposed extension, not in upstream QEMU)', supported: true, proposed: true },
  { kind: 'compatible', bit: 0, name: 'lazy refcounts', description: 'refcount updates may be deferred; the dirty bit marks stale refcounts', supported: true },
  { kind: 'autoclear', bit: 0, name: 'bitmaps', description: 'the bitmaps extension is consistent', supported: true },
  { kind: 'autoclear', bit: 1, name: 'raw external data', description: 'the external data file reads as a raw image', supported: true },
];

export function knownFeature(kind: FeatureKind, bit: number): KnownFeature | undefined {
  return KNOWN_FEATURES.find((f) => f.kind === kind && f.bit === bit);
}

export interface FeatureTableEntry {
  kind: FeatureKind | 'unknown';
  typeCode: number;
  bit: number;
  name: string;
  /** Offset of the 48-byte entry in the file. */
  offset: number;
}

export interface FeatureBit {
  kind: FeatureKind;
  bit: number;
  set: boolean;
  /** Name from our table, if we know the bit. */
  knownName: string | null;
  /** Name from the image's feature name table, if it has an entry. */
  imageName: string | null;
  /** Unknown to us (no built-in entry). */
  unknown: boolean;
  /** Both tables name the bit and the names differ. */
  disagreement: boolean;
  /** Set and dangerous: dirty, corrupt, or an unknown incompatible bit. */
  dangerous: boolean;
}

/**
 * Every bit that is set, named by our table or the image's, plus every bit either table names
 * (so the UI can draw the full grid with names).
 */
export function describeFeatureBits(
  kind: FeatureKind,
  mask: bigint,
  imageTable: readonly FeatureTableEntry[],
): FeatureBit[] {
  const out: FeatureBit[] = [];
  for (let bit = 0; bit < 64; bit++) {
    const set = ((mask >> BigInt(bit)) & 1n) === 1n;
    const known = knownFeature(kind, bit);
    const img = imageTable.find((e) => e.kind === kind && e.bit === bit);
    if (!set && !known && !img) continue;
    const unknown = !known;
    out.push({
      kind,
      bit,
      set,
      knownName: known?.name ?? null,
      imageName: img?.name ?? null,
      unknown,
      disagreement: !!known && !!img && known.name !== img.name,
      dangerous: set && kind === 'incompatible' && (bit === 0 || bit === 1 || unknown),
    });
  }
  return out;
}

/** The name to show for a bit: ours, then the image's, then "unknown bit N". */
export function featureDisplayName(b: FeatureBit): string {
  return b.knownName ?? b.imageName ?? `unknown ${b.kind} bit ${b.bit}`;
}
