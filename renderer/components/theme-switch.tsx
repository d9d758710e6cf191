// System / light / dark, in the toolbar; the choice is remembered (renderer/theme.ts).
import { setTheme, THEME_CHOICES, useTheme, type ThemeChoice } from '../theme';

const LABEL: Record<ThemeChoice, string> = { system: 'System', light: 'Light', dark: 'Dark' };

export function ThemeSwitch() {
  const theme = useTheme();
  return (
    <select className="theme-switch" aria-label="theme" value={theme} title="Colour theme (System follows the OS)" data-testid="theme-switch"
      onChange={(e) => setTheme(e.target.value as ThemeChoice)}>
      {THEME_CHOICES.map((c) => <option key={c} value={c}>{LABEL[c]}</option>)}
    </select>
  );
}
