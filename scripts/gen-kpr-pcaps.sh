#!/usr/bin/env bash
# Captures the NodePort fixtures of fixtures/kpr/pcap/ from the real Linux stack. The world of
# the kpr-* scenarios, in network namespaces joined by a bridge (the node's external LAN):
#
#   client  10.0.0.1  02:00:00:00:0a:01 ─┐
#   node    10.0.0.2  02:00:00:00:0b:01 ─┼─ br0 (namespace "lan")
#   node2   10.0.0.5  02:00:00:00:0e:01 ─┘   pod 10.244.1.5 (a remote backend, :8080 tcp/udp)
#
# client.pcap  what reaches the node's eth0 from the client (tcpdump -Q in): a TCP connection to
#              10.0.0.2:30080 from port 40000 (handshake, data, FIN) and a UDP request to
#              10.0.0.2:30053 from port 40001. A listener in the node namespace plays the service
#              so that the client's stack goes through the whole exchange.
# backend.pcap what reaches the node's eth0 from the remote backend: its answers to a TCP
#              connection and a UDP request made from 10.0.0.2 and the SNAT ports nodeport.c
#              allocates for the two client tuples above (the first, hashed candidate; computed
#              below exactly as tuple_hash() in bpf/kpr/nodeport.c does), so they are the replies
#              the datapath will see.
# icmp.pcap    what reaches the node's eth0 when a UDP datagram from 10.0.0.2 and the SNAT port
#              of the client tuple 10.0.0.1:40003 -> 10.244.1.5:8081 finds no socket on the pod:
#              node2's ICMP port unreachable, quoting it.
#
# The same world over IPv6 (addresses added with nodad, static neighbours; the remote pod is
# fd00:244:1::5 on node2, the local one of kpr-v6-local.yaml lives only in the scenario):
#
#   client  fd00::1    node  fd00::2    node2  fd00::5    pod  fd00:244:1::5
#
# client6.pcap   what reaches the node's eth0 from the client over IPv6: a TCP connection to
#                [fd00::2]:30080 from port 40000 (handshake, data, FIN), a DNS query (AAAA,
#                built by hand in python3: no dig here) to [fd00::2]:30053 from port 40001, and a
#                UDP datagram to [fd00::2]:30081 from port 40003.
# backend6.pcap  the remote pod answering (HTTP text; a DNS answer with one AAAA record) a TCP
#                connection and a DNS query made from fd00::2 and the SNAT ports nodeport.c gives
#                the client's tuples over IPv6 (v6_fold + tuple_hash, computed below).
# icmp6.pcap     node2's ICMPv6 destination unreachable (port) about a datagram from fd00::2 and
#                the SNAT port of [fd00::1]:40003 -> [fd00:244:1::5]:8081.
# frag.pcap      IPv4 fragments: a 3000-byte UDP datagram from 10.0.0.1:40004 to 10.0.0.2:30053,
#                sent by python3 with path MTU discovery off, fragmented by the client's stack
#                to the 1500-byte MTU of the veth (three fragments).
#
# Each set can be captured alone: gen-kpr-pcaps.sh [v4] [v6] [frag] (all without arguments).
# Real captures are not reproducible byte for byte (timestamps, initial sequence numbers), so
# capture only the sets you mean to replace.
#
# Needs root, iproute2, tcpdump, ethtool and python3. Everything it creates is removed on exit.
set -euo pipefail
sets=${*:-v4 v6 frag}
want() { [[ " $sets " == *" $1 "* ]]; }
cd "$(dirname "$0")/.."
out=fixtures/kpr/pcap
mkdir -p "$out"
tag=$$
lan=kpr-lan-$tag client=kpr-client-$tag node=kpr-node-$tag node2=kpr-node2-$tag
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in "$client" "$node" "$node2" "$lan"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
for n in "$lan" "$client" "$node" "$node2"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "$lan" link add br0 type bridge
ip -n "$lan" link set br0 up
attach() { # ns dev mac addr port-name
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$lan"
  ip -n "$lan" link set "$5" master br0 up
  ip -n "$1" link set "$2" address "$3"
  ip -n "$1" addr add "$4" dev "$2"
  ip -n "$1" link set "$2" up
  # no checksum offload: captures carry the checksums the stack computed
  ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null
}
attach "$client" eth0 02:00:00:00:0a:01 10.0.0.1/24 p-client
attach "$node" eth0 02:00:00:00:0b:01 10.0.0.2/24 p-node
attach "$node2" eth0 02:00:00:00:0e:01 10.0.0.5/24 p-node2
ip -n "$node2" addr add 10.244.1.5/32 dev lo
ip -n "$node" route add 10.244.1.0/24 via 10.0.0.5 dev eth0
# static neighbours keep ARP out of the captures
ip -n "$client" neigh add 10.0.0.2 lladdr 02:00:00:00:0b:01 dev eth0
ip -n "$node" neigh add 10.0.0.1 lladdr 02:00:00:00:0a:01 dev eth0
ip -n "$node" neigh add 10.0.0.5 lladdr 02:00:00:00:0e:01 dev eth0
ip -n "$node2" neigh add 10.0.0.2 lladdr 02:00:00:00:0b:01 dev eth0
# IPv6: no duplicate address detection (the addresses are usable at once), static neighbours
# (no neighbour discovery in the captures)
ip -n "$client" addr add fd00::1/64 dev eth0 nodad
ip -n "$node" addr add fd00::2/64 dev eth0 nodad
ip -n "$node2" addr add fd00::5/64 dev eth0 nodad
ip -n "$node2" addr add fd00:244:1::5/128 dev lo nodad
ip -n "$node" route add fd00:244:1::/64 via fd00::5 dev eth0
ip -n "$client" neigh add fd00::2 lladdr 02:00:00:00:0b:01 dev eth0 nud permanent
ip -n "$node" neigh add fd00::1 lladdr 02:00:00:00:0a:01 dev eth0 nud permanent
ip -n "$node" neigh add fd00::5 lladdr 02:00:00:00:0e:01 dev eth0 nud permanent
ip -n "$node2" neigh add fd00::2 lladdr 02:00:00:00:0b:01 dev eth0 nud permanent

