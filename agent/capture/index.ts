/**
 * The agent's capture consumer as the agent runs it: files in the spool's
 * inbox, the snap length of the kernel's samples, and the kernel's counters
 * for each file's statistics block through a read-only view of the pinned
 * program (opened on first use; the consumer interface carries samples only).
 */
import { limits, PinnedView } from '../../native/index.ts';
import type { ConsumerContext } from '../packets/consumers.ts';
import { CaptureConsumer } from './consumer.ts';
import { inboxDir, removeTemps } from './inbox.ts';
import type { Counts } from './part.ts';

export function createCapture({ cfg, log }: ConsumerContext): CaptureConsumer {
  const dir = inboxDir(cfg.spoolDir);
  const left = removeTemps(dir);
  if (left) log.warn('removed capture files a stopped agent had not finished', { files: left });
  let view: PinnedView | null = null;
  let failed = false;
  const counters = (): Counts | null => {
    if (failed) return null;
    try {
      view ??= PinnedView.open(cfg.iface, cfg.netns ? { netns: cfg.netns } : {});
      return view.snapshot(0).counters;
    } catch (e) {
      failed = true;
      log.warn('cannot read the kernel counters for capture statistics', { error: (e as Error).message });
      return null;
    }
  };
  const close = () => {
    view?.close();
    view = null;
  };
  return new CaptureConsumer({ dir, iface: cfg.iface, snapLen: limits.sampleBytes, maxBytes: cfg.captureMaxBytes, log, counters, close });
}
