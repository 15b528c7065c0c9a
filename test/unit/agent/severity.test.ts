// Severity from the peak over the threshold (docs/detection.md).
import test from 'ava';
import { peakRatio, type Severity, severityOf } from '../../../agent/detect/index.ts';

test('severity steps at 2x, 5x and 20x the threshold', (t) => {
  const cases: [number, Severity][] = [
    [1, 'low'],
    [1.99, 'low'],
    [2, 'medium'],
    [4.9, 'medium'],
    [5, 'high'],
    [19.9, 'high'],
    [20, 'critical'],
    [500, 'critical'],
  ];
  for (const [r, s] of cases) t.is(severityOf(r), s, `ratio ${r}`);
});

test('the ratio is the larger of the pps and bps ratios', (t) => {
  t.is(peakRatio(30_000, 1e9, 10_000, 1e10), 3);
  t.is(peakRatio(10_000, 8e10, 10_000, 1e10), 8);
  t.is(peakRatio(10_000, 8e10, 0, 0), 0);
});
