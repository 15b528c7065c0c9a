/**
 * The consumers of packet samples an agent runs, in one place: each
 * forensics module adds its line here.
 */
import { createCapture } from '../capture/index.ts';
import type { AgentConfig } from '../config.ts';
import { geoConsumers } from '../geo/index.ts';
import { IocConsumer } from '../ioc/consumer.ts';
import type { Logger } from '../log.ts';
import type { SampleConsumer } from './types.ts';

export interface ConsumerContext {
  cfg: AgentConfig;
  log: Logger;
}

export function createConsumers(ctx: ConsumerContext): SampleConsumer[] {
  return [createCapture(ctx), ...geoConsumers(ctx), new IocConsumer(ctx.log)];
}
