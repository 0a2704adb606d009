import { test } from "node:test";
import assert from "node:assert/strict";
import { attributeResponse } from "./attribute-response.ts";
import { renderServerPage } from "../realservers/server-page.ts";

test("a real server's page is attributed to it", () => {
  const page = renderServerPage({
    server: "rs2",
    serverAddress: "172.16.0.3:8000",
    clientAddress: "198.51.100.2:40312",
    method: "GET",
    path: "/",
  });
  assert.deepEqual(attributeResponse(page), {
    server: "rs2",
    serverAddress: "172.16.0.3:8000",
    clientAddress: "198.51.100.2:40312",
  });
});

test("names with markup characters survive escaping", () => {
  const page = renderServerPage({
    server: 'a<b>&"c',
    serverAddress: "172.16.0.2:80",
    clientAddress: "198.51.100.2:1",
    method: "GET",
    path: "/",
  });
  assert.equal(attributeResponse(page)?.server, 'a<b>&"c');
});

test("the heading is used when the meta tag is missing", () => {
  const page = `<html><body><h1 class="server-name"> rs1 </h1>
    <p class="server-address">172.16.0.2:80</p></body></html>`;
  assert.deepEqual(attributeResponse(page), {
    server: "rs1",
    serverAddress: "172.16.0.2:80",
    clientAddress: null,
  });
});

test("a page that names no server is not attributed", () => {
  assert.equal(attributeResponse("<html><body><h1>It works!</h1></body></html>"), null);
  assert.equal(attributeResponse('<meta name="lvslab-server" content="  ">'), null);
  assert.equal(attributeResponse(""), null);
});
