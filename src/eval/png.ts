import { createRequire } from "node:module";
import type { Resvg as ResvgClass } from "@resvg/resvg-js";
import { requireOptional } from "../optional.js";

const require = createRequire(import.meta.url);

const isPng = (file: string) => file.toLowerCase().endsWith(".png");

/** The renderer and the DejaVu Sans font files, both optional dependencies (SVG charts need neither). */
function pngRenderer(): { Resvg: typeof ResvgClass; fontFiles: string[] } {
  const { Resvg } = requireOptional<{ Resvg: typeof ResvgClass }>("@resvg/resvg-js", "a PNG chart");
  requireOptional("dejavu-fonts-ttf/package.json", "a PNG chart");
  const fontFiles = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) =>
    require.resolve(`dejavu-fonts-ttf/ttf/${f}`),
  );
  return { Resvg, fontFiles };
}

/** Renders an SVG chart to PNG at twice its size, with the DejaVu Sans font aerec ships with. */
export function svgToPng(svg: string): Uint8Array {
  const { Resvg, fontFiles } = pngRenderer();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    font: { fontFiles, loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/** The chart as the file's extension asks: PNG for .png, SVG otherwise. */
export function chartBytes(file: string, svg: string): string | Uint8Array {
  return isPng(file) ? svgToPng(svg) : svg;
}

/** Throws, before any work is done, when `file` asks for PNG and the packages that render it are missing. */
export function ensureChartFormat(file: string | undefined): void {
  if (file && isPng(file)) pngRenderer();
}
