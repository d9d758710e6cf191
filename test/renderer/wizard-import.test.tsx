// @vitest-environment jsdom
// The wizard's "Import from a zone report" and the "Same device elsewhere" panels. The reports are printed
// by the engine's own formatters (shared/qcow2/zone-formats.ts: blkzone after util-linux sys-utils/blkzone.c
// blkzone_report(), nvme-json after nvme-cli nvme-print-json.c json_nvme_zns_report_zones(), zbd after
// libzbd tools/cli/zbd.c zbd_print_zone()), and qemu-io's is the reference sample; each is imported back
// through the dialog and must fill the wizard's fields with the same geometry.
import { readFileSync } from 'node:fs';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../shared/contract/dto';
import { emulatorEquivalents, emulatorGeometryFromCreate, emulatorGeometryFromExtension } from '../../shared/qcow2/emulators';
import { validateCreateOptions, parseQemuSize } from '../../shared/qcow2/create-options';
import { formatZoneReport, type FormattableZoneReport } from '../../shared/qcow2/zone-formats';
import { ZONE_CONDITION_CODES as C } from '../../shared/qcow2/zoned-types';
import { CreateWizard } from '../../renderer/views/create-wizard';
import { OverviewEmulators } from '../../renderer/views/overview-emulators';
import { importZoneReport, REPORT_SOURCE_NAMES, sizeField, withImport } from '../../renderer/views/wizard-import-text';
import { initialState, useStore } from '../../renderer/store';
import { DocsLinks } from '../../renderer/components/docs-links';
import { DOC_LINKS } from '../../shared/contract/docs-links';
import { sample } from '../helpers/samples';

afterEach(() => {
  cleanup();
  useStore.setState(initialState, true);
});

const MIB = 1 << 20;
// 2 conventional zones, capacity < size, a short last zone, one zone partly written and one full.
const geometry = { zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, deviceSize: 10 * 4 * MIB + 2 * MIB, conventionalZones: 2 };
const nrZones = 11;
const report: FormattableZoneReport = {
  ...geometry, nrZones,
  wp: Array.from({ length: nrZones }, (_, i) => i * geometry.zoneSize + (i === 3 ? 64 * 1024 : i === 4 ? 3 * MIB : 0)),
  cond: Array.from({ length: nrZones }, (_, i) => (i < 2 ? C['not-wp'] : i === 3 ? C.closed : i === 4 ? C.full : C.empty)),
};

function importThroughDialog(text: string): HTMLElement {
  render(<CreateWizard />);
  fireEvent.click(screen.getByRole('button', { name: 'Import from a zone report…' }));
  const dialog = screen.getByRole('dialog', { name: 'Import from a zone report' });
  fireEvent.change(within(dialog).getByLabelText('or paste it'), { target: { value: text } });
  fireEvent.click(within(dialog).getByRole('button', { name: 'Read report' }));
  return dialog;
}

const field = (label: string): string => (screen.getByLabelText(label) as HTMLInputElement).value;
const bytes = (text: string): number => { const r = parseQemuSize(text); if (!r.ok) throw new Error(text); return r.value; };

