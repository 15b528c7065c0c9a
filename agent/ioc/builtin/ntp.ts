/**
 * NTP mode 7 "monlist" (ntpd's private mode, reserved for it by RFC 5905;
 * its layout is ntpd's include/ntp_request.h): the request an attacker sends
 * to a reflector with the victim's address, and the reflector's answer,
 * up to 6 monitor entries of 72 bytes per packet for a request of 8 to 48.
 *
 *   byte 0: R(esponse) M(ore) VN(3 bits) Mode(3 bits) = 7
 *   byte 1: A(uth) sequence   byte 2: implementation   byte 3: request code
 *   bytes 4-5: err (4 bits), number of items   bytes 6-7: MBZ (4 bits), item size
 */
import { type Packet, type Signature, UDP } from '../signature.ts';

const NTP_PORT = 123;
const REQ_MON_GETLIST = 20;
const REQ_MON_GETLIST_1 = 42;
/** sizeof(struct info_monitor_1), what REQ_MON_GETLIST_1 answers with. */
const INFO_MONITOR_1 = 72;
/** IMPL_UNIV, IMPL_XNTPD_OLD, IMPL_XNTPD. */
const IMPLEMENTATIONS = new Set([0, 2, 3]);

/** The mode 7 header of a monlist exchange, `response` or request; null when it is not one. */
function monlist(p: Packet, response: boolean): { items: number; itemSize: number } | null {
  const d = p.data;
  const at = p.head.payload;
  if (d.length < at + 8) return null;
  const b0 = d[at]!;
  const version = (b0 >> 3) & 7;
  if ((b0 & 7) !== 7 || (b0 & 0x80) !== (response ? 0x80 : 0) || version < 1 || version > 4) return null;
  const code = d[at + 3]!;
  if (!IMPLEMENTATIONS.has(d[at + 2]!) || (code !== REQ_MON_GETLIST && code !== REQ_MON_GETLIST_1)) return null;
  const errItems = d.readUInt16BE(at + 4);
  const mbzSize = d.readUInt16BE(at + 6);
  if (errItems >> 12 !== 0 || mbzSize >> 12 !== 0) return null; // err 0 (a refusal is no amplification), MBZ 0
  const itemSize = mbzSize & 0xfff;
  if (response && code === REQ_MON_GETLIST_1 && itemSize !== INFO_MONITOR_1) return null;
  return { items: errItems & 0xfff, itemSize };
}

export const ntpMonlistRequest: Signature = {
  attack_name: 'NTP monlist request',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'dst', port: NTP_PORT },
  // A request is neither a continuation nor authenticated-only garbage: M clear, no items.
  test: (p) => {
    const m = monlist(p, false);
    return m !== null && (p.data[p.head.payload]! & 0x40) === 0 && m.items === 0;
  },
};

export const ntpMonlistResponse: Signature = {
  attack_name: 'NTP monlist response',
  attack_family: 'udp_flood',
  source: 'builtin',
  proto: UDP,
  port: { side: 'src', port: NTP_PORT },
  test: (p) => {
    const m = monlist(p, true);
    return m !== null && m.items >= 1 && m.items * m.itemSize <= 500; // RESP_DATA_SIZE
  },
};
