// Prints the gzipped size of the JavaScript that index.html loads up front
// (its module script plus the chunks it preloads). Lazy chunks are listed apart.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const out = new URL('../../src/inner_circle/server/static/', import.meta.url).pathname;
if (!existsSync(join(out, 'index.html'))) {
  console.error('no build found in', out, '- run npm run build first');
  process.exit(1);
}
const html = readFileSync(join(out, 'index.html'), 'utf8');
const initial = new Set();
for (const m of html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.js)"/g)) initial.add(m[1]);
const gz = (p) => gzipSync(readFileSync(join(out, p)), { level: 9 }).length;
let total = 0;
for (const f of initial) {
  const n = gz(f);
  total += n;
  console.log(`initial  ${(n / 1024).toFixed(1).padStart(7)} KB gz  ${f}`);
}
for (const f of readdirSync(join(out, 'assets'))) {
  const p = `assets/${f}`;
  if (f.endsWith('.js') && !initial.has(p)) console.log(`lazy     ${(gz(p) / 1024).toFixed(1).padStart(7)} KB gz  ${p}`);
}
for (const f of readdirSync(join(out, 'assets'))) {
  if (f.endsWith('.css')) console.log(`css      ${(gz(`assets/${f}`) / 1024).toFixed(1).padStart(7)} KB gz  assets/${f}`);
}
const sw = join(out, 'sw.js');
if (existsSync(sw)) console.log(`sw       ${(gzipSync(readFileSync(sw)).length / 1024).toFixed(1).padStart(7)} KB gz  sw.js`);
const limit = 150 * 1024;
console.log(`Initial JS: ${(total / 1024).toFixed(1)} KB gzipped (budget 150 KB)`);
if (total > limit) {
  console.error('Initial JS is over the 150 KB budget');
  process.exit(1);
}
