// The line each of the repo's programs prints once it serves: the director, the real
// servers and the connection-holding client. The lab and the tests wait for these texts
// (a log line starting with one), so each is written here once and used on both sides.

export const READY_LINES = Object.freeze({
  /** director/main.ts, after the TUN device and the service table are up. */
  director: "lvslab-director ready",
  /** realservers/http-server.ts, listening on every address it was given. */
  httpServer: "http-server ready",
  /** realservers/ftp-server.ts, once vsftpd answered with its banner. */
  ftpServer: "ftp-server ready",
  /** realservers/udp-echo-server.ts, bound. */
  udpEchoServer: "udp-echo-server ready",
  /** realservers/tunnel-decap.ts, its socket and TUN device open (details follow). */
  decapsulator: "lvslab-decap ready",
  /** clients/tcp-hold.ts, all its connections open (a JSON report follows). */
  tcpHold: "tcp-hold ready",
});
