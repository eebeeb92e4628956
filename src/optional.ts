import { createRequire } from "node:module";

/**
 * Packages that only the service and PNG charts need: optional dependencies, so that `npm install aerec
 * --omit=optional` gives the training and recommending library without native builds.
 */
export const SERVICE_PACKAGES = [
  "fastify",
  "@fastify/cors",
  "@fastify/static",
  "@fastify/swagger",
  "@fastify/swagger-ui",
  "ajv",
  "better-sqlite3",
  "pg",
  "prom-client",
];

/** A missing optional package, said with the command that installs it. */
export class MissingOptionalDependency extends Error {
  constructor(what: string, packages: string[]) {
    super(
      `${what} needs ${packages.join(", ")}, optional dependencies of aerec that are not installed here: ` +
        `npm install ${packages.join(" ")} (or install aerec without --omit=optional)`,
    );
    this.name = "MissingOptionalDependency";
  }
}

/** True when `e` says that one of `packages` could not be found (not some other missing file). */
function isMissingPackage(e: unknown, packages: string[]): boolean {
  const { code, message } = e as { code?: string; message?: string };
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return packages.some((p) => message?.includes(`'${p}`));
}

/** `load()` (a dynamic import of modules that need `packages`), or a MissingOptionalDependency for `what`. */
export async function importOptional<T>(
  what: string,
  packages: string[],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackage(e, packages)) throw new MissingOptionalDependency(what, packages);
    throw e;
  }
}

/** `require(name)` of an optional CommonJS package, or a MissingOptionalDependency for `what`. */
export function requireOptional<T>(name: string, what: string): T {
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch (e) {
    if (isMissingPackage(e, [name]))
      throw new MissingOptionalDependency(what, [name.replace(/\/package\.json$/, "")]);
    throw e;
  }
}
