export function ZoneExport(_p: { s: unknown; report: unknown }) { return null; }
