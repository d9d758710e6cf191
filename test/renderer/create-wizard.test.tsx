// @vitest-environment jsdom
// The wizard shows the engine's own validation messages (validateCreateOptions) under the field they
// concern, as the user types, and the derived numbers beside them.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { validateCreateOptions } from '../../shared/qcow2/create-options';
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
});
