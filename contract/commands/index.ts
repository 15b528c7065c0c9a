/**
 * Public surface of the mitigation-command parser. parseCommand takes a
 * pending command as the server sends it (an iptables-style string, a JSON
 * string, or an already decoded object) and returns a Command (an operation
 * on one rule, ../rule.ts) or a refusal with a reason; it never starts a
 * process. checkSafety then guards the host's own addresses; renderCommand
 * writes the iptables-style form. Grammar and refusals: docs/commands.md.
 */
import { parseIptables } from './iptables.ts';
import { resolvePolicy } from './policy.ts';
import { parseStructured } from './structured.ts';
import { type CommandPolicy, type ParseResult, refuse } from './types.ts';

export function parseCommand(input: unknown, policy: CommandPolicy = resolvePolicy()): ParseResult {
  if (typeof input === 'string') {
    const s = input.trim();
    if (s.startsWith('{')) {
      if (s.length > policy.maxLength) return refuse(`command longer than ${policy.maxLength} characters`);
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        return refuse('the structured command is not valid JSON');
      }
      return parseStructured(v, policy);
    }
    return parseIptables(s, policy);
  }
  if (typeof input === 'object' && input !== null) return parseStructured(input, policy);
  return refuse('a command must be a string or an object');
}

export { parseIptables } from './iptables.ts';
export { checkedPrefix, checkedTtl, DEFAULT_POLICY, resolvePolicy } from './policy.ts';
export { renderCommand } from './render.ts';
export { checkRuleRequest, type RequestResult, type RuleRequest } from './request.ts';
export { checkSafety, type ProtectedEntry, protectedEntries, type SafetyResult } from './safety.ts';
export { parseStructured } from './structured.ts';
export type * from './types.ts';
