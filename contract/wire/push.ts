/**
 * Extension of SPEC section 1, the push channel: GET /api/v1/agent/events
 * with the agent's usual headers answers text/event-stream (Server-Sent
 * Events). Each `config` event's data is a GET /config reply (configReply of
 * ./agent.ts) as JSON: the whole config, at once on connect and again each
 * time it changes. Comment lines (`: ...`) every PUSH_PING_MS keep the
 * connection open; a client that hears nothing for PUSH_IDLE_MS takes it
 * for dead and connects again.
 */
export const PUSH_PATH = '/events';
export const PUSH_CONFIG_EVENT = 'config';
export const PUSH_PING_MS = 15_000;
export const PUSH_IDLE_MS = 3 * PUSH_PING_MS;