describe('wizard: import from a zone report', () => {
  for (const format of ['blkzone', 'nvme-json', 'zbd'] as const) {
    it(`reads a ${format} report, says what it derived and from which format, and fills the fields`, () => {
      const dialog = importThroughDialog(formatZoneReport(report, format));
      expect(within(dialog).getByTestId('import-source').textContent).toBe(REPORT_SOURCE_NAMES[format]);
      expect(within(dialog).getByTestId('import-result').textContent).toContain(`${nrZones} (2 conventional, 9 sequential)`);
      expect(within(dialog).getByTestId('import-like-command').textContent).toMatch(/^qzs create --like REPORT\.txt --with-write-pointers new-image\.qcow2$/);
      fireEvent.click(within(dialog).getByRole('button', { name: 'Use these values' }));
      expect(screen.queryByRole('dialog')).toBeNull();
      expect(screen.getByTestId('import-summary').textContent).toContain(REPORT_SOURCE_NAMES[format]);
      expect(bytes(field('Virtual size'))).toBe(geometry.deviceSize);
      fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
      expect((screen.getByLabelText('Zoned (host-managed)') as HTMLInputElement).checked).toBe(true);
      expect(bytes(field('Zone size'))).toBe(geometry.zoneSize);
      expect(bytes(field('Zone capacity'))).toBe(geometry.zoneCapacity);
      expect(field('Conventional zones')).toBe('2');
      expect(screen.getByTestId('derived-nr-zones').textContent).toBe(String(nrZones));
    });
  }

  it('reads a qemu-io zone_report (the reference sample) and says its cap column is the zone length', () => {
    const text = readFileSync(sample('sample-v8-mixed.zone-report.txt'), 'utf8');
    const r = importZoneReport(text);
    expect(r.ok && r.sourceName).toBe(REPORT_SOURCE_NAMES['qemu-io']);
    const dialog = importThroughDialog(text);
    expect(within(dialog).getByTestId('import-source').textContent).toBe(REPORT_SOURCE_NAMES['qemu-io']);
    // The note names the dialog's control, not the CLI's -o flag.
    const notes = within(dialog).getByTestId('import-notes').textContent!;
    expect(notes).toContain('"Zone capacity"');
    expect(notes).not.toContain('-o ');
  });

  it('shows the refusal when qcow2 cannot represent the drive (non-uniform zone sizes), and applies nothing', () => {
    const lines = formatZoneReport(report, 'blkzone').split('\n');
    // Zone 5 twice as long, every later zone shifted: a drive with two zone sizes.
    const text = lines.map((l, i) => (i === 5 ? l.replace(/len 0x[0-9a-f]+/, `len 0x${(2 * geometry.zoneSize / 512).toString(16)}`) : l)).join('\n');
    const r = importZoneReport(text);
    expect(r.ok).toBe(false);
    const dialog = importThroughDialog(text);
    const refusal = within(dialog).getByTestId('import-refusal').textContent!;
    expect(refusal).toContain('non-uniform zone sizes');
    expect(refusal).toContain(!r.ok ? r.message : '');
    expect(refusal).not.toContain('--like');
    expect((within(dialog).getByRole('button', { name: 'Use these values' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('replaces the zone options of a previous drive and keeps the qcow2 options', () => {
    const r = importZoneReport(formatZoneReport(report, 'zbd'));
    if (!r.ok) throw new Error(r.message);
    const merged = withImport({ size: '1G', cluster_size: '4096', 'zone.max_append_bytes': '8192', 'zone.capacity': '1M' }, r.options);
    expect(merged.cluster_size).toBe('4096');
    expect(merged['zone.max_append_bytes']).toBeUndefined();
    expect(bytes(merged['zone.capacity'])).toBe(geometry.zoneCapacity);
    expect(sizeField(3 * MIB)).toBe('3M');
    expect(sizeField(3 * MIB + 512)).toBe(String(3 * MIB + 512));
  });
});

describe('Same device elsewhere', () => {
  it('the Review step lists the emulators of the image about to be created, each with what does not carry over', () => {
    render(<CreateWizard />);
    fireEvent.click(screen.getByRole('button', { name: 'Small zoned test disk' }));
    fireEvent.click(screen.getByRole('tab', { name: /Review/ }));
    const panel = screen.getByRole('region', { name: 'Same device elsewhere' });
    const opts = { size: '64M', 'zone.mode': 'host-managed', 'zone.size': '4M', 'zone.conventional_zones': '1', 'zone.max_active_zones': '4', 'zone.max_open_zones': '3', 'zone.max_append_bytes': '65536' };
    const v = validateCreateOptions({ options: opts, zonedLayout: 'v7' });
    const targets = emulatorEquivalents(emulatorGeometryFromCreate(v.normalized!)!, 'new-image.qcow2');
    for (const t of targets) {
      const box = within(panel).getByTestId(`emulator-${t.id}`);
      expect(box.querySelector('pre')!.textContent).toBe(t.lines.join('\n'));
      expect(box.querySelectorAll('li')).toHaveLength(t.issues.length);
      within(box).getByRole('button', { name: `copy the ${t.title} lines` });
    }
    expect(within(panel).getByTestId('emulator-qemu-nvme-zns').textContent).toContain('zoned.zone_size=4194304');
  });

  it('is not shown in the Review step of an image that is not zoned', () => {
    render(<CreateWizard />);
    fireEvent.click(screen.getByRole('tab', { name: /Review/ }));
    expect(screen.queryByRole('region', { name: 'Same device elsewhere' })).toBeNull();
  });

  it('the Overview panel of an open zoned image uses its effective limits, and names the image in the virtio-blk line', () => {
    const zoned = { zoneSize: 4 * MIB, zoneCapacity: 3 * MIB, nrZones: 11, conventionalZones: 2, maxOpenZones: 9, maxActiveZones: 5, maxAppendBytes: 65536, hasAppendLimit: true, revision: 'v8' };
    const s = { zoned, virtualSize: geometry.deviceSize, session: { name: 'drive.qcow2' } } as unknown as ImageSummary;
    render(<OverviewEmulators s={s} />);
    const expected = emulatorEquivalents(emulatorGeometryFromExtension(s.zoned!, s.virtualSize), 'drive.qcow2');
    for (const t of expected) expect(screen.getByTestId(`emulator-${t.id}`).querySelector('pre')!.textContent).toBe(t.lines.join('\n'));
    expect(screen.getByTestId('emulator-virtio-blk').textContent).toContain('filename=drive.qcow2');
    // max_open 9 > max_active 5: the effective open limit is cut to 5.
    expect(screen.getByTestId('emulator-qemu-nvme-zns').textContent).toContain('zoned.max_open=5');
  });

  it('the Overview panel is absent for an image that is not zoned', () => {
    const { container } = render(<OverviewEmulators s={{ zoned: null } as unknown as ImageSummary} />);
    expect(container.innerHTML).toBe('');
  });
});

describe('documentation links (About, and Help in Electron)', () => {
  it('under qzs serve each is a plain link to a new tab that gets no handle on the app', () => {
    render(<DocsLinks electron={false} />);
    for (const d of DOC_LINKS) {
      const a = screen.getByRole('link', { name: d.title });
      expect(a.getAttribute('href')).toBe(d.url);
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toContain('noopener');
    }
  });

  it('in Electron each is a button (main opens the page; the window never navigates)', () => {
    render(<DocsLinks electron />);
    expect(screen.queryAllByRole('link')).toHaveLength(0);
    for (const d of DOC_LINKS) screen.getByRole('button', { name: d.title });
  });
});