# The SNAT ports nodeport.c gives the client tuples (tuple_hash, range 32768-60999).
read -r tcp_port udp_port icmp_port < <(python3 - <<'PY'
import socket, struct
M = 0xffffffff
def le32(ip): return struct.unpack('<I', socket.inet_aton(ip))[0]
def le16(p): return struct.unpack('<H', struct.pack('>H', p))[0]
def h(a, b, ports, seed):
    x = seed ^ a
    x = ((x ^ (x >> 16)) * 0x85ebca6b) & M
    x ^= b
    x = ((x ^ (x >> 13)) * 0xc2b2ae35) & M
    x ^= ports
    x = ((x ^ (x >> 16)) * 0x85ebca6b) & M
    return x ^ (x >> 13)
def port(sport, dport, proto):
    return 32768 + h(le32('10.0.0.1'), le32('10.244.1.5'), (le16(sport) << 16) | le16(dport), proto) % (60999 - 32768 + 1)
print(port(40000, 8080, 6), port(40001, 8080, 17), port(40003, 8081, 17))
PY
)
echo "SNAT ports: tcp $tcp_port, udp $udp_port, udp to a closed port $icmp_port"
# The same over IPv6: v6_fold() XORs the address's four __u32 words (read little-endian).
read -r tcp_port6 udp_port6 icmp_port6 < <(python3 - <<'PY'
import socket, struct
M = 0xffffffff
def fold(ip):
    w = struct.unpack('<4I', socket.inet_pton(socket.AF_INET6, ip))
    return w[0] ^ w[1] ^ w[2] ^ w[3]
def le16(p): return struct.unpack('<H', struct.pack('>H', p))[0]
def h(a, b, ports, seed):
    x = seed ^ a
    x = ((x ^ (x >> 16)) * 0x85ebca6b) & M
    x ^= b
    x = ((x ^ (x >> 13)) * 0xc2b2ae35) & M
    x ^= ports
    x = ((x ^ (x >> 16)) * 0x85ebca6b) & M
    return x ^ (x >> 13)
def port(sport, dport, proto):
    return 32768 + h(fold('fd00::1'), fold('fd00:244:1::5'), (le16(sport) << 16) | le16(dport), proto) % (60999 - 32768 + 1)
print(port(40000, 8080, 6), port(40001, 8080, 17), port(40003, 8081, 17))
PY
)
echo "IPv6 SNAT ports: tcp $tcp_port6, udp $udp_port6, udp to a closed port $icmp_port6"

