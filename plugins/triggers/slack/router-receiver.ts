// A Bolt receiver fed from the trigger's Express router (the web role's one HTTP server):
// POST /slack/events takes slash commands, interactivity and Events API callbacks. The raw body
// is checked against the signing secret with the injected clock (signature.ts) before anything
// is parsed; a refused request never reaches Bolt, so nothing is enqueued for it. A signed
// request is taken once (replay-guard.ts): a replay, or Slack's own retry of an event already
// taken, is answered 200 and not run again.
import express, { type Router, type Request, type Response } from 'express';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Clock, Logger } from '../../../src/sdk/index.js';
import type { Redis } from 'ioredis';
import { verifySlackSignature } from './signature.js';
import { firstTime } from './replay-guard.js';

export interface RouterReceiverOptions {
  router: Router;
  path: string;
  signingSecret: string;
  clock: Clock;
  logger: Logger;
  /** Where taken requests are remembered, shared by every web process. */
  redis: Redis;
  /** Slack waits 3 s for an answer; a listener that has not acked by then gets an empty 200. */
  ackTimeoutMs?: number;
}

export class RouterReceiver implements Receiver {
  private app?: App;

  constructor(private readonly opts: RouterReceiverOptions) {
    opts.router.post(opts.path, express.raw({ type: () => true, limit: '1mb' }), (req, res) => void this.handle(req, res));
  }

  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  private async handle(req: Request, res: Response): Promise<void> {
    const body = this.readSigned(req, res);
    if (!body) return;
    if (body.type === 'url_verification') {
      res.json({ challenge: body.challenge });
      return;
    }
    if (!this.app) {
      res.status(503).end();
      return;
    }
    const call = { req, res, body };
    if (!(await this.takeOnce(call))) return;
    await this.dispatch(this.app, call);
  }

  /** The body of a request signed with the signing secret, else undefined once answered (401 or 400). */
  private readSigned(req: Request, res: Response): Record<string, unknown> | undefined {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      timestamp: req.header('x-slack-request-timestamp'),
      signature: req.header('x-slack-signature'),
      rawBody: raw,
      now: this.opts.clock.now(),
    });
    if (!check.ok) {
      this.opts.logger.warn({ reason: check.reason }, 'slack request refused: signature check failed');
      res.status(401).json({ ok: false, error: check.reason });
      return undefined;
    }
    try {
      return parseBody(raw, req.header('content-type') ?? '');
    } catch {
      res.status(400).json({ ok: false, error: 'unreadable body' });
      return undefined;
    }
  }

  /** True the first time this signed request is seen; a replay or a retry is answered here (200, or 503 when the marks cannot be read). */
  private async takeOnce({ req, res, body }: SlackCall): Promise<boolean> {
    let fresh: boolean;
    try {
      fresh = await firstTime(this.opts.redis, req.header('x-slack-signature')!, body);
    } catch (err) {
      // Without the marks a replay could run: refuse now, Slack retries events later.
      this.opts.logger.error({ err }, 'slack request refused: could not check it against replays');
      res.status(503).end();
      return false;
    }
    if (!fresh) {
      this.opts.logger.warn({ retry: req.header('x-slack-retry-num') ?? undefined }, 'slack request already taken (a replay or a retry): acknowledged, not run again');
      res.status(200).end();
    }
    return fresh;
  }

  /** Bolt runs the listeners; the request is answered once, by whichever comes first of ack, the ack timeout and a failure. */
  private async dispatch(app: App, { req, res, body }: SlackCall): Promise<void> {
    const reply = this.answerOnce(res);
    const retry = req.header('x-slack-retry-num');
    const event: ReceiverEvent = {
      body,
      ack: reply.ack,
      retryNum: retry ? Number(retry) : undefined,
      retryReason: req.header('x-slack-retry-reason') ?? undefined,
    };
    try {
      await app.processEvent(event);
    } catch (err) {
      this.opts.logger.error({ err }, 'slack listener failed');
      reply.fail();
    }
  }

  /** The listener's ack (its response as JSON or text), an empty 200 if it has not acked in time, or a 500 if it failed before acking. */
  private answerOnce(res: Response): { ack: (response?: unknown) => Promise<void>; fail: () => void } {
    let acked = false;
    const timer = setTimeout(() => {
      if (acked) return;
      acked = true;
      this.opts.logger.warn('slack request not acknowledged within 3 s: answered empty');
      res.status(200).end();
    }, this.opts.ackTimeoutMs ?? 2800);
    const ack = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      clearTimeout(timer);
      if (response === undefined || response === null || response === '') res.status(200).end();
      else if (typeof response === 'string') res.status(200).type('text/plain').send(response);
      else res.status(200).json(response);
    };
    const fail = () => {
      if (acked) return;
      acked = true;
      clearTimeout(timer);
      res.status(500).end();
    };
    return { ack, fail };
  }
}

/** A signed, parsed request on its way to Bolt. */
interface SlackCall {
  req: Request;
  res: Response;
  body: Record<string, unknown>;
}

/** Commands and interactivity come form-encoded (interactivity as a `payload` JSON field); events as JSON. */
export function parseBody(raw: Buffer, contentType: string): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(text);
    const payload = params.get('payload');
    if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
    return Object.fromEntries(params.entries());
  }
  return JSON.parse(text) as Record<string, unknown>;
}
