import test from 'ava';
import { countEstablished, parseGateways, parseLocalAddresses } from '../../../agent/procnet.ts';
import { nextSlot } from '../../../agent/ticker.ts';

test('conn_count: ESTABLISHED (01) sockets of tcp and tcp6', (t) => {
  const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
   2: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
   3: 0100007F:A1B3 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0 0 0 0 0 0`;
  const tcp6 = `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:0016 00000000000000000000000001000000:C350 01 0`;
  t.is(countEstablished(tcp, tcp6), 3);
  t.is(countEstablished(tcp, null), 2);
  t.is(countEstablished(null, null), null);
});

test('default gateways from route and ipv6_route', (t) => {
  const route = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0`;
  const v6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0`;
  t.deepEqual(parseGateways(route, v6), ['192.0.2.1', 'fd00:0:0:0:0:0:0:1']);
  t.deepEqual(parseGateways(null, null), []);
});

test('local addresses from fib_trie and if_inet6', (t) => {
  const trie = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 198.18.10.0/24 2 0 2
        |-- 198.18.10.0
           /24 link UNICAST
        |-- 198.18.10.1
           /32 host LOCAL
        |-- 198.18.10.255
           /32 link BROADCAST`;
  const inet6 = '20010db8000000000000000000000001 02 40 00 80     eth0\n';
  t.deepEqual(parseLocalAddresses(trie, inet6), ['198.18.10.1', '2001:db8:0:0:0:0:0:1']);
});

test('tick slots come from the wall clock: no drift, overruns skip slots', (t) => {
  t.is(nextSlot(1_000_050, 100, null), 1_000_100, 'first slot: next multiple of the period');
  t.is(nextSlot(1_000_103, 100, 1_000_100), 1_000_200, 'late timer: the next slot stays on the grid');
  t.is(nextSlot(1_000_450, 100, 1_000_100), 1_000_500, 'an overrun skips the missed slots instead of queueing them');
});
