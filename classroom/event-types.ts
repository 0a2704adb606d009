// What the classroom server sends the page (over SSE and /api/state): the shapes only, no
// code, so the page's bundle and the server share them.
import type { Field } from "./fields.ts";

export type { Field };

/** One packet as seen on one capture segment. */
export interface PacketView {
  segment: string;
  /** Frame number in that segment's pcap (the artifacts folder holds the file). */
  frame: number;
  time: number;
  /** The article's form: "SOURCE 198.51.100.2:3456 DEST 203.0.113.5:80". */
  sourceDest: string;
  /** "TCP S", "TCP P. 73 bytes", "ICMP 3/3". */
  summary: string;
  fields: Field[];
}

export interface ClassroomEvent {
  /** Increases by one per event, from 1; the page orders and steps by it. */
  seq: number;
  time: number;
  kind: "pair" | "packet" | "action" | "problem";
  /** The one line in plain words. */
  text: string;
  /** "to-server" (client → real server) or "to-client" (the reply), for pairs. */
  direction?: "to-server" | "to-client";
  before?: PacketView;
  after?: PacketView;
  /** A packet with no twin across the director (seen on one side only). */
  packet?: PacketView;
  /** Field keys ("IP destination", "TCP checksum") that differ between before and after. */
  changed?: string[];
  /** The connection: "tcp 198.51.100.2:40000" (protocol, client address and port). */
  connection?: string;
  /** The real server of the connection, "172.16.0.3:8000", when known. */
  server?: string;
}

/** A real server of a service, as ipvsadm -L -n --stats shows it. */
export interface DestinationView {
  address: string;
  method: string;
  weight: number;
  active: number;
  inactive: number;
  conns: number;
  inpkts: number;
  outpkts: number;
}

export interface ServiceView {
  protocol: string;
  address: string;
  scheduler: string;
  conns: number;
  inpkts: number;
  outpkts: number;
  destinations: DestinationView[];
}

export interface ConnectionView {
  protocol: string;
  client: string;
  virtual: string;
  destination: string;
  state: string;
  expires: string;
}

/** The director's tables at one moment (classroom/table-feed.ts polls them). */
export interface TablesView {
  time: number;
  services: ServiceView[];
  connections: ConnectionView[];
}

/** Hosts and links of the running lab, for the topology picture. */
export interface TopologyView {
  name: string;
  method: string;
  vip: string;
  hosts: { name: string; role: string; addresses: string[] }[];
  networks: { name: string; cidr: string; hosts: string[] }[];
}

export interface StateView {
  lab: string;
  topology: TopologyView;
  events: ClassroomEvent[];
  tables: TablesView | null;
  /** Scheduler names the director knows (for the scheduler control). */
  schedulers: string[];
  /** Where the pcaps of this session are. */
  artifacts: string;
  /** Events dropped from the ring so far (still in the pcaps). */
  dropped: number;
  problems: string[];
  /** "DR" while the page's method switch rebuilds the lab for VS/DR, else null. */
  rebuilding: string | null;
  /** A recording (`lvslab classroom --replay`): why the live controls are off; else null. */
  recording: string | null;
}
