// VS/NAT over the link layer with two transmit threads (--transmit always --transmit-threads 2):
// every frame handed off, each flow to the thread its hash names, so each flow still arrives
// in order on rs1's segment: ./nat-link-suite.ts.
import { natLinkSuite } from "./nat-link-suite.ts";

natLinkSuite({
  lab: "lvstnm",
  directorArgs: ["--transmit", "always", "--transmit-threads", "2"],
  handoff: true,
  transmitThreads: 2,
});
