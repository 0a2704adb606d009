// VS/NAT over the link layer, every frame handed to the transmit worker and sent from its
// own packet sockets (--transmit always): ./nat-link-suite.ts.
import { natLinkSuite } from "./nat-link-suite.ts";

natLinkSuite({ lab: "lvstnh", directorArgs: ["--transmit", "always"], handoff: true });
