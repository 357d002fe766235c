#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

main().catch((err) => {
  process.stderr.write(`enrichbot: ${err?.message ?? err}\n`);
  process.exit(1);
});
