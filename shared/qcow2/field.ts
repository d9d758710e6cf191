// A decoded on-disk field, kept with its place in the file so every view (header table, hex view,
// findings) can point at the exact bytes.

export type FieldValue = number | string | boolean | null;

export interface Field {
  name: string;
  /** Absolute byte offset in the image file. */
  offset: number;
  size: number;
  /** Raw bytes as hex, in file order. */
  raw: string;
  /** Decoded value: numbers when exact, decimal strings for u64 beyond 2^53, null when absent. */
  value: FieldValue;
  /** False when the field lies beyond header_length (reads as absent / zero). */
  present: boolean;
  /** One line saying what the field means. */
  description: string;
}
