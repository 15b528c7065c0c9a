/**
 * The agent's built-in signatures, each derived from its tool's or
 * protocol's public description and tested on a fixture of its own
 * (test/fixtures/ioc-packets.ts); docs/signatures.md lists them.
 */
import type { Signature } from '../signature.ts';
import { cldapRootDseRequest, cldapRootDseResponse } from './cldap.ts';
import { memcachedRequest, memcachedResponse } from './memcached.ts';
import { miraiAck, miraiSyn } from './mirai.ts';
import { ntpMonlistRequest, ntpMonlistResponse } from './ntp.ts';
import { ssdpResponse, ssdpSearch } from './ssdp.ts';

export const BUILTIN_SIGNATURES: readonly Signature[] = [
  miraiSyn,
  miraiAck,
  ntpMonlistRequest,
  ntpMonlistResponse,
  memcachedRequest,
  memcachedResponse,
  ssdpSearch,
  ssdpResponse,
  cldapRootDseRequest,
  cldapRootDseResponse,
];
