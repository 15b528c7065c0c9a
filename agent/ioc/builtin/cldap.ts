/**
 * CLDAP, LDAP over UDP port 389 (RFC 4511 messages in BER, RFC 1798's
 * connectionless transport): the amplification request is a searchRequest
 * for the root DSE (baseObject "", scope baseObject), and the reflector
 * answers with the root DSE's searchResEntry (objectName "", then its
 * attribute list), several kilobytes for a request of about 40 bytes.
 *
 *   LDAPMessage ::= SEQUENCE { messageID INTEGER, [user LDAPDN (RFC 1798 only)], protocolOp }
 *   searchRequest [APPLICATION 3] = 0x63, searchResEntry [APPLICATION 4] = 0x64
 */
import { type Packet, type Signature, UDP } from '../signature.ts';

const LDAP_PORT = 389;
const SEQUENCE = 0x30,
  INTEGER = 0x02,
  OCTET_STRING = 0x04,
  ENUMERATED = 0x0a,
  SEARCH_REQUEST = 0x63,
  SEARCH_RES_ENTRY = 0x64;

/** A BER tag-length header at `at`: where its content starts and its length; null for another tag, a header cut short or a length of more than 4 bytes. */
function header(d: Buffer, at: number, tag: number): { content: number; length: number } | null {
  if (d.length < at + 2 || d[at] !== tag) return null;
  const first = d[at + 1]!;
  if (first < 0x80) return { content: at + 2, length: first };
  const n = first & 0x7f;
  if (n < 1 || n > 4 || d.length < at + 2 + n) return null;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + d[at + 2 + i]!;
  return { content: at + 2 + n, length };
}

/** The protocolOp's header of an LDAP message carried in the payload, if it has tag `op`. */
function operation(p: Packet, op: number): { content: number } | null {
  const d = p.data;
  const msg = header(d, p.head.payload, SEQUENCE);
  const id = msg && header(d, msg.content, INTEGER);
  if (!id || id.length < 1 || id.length > 4) return null;
  let at = id.content + id.length;
  const user = d[at] === OCTET_STRING ? header(d, at, OCTET_STRING) : null; // RFC 1798's user name
  if (user) at = user.content + user.length;
  return header(d, at, op);
}

/** An empty LDAPDN: the root DSE. */
const rootDn = (d: Buffer, at: number) => d[at] === OCTET_STRING && d[at + 1] === 0;

export const cldapRootDseRequest: Signature = {
  attack_name: 'CLDAP root DSE request',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'dst', port: LDAP_PORT },
  test: (p) => {
    const op = operation(p, SEARCH_REQUEST);
    const d = p.data;
    if (!op || !rootDn(d, op.content)) return false;
    const scope = op.content + 2;
    return d[scope] === ENUMERATED && d[scope + 1] === 1 && d[scope + 2] === 0; // scope baseObject
  },
};

export const cldapRootDseResponse: Signature = {
  attack_name: 'CLDAP root DSE response',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'src', port: LDAP_PORT },
  test: (p) => {
    const op = operation(p, SEARCH_RES_ENTRY);
    return op !== null && rootDn(p.data, op.content) && p.data[op.content + 2] === SEQUENCE;
  },
};
