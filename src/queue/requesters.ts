// Hands a job's result to everyone who asked for it. Each requester is claimed once, so it is
// answered once even when two runs of the job race; a paused job tells its requesters once and
// answers them again when it has finished.
import type { Models } from '../store/models.js';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { Logger } from '../logger.js';

export type Deliver = (result: JobResult, replyTo: ReplyTo) => Promise<void>;

export async function answerRequesters(models: Models, result: JobResult, deliver: Deliver, logger: Logger): Promise<number> {
  const paused = result.status === 'paused';
  const filter = paused ? { jobId: result.jobId, delivered: false, pausedNotified: false } : { jobId: result.jobId, delivered: false };
  const claim = paused ? { $set: { pausedNotified: true } } : { $set: { delivered: true } };
  let answered = 0;
  for (;;) {
    const r = await models.Requester.findOneAndUpdate(filter, claim).lean();
    if (!r) return answered;
    const replyTo = r.replyTo as ReplyTo;
    await deliver(result, replyTo).then(
      () => answered++,
      (err) => logger.error({ err, jobId: result.jobId, trigger: replyTo.trigger }, 'could not deliver the result'),
    );
  }
}
