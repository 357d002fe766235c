// OAuth `state` for Slack installs, single-use: a random value kept in Redis for ten minutes
// (Slack's state cookie lives as long) and taken with GETDEL when the installer comes back, so a
// state (and its cookie) works for one redirect only, in whichever process receives it. Bolt's
// default store is stateless (signed) and would accept the same state again within its window.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InvalidStateError, type InstallURLOptions, type StateStore } from '@slack/oauth';

export const STATE_TTL_SECONDS = 600;

export class RedisStateStore implements StateStore {
  constructor(private readonly redis: Redis) {}

  async generateStateParam(installOptions: InstallURLOptions): Promise<string> {
    const state = randomBytes(24).toString('base64url');
    await this.redis.set(`oauth-state:${state}`, JSON.stringify(installOptions), 'EX', STATE_TTL_SECONDS);
    return state;
  }

  async verifyStateParam(_now: Date, state: string): Promise<InstallURLOptions> {
    if (!/^[\w-]{1,64}$/.test(state)) throw new InvalidStateError('The state parameter is malformed.');
    const saved = await this.redis.getdel(`oauth-state:${state}`);
    if (saved === null) throw new InvalidStateError('The state parameter is unknown, expired or already used: start again from /slack/install.');
    return JSON.parse(saved) as InstallURLOptions;
  }
}
