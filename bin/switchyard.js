#!/usr/bin/env node
// The published entry point: the compiled CLI in dist/ (built by `npm ci` through `prepare`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
