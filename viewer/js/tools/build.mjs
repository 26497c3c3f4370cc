// Build the viewer bundle (src/viewer.js + three.js, one ES module, no imports left) into
// viewer/components/viewer.bundle.js, the file the Python package ships, so installing
// the package needs no npm.
//
//   node tools/build.mjs           write the bundle (`make bundle`)
//   node tools/build.mjs --check   rebuild in memory and exit 1 unless the committed
//                                  bundle is byte-identical (the test suite runs this)
//
// The bundle's first line records a sha256 over the sources and package-lock.json, so a
// reader (and tests/viewer/test_bundle.py, without npm) can tell which sources built it.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const output = join(root, '..', 'components', 'viewer.bundle.js');

export function sourcesDigest() {
  const hash = createHash('sha256');
  const files = readdirSync(join(root, 'src')).filter((f) => f.endsWith('.js')).sort();
  for (const name of [...files.map((f) => join('src', f)), 'package-lock.json']) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(join(root, name)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const three = JSON.parse(readFileSync(join(root, 'node_modules', 'three', 'package.json'), 'utf8')).version;
const result = await build({
  entryPoints: [join(root, 'src', 'viewer.js')],
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
  write: false,
  banner: { js: `/* erji-twin viewer bundle; three ${three}; sources sha256 ${sourcesDigest()} */` },
  logLevel: 'warning',
});
const bytes = Buffer.from(result.outputFiles[0].contents);

if (process.argv.includes('--check')) {
  let committed = Buffer.alloc(0);
  try {
    committed = readFileSync(output);
  } catch {
    // missing: reported below
  }
  if (!committed.equals(bytes)) {
    console.error(`${output} is not what the sources build (run \`make bundle\` and commit it)`);
    process.exit(1);
  }
  console.log(`bundle up to date (${bytes.length} bytes)`);
} else {
  writeFileSync(output, bytes);
  console.log(`wrote ${output} (${bytes.length} bytes)`);
}
