import { render } from 'preact';
import './styles.css';
import { applyTheme } from './theme';
import { App } from './components/App';
import './install';

applyTheme();

render(<App />, document.getElementById('app')!);

if ('serviceWorker' in navigator && location.protocol !== 'file:' && !import.meta.env.DEV) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  });
}
