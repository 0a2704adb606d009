// Shared by the tests of frames sent over links (VS/DR, VS/NAT over the links): a fake
// packet socket that keeps what it sends, and a link's shared neighbour table made by hand.
import { type FrameSender, type LinkTable } from "./link-table.ts";
import { FRAME_IP_OFFSET } from "./packet-socket.ts";
import { VNET_HDR_LEN } from "../packet/vnet-header.ts";

/** The director's own MAC on every fake link. */
export const OWN_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0xfd);

/** A packet socket that keeps what flush() sends. */
export function fakeSocket(batch = 4): FrameSender & { sent: Uint8Array[] } {
  const slots = Array.from({ length: batch }, () => new Uint8Array(70_000));
  const lengths = new Array<number>(batch).fill(0);
  const sent: Uint8Array[] = [];
  const stats = { framesSent: 0, bytesSent: 0, sendErrors: 0, lastErrno: 0, calls: 0 };
  return {
    batch,
    mac: OWN_MAC,
    stats,
    sent,
    slot: (i) => slots[i]!,
    fillFromTun(i, src, length) {
      slots[i]!.set(src.subarray(0, VNET_HDR_LEN), 0);
      slots[i]!.set(src.subarray(VNET_HDR_LEN, length), FRAME_IP_OFFSET);
    },
    setLength: (i, n) => (lengths[i] = n),
    flush(count) {
      stats.calls++;
      for (let i = 0; i < count; i++) sent.push(slots[i]!.slice(0, lengths[i]));
      stats.framesSent += count;
      return count;
    },
    close() {},
  };
}

/** One neighbour of a fake link: its address, MAC and NeighbourStatus. */
export interface FakeNeighbour {
  addr: number;
  mac: readonly number[];
  status: number;
}

/**
 * Configures link `index` on the table with the given neighbours (entry i + 1 each) and MTU;
 * returns the status words and the MTU word, to change them as the control thread would.
 */
export function configureFakeLink(
  links: LinkTable,
  index: number,
  neighbours: readonly FakeNeighbour[],
  mtu = 1500,
): { status: Int32Array; mtu: Int32Array } {
  const entries = neighbours.length + 1;
  const macs = new Uint8Array(new SharedArrayBuffer(6 * entries));
  const status = new Int32Array(new SharedArrayBuffer(4 * entries));
  neighbours.forEach((n, i) => {
    macs.set(n.mac, 6 * (i + 1));
    status[i + 1] = n.status;
  });
  const mtuWord = new Int32Array(new SharedArrayBuffer(4));
  mtuWord[0] = mtu;
  links.configure(
    [{
      index,
      ifname: `eth${index}`,
      macs: macs.buffer as SharedArrayBuffer,
      status: status.buffer as SharedArrayBuffer,
      mtu: mtuWord.buffer as SharedArrayBuffer,
    }],
    neighbours.map((n, i) => ({ addr: n.addr, link: index, neighbour: i + 1 })),
  );
  return { status, mtu: mtuWord };
}
