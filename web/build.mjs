// Builds the page into web/dist: the bundled, minified app.js, the static files beside it and the icon.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Resvg } from "@resvg/resvg-js";
import { build } from "esbuild";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
mkdirSync(here("dist"), { recursive: true });
cpSync(here("public"), here("dist"), { recursive: true });
// Browsers still ask for /favicon.ico: the same icon as a 32-pixel PNG, which they read under that name.
const icon = new Resvg(readFileSync(here("public/favicon.svg"), "utf8"), {
  fitTo: { mode: "width", value: 32 },
});
writeFileSync(here("dist/favicon.ico"), icon.render().asPng());
await build({
  entryPoints: [here("src/app.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: here("dist/app.js"),
  logLevel: "warning",
});
