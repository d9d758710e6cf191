// @vitest-environment jsdom
// The wizard shows the engine's own validation messages (validateCreateOptions) under the field they
// concern, as the user types, and the derived numbers beside them.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateRequest } from '../../shared/contract/dto';
import { validateCreateOptions } from '../../shared/qcow2/create-options';
import { ZONED_TARGETS } from '../../shared/qcow2/zoned-targets';
import { forUi, inUnit, unitOf } from '../../renderer/views/wizard-text';
import { CreateWizard } from '../../renderer/views/create-wizard';
import { initialState, useStore } from '../../renderer/store';

afterEach(() => {
  cleanup();
  useStore.setState(initialState, true);
});

describe('create wizard', () => {
  it('shows the validation message for a bad size under the size field, live', () => {
    const { container } = render(<CreateWizard />);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '12x' } });
    const expected = validateCreateOptions({ options: { size: '12x' } }).errors.find((e) => e.option === 'size')!.message;
    const shown = container.querySelector('.invalid[data-option="size"]');
    expect(shown?.textContent).toBe(expected);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '1G' } });
    expect(container.querySelector('.invalid[data-option="size"]')).toBeNull();
  });

  it('derives nr_zones and flags zone rules on the Zoned step', () => {
    const { container } = render(<CreateWizard />);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '96M' } });
    fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
    fireEvent.click(screen.getByLabelText('Zoned (host-managed)'));
    fireEvent.change(screen.getByLabelText('Zone size'), { target: { value: '8M' } });
    expect(screen.getByTestId('derived-nr-zones').textContent).toBe('12');
    fireEvent.change(screen.getByLabelText('Zone capacity'), { target: { value: '16M' } });
    const expected = validateCreateOptions({ options: { size: '96M', 'zone.mode': 'host-managed', 'zone.size': '8M', 'zone.capacity': '16M' } }).errors.map((e) => e.message);
    const shown = Array.from(container.querySelectorAll('.invalid[data-option="zone.capacity"]')).map((e) => e.textContent);
    expect(shown.length).toBeGreaterThan(0);
    for (const m of shown) expect(expected).toContain(m);
    expect(screen.getByTestId('error-count').textContent).toMatch(/problem/);
  });

  it('keeps Create disabled while the transport cannot create', () => {
    render(<CreateWizard />);
    fireEvent.click(screen.getByRole('tab', { name: /Review/ }));
    expect((screen.getByRole('button', { name: 'Create and open' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('offers the four zoned targets, each with what it is and which QEMU builds read it', () => {
    render(<CreateWizard />);
    fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
    const radios = screen.getAllByRole('radio') as HTMLInputElement[];
    expect(radios.map((r) => r.value)).toEqual(['v7', 'v8', 'v11', 'respin']);
    // Disabled until the image is zoned; v7 (the seed) stays the default.
    expect(radios.every((r) => r.matches(':disabled'))).toBe(true);
    expect(radios.find((r) => r.checked)?.value).toBe('v7');
    const text = screen.getByTestId('zone-targets').textContent ?? '';
    for (const t of ZONED_TARGETS) {
      expect(text).toContain(t.what);
      expect(text).toContain(`Read by: ${t.readBy}.`);
    }
  });

  it('validates with the chosen target\'s rules: v11 refuses a 48M zone size, the respin any append limit', () => {
    const { container } = render(<CreateWizard />);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '192M' } });
    fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
    fireEvent.click(screen.getByLabelText('Zoned (host-managed)'));
    fireEvent.change(screen.getByLabelText('Zone size'), { target: { value: '48M' } });
    expect(container.querySelector('.invalid[data-option="zone.size"]')).toBeNull();
    fireEvent.click(screen.getByRole('radio', { name: /v11 family/ }));
    expect(container.querySelector('.invalid[data-option="zone.size"]')?.textContent).toContain('is not a power of 2');
    fireEvent.change(screen.getByLabelText('Zone size'), { target: { value: '64M' } });
    expect(screen.getByTestId('derived-revision').textContent).toBe('v11 family (State A)');
    fireEvent.change(screen.getByLabelText('Max append bytes'), { target: { value: '4k' } });
    fireEvent.click(screen.getByRole('radio', { name: /Cassel respin/ }));
    expect(container.querySelector('.invalid[data-option="zone.max_append_bytes"]')?.textContent).toContain('the respin has no zone append limit');
  });

  it('errors name the control to change, never a CLI flag; the review lists them by control', () => {
    const { container } = render(<CreateWizard />);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '32G' } });
    fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
    fireEvent.click(screen.getByLabelText('Zoned (host-managed)'));
    fireEvent.change(screen.getByLabelText('Zone size'), { target: { value: '8G' } });
    const engine = validateCreateOptions({ options: { size: '32G', 'zone.mode': 'host-managed', 'zone.size': '8G' } }).errors.find((e) => e.option === 'zone.size')!;
    expect(engine.message).toContain('--zoned-layout v8');
    const shown = container.querySelector('.invalid[data-option="zone.size"]')?.textContent ?? '';
    expect(shown).toContain('choose "v8/v9/v10" as the Target revision');
    expect(shown).toContain('"Zone size" 8589934592');
    fireEvent.click(screen.getByRole('tab', { name: /Review/ }));
    const items = Array.from(screen.getByTestId('review-errors').querySelectorAll('li')).map((li) => li.textContent ?? '');
    expect(items.some((t) => t.startsWith('Zone size: '))).toBe(true);
    // (The equivalent qemu-img command below them spells the options, as it must.)
    const wording = [...items, ...Array.from(container.querySelectorAll('.invalid, .warning-text')).map((e) => e.textContent ?? '')].join('\n');
    expect(wording).not.toMatch(/--zoned-layout|--strict|zone\.size/);
    expect(screen.getByTestId('error-count').textContent).toContain('Zone size');
  });

  it('shows sizes in the unit the user typed, and explains metadata against the new file size', () => {
    render(<CreateWizard />);
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '768M' } });
    expect(screen.getByTestId('derived-size').textContent).toBe('768 MiB');
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '1536k' } });
    expect(screen.getByTestId('derived-size').textContent).toBe('1536 KiB');
    fireEvent.change(screen.getByLabelText('Virtual size'), { target: { value: '2G' } });
    expect(screen.getByTestId('derived-size').textContent).toBe('2 GiB');
    const v = validateCreateOptions({ options: { size: '2G' } });
    // Metadata below one GiB: its own unit, with the exact bytes.
    expect(screen.getByTestId('derived-metadata').textContent).toBe(inUnit(v.derived!.metadataBytes, unitOf('2G')));
    expect(screen.getByTestId('derived-metadata').textContent).toContain(`(${v.derived!.metadataBytes} bytes)`);
    expect(screen.getByTestId('derived-file-size').textContent).toContain(`(${v.derived!.fileSize} bytes)`);
    const explain = screen.getByTestId('derived-explain').textContent ?? '';
    expect(explain).toContain(`(${v.derived!.metadataBytes / 65536} clusters of 64 KiB)`);
    expect(explain).toMatch(/bytes actually written/);
  });

  it('sends the chosen target in the create request', async () => {
    const sent: CreateRequest[] = [];
    const caps = { transport: 'http', zoneReport: true, zoneOps: true, zoneWrite: true, create: true, check: true, repair: true, edit: true, openDialog: false } as const;
    useStore.setState({
      info: { version: 't', capabilities: caps, sessions: [], recent: [] },
      long: (async (_label: string, fn: (a: unknown, job: string) => Promise<unknown>) => fn({ 'create:run': (req: CreateRequest) => { sent.push(req); return Promise.resolve({ ok: false, error: { code: 'internal', message: 'stop here' } }); } }, 'j1')) as never,
    });
    render(<CreateWizard />);
    fireEvent.click(screen.getByRole('button', { name: 'Small zoned test disk' }));
    fireEvent.click(screen.getByRole('tab', { name: /Zoned/ }));
    fireEvent.click(screen.getByRole('radio', { name: /Cassel respin/ }));
    fireEvent.change(screen.getByLabelText('Max append bytes'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('tab', { name: /Review/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Create and open' }));
    await screen.findByText('stop here');
    expect(sent).toHaveLength(1);
    expect(sent[0].zonedLayout).toBe('respin');
    expect(sent[0].options['zone.max_append_bytes']).toBeUndefined();
  });
});

describe('wizard wording (wizard-text.ts)', () => {
  it('forUi: flags become controls, option names become labels, QEMU\'s own field names stay', () => {
    expect(forUi('use --zoned-layout v8 (64-bit zone size and capacity)')).toBe('choose "v8/v9/v10" as the Target revision (64-bit zone size and capacity)');
    expect(forUi("'zone.max_open_zones' needs zone.mode=host-managed")).toBe('"Max open zones" needs "Zoned (host-managed)" host-managed');
    expect(forUi('Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)')).toContain('(set Compat (version) to 1.1)');
    expect(forUi('Zoned extension header zone_size 50331648B is not a power of 2')).toBe('Zoned extension header zone_size 50331648B is not a power of 2');
    expect(forUi('a script sees a failure (use --strict to make qzs exit 1 too, keeping the image)')).toBe('a script sees a failure');
  });

  it('unitOf and inUnit', () => {
    expect(unitOf('768M')).toEqual({ factor: 1 << 20, name: 'MiB' });
    expect(unitOf('1000')).toBeNull();
    expect(unitOf('12x')).toBeNull();
    expect(inUnit(805306368, unitOf('768M'))).toBe('768 MiB');
    expect(inUnit(1536 * 1024, unitOf('1G'))).toBe('1.50 MiB (1572864 bytes)');
    expect(inUnit(3 * (1 << 30) / 2, unitOf('1G'))).toBe('1.5 GiB (1610612736 bytes)');
    expect(inUnit(512, unitOf('1G'))).toBe('512 bytes');
  });
});