serve() { # ns addr tcp_port udp_port
  ip netns exec "$1" python3 - "$2" "$3" "$4" <<'PY' &
import socket, sys, threading
addr, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, uport))
    data, peer = u.recvfrom(100); u.sendto(data.upper(), peer)
t = threading.Thread(target=udp); t.start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, tport)); s.listen(1)
c, _ = s.accept(); c.recv(100); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello\n"); c.recv(100); c.close(); t.join()
PY
  pids+=($!)
}
talk() { # ns src_addr tcp_sport udp_sport dst tcp_dport udp_dport
  ip netns exec "$1" python3 - "$@" <<'PY'
import socket, sys, time
_, _, src, tsp, usp, dst, tdp, udp = sys.argv
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, int(tsp))); s.settimeout(2); s.connect((dst, int(tdp)))
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100); s.close(); time.sleep(0.3)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((src, int(usp))); u.settimeout(2)
u.sendto(b"query", (dst, int(udp))); u.recvfrom(100)
PY
}
capture() { # file filter [snaplen]: ingress on the node's eth0 (-Z root: tcpdump writes the file as root)
  ip netns exec "$node" tcpdump -Z root --immediate-mode -i eth0 -Q in -U -w "$1.tmp" -s "${3:-256}" "$2" 2>/dev/null &
  dump_pid=$!
  pids+=($dump_pid)
  sleep 1
}
finish() { # file
  sleep 1
  kill "$dump_pid"; wait "$dump_pid" 2>/dev/null || true
  mv "$1.tmp" "$1"
  echo "wrote $1: $(tcpdump -r "$1" 2>/dev/null | wc -l) packets"
}

if want v4; then
# 1. the client, as the node's eth0 receives it
serve "$node" 10.0.0.2 30080 30053
sleep 0.5
capture "$out/client.pcap" 'ip and src host 10.0.0.1'
talk "$client" 10.0.0.1 40000 40001 10.0.0.2 30080 30053
finish "$out/client.pcap"

# 2. the remote backend answering the node's address and SNAT ports
serve "$node2" 10.244.1.5 8080 8080
sleep 0.5
capture "$out/backend.pcap" 'ip and src host 10.244.1.5'
talk "$node" 10.0.0.2 "$tcp_port" "$udp_port" 10.244.1.5 8080 8080
finish "$out/backend.pcap"

# 3. the remote node's ICMP error about a datagram to a port nothing listens on
capture "$out/icmp.pcap" 'icmp and src host 10.244.1.5'
ip netns exec "$node" python3 - "$icmp_port" <<'PY'
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.0.0.2", int(sys.argv[1])))
u.sendto(b"query", ("10.244.1.5", 8081)); time.sleep(0.3)
PY
finish "$out/icmp.pcap"
fi

