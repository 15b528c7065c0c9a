// Waiting in the lab: a sleep, and polling a condition (a real counter, a
// real server's answer, a file) until it holds or a deadline passes.
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (returned) or `ms` pass (undefined). */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  ms: number,
  every = 200,
): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(every);
  }
}
