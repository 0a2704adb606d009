-- GUE (include/net/gue.h, draft-ietf-intarea-gue) for tshark, which has no GUE dissector
-- (Wireshark 4.0): only the base header (and the length of its options) is read here; the
-- packet inside goes to Wireshark's own IPv4 dissector. lab/assertions/tshark-tunnel.ts
-- loads this with `-X lua_script:` and hands the table's GUE ports to it with
-- `-d udp.port==N,gue`.
local gue = Proto("gue", "Generic UDP Encapsulation")
local f_version = ProtoField.uint8("gue.version", "Version", base.DEC, nil, 0xc0)
local f_control = ProtoField.uint8("gue.control", "Control message", base.DEC, nil, 0x20)
local f_hlen = ProtoField.uint8("gue.hlen", "Options length (words)", base.DEC, nil, 0x1f)
local f_proto = ProtoField.uint8("gue.proto", "Protocol", base.DEC)
local f_flags = ProtoField.uint16("gue.flags", "Flags", base.HEX)
gue.fields = { f_version, f_control, f_hlen, f_proto, f_flags }

local ip = Dissector.get("ip")

function gue.dissector(tvb, pinfo, tree)
  if tvb:len() < 4 then return 0 end
  local first = tvb(0, 1):uint()
  local version = math.floor(first / 64)
  pinfo.cols.protocol = "GUE"
  if version == 1 then
    -- Direct IP encapsulation: no GUE header, the IPv4 header starts here (0x4_).
    ip:call(tvb, pinfo, tree)
    return tvb:len()
  end
  local options = (first % 32) * 4
  local t = tree:add(gue, tvb(0, math.min(tvb:len(), 4 + options)))
  t:add(f_version, tvb(0, 1))
  t:add(f_control, tvb(0, 1))
  t:add(f_hlen, tvb(0, 1))
  t:add(f_proto, tvb(1, 1))
  t:add(f_flags, tvb(2, 2))
  local control = math.floor(first / 32) % 2
  if version == 0 and control == 0 and tvb(1, 1):uint() == 4 and tvb:len() > 4 + options then
    ip:call(tvb(4 + options):tvb(), pinfo, tree)
  end
  return tvb:len()
end

DissectorTable.get("udp.port"):add_for_decode_as(gue)
