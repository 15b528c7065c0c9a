/**
 * Sample times come on CLOCK_MONOTONIC (bpf_ktime_get_ns; Node's hrtime reads
 * the same clock); a capture file is dated on the wall clock with one offset,
 * read when the file is opened, so the packets of a file keep their exact
 * spacing even if the wall clock is stepped meanwhile.
 */

/**
 * ns to add to a CLOCK_MONOTONIC time to get ns since the epoch. Date.now()
 * has a millisecond's resolution: read at the edge of its next tick (less
 * than 1 ms of waiting), the pair is exact to about a microsecond.
 */
export function monotonicToWallNs(): bigint {
  const start = Date.now();
  let ms = Date.now();
  while (ms === start) ms = Date.now();
  const mono = process.hrtime.bigint();
  return BigInt(ms) * 1_000_000n - mono;
}
