// A VS/TUN tunnel packet's fields as the page lists them: the frame, the outer IPv4 header
// the director added, the tunnel header (GUE's UDP and GUE words, GRE's), then the client's
// packet inside under the same names as the packet before the director, so the diff
// (fields.ts) compares the inner packet with it field by field; the outer layers are new,
// all of them.
import { type Field, fieldKey, hex16, packetFields } from "./fields.ts";
import { tunnelLabel, type TunnelPacket } from "../lab/analysis/tunnel-decode.ts";

/** The layers a tunnel adds: every field in them is new (highlighted, no old value). */
export const OUTER_LAYERS: ReadonlySet<Field["layer"]> = new Set([
  "Outer IP",
  "Outer UDP",
  "GUE",
  "GRE",
]);

const CHECKSUM_TEXT = { none: "none", ok: "✓", bad: "✗ wrong" } as const;

export function tunnelFields(t: TunnelPacket): Field[] {
  const outer = packetFields(t.outer).flatMap((f): Field[] =>
    f.layer === "Ethernet"
      ? [f]
      : f.layer === "IP"
      ? [{ ...f, layer: "Outer IP" }]
      : f.layer === "UDP"
      ? [{ ...f, layer: "Outer UDP" }]
      : []
  );
  const b = t.outer.payload;
  if (t.type === "gue" && b.length >= 4) {
    outer.push(
      {
        layer: "GUE",
        name: "version/control/hlen",
        value: `${b[0] >> 6}/${(b[0] >> 5) & 1}/${b[0] & 0x1f}`,
      },
      { layer: "GUE", name: "protocol", value: `${b[1]} (IPv4)` },
    );
  } else if (t.type === "gre" && b.length >= 4) {
    outer.push(
      { layer: "GRE", name: "flags/version", value: hex16((b[0] << 8) | b[1]) },
      { layer: "GRE", name: "protocol", value: hex16((b[2] << 8) | b[3]) },
      { layer: "GRE", name: "checksum", value: CHECKSUM_TEXT[t.checksum] },
    );
  }
  outer.push({ layer: "Outer IP", name: "tunnel", value: tunnelLabel(t) });
  return [...outer, ...(t.inner ? packetFields(t.inner) : [])];
}

/** Keys of the fields of the outer layers: the page highlights them as new. */
export function outerFieldKeys(fields: readonly Field[]): string[] {
  return fields.filter((f) => OUTER_LAYERS.has(f.layer)).map(fieldKey);
}
