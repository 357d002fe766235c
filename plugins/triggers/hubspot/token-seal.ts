// OAuth tokens at rest, sealed with the SDK's TokenCipher (AES-256-GCM) under HUBSPOT_TOKEN_KEYS.
import { ErrorCodes, TokenCipher as Cipher, type TokenKey } from '../../../src/sdk/index.js';

export { TokenKeysSchema, type Sealed, type TokenKey } from '../../../src/sdk/index.js';

export class TokenCipher extends Cipher {
  constructor(keys: TokenKey[]) {
    super(keys, { setting: 'HUBSPOT_TOKEN_KEYS', sealed: 'a HubSpot installation', missingKeyCode: ErrorCodes.PLUGIN_CONFIG_INVALID });
  }
}
