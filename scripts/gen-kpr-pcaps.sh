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
# Needs root, iproute2, tcpdump, ethtool and python3. Everything it creates is removed on exit.
set -euo pipefail
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
capture() { # file filter: ingress on the node's eth0 (-Z root: tcpdump writes the file as root)
  ip netns exec "$node" tcpdump -Z root --immediate-mode -i eth0 -Q in -U -w "$1.tmp" -s 256 "$2" 2>/dev/null &
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
