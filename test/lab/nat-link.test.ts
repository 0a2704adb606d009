// VS/NAT over the link layer, frames sent by the packet thread (light load, --transmit auto):
// ./nat-link-suite.ts.
import { natLinkSuite } from "./nat-link-suite.ts";

natLinkSuite({ lab: "lvstnl", directorArgs: [], handoff: false });
