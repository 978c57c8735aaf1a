import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

/** Emits /sw.js with the list of this build's files to precache and a build id. */
function serviceWorker(): Plugin {
  return {
    name: 'inner-circle-sw',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((f) => f.startsWith('assets/'))
        .sort();
      const id = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync(new URL('./sw/sw.js', import.meta.url), 'utf8')
        .replace('__BUILD_ID__', id)
        .replace('__PRECACHE__', JSON.stringify(files));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  base: '/',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  plugins: [serviceWorker()],
  build: {
    outDir: '../src/inner_circle/server/static',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: {
      '^/(auth|users|chats|messages|invitation-codes|healthz|sync)': 'http://127.0.0.1:8000',
      '/socket.io': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
});
