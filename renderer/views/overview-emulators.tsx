// The Overview's "Same device elsewhere" for an open zoned image: its geometry with the effective limits
// (emulatorGeometryFromExtension), so the lines match `qzs info --emulators` of the same file.
import type { ImageSummary } from '../../shared/contract/dto';
import { emulatorGeometryFromExtension } from '../../shared/qcow2/emulators';
import { EmulatorPanel } from './emulator-panel';

export function OverviewEmulators({ s }: { s: ImageSummary }) {
  if (!s.zoned) return null;
  return <EmulatorPanel geometry={emulatorGeometryFromExtension(s.zoned, s.virtualSize)} image={s.session.name} />;
}
