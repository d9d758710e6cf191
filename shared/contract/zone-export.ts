// The file name an exported zone report gets (Electron's save dialog proposes it, serve mode downloads
// under it): the image's name without its extension, ".zones.", the format's extension.
import { ZONE_FORMAT_FILES, type ZoneReportFormat } from '../qcow2/zone-formats';

export function zoneExportFileName(imageName: string, format: ZoneReportFormat): string {
  return `${imageName.replace(/\.(qcow2?|img)$/i, '')}.zones.${ZONE_FORMAT_FILES[format].extension}`;
}
