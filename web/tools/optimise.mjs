// `cargo xtask dist`: runs binaryen's wasm-opt (npm binaryen 132) over the
// bundle's wasm files, then rewrites the Subresource Integrity hashes Trunk
// put in index.html, which would otherwise make the browser refuse them.
// Usage: node optimise.mjs DIST_DIR
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node optimise.mjs DIST_DIR');
  process.exit(2);
}
const wasmOpt = fileURLToPath(new URL('./node_modules/binaryen/bin/wasm-opt', import.meta.url));
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');

let index = readFileSync(join(dist, 'index.html'), 'utf8');
for (const name of readdirSync(dist).filter((f) => f.endsWith('_bg.wasm'))) {
  const path = join(dist, name);
  const before = readFileSync(path);
  const started = Date.now();
  // The viewer uses SIMD, bulk memory, sign extension and non-trapping
  // float-to-int (rustc's wasm32 defaults plus simd128).
  execFileSync('node', [wasmOpt, path, '-o', path, '-O3', '--strip-debug', '--strip-producers',
    '--enable-simd', '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'], { stdio: 'inherit' });
  const after = readFileSync(path);
  const oldHash = sri(before);
  if (index.includes(oldHash)) index = index.replaceAll(oldHash, sri(after));
  console.log(`wasm-opt ${name}: ${(before.length / 1e6).toFixed(1)} MB -> ${(after.length / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
writeFileSync(join(dist, 'index.html'), index);
