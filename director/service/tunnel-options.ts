// A tunnel server's encapsulation, as IPVS keeps it per destination (tun_type, tun_port,
// tun_flags; Linux 5.2/5.3) and ipvsadm 1.31 sets it (--tun-type, --tun-port, --tun-nocsum,
// --tun-csum, --tun-remcsum); director/forwarding/tunnel-encap.ts builds the headers they ask for.

/** IP_VS_CONN_F_TUNNEL_TYPE_IPIP, _GUE, _GRE, in the kernel's order (0, 1, 2). */
export const TUNNEL_TYPES = ["ipip", "gue", "gre"] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

/** IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM (0), _CSUM (1 << 0), _REMCSUM (1 << 1). */
export const TUNNEL_CHECKSUMS = ["nocsum", "csum", "remcsum"] as const;
export type TunnelChecksum = (typeof TUNNEL_CHECKSUMS)[number];

export interface TunnelOptions {
  type: TunnelType;
  /** The GUE UDP port on the real server (gue only); 0 = none. */
  port: number;
  checksum: TunnelChecksum;
}

/** What IPVS stores when no tunnel option is given (and for non-tunnel servers): IPIP. */
export const DEFAULT_TUNNEL: Readonly<TunnelOptions> = Object.freeze({
  type: "ipip",
  port: 0,
  checksum: "nocsum",
});
