# Opens the sockets of sk-world.ts in the current network namespace, prints "ready" and holds
# them until stdin closes. Used by sk-kernel.test.ts (root only).
import socket, sys

def reuse(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return s

held = []
def tcp_listen(fam, addr, port, v6only=None):
    s = reuse(socket.socket(fam, socket.SOCK_STREAM))
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port)); s.listen(16); held.append(s); return s

l_any = tcp_listen(socket.AF_INET, '0.0.0.0', 80)
l_exact = tcp_listen(socket.AF_INET, '10.0.0.1', 80)
c = reuse(socket.socket(socket.AF_INET, socket.SOCK_STREAM)); c.bind(('10.0.0.9', 40000)); c.connect(('10.0.0.1', 80)); held.append(c)
a, _ = l_exact.accept(); held.append(a)
u_any = reuse(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)); u_any.bind(('0.0.0.0', 53)); held.append(u_any)
u_conn = reuse(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)); u_conn.bind(('10.0.0.1', 53)); u_conn.connect(('10.0.0.9', 5000)); held.append(u_conn)
tcp_listen(socket.AF_INET6, '::', 8080, 0)
tcp_listen(socket.AF_INET6, 'fd00::1', 443, 1)
print('ready', flush=True)
sys.stdin.read()
