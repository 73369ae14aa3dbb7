#!/usr/bin/env node
/** The `wasm-rnn` executable (bundled into dist/cli/wasm-rnn.js): runs the command line, sets the exit code. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
