// Rates as IPVS's estimator computes them (ip_vs_est.c): every 2 seconds the counters'
// growth is folded into a moving average with weight 1/4, in fixed point, so a rate
// settles over a few samples instead of jumping with every burst.
import type { Stats } from "./types.ts";

export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** Seconds between two samples, as IPVS. */
export const ESTIMATOR_INTERVAL_MS = 2000;

export class RateEstimator {
  private lastConns = 0;
  private lastInpkts = 0;
  private lastOutpkts = 0;
  private lastInbytes = 0;
  private lastOutbytes = 0;
  // Scaled averages: packet and connection rates << 10 per second, byte rates << 5.
  private cps = 0;
  private inpps = 0;
  private outpps = 0;
  private inbps = 0;
  private outbps = 0;

  /** Folds one 2-second sample of the counters into the averages. */
  sample(stats: Stats): void {
    // (delta << 9) over 2 s is the per-second rate << 10; bytes use << 4 for << 5.
    this.cps += ((stats.conns - this.lastConns) * 512 - this.cps) / 4;
    this.inpps += ((stats.inpkts - this.lastInpkts) * 512 - this.inpps) / 4;
    this.outpps += ((stats.outpkts - this.lastOutpkts) * 512 - this.outpps) / 4;
    this.inbps += ((stats.inbytes - this.lastInbytes) * 16 - this.inbps) / 4;
    this.outbps += ((stats.outbytes - this.lastOutbytes) * 16 - this.outbps) / 4;
    this.lastConns = stats.conns;
    this.lastInpkts = stats.inpkts;
    this.lastOutpkts = stats.outpkts;
    this.lastInbytes = stats.inbytes;
    this.lastOutbytes = stats.outbytes;
  }

  /** Rates per second, rounded as ip_vs_read_estimator() does. */
  read(): Rates {
    return {
      cps: Math.floor((this.cps + 0x1ff) / 1024),
      inpps: Math.floor((this.inpps + 0x1ff) / 1024),
      outpps: Math.floor((this.outpps + 0x1ff) / 1024),
      inbps: Math.floor((this.inbps + 0xf) / 32),
      outbps: Math.floor((this.outbps + 0xf) / 32),
    };
  }

  /** Restarts from the current counters (ipvsadm -Z zeroes both). */
  reset(stats: Stats): void {
    this.lastConns = stats.conns;
    this.lastInpkts = stats.inpkts;
    this.lastOutpkts = stats.outpkts;
    this.lastInbytes = stats.inbytes;
    this.lastOutbytes = stats.outbytes;
    this.cps =
      this.inpps =
      this.outpps =
      this.inbps =
      this.outbps =
        0;
  }
}
