import test from 'ava';
import { startTicker } from '../../../agent/ticker.ts';

test('runs never overlap and stay on the period grid', async (t) => {
  let running = 0,
    maxRunning = 0;
  const slots: number[] = [];
  const ticker = startTicker(
    20,
    async (slot) => {
      slots.push(slot);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, slots.length % 3 === 0 ? 45 : 1)); // every third run overruns
      running--;
    },
    (e) => t.fail(String(e)),
  );
  await new Promise((r) => setTimeout(r, 400));
  await ticker.stop();
  const n = slots.length;
  await new Promise((r) => setTimeout(r, 60));
  t.is(slots.length, n, 'nothing runs after stop');
  t.is(maxRunning, 1);
  t.true(
    slots.every((s) => s % 20 === 0),
    'every slot on the grid',
  );
  t.true(
    slots.every((s, i) => i === 0 || s > slots[i - 1]!),
    'strictly increasing',
  );
  t.true(ticker.skipped > 0, 'overruns skipped slots');
  t.true(n >= 8 && n <= 20, `runs: ${n}`);
});
