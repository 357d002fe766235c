// Creates enrichbot's HubSpot property group and properties, idempotently: the same as
// `enrichbot hubspot setup` (run it after `npm run build`: node dist/scripts/hubspot-setup.js).
import { main } from '../src/cli/main.js';

await main([process.argv[0], 'enrichbot', 'hubspot', 'setup']);
