// Forwarding method names (IPVS's IP_VS_CONN_F_MASQ, _TUNNEL and _DROUTE), spelled as ipvsadm
// prints them and as the config file and the control API take them. Names only, no code, so
// the ipvsadm client and the config loader can use them without loading the data path.

/** The methods a real server can be given (-m, -i, -g). */
export const FORWARD_METHOD_NAMES = ["masq", "tunnel", "route"] as const;

export type ForwardMethod = (typeof FORWARD_METHOD_NAMES)[number];

/** What a listing may show: also "local" (IP_VS_CONN_F_LOCALNODE, a server on the director). */
export type ListedForwardMethod = ForwardMethod | "local";

/** The method's name in ipvsadm's listings (-L). */
export const FORWARD_METHOD_LABELS: Readonly<Record<ListedForwardMethod, string>> = Object.freeze({
  masq: "Masq",
  local: "Local",
  tunnel: "Tunnel",
  route: "Route",
});

/** ipvsadm's option for the method (-S prints it; a local server is saved as -g). */
export const FORWARD_METHOD_SWITCHES: Readonly<Record<ListedForwardMethod, string>> = Object
  .freeze({ masq: "-m", tunnel: "-i", local: "-g", route: "-g" });
