// VS/DR ("Route", ipvsadm -g; IPVS's ip_vs_dr_xmit): the client's packet, unchanged, in a
// frame to the real server's MAC on a LAN both share. The TUN data path has no layer 2, so
// Route servers are kept, listed and saved, but a new connection to one is dropped and counted.
import { CONN_F_NOOUTPUT } from "../engine/conn-table.ts";
import { type ForwardingMethod, untransmittedMethod } from "./method.ts";

/** Replies go from the real server straight to the client: the connection sees input only. */
export const ROUTE: ForwardingMethod = untransmittedMethod("route", CONN_F_NOOUTPUT);
