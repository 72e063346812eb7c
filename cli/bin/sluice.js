#!/usr/bin/env node
// The `sluice` command (package.json "bin"). Runs the TypeScript sources through tsx, as the
// repository's own scripts do (`npm start`), so a clone plus `npm ci` is all `npx sluice` needs.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.js');
process.exitCode = await main(process.argv.slice(2));
