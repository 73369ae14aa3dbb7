// The third-party code the published bundles contain (comlink in wasm-rnn/worker, protobufjs and
// onnx-proto in wasm-rnn/onnx, cli-progress and its helpers in the CLI), with each package's
// licence text, as its licence asks of redistributed copies: dist/THIRD-PARTY-NOTICES.md.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package folders (…/node_modules/name or …/node_modules/@scope/name) an esbuild metafile's inputs come from. */
export function bundledPackages(metafile) {
  const dirs = new Set();
  for (const f of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) dirs.add(m[1]);
  }
  return dirs;
}

/** Writes the notices for `packages` (folder → the bundles that contain it). */
export function writeNotices(packages, outfile) {
  const rows = [...packages].map(([dir, bundles]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)([-.][\w.-]+)?$/i.test(f));
    if (!file) throw new Error(`notices: ${pkg.name}@${pkg.version} (${dir}) ships no licence file`);
    return { name: pkg.name, version: pkg.version, license: pkg.license, bundles: [...bundles].sort(), text: readFileSync(join(dir, file), 'utf8').trim() };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1));
  const L = ['# Third-party notices', '', 'wasm-rnn itself is MIT-licensed (LICENSE). These bundles of the package contain code of the', 'following packages, under their own licences:', ''];
  for (const r of rows) L.push(`- ${r.name} ${r.version} (${r.license}), in ${r.bundles.join(', ')}`);
  for (const r of rows) L.push('', `## ${r.name} ${r.version}`, '', '```', r.text, '```');
  writeFileSync(outfile, L.join('\n') + '\n');
}
