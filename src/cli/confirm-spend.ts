// Asks before a batch whose worst case is above service.batch.confirmAboveUsd. Only a person at
// a terminal can say yes: in a pipe or a script nobody can, so it refuses and says how to go on.
import { createInterface } from 'node:readline/promises';

export async function confirmSpend(question: string, io: { input: NodeJS.ReadStream; output: NodeJS.WriteStream } = { input: process.stdin, output: process.stderr }): Promise<boolean> {
  if (!io.input.isTTY || !io.output.isTTY) {
    io.output.write(`${question} Not run: add --yes to run it without asking.\n`);
    return false;
  }
  const rl = createInterface({ input: io.input, output: io.output });
  try {
    const answer = await rl.question(`${question} Run it? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
