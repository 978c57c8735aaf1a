// Fails when the web client's modules import each other in a circle (`npm run check`).
// `node scripts/check-cycles.mjs [folder]`: web/src unless a folder is given.
//
// Every import between files in src/ counts: static, `export … from`, dynamic `import()`,
// and type-only ones too (a type cycle is still two modules that each need the other).
// The parser is the one Vite builds with (oxc, through `vite`'s own export), so nothing
// is guessed from text.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSync } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, 'src');
const EXTENSIONS = ['.ts', '.tsx'];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return null; // a package: not ours
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => join(base, 'index' + e))]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* try the next */
    }
  }
  return null; // CSS and other assets, or a broken path (tsc reports those)
}

function importsOf(path) {
  const code = readFileSync(path, 'utf8');
  const { module, errors } = parseSync(path, code);
  if (errors.length) throw new Error(`${relative(root, path)}: ${errors[0].message}`);
  const specs = [
    ...module.staticImports.map((i) => i.moduleRequest.value),
    ...module.staticExports.flatMap((e) => e.entries.map((x) => x.moduleRequest?.value).filter(Boolean)),
    ...module.dynamicImports.map((d) => code.slice(d.moduleRequest.start, d.moduleRequest.end).replace(/^['"`]|['"`]$/g, '')),
  ];
  return [...new Set(specs.map((s) => resolveImport(path, s)).filter(Boolean))];
}

const graph = new Map(files(src).map((f) => [f, importsOf(f)]));

// Tarjan's strongly connected components: every component with more than one module (or a
// module importing itself) is a cycle.
let index = 0;
const stack = [];
const meta = new Map();
const cycles = [];
function visit(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) || []) {
    if (!meta.has(w)) {
      visit(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) {
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
  }
  if (meta.get(v).low === meta.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) || []).includes(v)) cycles.push(component);
  }
}
for (const v of graph.keys()) if (!meta.has(v)) visit(v);

/** One concrete loop inside a component, for the message: a → b → … → a. */
function loopIn(component) {
  const inside = new Set(component);
  const start = component[component.length - 1];
  const seen = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) || []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = seen.get(x)) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

const name = (f) => relative(src, f);
if (cycles.length) {
  console.error(`Import cycles in ${relative(process.cwd(), src) || '.'} (${cycles.length}):`);
  for (const c of cycles) {
    console.error(`  ${loopIn(c).map(name).join(' → ')}`);
    if (c.length > 2) console.error(`    (all of: ${c.map(name).sort().join(', ')})`);
  }
  process.exit(1);
}
console.log(`No import cycles among ${graph.size} modules in ${relative(process.cwd(), src) || '.'}.`);
