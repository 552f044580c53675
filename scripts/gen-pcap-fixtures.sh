#!/usr/bin/env bash
# Regenerates fixtures/pcap/: real traffic captured by tcpdump and dumpcap between two network
# namespaces joined by a veth pair (nothing leaves this machine; the namespaces are deleted at
# the end), the synthetic edge cases of scripts/gen-pcap-fixtures.mjs, and the values tshark
# decodes from every fixture (fixtures/pcap/expected/*.tsv), which the tests compare with
# bpfbed's decoder so they run without tshark too.
#
# Needs root and the Debian packages tshark (dumpcap), tcpdump, iproute2, ethtool, iputils-ping,
# python3. Usage: sudo scripts/gen-pcap-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=fixtures/pcap
mkdir -p "$OUT/expected"

NS_A=bpfbed-fx-a
NS_B=bpfbed-fx-b
cleanup() {
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B"
a() { ip netns exec "$NS_A" "$@"; }
b() { ip netns exec "$NS_B" "$@"; }
a ip link set lo up
b ip link set lo up
a ip link set va address 02:00:0a:e7:00:01
b ip link set vb address 02:00:0a:e7:00:02
a ip addr add 10.231.0.1/24 dev va
b ip addr add 10.231.0.2/24 dev vb
a ip -6 addr add fd00:231::1/64 dev va nodad
b ip -6 addr add fd00:231::2/64 dev vb nodad
# veth leaves checksums to "hardware" (CHECKSUM_PARTIAL), so a capture would show unfinished
# TCP/UDP checksums; turning the offloads off makes the captured checksums the real ones.
a ethtool -K va tx off rx off >/dev/null
b ethtool -K vb tx off rx off >/dev/null
a ip link set va up
b ip link set vb up
sleep 1

# Captures run in namespace B; tcpdump -U writes each packet as it arrives.
capture() { # name, extra tcpdump args...
  local name=$1
  shift
  # Not through b(): $! must be the capturing process itself (ip netns exec execs it), so that
  # stop_capture ends it before its file is read.
  ip netns exec "$NS_B" tcpdump -i vb -U -n -w "$OUT/$name" "$@" 2>/dev/null &
  CAP_PID=$!
  sleep 1
}
stop_capture() {
  sleep 1
  kill "$CAP_PID"
  wait "$CAP_PID" 2>/dev/null || true
}

# TCP: handshake, data both ways, FIN. Microsecond pcap (tcpdump's default).
capture tcp-session.pcap tcp port 8080
b python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.231.0.2", 8080)); s.listen(1)
c, _ = s.accept(); data = c.recv(100); c.sendall(b"pong:" + data); c.close()' &
SRV=$!
sleep 0.5
a python3 -c '
import socket
c = socket.create_connection(("10.231.0.2", 8080)); c.sendall(b"ping"); c.recv(100); c.close()'
wait "$SRV"
stop_capture

# UDP request and reply, nanosecond pcap.
capture udp-exchange.pcap --time-stamp-precision=nano udp port 9999
b python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.231.0.2", 9999))
d, peer = s.recvfrom(100); s.sendto(b"reply:" + d, peer)' &
SRV=$!
sleep 0.5
a python3 -c '
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.sendto(b"hello", ("10.231.0.2", 9999)); c.recvfrom(100)'
wait "$SRV"
stop_capture

# ICMP echo (IPv4) and ICMPv6 echo.
capture icmp-echo.pcap 'icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))'
a ping -c 2 -i 0.2 10.231.0.2 >/dev/null
a ping -6 -c 2 -i 0.2 fd00:231::2 >/dev/null
stop_capture

# pcapng with two interfaces of different link types: the veth (Ethernet) and the namespace's
# "any" pseudo-device (Linux cooked capture).
ip netns exec "$NS_B" dumpcap -q -i vb -f 'udp port 9998' -i any -f 'udp port 9998' -w "$OUT/two-interfaces.pcapng" 2>/dev/null &
CAP_PID=$!
sleep 2
a python3 -c '
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3): c.sendto(b"two-if %d" % i, ("10.231.0.2", 9998))'
stop_capture

# Linux cooked capture v2 (276) from tcpdump on "any": a UDP request and its reply.
ip netns exec "$NS_B" tcpdump -i any -y LINUX_SLL2 -U -n -w "$OUT/linux-sll2.pcap" udp port 9997 2>/dev/null &
CAP_PID=$!
sleep 1
b python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.231.0.2", 9997))
d, peer = s.recvfrom(100); s.sendto(b"reply:" + d, peer)' &
SRV=$!
sleep 0.5
a python3 -c '
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.sendto(b"cooked", ("10.231.0.2", 9997)); c.recvfrom(100)'
wait "$SRV"
stop_capture

node scripts/gen-pcap-fixtures.mjs "$OUT"

# What tshark decodes, field by field, from every fixture. Checksum validation on, raw TCP
# sequence numbers, no reassembly, so each packet decodes on its own as bpfbed's decoder does.
FIELDS=(frame.number eth.src eth.dst eth.type vlan.id vlan.etype sll.etype sll.pkttype sll.ifindex arp.opcode arp.src.proto_ipv4 arp.dst.proto_ipv4
  ip.version ip.hdr_len ip.len ip.id ip.flags ip.frag_offset ip.ttl ip.dsfield ip.opt.type ip.proto ip.checksum ip.checksum.status ip.src ip.dst
  ipv6.tclass ipv6.flow ipv6.plen ipv6.nxt ipv6.hlim ipv6.src ipv6.dst ipv6.hopopts.nxt ipv6.dstopts.len ipv6.routing.type ah.spi ipv6.fraghdr.offset ipv6.fraghdr.more ipv6.fraghdr.ident ipv6.routing.segleft
  # geneve.option.length is left out: tshark 4.0 reports it twice per option.
  tcp.srcport tcp.dstport tcp.seq tcp.ack tcp.hdr_len tcp.flags tcp.window_size_value tcp.checksum tcp.checksum.status tcp.len tcp.urgent_pointer tcp.options.mss_val tcp.options.wscale.shift tcp.options.timestamp.tsval tcp.option_kind
  udp.srcport udp.dstport udp.length udp.checksum udp.checksum.status
  icmp.type icmp.code icmp.checksum icmp.checksum.status icmp.ident icmp.seq
  icmpv6.type icmpv6.code icmpv6.checksum icmpv6.checksum.status icmpv6.echo.identifier icmpv6.echo.sequence_number
  vxlan.vni vxlan.flags geneve.vni geneve.proto_type geneve.option.class arp.src.hw_mac arp.dst.hw_mac dns.id dns.flags dns.count.queries dns.qry.name dns.qry.type)
PREFS=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE
  -o tcp.analyze_sequence_numbers:FALSE -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o tcp.desegment_tcp_streams:FALSE)
args=()
for f in "${FIELDS[@]}"; do args+=(-e "$f"); done
for file in "$OUT"/*.pcap "$OUT"/*.pcapng; do
  name=$(basename "$file")
  case $name in truncated-* | over-snaplen.pcap | bad-trailer.pcapng | undefined-interface.pcapng) continue ;; esac
  { IFS=$'\t'; echo "${FIELDS[*]}"; } >"$OUT/expected/$name.tsv"
  tshark -n -r "$file" "${PREFS[@]}" -T fields -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null >>"$OUT/expected/$name.tsv"
done
chmod 644 "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/expected/*.tsv
chown "$(stat -c %u:%g scripts)" "$OUT"/*.pcap "$OUT"/*.pcapng
echo "fixtures written to $OUT"
