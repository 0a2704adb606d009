// bench/parse/: readers of the peers' and tools' output (iperf3, wrk, /proc/stat, CPU profiles),
// one per tool.
//
// Reads what the bench needs out of `iperf3 -J` output: bulk TCP throughput as the receiver
// saw it, and UDP datagrams delivered (sent minus lost, as the server counted them).

export interface TcpResult {
  /** Bits per second the receiver got (end.sum_received). */
  bitsPerSecond: number;
  /** Bytes the receiver got. */
  bytes: number;
  seconds: number;
  /** Retransmits the sender saw (0 when iperf3 did not report them). */
  retransmits: number;
}

export interface UdpResult {
  /** Datagrams the client sent. */
  sent: number;
  /** Datagrams the server received (sent minus lost). */
  delivered: number;
  seconds: number;
  /** Delivered datagrams per second. */
  deliveredPerSecond: number;
  /** Sent datagrams per second (what the sender managed). */
  sentPerSecond: number;
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (value === null || typeof value !== "object") {
    throw new Error(`iperf3 output has no ${what}; is this 'iperf3 -J' output?`);
  }
  return value as Json;
}

function num(obj: Json, key: string, what: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`iperf3 output has no number ${what}.${key}`);
  }
  return v;
}

/** Parses the JSON text; iperf3's own error (it prints {"error": ...} with -J) is thrown. */
function parse(text: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`iperf3 did not print JSON: ${text.trim().slice(0, 200) || "(nothing)"}`);
  }
  const root = object(doc, "top-level object");
  if (typeof root.error === "string") throw new Error(`iperf3: ${root.error}`);
  return root;
}

export function parseIperf3Tcp(text: string): TcpResult {
  const end = object(parse(text).end, "end section");
  const received = object(end.sum_received, "end.sum_received");
  const sent = end.sum_sent as Json | undefined;
  return {
    bitsPerSecond: num(received, "bits_per_second", "end.sum_received"),
    bytes: num(received, "bytes", "end.sum_received"),
    seconds: num(received, "seconds", "end.sum_received"),
    retransmits: typeof sent?.retransmits === "number" ? sent.retransmits : 0,
  };
}

export function parseIperf3Udp(text: string): UdpResult {
  const end = object(parse(text).end, "end section");
  // iperf3 3.12 has end.sum (server's view with lost_packets) and, in newer versions,
  // sum_sent/sum_received; the server's count of packets is the highest sequence seen.
  const sum = object(end.sum_received ?? end.sum, "end.sum");
  const sentSum = (end.sum_sent ?? end.sum) as Json;
  const seconds = num(sum, "seconds", "end.sum");
  const packets = num(sum, "packets", "end.sum");
  const lost = num(sum, "lost_packets", "end.sum");
  const sent = typeof sentSum.packets === "number" ? sentSum.packets : packets;
  const delivered = Math.max(0, packets - lost);
  return {
    sent,
    delivered,
    seconds,
    deliveredPerSecond: seconds > 0 ? delivered / seconds : 0,
    sentPerSecond: seconds > 0 ? sent / seconds : 0,
  };
}