# IPv6: a TCP service and a DNS server (an AAAA answer for any question), and a client for both.
serve6() { # ns addr tcp_port udp_port
  ip netns exec "$1" python3 - "$2" "$3" "$4" <<'PY' &
import socket, struct, sys, threading
addr, tport, uport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def dns():
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind((addr, uport))
    q, peer = u.recvfrom(512)
    # RFC 1035 section 4.1: the question echoed, one AAAA answer (a pointer to the name at 12)
    answer = q[:2] + struct.pack('>HHHHH', 0x8180, 1, 1, 0, 0) + q[12:]
    answer += struct.pack('>HHHIH', 0xc00c, 28, 1, 30, 16) + socket.inet_pton(socket.AF_INET6, 'fd00:96::1')
    u.sendto(answer, peer)
t = threading.Thread(target=dns); t.start()
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, tport)); s.listen(1)
c, _ = s.accept(); c.recv(100); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello\n"); c.recv(100); c.close(); t.join()
PY
  pids+=($!)
}
talk6() { # ns src_addr tcp_sport udp_sport dst tcp_dport udp_dport
  ip netns exec "$1" python3 - "$@" <<'PY'
import socket, struct, sys, time
_, _, src, tsp, usp, dst, tdp, udp = sys.argv
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, int(tsp))); s.settimeout(2); s.connect((dst, int(tdp)))
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100); s.close(); time.sleep(0.3)
# a DNS query built by hand (RFC 1035 section 4.1): id, RD, one question, AAAA IN
name = b''.join(bytes([len(l)]) + l for l in b'kubernetes.default.svc.cluster.local'.split(b'.')) + b'\0'
query = struct.pack('>HHHHHH', 0x4b50, 0x0100, 1, 0, 0, 0) + name + struct.pack('>HH', 28, 1)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind((src, int(usp))); u.settimeout(2)
u.sendto(query, (dst, int(udp))); u.recvfrom(512)
PY
}

if want v6; then
# 4. the client over IPv6, as the node's eth0 receives it
serve6 "$node" fd00::2 30080 30053
sleep 0.5
capture "$out/client6.pcap" 'ip6 and src host fd00::1 and (tcp or udp)'
talk6 "$client" fd00::1 40000 40001 fd00::2 30080 30053
ip netns exec "$client" python3 - <<'PY'
import socket, time
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("fd00::1", 40003))
u.sendto(b"query", ("fd00::2", 30081)); time.sleep(0.3)
PY
finish "$out/client6.pcap"

# 5. the remote pod answering the node's IPv6 address and SNAT ports
serve6 "$node2" fd00:244:1::5 8080 8080
sleep 0.5
capture "$out/backend6.pcap" 'ip6 and src host fd00:244:1::5 and (tcp or udp)'
talk6 "$node" fd00::2 "$tcp_port6" "$udp_port6" fd00:244:1::5 8080 8080
finish "$out/backend6.pcap"

# 6. node2's ICMPv6 error about a datagram to a port nothing listens on
capture "$out/icmp6.pcap" 'icmp6 and src host fd00:244:1::5 and ip6[40] == 1'
ip netns exec "$node" python3 - "$icmp_port6" <<'PY'
import socket, sys, time
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("fd00::2", int(sys.argv[1])))
u.sendto(b"query", ("fd00:244:1::5", 8081)); time.sleep(0.3)
PY
finish "$out/icmp6.pcap"
fi

if want frag; then
# 7. a UDP datagram larger than the MTU: the client's stack fragments it (IP_MTU_DISCOVER =
# IP_PMTUDISC_DONT, include/uapi/linux/in.h: no DF, fragment locally); whole packets captured
# (the default snap length would cut the fragments)
capture "$out/frag.pcap" 'ip and src host 10.0.0.1 and udp' 2048 # whole fragments
ip netns exec "$client" python3 - <<'PY'
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER, IP_PMTUDISC_DONT
u.bind(("10.0.0.1", 40004))
u.sendto(bytes(i % 251 for i in range(3000)), ("10.0.0.2", 30053)); time.sleep(0.3)
PY
finish "$out/frag.pcap"
fi
