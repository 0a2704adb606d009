# Lab helper for test/lab/tunnel-decap.test.ts: a stand-in VS/TUN director in a dozen lines.
# It opens TUN device NAME (the test routes the VIP into it), and sends every IPv4 packet
# read from it to the real server RS inside IPIP, GUE (port 6080, no UDP checksum) or GRE
# through a raw socket, as ip_vs_tunnel_xmit would. Stops by itself after SECONDS.
#   tiny-director.py NAME LOCAL RS ipip|gue|gre SECONDS
import fcntl, os, select, socket, struct, sys, time

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
name, local, rs, kind, seconds = sys.argv[1:6]
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton(local), socket.inet_aton(rs)
print("tiny-director ready", flush=True)
deadline = time.time() + float(seconds)
while time.time() < deadline:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    inner = os.read(fd, 65535)
    if inner[0] >> 4 != 4:
        continue
    if kind == "ipip":
        proto, body = 4, inner
    elif kind == "gue":
        proto, body = 17, struct.pack("!HHHH", 40000, 6080, 12 + len(inner), 0) + b"\0\x04\0\0" + inner
    else:
        proto, body = 47, b"\0\0\x08\0" + inner
    # TOS and TTL from the inner header; the kernel fills in the id and header checksum.
    header = struct.pack("!BBHHHBBH4s4s", 0x45, inner[1], 20 + len(body), 0, 0, inner[8], proto, 0, src, dst)
    out.sendto(header + body, (rs, 0))
