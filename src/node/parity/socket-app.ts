// The application of a socket scenario as a real process: a small python3 program (python's
// socket module is a thin layer over the syscalls, so every call below is one connect, sendto,
// recvfrom or getpeername the kernel's cgroup hooks see) that opens the scenario's servers,
// makes its calls in order and prints, per call, what it saw in the shape of SocketSeen, and per
// socket its cookie (SO_COOKIE, include/uapi/asm-generic/socket.h), as JSON on stdout.
// It reads the script as JSON on stdin. Factored from test/kpr/sock-kernel.test.ts.
//
// Servers live in the same process (and so in the same cgroup): their own calls (recvfrom,
// sendto back to the client) pass the hooks too, with addresses no service owns, which leave
// them as they are.
export const SOCKET_APP_PY = String.raw`
import errno, json, select, socket, struct, sys
SO_COOKIE = 57
script = json.load(sys.stdin)

def split(text):
    if text.startswith("["):
        a, p = text[1:].split("]:")
    else:
        a, p = text.rsplit(":", 1)
    return a, int(p)
def ep(a):
    return ("[%s]:%d" % (a[0], a[1])) if ":" in a[0] else ("%s:%d" % (a[0], a[1]))
def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET
def err(e):
    if isinstance(e, socket.timeout): return "EAGAIN"
    return errno.errorcode.get(e.errno, "errno %s" % e.errno)

servers = {"tcp": [], "udp": []}
for s in script["servers"]:
    kind = "tcp" if "tcp" in s else "udp"
    addr = split(s[kind])
    sock = socket.socket(fam(addr[0]), socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(addr)
    if kind == "tcp": sock.listen(64)
    servers[kind].append((sock, s[kind]))

def reached(kind, timeout, echo):
    socks = [x[0] for x in servers[kind]]
    if not socks: return None
    r, _, _ = select.select(socks, [], [], timeout)
    if not r: return None
    name = [x[1] for x in servers[kind] if x[0] is r[0]][0]
    if kind == "tcp":
        conn, _ = r[0].accept()
        accepted.append(conn)
    else:
        data, client = r[0].recvfrom(65536)
        if echo: r[0].sendto(data, client)
    return name

accepted = []
sockets = {}
cookies = {}
out = []
for call in script["calls"]:
    seen = {}
    name = call["socket"]
    try:
        if "open" in call:
            kind = call["open"]
            s = socket.socket(socket.AF_INET6 if kind.endswith("6") else socket.AF_INET, socket.SOCK_STREAM if kind.startswith("tcp") else socket.SOCK_DGRAM)
            s.settimeout(3)
            sockets[name] = (s, kind[:3])
            cookies[name] = str(struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0])
        elif "connect" in call:
            s, kind = sockets[name]
            s.connect(split(call["connect"]))
            if kind == "tcp":
                got = reached("tcp", 3, False)
                if got: seen["reached"] = got
        elif "sendmsg" in call or "send" in call:
            s, kind = sockets[name]
            payload = call.get("payload", "ping").encode()
            if "sendmsg" in call: s.sendto(payload, split(call["sendmsg"]))
            else: s.send(payload)
            got = reached(kind, 2, True)
            if got: seen["reached"] = got
        elif "recvmsg" in call:
            s, kind = sockets[name]
            s.settimeout(2)
            data, src = s.recvfrom(65536)
            seen["from"] = ep(src)
        elif "getpeername" in call:
            s, kind = sockets[name]
            seen["peer"] = ep(s.getpeername())
    except OSError as e:
        seen["error"] = err(e)
    out.append(seen)
print(json.dumps({"calls": out, "cookies": cookies}))
`;
