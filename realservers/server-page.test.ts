import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, formatEndpoint, renderServerPage } from "./server-page.ts";

test("the page names the server and both addresses", () => {
  const page = renderServerPage({
    server: "rs2",
    serverAddress: "172.16.0.3:8000",
    clientAddress: "198.51.100.2:40312",
    method: "GET",
    path: "/",
  });
  assert.match(page, /<meta name="lvslab-server" content="rs2">/);
  assert.match(page, /<h1 class="server-name">rs2<\/h1>/);
  assert.match(page, /<p class="server-address">172\.16\.0\.3:8000<\/p>/);
  assert.match(page, /<p class="client-address">198\.51\.100\.2:40312<\/p>/);
});

test("request text cannot inject markup", () => {
  const page = renderServerPage({
    server: "rs1",
    serverAddress: "172.16.0.2:80",
    clientAddress: "198.51.100.2:1",
    method: "GET",
    path: '/<h1 class="server-name">evil</h1>',
  });
  assert.equal(page.match(/<h1/g)?.length, 1);
  assert.equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
});

test("formatEndpoint brackets IPv6", () => {
  assert.equal(formatEndpoint("172.16.0.2", 80), "172.16.0.2:80");
  assert.equal(formatEndpoint("::ffff:172.16.0.2", 80), "[::ffff:172.16.0.2]:80");
  assert.equal(formatEndpoint(undefined, undefined), "?:?");
});
