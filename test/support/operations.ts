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

