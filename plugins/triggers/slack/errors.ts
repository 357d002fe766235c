// The Slack trigger's coded errors, declared on its definition (`errors`) so start-up checks that
// neither the core nor another plugin uses the same codes.
import { defineErrors } from '../../../src/sdk/index.js';

export const SlackErrors = defineErrors({
  SLACK_TOKEN_KEY_MISSING: 'Slack installations are stored sealed: set SLACK_TOKEN_KEYS, and keep listing every key an installation was sealed with (after the current one).',
  SLACK_NOT_INSTALLED: 'enrichbot is not installed in that Slack workspace, or its token expired and could not be refreshed: install it from /slack/install.',
});
