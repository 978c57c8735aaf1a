export type ThemePref = 'system' | 'light' | 'dark';

export function themePref(): ThemePref {
  const v = localStorage.getItem('ic.theme');
  return v === 'light' || v === 'dark' ? v : 'system';
}

const mq = window.matchMedia('(prefers-color-scheme: dark)');

export function applyTheme(p: ThemePref = themePref()): void {
  const dark = p === 'dark' || (p === 'system' && mq.matches);
  const root = document.documentElement;
  root.dataset.theme = dark ? 'dark' : 'light';
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute('content', dark ? '#1b1b21' : '#f7f8ff');
}

export function setThemePref(p: ThemePref): void {
  if (p === 'system') localStorage.removeItem('ic.theme');
  else localStorage.setItem('ic.theme', p);
  applyTheme(p);
}

mq.addEventListener('change', () => applyTheme());
