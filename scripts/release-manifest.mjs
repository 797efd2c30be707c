#!/usr/bin/env node
// Prints the release build's manifest.json: the development manifest at the
// repository root (what the tests, the demo and `web-ext run` install) with
// every loopback entry taken out. One source, two variants: the release
// build reaches production and staging Treeherder, hg, firefox-ci
// Taskcluster and Self-Serve BuildAPI only.
//
//   node scripts/release-manifest.mjs [path/to/manifest.json] > manifest.json
//
// Fails if a loopback address is left anywhere in the result, so an entry
// added to the development manifest in another form cannot slip through.
import { readFileSync } from "node:fs";

const source = process.argv[2] ?? new URL("../manifest.json", import.meta.url);
const manifest = JSON.parse(readFileSync(source, "utf8"));

// The development build's loopback reach: match patterns (any port).
const DEVELOPMENT_ONLY = new Set(["http://localhost/*", "http://127.0.0.1/*"]);
const keep = (entries) => entries.filter((entry) => !DEVELOPMENT_ONLY.has(entry));

for (const script of manifest.content_scripts ?? []) {
  script.matches = keep(script.matches);
}
for (const resources of manifest.web_accessible_resources ?? []) {
  resources.matches = keep(resources.matches);
}
manifest.host_permissions = keep(manifest.host_permissions ?? []);
// The pages' connections (fetch, WebSocket): the development build may
// also reach the loopback sandbox (http://, ws://); the release build only
// 'self' and TLS origins (https:, wss:), whatever the options name.
const csp = manifest.content_security_policy ?? {};
for (const [key, policy] of Object.entries(csp)) {
  csp[key] = policy
    .split(";")
    .map((directive) =>
      directive
        .trim()
        .split(/\s+/)
        .filter((source) => !/^(http|ws):\/\/(127\.0\.0\.1|localhost|\[::1\]):\*$/.test(source))
        .join(" "),
    )
    .join("; ");
}

const text = JSON.stringify(manifest, null, 2);
const loopback = /localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0/;
if (loopback.test(text)) {
  console.error(`release-manifest: a loopback address is left in ${source}: ${text.match(loopback)[0]}`);
  process.exit(1);
}
process.stdout.write(`${text}\n`);
