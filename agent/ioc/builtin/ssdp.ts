/**
 * SSDP (UPnP Device Architecture 1.1, section 1.3: discovery): the search
 * request `M-SEARCH * HTTP/1.1` to port 1900, and its unicast answer, an
 * `HTTP/1.1 200 OK` from port 1900 whose header fields name what was found
 * (ST, USN; EXT is required and empty). Field names are case-insensitive;
 * only the fields inside the sampled head can be seen, so the answer needs
 * one of them there (docs/signatures.md).
 */
import { payloadText, type Signature, startsWith, UDP } from '../signature.ts';

const SSDP_PORT = 1900;
const SEARCH = Buffer.from('M-SEARCH * HTTP/1.1\r\n', 'latin1');
const OK = Buffer.from('HTTP/1.1 200 OK\r\n', 'latin1');
const SEARCH_FIELDS = /\r\n(?:st|usn|ext)[ \t]*:/i;

export const ssdpSearch: Signature = {
  attack_name: 'SSDP M-SEARCH request',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'dst', port: SSDP_PORT },
  test: (p) => startsWith(p, SEARCH),
};

export const ssdpResponse: Signature = {
  attack_name: 'SSDP search response',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'src', port: SSDP_PORT },
  test: (p) => startsWith(p, OK) && SEARCH_FIELDS.test(payloadText(p)),
};
