// The HTML page every lab HTTP real server answers with. It names the server and the
// address:port the request arrived on (after the director's rewrite) and the client address
// the server saw (VS/NAT keeps the client's own), so a client can attribute each answer.

export interface ServerPageInfo {
  /** The real server's name, e.g. "rs1". */
  server: string;
  /** Local address:port the connection arrived on. */
  serverAddress: string;
  /** Remote address:port the server saw. */
  clientAddress: string;
  method: string;
  path: string;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Joins an address and port, bracketing IPv6 addresses. */
export function formatEndpoint(address: string | undefined, port: number | undefined): string {
  const host = address ?? "?";
  return `${host.includes(":") ? `[${host}]` : host}:${port ?? "?"}`;
}

export function renderServerPage(info: ServerPageInfo): string {
  const server = escapeHtml(info.server);
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta name="lvslab-server" content="${server}">`,
    `<title>lvslab real server ${server}</title>`,
    "</head>",
    "<body>",
    `<h1 class="server-name">${server}</h1>`,
    "<p>Connection arrived at:</p>",
    `<p class="server-address">${escapeHtml(info.serverAddress)}</p>`,
    "<p>From client:</p>",
    `<p class="client-address">${escapeHtml(info.clientAddress)}</p>`,
    `<p class="request">${escapeHtml(info.method)} ${escapeHtml(info.path)}</p>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
