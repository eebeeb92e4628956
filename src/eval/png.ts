import { createRequire } from "node:module";
import type { Resvg as ResvgClass } from "@resvg/resvg-js";
import { requireOptional } from "../optional.js";

const require = createRequire(import.meta.url);

/**
 * Renders an SVG chart to PNG at twice its size, with the DejaVu Sans font aerec ships with. Needs the
 * optional @resvg/resvg-js and dejavu-fonts-ttf (SVG charts need nothing).
 */
export function svgToPng(svg: string): Uint8Array {
  ensureChartFormat(".png");
  const { Resvg } = requireOptional<{ Resvg: typeof ResvgClass }>("@resvg/resvg-js", "a PNG chart");
  const fontFiles = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) =>
    require.resolve(`dejavu-fonts-ttf/ttf/${f}`),
  );
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    font: { fontFiles, loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/** The chart as the file's extension asks: PNG for .png, SVG otherwise. */
export function chartBytes(file: string, svg: string): string | Uint8Array {
  return file.toLowerCase().endsWith(".png") ? svgToPng(svg) : svg;
}

/** Throws, before any work is done, when `file` asks for PNG and the packages that render it are missing. */
export function ensureChartFormat(file: string | undefined): void {
  if (!file?.toLowerCase().endsWith(".png")) return;
  requireOptional("@resvg/resvg-js", "a PNG chart");
  requireOptional("dejavu-fonts-ttf/package.json", "a PNG chart");
}
