import globalSetup from '../support/global-setup.js';

test('without reachable services the suite fails at once with one sentence saying how to start them', async () => {
  const saved = { m: process.env.MONGODB_URL, r: process.env.REDIS_URL };
  process.env.MONGODB_URL = 'mongodb://127.0.0.1:1/none';
  process.env.REDIS_URL = 'redis://127.0.0.1:1';
  try {
    await expect(globalSetup()).rejects.toThrow(/not reachable: run `bash \.ci\/run`.*or start them yourself and set MONGODB_URL and REDIS_URL\.$/);
  } finally {
    process.env.MONGODB_URL = saved.m;
    process.env.REDIS_URL = saved.r;
  }
});
