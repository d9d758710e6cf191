// The in-app theme: system (follow the OS, also when it changes), light or dark; remembered in
// localStorage. It sets data-theme on <html>, which styles.css keys its dark palette on.
import { useSyncExternalStore } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const KEY = 'qzs.theme';

function stored(): ThemeChoice {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' || v === 'system' ? v : 'system';
  } catch {
    // Storage can be unavailable (a sandboxed origin): the choice then lasts for this window only.
    return 'system';
  }
}

let choice: ThemeChoice = typeof window === 'undefined' ? 'system' : stored();
const listeners = new Set<() => void>();
const darkQuery = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

/** What the page shows for a choice: the OS's scheme under "system". */
export function effectiveTheme(c: ThemeChoice, osDark: boolean): 'light' | 'dark' {
  return c === 'system' ? (osDark ? 'dark' : 'light') : c;
}

function apply(): void {
  if (typeof document === 'undefined') return;
  document.documentElement.dataset.theme = effectiveTheme(choice, !!darkQuery?.matches);
  document.documentElement.dataset.themeChoice = choice;
}

export function setTheme(c: ThemeChoice): void {
  choice = c;
  try { window.localStorage.setItem(KEY, c); } catch { /* see stored() */ }
  apply();
  for (const l of listeners) l();
}

export function getTheme(): ThemeChoice {
  return choice;
}

/** Apply the remembered choice now (before the first render) and follow the OS while it is "system". */
export function initTheme(): void {
  apply();
  darkQuery?.addEventListener?.('change', apply);
}

export function useTheme(): ThemeChoice {
  return useSyncExternalStore((l) => { listeners.add(l); return () => listeners.delete(l); }, getTheme);
}

/** The theme the page shows now (changes with the choice, and with the OS under "system"). */
export function useEffectiveTheme(): 'light' | 'dark' {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    darkQuery?.addEventListener?.('change', l);
    return () => { listeners.delete(l); darkQuery?.removeEventListener?.('change', l); };
  }, () => effectiveTheme(choice, !!darkQuery?.matches));
}
