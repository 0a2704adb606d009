# Lab helper for test/lab/tunnel-decap.test.ts, run in the "director" namespace: sends the
# given IPv4 packets (hex, outer header included) through a raw IPPROTO_RAW socket, then
# listens for `listen` seconds on raw ICMP and TCP sockets and prints, as JSON, every ICMP
# and TCP packet that arrived: what the real server answered, and from which address.
import json, select, socket, struct, sys, time

job = json.loads(sys.argv[1])
listen = [socket.socket(socket.AF_INET, socket.SOCK_RAW, p)
          for p in (socket.IPPROTO_ICMP, socket.IPPROTO_TCP)]
out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for packet in job["packets"]:
    data = bytes.fromhex(packet)
    out.sendto(data, (socket.inet_ntoa(data[16:20]), 0))
seen = []
deadline = time.time() + job.get("listen", 1.0)
while True:
    left = deadline - time.time()
    if left <= 0:
        break
    ready, _, _ = select.select(listen, [], [], left)
    for s in ready:
        data = s.recv(65535)
        ihl = (data[0] & 15) * 4
        entry = {"proto": data[9], "src": socket.inet_ntoa(data[12:16]),
                 "dst": socket.inet_ntoa(data[16:20])}
        l4 = data[ihl:]
        if data[9] == 1:
            entry.update(type=l4[0], code=l4[1])
            if l4[0] in (0, 8):
                entry.update(id=struct.unpack("!H", l4[4:6])[0], seq=struct.unpack("!H", l4[6:8])[0])
        else:
            entry.update(sport=struct.unpack("!H", l4[0:2])[0],
                         dport=struct.unpack("!H", l4[2:4])[0], flags=l4[13])
        seen.append(entry)
print(json.dumps(seen))
