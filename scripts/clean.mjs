// Removes build output folders (given as arguments) so that files of deleted sources do not
// linger in dist/ and get published.
import { rmSync } from 'node:fs';

for (const dir of process.argv.slice(2)) rmSync(dir, { recursive: true, force: true });
