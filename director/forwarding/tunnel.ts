// VS/TUN ("Tunnel", ipvsadm -i; IPVS's ip_vs_tunnel_xmit): the client's packet inside an
// IPIP packet to the real server's address. Not transmitted by this data path yet: Tunnel
// servers are kept, listed and saved, but a new connection to one is dropped and counted.
import { CONN_F_NOOUTPUT } from "../engine/conn-table.ts";
import { type ForwardingMethod, untransmittedMethod } from "./method.ts";

/** Replies go from the real server straight to the client: the connection sees input only. */
export const TUNNEL: ForwardingMethod = untransmittedMethod("tunnel", CONN_F_NOOUTPUT);
