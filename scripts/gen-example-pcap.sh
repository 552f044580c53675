#!/usr/bin/env bash
# Captures fixtures/examples/packets.pcap from the real Linux stack: two network namespaces
# joined by a veth pair, a ping, a TCP exchange (handshake, data, FIN) and a UDP request and
# reply, IPv4 and IPv6. Needs root, iproute2, tcpdump and python3. Everything it creates is
# removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/examples/packets.pcap
ns_a=bpfbed-ex-a-$$
ns_b=bpfbed-ex-b-$$
cleanup() {
  [ -n "${dump_pid:-}" ] && kill "$dump_pid" 2>/dev/null || true
  [ -n "${srv_pid:-}" ] && kill "$srv_pid" 2>/dev/null || true
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b"
ip -n "$ns_a" link set veth-a address 02:00:00:00:0a:01
ip -n "$ns_b" link set veth-b address 02:00:00:00:0b:01
ip -n "$ns_a" addr add 10.0.0.1/24 dev veth-a
ip -n "$ns_b" addr add 10.0.0.2/24 dev veth-b
ip -n "$ns_a" addr add fd00::1/64 dev veth-a nodad
ip -n "$ns_b" addr add fd00::2/64 dev veth-b nodad
ip -n "$ns_a" link set veth-a up
ip -n "$ns_b" link set veth-b up
ip -n "$ns_a" link set lo up
# No checksum offload: the capture then carries the checksums the stack computed, not partial ones.
ip netns exec "$ns_a" ethtool -K veth-a tx off >/dev/null
ip netns exec "$ns_b" ethtool -K veth-b tx off >/dev/null
ip -n "$ns_b" link set lo up
# Static neighbours keep ARP/ND out of the capture.
ip -n "$ns_a" neigh add 10.0.0.2 lladdr 02:00:00:00:0b:01 dev veth-a
ip -n "$ns_a" neigh add fd00::2 lladdr 02:00:00:00:0b:01 dev veth-a
ip -n "$ns_b" neigh add 10.0.0.1 lladdr 02:00:00:00:0a:01 dev veth-b
ip -n "$ns_b" neigh add fd00::1 lladdr 02:00:00:00:0a:01 dev veth-b

ip netns exec "$ns_b" python3 - <<'PY' &
import socket, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.0.0.2", 8080)); s.listen(1)
    c, _ = s.accept(); c.recv(100); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello\n"); c.close()
def udp():
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("fd00::2", 7777))
    data, peer = u.recvfrom(100); u.sendto(data.upper(), peer)
t = threading.Thread(target=udp); t.start(); tcp(); t.join()
PY
srv_pid=$!
sleep 0.5
ip netns exec "$ns_a" tcpdump -i veth-a -U -w "$out.tmp" -s 256 'not ether proto 0x88cc' 2>/dev/null &
dump_pid=$!
sleep 1
ip netns exec "$ns_a" ping -c 1 -W 1 10.0.0.2 >/dev/null
ip netns exec "$ns_a" python3 - <<'PY'
import socket, time
s = socket.create_connection(("10.0.0.2", 8080), timeout=2)
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100); s.close(); time.sleep(0.2)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.settimeout(2)
u.sendto(b"query", ("fd00::2", 7777)); u.recvfrom(100)
PY
sleep 1
kill "$dump_pid"; wait "$dump_pid" 2>/dev/null || true
dump_pid=
wait "$srv_pid" 2>/dev/null || true
srv_pid=
mv "$out.tmp" "$out"
echo "wrote $out: $(tcpdump -r "$out" 2>/dev/null | wc -l) packets"
