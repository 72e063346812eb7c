// Long-running operations in tests: a :sync answers with an operation at once; these wait for it.

/** Polls GET /v1/<operation name> until done (or the deadline), and returns the last answer. */
export async function waitForOperation<T = Record<string, unknown>>(get: (path: string) => Promise<T>, name: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await get(`/v1/${name}`);
    if ((op as { done?: boolean }).done) return op;
    if (Date.now() > deadline) throw new Error(`${name} not done after ${timeoutMs} ms: ${JSON.stringify(op)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are JSON that each test asserts on
type Answer = { status: number; body: any };

/**
 * POST :sync and wait for its operation: the answer as a synchronous sync gave it (the
 * operation's response), or the :sync error as it came.
 */
export async function syncAndWait(call: (method: 'GET' | 'POST', path: string) => Promise<Answer>, instance: string, timeoutMs = 120_000): Promise<Answer> {
  const res = await call('POST', `/v1/instances/${instance}:sync`);
  if (res.status !== 200) return res;
  const op = await waitForOperation(async (path) => (await call('GET', path)).body, res.body.name, timeoutMs);
  return { status: res.status, body: op.response ?? op };
}
