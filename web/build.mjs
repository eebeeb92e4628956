// Builds the page into web/dist: the bundled, minified app.js and the static files beside it.
import { cpSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
mkdirSync(here("dist"), { recursive: true });
cpSync(here("public"), here("dist"), { recursive: true });
await build({
  entryPoints: [here("src/app.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: here("dist/app.js"),
  logLevel: "warning",
});
