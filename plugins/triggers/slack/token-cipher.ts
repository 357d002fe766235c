// Installation tokens at rest, sealed with the SDK's TokenCipher (AES-256-GCM) under SLACK_TOKEN_KEYS.
import { TokenCipher as Cipher, type TokenKey } from '../../../src/sdk/index.js';
import { SlackErrors } from './errors.js';

export { TokenKeysSchema, type Sealed, type TokenKey } from '../../../src/sdk/index.js';

export class TokenCipher extends Cipher {
  constructor(keys: TokenKey[]) {
    super(keys, { setting: 'SLACK_TOKEN_KEYS', sealed: 'a Slack installation', missingKeyCode: SlackErrors.SLACK_TOKEN_KEY_MISSING.code });
  }
}
