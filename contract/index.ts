/**
 * Breakwater's wire contract: what the agent, the server, and whoever else
 * speaks to them (scripts, the console, BGP and notification adapters) agree
 * on. It imports nothing of agent/, server/ or native/; they import it.
 *
 *   limits.ts        every bound (batch sizes, body sizes, depth, time window)
 *   enums.ts         families, severities, sub-types, statuses, rule states
 *   codec.ts         JSON and MessagePack media types and msgpackr options
 *   net/             the one address and prefix parser; special-purpose ranges
 *   rule.ts          the one rule shape, from the user API to the addon
 *   commands/        the pending-command grammar, its rendering, the policy, safety
 *   wire/json.ts     the shape every decoded body must have (depth, text)
 *   wire/agent.ts    SPEC section 1 bodies and replies (zod)
 *   wire/kernel-rules.ts  POST /rules: the rules a node's kernel holds (zod)
 *   wire/user.ts     the user API's bodies and queries (zod)
 *
 * The agent imports the zod-free parts at run time and the schemas' types
 * only (`import type`). docs/contract.md says how to add a field.
 */

export * from './codec.ts';
export * from './commands/index.ts';
export * from './enums.ts';
export * from './limits.ts';
export * from './net/prefix.ts';
export * from './rule.ts';
export * as agentApi from './wire/agent.ts';
export * from './wire/ioc.ts';
export * from './wire/json.ts';
export * as userApi from './wire/user.ts';
