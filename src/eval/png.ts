import { createRequire } from "node:module";
import { Resvg } from "@resvg/resvg-js";

const require = createRequire(import.meta.url);

/** Renders an SVG chart to PNG at twice its size, with the DejaVu Sans font aerec ships with. */
export function svgToPng(svg: string): Buffer {
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
export function chartBytes(file: string, svg: string): string | Buffer {
  return file.toLowerCase().endsWith(".png") ? svgToPng(svg) : svg;
}
