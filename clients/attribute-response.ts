// Attributes an HTTP answer to the real server that produced it, by parsing the page the lab's
// real servers send (realservers/server-page.ts) with cheerio.
import * as cheerio from "cheerio";

export interface Attribution {
  /** Server name, e.g. "rs1". */
  server: string;
  /** address:port the request arrived on at the real server (after the director's rewrite). */
  serverAddress: string | null;
  /** address:port of the client as the real server saw it. */
  clientAddress: string | null;
}

function text(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** Parses a page; null when it names no server (not a lab real server's page). */
export function attributeResponse(html: string): Attribution | null {
  const $ = cheerio.load(html);
  // The meta tag is the machine-readable name; the heading is the fallback for hand-made pages.
  const server = text($('meta[name="lvslab-server"]').attr("content")) ??
    text($("h1.server-name").first().text());
  if (!server) return null;
  return {
    server,
    serverAddress: text($(".server-address").first().text()),
    clientAddress: text($(".client-address").first().text()),
  };
}
