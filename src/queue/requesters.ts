// Hands a job's result to everyone who asked for it. Each requester is claimed once, so it is
// answered once even when two runs of the job finish together; a paused job tells its
// requesters once and answers them again when it has finished. The claim is a Redis SET NX:
// FerretDB does not make a findOneAndUpdate atomic against a concurrent one on the same document.
import type { Models } from '../store/models.js';
import type { JobResult, ReplyTo } from '../engine/types.js';
import type { Logger } from '../logger.js';

export type Deliver = (result: JobResult, replyTo: ReplyTo) => Promise<void>;
/** true once per key, ever (within its expiry): whoever gets true does the work. */
export type ClaimOnce = (key: string) => Promise<boolean>;

export async function answerRequesters(models: Models, result: JobResult, deliver: Deliver, claimOnce: ClaimOnce, logger: Logger): Promise<number> {
  const paused = result.status === 'paused';
  const pending = await models.Requester.find(paused ? { jobId: result.jobId, delivered: false, pausedNotified: false } : { jobId: result.jobId, delivered: false }).lean();
  let answered = 0;
  for (const r of pending) {
    const id = String(r._id);
    if (!(await claimOnce(`${paused ? 'paused' : 'answered'}:${id}`))) continue;
    await models.Requester.updateOne({ _id: r._id }, { $set: paused ? { pausedNotified: true } : { delivered: true } });
    const replyTo = r.replyTo as ReplyTo;
    await deliver(result, replyTo).then(
      () => answered++,
      (err) => logger.error({ err, jobId: result.jobId, trigger: replyTo.trigger }, 'could not deliver the result'),
    );
  }
  return answered;
}
